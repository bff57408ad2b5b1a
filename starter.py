"""Thin entry point: `python starter.py FILE…` is `shixian start FILE…`."""

import sys

from shixian.cli import main

if __name__ == "__main__":
    sys.exit(main(["start", *sys.argv[1:]]))
