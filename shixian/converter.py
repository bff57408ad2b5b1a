"""The one data converter: client, worker, replayer and test environments all use it.

The default JSON converter does not round-trip `datetime.date`; pydantic's does (DESIGN §7).
"""

from temporalio.contrib.pydantic import pydantic_data_converter

DATA_CONVERTER = pydantic_data_converter
