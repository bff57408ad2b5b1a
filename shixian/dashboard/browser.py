"""Headless Chromium, to see the dashboard as a person does (the rendering test and the
screenshot in docs/). Not used when serving: the dashboard itself needs no browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Quiet and offline: no first-run UI, no update or sync traffic, no sandbox (root in CI).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1")


def find_chromium() -> str | None:
    """SHIXIAN_CHROMIUM, else Debian's /usr/bin/chromium, else one on PATH."""
    explicit = os.environ.get("SHIXIAN_CHROMIUM")
    if explicit:
        return explicit
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("Chromium not found: apt-get install chromium fonts-noto-cjk "
                                "(./dev test does), or set SHIXIAN_CHROMIUM")
    with tempfile.TemporaryDirectory(prefix="shixian-chromium-") as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=True)


def dump_dom(url: str, timeout: float = 120) -> str:
    """The DOM after the page loaded and its script ran: what the browser shows."""
    return _run(["--dump-dom", url], timeout).stdout


def screenshot(url: str, out: Path, width: int = 1400, height: int = 900,
               timeout: float = 120) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={out}", f"--window-size={width},{height}", url], timeout)
    if not out.exists():
        raise RuntimeError(f"Chromium wrote no screenshot at {out}")
    return out
