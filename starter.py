"""Thin entry point: `python starter.py FILE…` is `shixian start FILE…`."""

import sys

from shixian.cli import run

if __name__ == "__main__":
    sys.argv[1:1] = ["start"]
    run()
