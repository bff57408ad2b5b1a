"""The one exception of the policies layer; the CLI prints it on one line like its own errors.

It lives here, not in `shixian/`, because layers point down: a pack, a regulation text and a
citation can be checked without the CLI package installed.
"""


class PolicyError(Exception):
    """A pack, regulation text or citation that cannot be used, with the place and the reason."""
