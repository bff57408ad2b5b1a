"""`python -m shixian` is the `shixian` command."""

from shixian.cli import run

run()
