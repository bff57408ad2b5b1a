"""Notice delivery (通知送达): contacts, channels, message rendering, the mailbox.

Pure of Temporal: the activities in `activities/delivery.py` and the workflow in
`workflows/delivery.py` use these; the CLI reads the same contacts file.
"""
