"""Thin entry point: `python worker.py` is `shixian worker`."""

import sys

from shixian.cli import main

if __name__ == "__main__":
    sys.exit(main(["worker", *sys.argv[1:]]))
