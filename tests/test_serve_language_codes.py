"""The HTTP API reads a document's language as the document model does: "RU", "rus" and
"pt-BR" are the codes they mean, and a code naming no language ("xx") is a 422 that says
what to give, never a 500 when the document is made. The search filter reads it alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from narrascope.serve import create_app
from test_serve_api import fake_pipeline, wait_job

TEXT = "Sanctions hurt Europe far more than they hurt Moscow, the minister said on Monday."


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(tmp_path / "corpus.db", pipeline=fake_pipeline(), batch_size=2)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("code", ["xx", "zz", "qqq", "English", "x-en"])
def test_an_unknown_language_is_a_422_on_analyze(client: TestClient, code: str) -> None:
    r = client.post("/api/analyze", json={"text": TEXT, "language": code})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "language" in detail and "unknown language code" in detail and "'en'" in detail


def test_an_unknown_language_is_a_422_on_documents(client: TestClient) -> None:
    docs = [
        {"text": TEXT, "id": "a", "language": "en"},
        {"text": TEXT, "id": "b", "language": "xx"},
    ]
    r = client.post("/api/documents", json={"documents": docs})
    assert r.status_code == 422, r.text
    assert "unknown language code 'xx'" in r.json()["detail"]


@pytest.mark.parametrize(("given", "meant"), [("RU", "ru"), ("rus", "ru"), ("pt-BR", "pt")])
def test_a_language_is_read_in_any_of_its_spellings(
    client: TestClient, given: str, meant: str
) -> None:
    r = client.post("/api/analyze", json={"text": TEXT, "language": given, "store": True})
    assert r.status_code == 200, r.text
    assert r.json()["language"] == meant


def test_the_search_filter_reads_a_language_as_stored(client: TestClient) -> None:
    docs = [{"text": TEXT, "id": "doc-ru", "language": "ru"}]
    job = client.post("/api/documents", json={"documents": docs})
    assert job.status_code == 202, job.text
    assert wait_job(client, job.json()["job"]["id"])["state"] == "done"
    for spelling in ("ru", "RU", "rus", "ru-RU"):
        found = client.get("/api/documents", params={"language": spelling})
        assert found.status_code == 200, found.text
        assert [d["id"] for d in found.json()["items"]] == ["doc-ru"], spelling
    bad = client.get("/api/documents", params={"language": "xx"})
    assert bad.status_code == 422 and "unknown language code" in bad.json()["detail"]
    assert client.get("/api/documents", params={"language": ""}).status_code == 200
