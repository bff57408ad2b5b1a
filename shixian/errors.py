"""Errors a user can act on: the CLI prints them on one line and exits 2."""


class UserError(Exception):
    """Bad input from a person or a script; the message says what is wrong and where."""
