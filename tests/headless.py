"""Headless Chromium driven by its own command line, for the tests of the HTML report.

One run loads a local page, writes the DOM after its scripts ran (``--dump-dom``) and a
screenshot, and logs the page's console to stderr (``--enable-logging=stderr``), where each
message (errors, warnings, policy violations) is a ``CONSOLE`` line. No DevTools client is needed.
The browser is Debian's ``chromium`` (``make browser`` installs it); ``$SEAMWATCH_CHROMIUM``
names another binary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\] (.*)")


def find_chromium() -> str | None:
    """``$SEAMWATCH_CHROMIUM``, else the first Chromium on ``PATH``."""
    named = os.environ.get("SEAMWATCH_CHROMIUM")
    if named:
        return shutil.which(named)
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


@dataclass
class Rendered:
    dom: str
    console: list[str]
    screenshot: Path


def render(chromium: str, page: Path, screenshot: Path, *, width: int = 1280) -> Rendered:
    """Load ``page`` (a local file) headless; its DOM, console messages and a screenshot."""
    profile = screenshot.parent / f".{screenshot.stem}-profile"
    args = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        f"--window-size={width},2200",
        f"--screenshot={screenshot}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    console = [m.group(1) for line in done.stderr.splitlines() if (m := _CONSOLE.search(line))]
    shutil.rmtree(profile, ignore_errors=True)
    return Rendered(done.stdout, console, screenshot)
