"""`shixian ics`: not built yet (issue 4)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds nothing yet."""
