"""Terminal tables that line up with Chinese text (wide characters take two columns).

Apart from `shixian.render` (which needs the pydantic models for `status`), so that `shixian
list` prints its table without importing them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cols: int) -> str:
    return text + " " * max(0, cols - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cols = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, c) for h, c in zip(headers, cols, strict=True)).rstrip()]
    lines += ["  ".join(pad(v, c) for v, c in zip(r, cols, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)
