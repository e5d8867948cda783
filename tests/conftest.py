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


@pytest.fixture
def encoder_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The texts each USE call encodes through the shared encoder, in order (a test
    clears the list after its narrative step to see what the later stages add); the
    vectors are the real ones."""
    import narrascope.models.encoder as encoder

    calls: list[list[str]] = []
    real = encoder.single_thread_encoder()

    class Spy:
        def encode(self, texts: list[str]) -> object:
            calls.append(list(texts))
            return real.encode(texts)

    monkeypatch.setattr(encoder, "encoder_for_load", lambda: Spy())
    return calls
