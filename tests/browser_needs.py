"""What a browser test needs (chromium, playwright, uvicorn), or a skip that says which is
missing: one place for the tests that drive the web page from a single test function."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("NARRASCOPE_CHROMIUM", "/usr/bin/chromium")


def sync_api_or_skip() -> Any:
    """Playwright's sync API; the test is skipped when chromium, playwright or uvicorn is
    missing (``.ci/setup-browser.sh`` installs them)."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no chromium at {CHROMIUM} (run .ci/setup-browser.sh as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("uvicorn", reason="uvicorn is not installed")
    return sync_api
