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
    """The texts each call of the shared :class:`SentenceEncoder` encodes, in order (a
    test clears the list after its narrative step to see what the later stages add); the
    vectors are the real ones."""
    from narrascope.models.encoder import SentenceEncoder

    calls: list[list[str]] = []
    real = SentenceEncoder.encode

    def spy(self: SentenceEncoder, texts, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(list(texts))
        return real(self, texts, **kwargs)

    monkeypatch.setattr(SentenceEncoder, "encode", spy)
    return calls
