"""Shared fixtures. Tests that need ../shared skip cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEMEVAL25 = SHARED / "datasets" / "semeval2025-task10"
EXAMPLES = ROOT / "examples"


@pytest.fixture
def semeval25() -> Path:
    if not (SEMEVAL25 / "train").is_dir():
        pytest.skip("../shared/datasets/semeval2025-task10 is not available")
    return SEMEVAL25
