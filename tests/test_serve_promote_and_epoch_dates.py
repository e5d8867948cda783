"""The workspace API after review: a promoted cluster's label is kept as ``taxonomy add``
keeps it (``normalise_label``: NFC, no ``Custom:``, a stored spelling reused, a case
variant refused), so another Unicode spelling of a stored label is a 409, not a silent
replacement; and a campaign member's epoch date in milliseconds or microseconds reads as
the clustering read it. No encoder is loaded: the fit is stood in for."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from narrascope.serve import create_app
from narrascope.store import open_store
from narrascope.store.custom_narratives import CustomNarrative, CustomNarrativeStore
from test_serve_api import fake_pipeline
from test_serve_campaigns import corpus_docs, discover_module, store_discovered

WELLS = "Poisoned wélls"  # NFC: é is one code point
WELLS_NFD = unicodedata.normalize("NFD", WELLS)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.db"
    with open_store(path) as store:
        store.save(corpus_docs())
    return path


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db, pipeline=fake_pipeline())) as c:
        yield c


@pytest.fixture
def fitted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``add_custom_narrative`` without the encoder: the labels it was given; it keeps
    the label as the real one does (``normalise_label`` against the stored ones)."""
    import narrascope.models.custom_narratives as models

    given: list[str] = []

    def add(db: Any, label: str, examples: list[str], **kwargs: Any) -> SimpleNamespace:
        with CustomNarrativeStore(db) as store:
            stored = {n.label for n in store.narratives()}
            kept = models.normalise_label(label, stored)
            new = store.put(CustomNarrative(kept, examples, b"model", source=kwargs["source"]))
        given.append(label)
        cv = {"precision": 1.0, "recall": 0.7, "folds": 5}
        return SimpleNamespace(new=new, cv=cv, threshold=0.6, label=kept)

    monkeypatch.setattr(models, "add_custom_narrative", add)
    return given


@discover_module
def test_a_promoted_label_is_normalised_as_taxonomy_add_keeps_it(
    db: Path, client: TestClient, fitted: list[str]
) -> None:
    cluster = store_discovered(db)
    res = client.post(f"/api/discover/{cluster}/promote", json={"label": f"Custom:  {WELLS_NFD} "})
    assert res.status_code == 200, res.text
    out = res.json()
    assert out["label"] == WELLS and out["reported_as"] == "Custom: " + WELLS
    assert fitted == [WELLS]  # the fit was given the normalised label
    with CustomNarrativeStore(db, create=False) as store:
        assert [n.label for n in store.narratives()] == [WELLS]


@discover_module
def test_another_spelling_of_a_stored_label_is_a_conflict_not_a_replacement(
    db: Path, client: TestClient, fitted: list[str]
) -> None:
    cluster = store_discovered(db)
    with CustomNarrativeStore(db) as store:
        store.put(CustomNarrative(WELLS, ["an example"] * 10, b"mine", source="my file"))
    res = client.post(f"/api/discover/{cluster}/promote", json={"label": WELLS_NFD})
    assert res.status_code == 409 and "exists already" in res.json()["detail"]
    assert WELLS in res.json()["detail"]
    # a variant in case only is refused as `taxonomy add` refuses it (E100)
    res = client.post(f"/api/discover/{cluster}/promote", json={"label": "poisoned WÉLLS"})
    assert res.status_code == 422 and "differs from it only in case" in res.json()["detail"]
    # an empty label, once the prefix is gone
    res = client.post(f"/api/discover/{cluster}/promote", json={"label": "Custom: "})
    assert res.status_code == 422 and "empty" in res.json()["detail"]
    assert fitted == []
    with CustomNarrativeStore(db, create=False) as store:
        kept = store.get(WELLS)
    assert kept is not None and kept.source == "my file" and kept.model == b"mine"
    # replace: true learns it again, under the stored spelling
    res = client.post(
        f"/api/discover/{cluster}/promote", json={"label": WELLS_NFD, "replace": True}
    )
    assert res.status_code == 200, res.text
    assert res.json()["label"] == WELLS and res.json()["new"] is False


@pytest.mark.parametrize(
    "stored",
    [
        "1709596800",  # seconds
        "1709596800000",  # milliseconds (JavaScript's Date.now())
        "1709596800000000",  # microseconds
        "1709596800000000000",  # nanoseconds
        "1709596800000.0",  # a float's text
        "1.7095968e+18",  # a large float's text
    ],
)
def test_a_members_stored_epoch_date_reads_as_the_clustering_read_it(stored: str) -> None:
    from narrascope.corpus.campaigns import timestamp
    from narrascope.serve.app import _member_timestamp

    assert timestamp(float(stored)) == 1709596800.0  # the clustering's reading of the number
    assert _member_timestamp(stored, timestamp) == "2024-03-05T00:00:00Z"


def test_a_stored_text_date_stays_a_date_and_a_year_is_no_epoch() -> None:
    from narrascope.corpus.campaigns import timestamp
    from narrascope.serve.app import _member_timestamp

    assert _member_timestamp("20240305", timestamp) == "2024-03-05T00:00:00Z"
    assert _member_timestamp("2024", timestamp) is None
    assert _member_timestamp("unknown", timestamp) is None
