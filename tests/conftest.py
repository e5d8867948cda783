"""Shared fixtures. Tests that need ../shared skip cleanly when it is absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from narrascope.store import open_store
from narrascope.store.common import SQLStore
from pgtest import PG_ENV, postgres_schema_url

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


# --- corpus databases: SQLite, and PostgreSQL when a test server is named ---------------


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Any]:
    """A connection to the test server, or a skip saying why there is none."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set (run .ci/setup-postgres.sh): PostgreSQL not tested")
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
    yield conn
    conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a fresh, empty corpus database is (a SQLite file or a PostgreSQL URL)."""
    if request.param == "sqlite":
        yield str(tmp_path / "corpus.db")
    else:
        yield from postgres_schema_url(request.getfixturevalue("postgres_admin"))


@pytest.fixture
def store(target: str) -> Iterator[SQLStore]:
    with open_store(target) as opened:
        yield opened  # type: ignore[misc]
