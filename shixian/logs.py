"""structlog set-up: JSON lines for machines, a console renderer on a terminal."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import structlog


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """Whatever sys.stderr is when a line is written, not when logging was configured
    (a replaced or closed stream must never make a notice activity fail)."""
    return structlog.PrintLogger(file=sys.stderr)


def configure(json_lines: bool | None = None, level: int = logging.INFO,
              to_file: Path | None = None) -> None:
    """`to_file`: JSON lines appended to that file instead of stderr (`shixian up`, whose
    terminal is for the portfolio and the hints)."""
    if to_file is not None:
        _configure_file(to_file, level)
        return
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_lines
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def _configure_file(path: Path, level: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = path.open("a", encoding="utf-8", buffering=1)  # line-buffered: tail -f works
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_args: structlog.PrintLogger(file=stream),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=stream, force=True)
