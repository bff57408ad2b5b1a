"""Thin entry point: `python worker.py` is `shixian worker`."""

import sys

from shixian.cli import run

if __name__ == "__main__":
    sys.argv[1:1] = ["worker"]
    run()
