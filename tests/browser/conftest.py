"""A real browser for the console's tests: Playwright driving Debian's chromium.

The browser is the distribution's package, never one Playwright downloads: when
/usr/bin/chromium is missing and apt-get can run (root), the session installs it
(``apt-get install -y chromium``); otherwise these tests are skipped and say why.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _install_chromium() -> str | None:
    """Install Debian's chromium, once for all the test processes (pytest -n); why not, when it cannot be."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "chromium is not installed and apt-get cannot install it here (needs root and apt-get)"
    # Test processes running side by side would fight over dpkg's lock: the first installs, the
    # others wait here and find it installed.
    with open("/tmp/encola-tests-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return None if CHROMIUM.exists() else _apt_get_chromium()


def _apt_get_chromium() -> str | None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            return f"apt-get install chromium failed: {done.stderr[-500:]}"
    return None


# Per module, not per session: a started sync Playwright keeps its event loop marked as running
# in this thread, so every later test's asyncio.run() failed until the session ended.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        problem = _install_chromium()
        if problem:
            pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
    yield launched
    launched.close()
    playwright.stop()
