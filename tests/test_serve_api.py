"""The workspace HTTP API (narrascope.serve) end to end through FastAPI's TestClient.

Most tests use a fast stand-in pipeline (the real model costs seconds per load and the
API, not the model, is under test); ``test_analyze_with_the_real_model`` runs the bundled
models on a real text. Every test has its own temporary SQLite database.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

import narrascope
from narrascope.cli import main
from narrascope.doc import Annotation, Document
from narrascope.errors import E_STORE_OPEN, StoreError
from narrascope.export.table import COLUMNS
from narrascope.pipeline import Pipeline
from narrascope.serve import create_app, is_loopback
from narrascope.serve import models as m
from narrascope.serve.security import (
    CONTENT_SECURITY_POLICY,
    SESSION_TTL_S,
    TOKEN_COOKIE,
    Sessions,
)
from narrascope.stages.segment import SegmentStage
from narrascope.store import DocumentsNotSaved, Filters, SQLiteStore, open_store
from pgtest import postgres_schema_url

BLAME = "URW: Blaming the war on others rather than the invader"
PRAISE = "URW: Praise of Russia"
OTHER = "Other"

# Short texts written for these tests, one per language the tool reads.
TEXTS = {
    "en": "NATO provoked this conflict and Western capitals keep sending weapons to drag it "
    "out. Peace talks were blocked by Washington, commentators claim.",
    "ru": "Наши войска освобождают сёла одно за другим. НАТО ничего не может с этим "
    "поделать, пишут военкоры.",
    "uk": "Місто знову залишилося без світла після нічної атаки дронів. Волонтери привезли "
    "генератори до лікарні.",
    "bg": "Правителството обяви нова помощ за бежанците. НАТО засилва присъствието си в региона.",
    "pt": "A OTAN provocou esta guerra, dizem os comentadores. Os factos mostram outra história.",
    "hi": "कई चैनलों पर दावा किया गया कि नाटो ने यह युद्ध भड़काया। सेना आगे बढ़ रही है।",
}
HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)> NATO \"; DROP TABLE documents;--"


class FakeNarratives:
    """Keyword narratives with evidence, so filters and stats have something to count.

    A text with ``EXPLODE`` makes it raise; one with ``WAIT`` holds its batch until
    ``release`` is set, so a test can look at a job in the middle.
    """

    name = "narratives"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.holding = threading.Event()  # set once a WAIT batch is really in flight

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            if "EXPLODE" in doc.text:
                raise RuntimeError("this document breaks the stand-in model")
            if "WAIT" in doc.text:
                self.holding.set()
                assert self.release.wait(30)
            first = doc.sentences[0] if doc.sentences else doc.span(0, len(doc.text))
            found = []
            if any(w in doc.text for w in ("NATO", "НАТО", "OTAN", "नाटो")):
                found.append(Annotation(BLAME, 0.9, [first], [0.8]))
            if any(w in doc.text for w in ("войска", "army", "सेना")):
                found.append(Annotation(PRAISE, 0.6, [first], [0.5]))
            doc.groups["narratives"] = found or [Annotation(OTHER, 0.5)]
            doc.groups["subnarratives"] = []
            doc.explanation = f"Evidence: {first.text}"
        return docs


class FakeLanguage:
    name = "language"

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            if not doc.language:
                if any("\u0900" <= c <= "\u097f" for c in doc.text):
                    doc.language = "hi"
                elif any("\u0400" <= c <= "\u04ff" for c in doc.text):
                    doc.language = "ru"
                else:
                    doc.language = "en"
        return docs


def fake_pipeline(narratives: FakeNarratives | None = None) -> Pipeline:
    return Pipeline([FakeLanguage(), SegmentStage(), narratives or FakeNarratives()])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "corpus.db"


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db, pipeline=fake_pipeline(), batch_size=2)) as c:
        yield c


def wait_job(client: TestClient, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(f"/api/jobs/{job_id}").json()
        if info["state"] in ("done", "failed"):
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {info}")


def fill(client: TestClient) -> None:
    """Six stored documents: one per language, two sources, dates across two months."""
    dates = {
        "en": "2024-03-02",
        "ru": "2024-03-09",
        "uk": "2024-03-30",
        "bg": "2024-04-01",
        "pt": "2024-04-15",
        "hi": None,
    }
    for lang, text in TEXTS.items():
        body = {"text": text, "id": f"{lang}-1", "language": lang, "store": True}
        body |= {"source": "channel-a" if lang in ("en", "ru", "uk") else "site-b"}
        if dates[lang]:
            body["date"] = dates[lang]
        assert client.post("/api/analyze", json=body).status_code == 200


# -- analyse ---------------------------------------------------------------------------------


def test_analyze_returns_the_full_record_and_stores_only_when_asked(client: TestClient) -> None:
    r = client.post(
        "/api/analyze", json={"text": TEXTS["en"], "source": "blog", "date": "2024/3/2"}
    )
    assert r.status_code == 200
    record = r.json()
    assert record["text"] == TEXTS["en"]
    assert record["id"] == f"doc-{record['content_hash']}"
    assert record["source"] == "blog" and record["date"] == "2024-03-02"  # normalised as ingest
    assert [n["label"] for n in record["narratives"]] == [BLAME]
    ev = record["narratives"][0]["evidence"][0]
    assert TEXTS["en"][ev["start"] : ev["end"]] == ev["text"]
    assert set(record) >= {"sentences", "entities", "techniques", "persuasion_profile"}
    assert client.get(f"/api/documents/{record['id']}").status_code == 404

    r = client.post("/api/analyze", json={"text": TEXTS["ru"], "id": "ru/1", "store": True})
    stored = client.get("/api/documents/ru/1")
    assert stored.status_code == 200
    assert stored.json() == r.json()  # the same record the jsonl export writes
    assert r.json()["language"] == "ru"


def test_a_posted_text_is_composed_to_nfc_as_a_file_is(client: TestClient) -> None:
    decomposed = unicodedata.normalize(
        "NFD", "Мирный житель погиб в Киевской области, её дом разрушен."
    )
    r = client.post("/api/analyze", json={"text": decomposed, "id": "nfd"})
    assert r.status_code == 200
    record = r.json()
    assert record["text"] == unicodedata.normalize("NFC", decomposed)
    assert any("NFC" in w for w in record.get("input_warnings") or [])


@pytest.fixture(scope="module")
def real_pipeline() -> Pipeline:
    return narrascope.load()


def test_analyze_with_the_real_model(tmp_path: Path, real_pipeline: Pipeline) -> None:
    text = (
        "NATO provoked this war and Kyiv only follows orders from Washington.\n"
        "The Western media hide the truth: sanctions hurt Europe more than Russia.\n"
        "Ukrainian soldiers are surrendering in masses, the front is collapsing."
    )
    with TestClient(create_app(tmp_path / "real.db", pipeline=real_pipeline)) as client:
        r = client.post("/api/analyze", json={"text": text, "id": "real-en", "store": True})
        assert r.status_code == 200
        record = r.json()
        assert record["language"] == "en"
        assert record["narratives"] and all(0 <= n["score"] <= 1 for n in record["narratives"])
        assert record["narratives"][0]["label"].startswith("URW: ")
        for narrative in record["narratives"]:
            for ev in narrative["evidence"]:
                assert text[ev["start"] : ev["end"]] == ev["text"]
        assert record["explanation"]
        assert client.get("/api/documents/real-en").json() == record
        page = client.get("/api/documents", params={"narrative": record["narratives"][0]["label"]})
        assert page.json()["total"] == 1


# Fact-checks and a restatement written for this test; the other two are decoys.
FACT_CHECKS = [
    {
        "id": "fc-bridge",
        "claim": "Ukrainian saboteurs blew up the Kerch bridge on orders from London",
        "url": "https://example.org/fc-bridge",
        "verdict": "false",
    },
    {
        "id": "fc-chips",
        "claim": "Vaccines contain microchips for tracking people",
        "url": "https://example.org/fc-chips",
        "verdict": "false",
    },
    {
        "id": "fc-grain",
        "claim": "The grain corridor fed only rich European countries, never Africa",
        "url": "https://example.org/fc-grain",
        "verdict": "misleading",
    },
]
RESTATES = "Ukrainian saboteurs blew up the Kerch bridge, and they did it on orders from London.\n"


def test_the_server_matches_the_databases_debunks_as_analyze_db_does(tmp_path: Path) -> None:
    """The server's pipeline (the bundled models, as `narrascope serve` loads them) gets
    the debunk stage `analyze --db` gets, from the batch after the first debunks arrive
    (`debunks add` while it runs) and from the start once the database holds them."""
    db = tmp_path / "corpus.db"
    checks = tmp_path / "checks.jsonl"
    checks.write_text("".join(json.dumps(f) + "\n" for f in FACT_CHECKS), encoding="utf-8")
    text = tmp_path / "bridge.txt"
    text.write_text(RESTATES, encoding="utf-8")
    body = {"text": RESTATES, "id": "served-bridge"}
    with TestClient(create_app(db)) as client:
        assert client.post("/api/analyze", json=body).json()["debunks"] == []  # none yet
        assert main(["debunks", "add", str(checks), "--db", str(db), "--quiet"]) == 0
        served = client.post("/api/analyze", json={**body, "store": True}).json()

        out = tmp_path / "cli.jsonl"
        args = ["analyze", str(text), "--db", str(db), "--out", str(out), "--no-progress"]
        assert main(args) == 0
        cli = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
        assert cli["debunks"] and cli["debunks"][0]["id"] == "fc-bridge"
        assert served["debunks"] == cli["debunks"]
        # the stored document counts where debunks are counted
        assert client.get("/api/documents", params={"debunk": "any"}).json()["total"] == 2
        assert client.get("/api/facets").json()["debunked"] == 2
    with TestClient(create_app(db)) as client:  # restarted with the debunks in the database
        again = client.post("/api/analyze", json=body).json()
    assert again["debunks"] == cli["debunks"]


def test_empty_text_wrong_types_and_malformed_json_get_a_readable_4xx(client: TestClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"json": {"text": ""}}, "text is empty"),
        ({"json": {"text": " \n\t "}}, "text is empty"),
        ({"json": {"text": 42}}, "text: Input should be a valid string"),
        ({"json": {"id": "x"}}, "text: Field required"),
        ({"json": {"text": "ok", "store": "maybe"}}, "store"),
        ({"json": {"text": "ok", "language": "English"}}, "language"),
        ({"json": ["text"]}, "valid dictionary"),
        (
            {"content": b'{"text": "unterminated', "headers": {"content-type": "application/json"}},
            "body is not valid JSON",
        ),
        ({"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}}, ""),
        (
            {
                "content": b'{"text": "\\ud800 lone"}',
                "headers": {"content-type": "application/json"},
            },
            "surrogates",
        ),
    ]
    for kwargs, reason in cases:
        r = client.post("/api/analyze", **kwargs)
        assert 400 <= r.status_code < 500, (kwargs, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json")
        assert isinstance(r.json()["detail"], str) and reason in r.json()["detail"], r.json()
    bad_batch = client.post("/api/documents", json={"documents": []})
    assert bad_batch.status_code == 422 and "documents" in bad_batch.json()["detail"]
    assert client.post("/api/documents", json={"documents": [{"text": 1}]}).status_code == 422
    assert client.get("/api/documents", params={"limit": "many"}).status_code == 422
    assert client.get("/api/documents", params={"date_from": "March"}).status_code == 422
    assert client.get("/api/documents", params={"min_score": "2"}).status_code == 422
    assert client.get("/api/documents", params={"offset": "9" * 30}).status_code == 422
    nested = client.post(
        "/api/documents", content=b"[" * 100_000, headers={"content-type": "application/json"}
    )
    assert 400 <= nested.status_code < 500 and "detail" in nested.json()
    assert client.get("/api/stats", params={"by": "year"}).status_code == 422
    assert client.get("/api/export", params={"format": "xml"}).status_code == 422


def test_bodies_that_cannot_be_read_get_a_422_with_the_reason(client: TestClient) -> None:
    """What FastAPI or Starlette could not parse (a bare 400 "There was an error parsing
    the body") is the request's fault, said as for broken JSON."""
    as_json = {"content-type": "application/json"}
    deep = b'{"text": "a", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    cases = [
        ("/api/analyze", '{"text": "café"}'.encode("latin-1"), as_json, "not UTF-8: byte 0xe9"),
        ("/api/analyze", deep, as_json, "nested too deeply"),
        ("/api/documents", deep, as_json, "nested too deeply"),
        ("/api/documents/upload", b"--x", {"content-type": "multipart/form-data"}, "boundary"),
        (
            "/api/documents/upload",
            b"not a form",
            {"content-type": "multipart/form-data; boundary=x"},
            "not valid multipart/form-data",
        ),
    ]
    for path, content, headers, reason in cases:
        r = client.post(path, content=content, headers=headers)
        assert r.status_code == 422, (path, reason, r.text)
        answer = r.json()
        assert reason in answer["detail"], answer
        assert answer["errors"] == [{"loc": "body", "msg": answer["detail"]}]
    assert client.get("/api/jobs").json()["jobs"] == []  # no job from a broken upload
    assert client.get("/api/nope").status_code == 404  # other errors are as they were


def test_error_answers_have_the_shape_the_schema_declares(client: TestClient) -> None:
    """Clients generated from /openapi.json read every error as the server sends it:
    ``{"detail": str, "errors": [{"loc": str, "msg": str}]}``, 422s included."""
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(schema)  # FastAPI's shape, never sent
    declared = {}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorOut", (path, method, status)
                    declared[path, method, int(status)] = ref
    job = client.post("/api/documents", json={"documents": [{"text": TEXTS["en"]}]}).json()
    wait_job(client, job["job"]["id"])
    answers = {
        ("/api/analyze", "post", 422): client.post("/api/analyze", json={"text": 5}),
        ("/api/documents", "get", 422): client.get("/api/documents", params={"limit": 0}),
        ("/api/documents/{doc_id}", "get", 404): client.get("/api/documents/nope"),
        ("/api/jobs/{job_id}/cancel", "post", 409): client.post(
            f"/api/jobs/{job['job']['id']}/cancel"
        ),
        ("/api/stats", "get", 422): client.get("/api/stats", params={"by": "year"}),
    }
    for (path, method, status), r in answers.items():
        assert r.status_code == status, (path, r.text)
        assert (path, method, status) in declared
        m.ErrorOut.model_validate(r.json(), strict=True)
    assert answers["/api/analyze", "post", 422].json()["errors"][0]["loc"] == "body.text"


def test_hostile_text_comes_back_as_json_data_only(client: TestClient) -> None:
    r = client.post("/api/analyze", json={"text": HOSTILE, "id": "<b>x</b>", "store": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["text"] == HOSTILE and r.json()["id"] == "<b>x</b>"
    listed = client.get("/api/documents", params={"q": "DROP TABLE"}).json()
    assert [item["id"] for item in listed["items"]] == ["<b>x</b>"]
    assert client.get("/api/documents/<b>x</b>").json()["text"] == HOSTILE
    missing = client.get("/api/documents/<script>alert(1)</script>")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/json")
    assert missing.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert client.get("/api/health").json()["documents"] == 1  # the DROP TABLE did nothing


# -- jobs ------------------------------------------------------------------------------------


def test_documents_job_runs_to_done_and_a_bad_document_fails_alone(client: TestClient) -> None:
    documents = [
        {"text": TEXTS["en"], "id": "a", "source": "s1"},
        {"text": "   ", "id": "blank"},
        {"text": "This one EXPLODE in the model.", "id": "boom"},
        {"text": TEXTS["pt"], "id": "b", "date": "2024-05-01"},
        {"text": TEXTS["ru"], "id": "a"},
        {"text": TEXTS["hi"]},
    ]
    r = client.post("/api/documents", json={"documents": documents})
    assert r.status_code == 202
    job = r.json()["job"]
    assert job["state"] in ("queued", "running", "done") and job["total"] == 6
    info = wait_job(client, job["id"])
    assert info["state"] == "done" and info["finished"]
    assert info["done"] == 3 and info["failed"] == 3 and info["total"] == 6
    assert info["document_ids"][:2] == ["a", "b"] and info["document_ids"][2].startswith("doc-")
    reasons = {e["source"]: e["reason"] for e in info["errors"]}
    assert set(reasons) == {"blank", "boom", "documents[4]"}
    assert "empty" in reasons["blank"] and "RuntimeError" in reasons["boom"]
    # the CLI's wording: the id, that it was repeated, and where it came first
    assert (
        reasons["documents[4]"] == "id 'a' repeated: first seen in documents[0]; the first is kept"
    )
    assert client.get("/api/documents/a").json()["text"] == TEXTS["en"]  # the first one kept
    assert client.get("/api/documents/b").json()["date"] == "2024-05-01"
    assert client.get("/api/health").json()["documents"] == 3

    second = client.post("/api/documents", json={"documents": [{"text": TEXTS["uk"]}]}).json()
    wait_job(client, second["job"]["id"])
    listed = client.get("/api/jobs").json()["jobs"]
    assert [j["id"] for j in listed] == [second["job"]["id"], job["id"]]  # newest first
    assert client.get("/api/jobs/nope").status_code == 404


def test_job_progress_is_visible_and_each_batch_is_stored_as_it_finishes(db: Path) -> None:
    narratives = FakeNarratives()
    app = create_app(db, pipeline=fake_pipeline(narratives), batch_size=2)
    with TestClient(app) as client:
        texts = [TEXTS["en"], TEXTS["ru"], "WAIT " + TEXTS["bg"], TEXTS["pt"], TEXTS["hi"]]
        documents = [{"text": t, "id": f"p{n}"} for n, t in enumerate(texts)]
        job = client.post("/api/documents", json={"documents": documents}).json()["job"]
        deadline = time.monotonic() + 30
        while (info := client.get(f"/api/jobs/{job['id']}").json())["done"] < 2:
            assert time.monotonic() < deadline, info
            time.sleep(0.02)
        assert info["state"] == "running" and info["done"] == 2 and info["total"] == 5
        assert info["document_ids"] == ["p0", "p1"] and info["finished"] is None
        # the first batch is in the database while the second is still being analysed
        assert client.get("/api/documents/p1").json()["text"] == TEXTS["ru"]
        assert client.get("/api/health").json()["documents"] == 2
        narratives.release.set()
        info = wait_job(client, job["id"])
        assert info["state"] == "done" and info["done"] == 5 and info["failed"] == 0


def test_stopping_the_server_keeps_what_a_job_stored(db: Path) -> None:
    narratives = FakeNarratives()
    app = create_app(db, pipeline=fake_pipeline(narratives), batch_size=2)
    texts = [TEXTS["en"], "WAIT " + TEXTS["ru"], TEXTS["bg"], TEXTS["pt"], TEXTS["hi"]]
    documents = [{"text": t, "id": f"s{n}"} for n, t in enumerate(texts)]
    with TestClient(app) as client:
        job = client.post("/api/documents", json={"documents": documents}).json()["job"]
        # "running" is set before the first batch is read; stop only once it is in the model
        assert narratives.holding.wait(30)

        def release_once_stopping() -> None:
            assert app.state.jobs.stopping.wait(30)
            narratives.release.set()

        threading.Thread(target=release_once_stopping).start()
    info = app.state.jobs.get(job["id"]).info()
    assert info["state"] == "failed" and info["done"] == 2  # the batch in flight finished
    assert "server stopped" in info["errors"][-1]["reason"]
    with open_store(db) as store:
        assert store.count() == 2 and store.get_document("s1") is not None


def test_a_document_the_store_refuses_fails_alone(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = SQLiteStore.save

    def picky_save(self: SQLiteStore, docs: Any) -> int:
        docs = list(docs)
        kept = [d for d in docs if d.id != "refused"]
        saved = original(self, kept)
        if len(kept) < len(docs):
            raise DocumentsNotSaved([("refused", "the database said no")], saved)
        return saved

    monkeypatch.setattr(SQLiteStore, "save", picky_save)
    documents = [{"text": TEXTS[lang], "id": i} for lang, i in [("en", "x"), ("ru", "refused")]]
    documents.append({"text": TEXTS["bg"], "id": "y"})
    job = client.post("/api/documents", json={"documents": documents}).json()["job"]
    info = wait_job(client, job["id"])
    assert info["state"] == "done" and info["document_ids"] == ["x", "y"]
    assert info["done"] == 2 and info["failed"] == 1
    assert info["errors"][0]["source"] == "refused"
    assert "the database said no" in info["errors"][0]["reason"]
    r = client.post("/api/analyze", json={"text": TEXTS["ru"], "id": "refused", "store": True})
    assert r.status_code == 422 and "the database said no" in r.json()["detail"]


def test_upload_reads_files_like_the_cli_and_reports_bad_ones(client: TestClient) -> None:
    jsonl = "\n".join(
        [
            json.dumps({"id": "j1", "text": TEXTS["bg"], "source": "site-b"}, ensure_ascii=False),
            '{"id": "j2", "text": ',
            json.dumps({"id": "j3", "text": TEXTS["hi"], "date": "2024-04-02"}, ensure_ascii=False),
        ]
    )
    table = io.StringIO()
    csv.writer(table).writerows([["id", "text", "source"], ["c1", TEXTS["pt"], "jornal"]])
    files = [
        ("files", ("ru-cp1251.txt", TEXTS["ru"].encode("cp1251"), "text/plain")),
        ("files", ("notes.md", TEXTS["en"].encode("utf-16"), "text/markdown")),
        ("files", ("posts.jsonl", jsonl.encode(), "application/x-ndjson")),
        ("files", ("rows.csv", table.getvalue().encode(), "text/csv")),
        ("files", ("empty.txt", b"", "text/plain")),
        ("files", ("blob.bin", bytes(range(256)) * 8, "application/octet-stream")),
        ("files", ("../../etc/ru-cp1251.txt", "Другой текст про НАТО.".encode(), "text/plain")),
        ("files", ("Я" * 300 + ".txt", TEXTS["uk"].encode(), "text/plain")),
    ]
    r = client.post("/api/documents/upload", files=files)
    assert r.status_code == 202, r.text
    info = wait_job(client, r.json()["job"]["id"])
    assert info["state"] == "done"
    assert sorted(info["document_ids"]) == sorted(
        ["ru-cp1251.txt", "notes.md", "j1", "j3", "c1", "ru-cp1251-2.txt", "Я" * 90 + ".txt"]
    )
    assert info["done"] == 7 and info["failed"] == 3
    sources = {e["source"] for e in info["errors"]}
    assert sources == {"posts.jsonl:2", "empty.txt", "blob.bin"}, info["errors"]
    assert all("/tmp" not in e["source"] + e["reason"] for e in info["errors"])
    ru = client.get("/api/documents/ru-cp1251.txt").json()
    assert ru["text"] == TEXTS["ru"] and ru["path"] == "ru-cp1251.txt"  # cp1251 decoded
    assert client.get("/api/documents/notes.md").json()["text"] == TEXTS["en"]
    assert client.get("/api/documents/j1").json()["source"] == "site-b"
    assert client.get("/api/documents/c1").json()["source"] == "jornal"
    assert client.post("/api/documents/upload").status_code == 422  # no files at all


# -- corpus: list, filters, stats, facets, export, delete ----------------------------------------


def test_list_filters_and_pagination(client: TestClient) -> None:
    fill(client)

    def ids(**params: Any) -> list[str]:
        body = client.get("/api/documents", params=params).json()
        return sorted(item["id"] for item in body["items"])

    everything = client.get("/api/documents").json()
    assert everything["total"] == 6 and len(everything["items"]) == 6
    first = everything["items"][0]
    assert set(first) == {"id", "language", "source", "url", "date", "narratives"}
    assert ids(narrative=BLAME) == ["bg-1", "en-1", "hi-1", "pt-1", "ru-1"]
    assert ids(narrative=PRAISE, min_score=0.5) == ["hi-1", "ru-1"]
    assert ids(narrative=PRAISE, min_score=0.7) == []
    assert ids(min_score=0.85) == ["bg-1", "en-1", "hi-1", "pt-1", "ru-1"]
    assert ids(language="uk") == ["uk-1"]
    assert ids(source="channel-a") == ["en-1", "ru-1", "uk-1"]
    assert ids(date_from="2024-03-09", date_to="2024-04-01") == ["bg-1", "ru-1", "uk-1"]
    assert ids(q="генератори") == ["uk-1"]
    assert ids(q="NATO", language="") == ["en-1"]  # an empty parameter is no filter
    page = client.get("/api/documents", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 6 and len(page["items"]) == 2
    pages = [
        item["id"]
        for offset in (0, 2, 4)
        for item in client.get("/api/documents", params={"limit": 2, "offset": offset}).json()[
            "items"
        ]
    ]
    assert sorted(pages) == sorted(ids())  # pages cover the corpus once
    filtered = client.get("/api/documents", params={"source": "site-b", "limit": 1}).json()
    assert filtered["total"] == 3 and len(filtered["items"]) == 1


def test_limit_is_capped(db: Path) -> None:
    docs = []
    for n in range(520):
        doc = Document(text=f"Document number {n} about NATO.", id=f"d{n:03}", language="en")
        doc.groups["narratives"] = [Annotation(BLAME, 0.9)]
        docs.append(doc)
    with open_store(db) as store:
        store.save(docs)
    with TestClient(create_app(db, pipeline=fake_pipeline())) as client:
        page = client.get("/api/documents", params={"limit": 10_000}).json()
        assert page["total"] == 520 and len(page["items"]) == 500


def test_min_score_selects_by_the_score_the_record_shows(db: Path) -> None:
    """Records show scores to 4 decimals: a document shown with 0.3668 has it, for the
    list, its items, the export and the stats alike."""
    doc = Document(text="Sanctions hurt Europe more than Russia.", id="edge", language="en")
    doc.groups["narratives"] = [Annotation(BLAME, 0.366792), Annotation(PRAISE, 0.36674)]
    with open_store(db) as store:
        store.save([doc])
    with TestClient(create_app(db, pipeline=fake_pipeline())) as client:
        record = client.get("/api/documents/edge").json()
        assert {n["label"]: n["score"] for n in record["narratives"]} == {
            BLAME: 0.3668,
            PRAISE: 0.3667,
        }

        def ids(**params: Any) -> list[str]:
            return [i["id"] for i in client.get("/api/documents", params=params).json()["items"]]

        assert ids(narrative=BLAME, min_score=0.3668) == ["edge"]
        assert ids(narrative=BLAME, min_score=0.36675) == ["edge"]  # 0.3668 is at least that
        assert ids(narrative=BLAME, min_score=0.3669) == []
        assert ids(narrative=PRAISE, min_score=0.3668) == []
        assert ids(narrative=PRAISE, min_score=0.3667) == ["edge"]
        assert ids(min_score=0.3668) == ["edge"]
        listed = client.get("/api/documents").json()["items"][0]["narratives"]
        assert listed == [{"label": BLAME, "score": 0.3668}, {"label": PRAISE, "score": 0.3667}]
        params = {"narrative": BLAME, "min_score": "0.3668"}
        exported = client.get("/api/export", params=params).text.splitlines()
        assert [json.loads(line)["id"] for line in exported] == ["edge"]
        stats = client.get("/api/stats", params={**params, "by": "language"}).json()
        assert stats["rows"] == [{"bucket": "en", "narrative": BLAME, "documents": 1}]


def test_min_score_reads_the_shown_score_on_every_backend(store: Any) -> None:
    doc = Document(text="Sanctions hurt Europe more than Russia.", id="edge", language="en")
    doc.groups["narratives"] = [Annotation(BLAME, 0.366792)]
    store.save([doc])
    assert [h.id for h in store.search(Filters(narrative=BLAME, min_score=0.3668))] == ["edge"]
    assert store.search(Filters(narrative=BLAME, min_score=0.3669)) == []
    assert store.search(Filters())[0].narratives == [(BLAME, 0.3668)]


def test_stats_and_facets(client: TestClient) -> None:
    fill(client)
    by_month = client.get("/api/stats", params={"by": "month"}).json()
    assert by_month["by"] == "month"
    rows = {(r["bucket"], r["narrative"]): r["documents"] for r in by_month["rows"]}
    assert rows[("2024-03", BLAME)] == 2 and rows[("2024-04", BLAME)] == 2
    assert rows[(None, BLAME)] == 1  # hi-1 has no date
    assert by_month["undated"] == 1  # hi-1 once, though it has two narratives
    assert client.get("/api/stats", params={"language": "en"}).json()["undated"] == 0
    undated_praise = client.get("/api/stats", params={"by": "source", "narrative": PRAISE})
    assert undated_praise.json()["undated"] == 1
    by_source = client.get("/api/stats", params={"by": "source", "language": "ru"}).json()
    assert by_source["rows"] == [
        {"bucket": "channel-a", "narrative": BLAME, "documents": 1},
        {"bucket": "channel-a", "narrative": PRAISE, "documents": 1},
    ]
    for by in ("day", "week", "language"):
        assert client.get("/api/stats", params={"by": by}).json()["rows"]
    facets = client.get("/api/facets").json()
    assert facets["documents"] == 6
    assert {"value": "channel-a", "count": 3} in facets["source"]
    assert {f["value"] for f in facets["language"]} == set(TEXTS)
    assert {"value": BLAME, "count": 5} in facets["narrative"]


def test_export_jsonl_and_csv_streams_the_filtered_documents(client: TestClient) -> None:
    fill(client)
    r = client.get("/api/export", params={"format": "jsonl", "source": "channel-a"})
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in r.text.splitlines()]
    assert sorted(rec["id"] for rec in records) == ["en-1", "ru-1", "uk-1"]
    for rec in records:
        assert rec == client.get(f"/api/documents/{rec['id']}").json()

    r = client.get("/api/export", params={"format": "csv", "narrative": BLAME})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="narrascope-export.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == COLUMNS
    assert {row["id"] for row in rows} == {"en-1", "ru-1", "bg-1", "pt-1", "hi-1"}
    assert {row["label"] for row in rows if row["level"] == "narrative"} == {BLAME, PRAISE}
    empty = client.get("/api/export", params={"format": "jsonl", "q": "nothing-matches-this"})
    assert empty.status_code == 200 and empty.text == ""


@pytest.mark.parametrize(
    "path", ["/api/documents", "/api/stats", "/api/stats/hate", "/api/stats/debunks", "/api/export"]
)
def test_a_filter_value_the_store_refuses_is_a_422_with_its_reason(
    client: TestClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    r = client.get(path, params={"hate": "xx"})
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "hate is one of hateful, offensive, incitement, flagged, got 'xx'"
    )
    assert "database error" not in caplog.text


def test_dates_in_other_forms_are_filtered_and_counted_by_their_day(client: TestClient) -> None:
    for doc_id, day in (("d1", "02.03.2024"), ("d2", "2024-03-04"), ("d3", "soon")):
        body = {"text": TEXTS["en"], "id": doc_id, "date": day, "store": True}
        assert client.post("/api/analyze", json=body).status_code == 200
    page = client.get("/api/documents", params={"date_from": "2024-03-01"}).json()
    assert [(i["id"], i["date"]) for i in page["items"]] == [
        ("d2", "2024-03-04"),
        ("d1", "02.03.2024"),  # shown as given
    ]
    assert client.get("/api/documents", params={"date_to": "2023-12-31"}).json()["total"] == 0
    stats = client.get("/api/stats", params={"by": "day"}).json()
    assert {r["bucket"] for r in stats["rows"]} == {"2024-03-02", "2024-03-04", None}
    assert stats["undated"] == 1


def test_a_failed_export_is_cut_off_after_what_it_wrote(client: TestClient, db: Path) -> None:
    """Not a 200 that ends cleanly with the documents so far dropped: what was written is
    sent, then the response is aborted, so no client takes it for a whole download."""
    from narrascope.serve.app import ExportFailed, _export_stream

    fill(client)
    with sqlite3.connect(db) as conn:  # a record the export cannot read, after two good ones
        conn.execute("""UPDATE documents SET record = '{"id": "uk-1", "text": 5}'
            WHERE id = 'uk-1'""")
    received: list[bytes] = []

    async def download() -> None:
        async for chunk in _export_stream(str(db), "jsonl", Filters()):
            received.append(chunk)

    with pytest.raises(ExportFailed, match="failed part way"):
        anyio.run(download)
    lines = b"".join(received).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["pt-1", "bg-1"]
    with pytest.raises(ExportFailed):  # the server aborts the response body
        client.get("/api/export", params={"format": "jsonl"})


def test_delete_and_health(client: TestClient) -> None:
    fill(client)
    health = client.get("/api/health").json()
    assert health == {"status": "ok", "documents": 6, "version": narrascope.__version__}
    r = client.delete("/api/documents/uk-1")
    assert r.status_code == 200 and r.json() == {"id": "uk-1", "deleted": True}
    assert client.get("/api/documents/uk-1").status_code == 404
    assert client.delete("/api/documents/uk-1").status_code == 404
    assert client.get("/api/health").json()["documents"] == 5
    assert client.get("/api/documents", params={"q": "генератори"}).json()["total"] == 0


# -- the page, security ----------------------------------------------------------------------


def test_page_static_files_and_security_headers(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    missing = client.get("/static/no-such-file.js")
    assert missing.status_code == 404
    assert client.get("/static/../pyproject.toml").status_code == 404
    schema = client.get("/openapi.json").json()
    assert {"/api/analyze", "/api/documents", "/api/jobs/{job_id}", "/api/export"} <= set(
        schema["paths"]
    )
    job_schema = schema["components"]["schemas"]["JobInfo"]["properties"]
    assert {"id", "state", "total", "done", "failed", "errors", "document_ids"} <= set(job_schema)


def test_token_protects_the_api_and_the_page(db: Path) -> None:
    app = create_app(db, token="s3cret-token-0123456", pipeline=fake_pipeline())
    with TestClient(app) as client:
        denied = client.get("/api/health")
        assert denied.status_code == 401 and "token" in denied.json()["detail"]
        assert client.get("/").status_code == 401
        assert client.get("/openapi.json").status_code == 401
        wrong = {"Authorization": "Bearer s3cret-tokex"}
        assert client.get("/api/health", headers=wrong).status_code == 401
        assert client.get("/api/health?token=s3cret-token-0123456").status_code == 401  # page only
        good = client.get("/api/health", headers={"Authorization": "Bearer s3cret-token-0123456"})
        assert good.status_code == 200
        header = client.get("/api/health", headers={"X-Narrascope-Token": "s3cret-token-0123456"})
        assert header.status_code == 200
        posted = client.post(
            "/api/analyze",
            json={"text": TEXTS["en"]},
            headers={"Authorization": "Bearer s3cret-token-0123456"},
        )
        assert posted.status_code == 200

        opened = client.get("/?token=s3cret-token-0123456&tab=corpus", follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/?tab=corpus"
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
        assert "s3cret-token-0123456" not in cookie  # the browser keeps a session id
        assert client.get("/").status_code == 200  # the client kept the cookie
        assert client.get("/api/facets").status_code == 200  # the page's fetches work
        schema = client.get("/openapi.json").json()
        assert {"bearer", "tokenHeader", "pageCookie"} <= set(
            schema["components"]["securitySchemes"]
        )
        client.cookies.clear()
        assert client.get("/api/facets").status_code == 401
        client.cookies.set(TOKEN_COOKIE, "forged")
        assert client.get("/api/facets").status_code == 401


def test_the_page_cookie_is_a_random_session_that_expires(db: Path) -> None:
    token = "s3cret-token-0123456"
    app = create_app(db, token=token, pipeline=fake_pipeline())
    clock = [1000.0]
    with TestClient(app) as client:
        app.state.sessions.clock = lambda: clock[0]
        ids = []
        for _ in range(2):
            client.cookies.clear()
            opened = client.get(f"/?token={token}", follow_redirects=False)
            name, _, value = opened.headers["set-cookie"].split(";")[0].partition("=")
            assert name == TOKEN_COOKIE
            ids.append(value)
        assert ids[0] != ids[1] and len(ids[0]) >= 32  # random, not a digest of the token
        fixed = hmac.new(token.encode(), b"narrascope-page-session", hashlib.sha256).hexdigest()
        client.cookies.clear()
        client.cookies.set(TOKEN_COOKIE, fixed)
        assert client.get("/api/facets").status_code == 401  # the old fixed value is no key
        client.cookies.set(TOKEN_COOKIE, ids[0])
        assert client.get("/api/facets").status_code == 200
        clock[0] += SESSION_TTL_S - 60
        assert client.get("/api/facets").status_code == 200  # in use: extended
        clock[0] += SESSION_TTL_S - 60
        assert client.get("/api/facets").status_code == 200
        clock[0] += SESSION_TTL_S + 1  # idle past its time: gone
        assert client.get("/api/facets").status_code == 401
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/facets", headers=headers).status_code == 200  # API clients
    # a new server (a restart) knows none of the earlier sessions
    with TestClient(create_app(db, token=token, pipeline=fake_pipeline())) as again:
        again.cookies.set(TOKEN_COOKIE, ids[1])
        assert again.get("/api/facets").status_code == 401
    # over https (directly or behind a proxy that says so) the cookie is Secure
    with TestClient(app, base_url="https://testserver") as secure:
        opened = secure.get(f"/?token={token}", follow_redirects=False)
        assert opened.status_code == 303 and "; Secure" in opened.headers["set-cookie"]


def test_sessions_are_bounded_and_the_least_recently_used_end_first() -> None:
    clock = [0.0]
    sessions = Sessions(ttl=100, limit=3, clock=lambda: clock[0])
    a, b, c = sessions.new(), sessions.new(), sessions.new()
    assert sessions.check(a)  # a is now the most recently used
    d = sessions.new()
    assert len(sessions) == 3 and not sessions.check(b)
    assert sessions.check(a) and sessions.check(c) and sessions.check(d)
    assert not sessions.check("forged") and not sessions.check("")
    clock[0] = 150
    e = sessions.new()  # the expired ones are dropped on the way
    assert len(sessions) == 1 and sessions.check(e) and not sessions.check(a)


def test_other_sites_cannot_use_the_server_through_the_browser(db: Path) -> None:
    app = create_app(db, pipeline=fake_pipeline(), allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        body = {"text": TEXTS["en"], "store": True}
        assert client.post("/api/analyze", json=body).status_code == 200
        same = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
        assert client.post("/api/analyze", json=body, headers=same).status_code == 200
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
        ):
            r = client.post(
                "/api/documents/upload", files=[("files", ("a.txt", b"NATO"))], headers=headers
            )
            assert r.status_code == 403 and "other web sites" in r.json()["detail"]
            assert client.delete("/api/documents/x", headers=headers).status_code == 403
        assert client.get("/api/jobs").json()["jobs"] == []
        # DNS rebinding: a foreign name pointed at 127.0.0.1 is refused, reads included
        rebound = client.get("/api/documents", headers={"Host": "evil.example:8000"})
        assert rebound.status_code == 403 and "Host" in rebound.json()["detail"]
        assert client.get("/api/health", headers={"Host": "localhost:8000"}).status_code == 200


def test_serve_refuses_a_public_address_without_a_token(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert not is_loopback("example.org")
    monkeypatch.delenv("NARRASCOPE_TOKEN", raising=False)
    assert main(["serve", "--db", str(db), "--host", "0.0.0.0"]) == 2
    assert "token" in capsys.readouterr().err
    assert not db.exists()  # refused before opening anything

    started: dict[str, Any] = {}

    def fake_run(server: Any) -> None:
        config = server.config
        started.update(host=config.host, port=config.port, app=config.app)

    # the apps are used without their lifespan: no worker, so the models are never loaded
    monkeypatch.setattr("uvicorn.Server.run", fake_run)
    monkeypatch.setenv("NARRASCOPE_TOKEN", "from-the-environment")
    assert main(["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "8123"]) == 0
    assert started["host"] == "0.0.0.0" and started["port"] == 8123
    public = TestClient(started["app"])
    assert public.get("/api/health").status_code == 401
    auth = {"Authorization": "Bearer from-the-environment"}
    assert public.get("/api/health", headers=auth).status_code == 200

    monkeypatch.delenv("NARRASCOPE_TOKEN")
    assert main(["serve", "--db", str(db), "--port", "8124"]) == 0
    assert started["host"] == "127.0.0.1"
    local = TestClient(started["app"], base_url="http://127.0.0.1:8124")
    assert local.get("/api/health").status_code == 200  # no token needed on loopback
    assert local.get("/api/health", headers={"Host": "evil.example"}).status_code == 403


def test_body_limit_gives_413_with_and_without_content_length(db: Path) -> None:
    app = create_app(db, pipeline=fake_pipeline(), max_body_bytes=10_000)
    big = json.dumps({"text": "NATO " * 5000}).encode()
    with TestClient(app) as client:
        r = client.post("/api/analyze", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "limit" in r.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
            for n in range(0, len(big), 1000):
                yield big[n : n + 1000]

        r = client.post(
            "/api/analyze", content=chunks(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413 and "--max-body-mb" in r.json()["detail"]
        r = client.post("/api/documents/upload", files=[("files", ("a.txt", b"x" * 20_000))])
        assert r.status_code == 413
        small = client.post("/api/analyze", json={"text": TEXTS["bg"]})
        assert small.status_code == 200
        assert client.get("/api/jobs").json()["jobs"] == []  # the big upload made no job


SECRET_URL = "postgresql://pguser@127.0.0.1:5432/corpus?password=hunter2-secret"


class LostStore:
    """A store whose connection is gone, with the URL in its message as PostgresStore's."""

    def __init__(self) -> None:
        self._conn = type("Conn", (), {"broken": True, "closed": False})()

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreError(E_STORE_OPEN, f"lost the connection to {SECRET_URL} (terminated)")

        return fail


def test_database_errors_reach_clients_without_any_detail(
    db: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(db, pipeline=fake_pipeline(), batch_size=2)
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(app.state.stores, "get", LostStore)
        for answer in (client.get("/api/documents?q=x"), client.get("/api/facets")):
            assert answer.status_code == 503
            assert answer.json() == {"detail": "database error; see the server log"}
        job = client.post("/api/documents", json={"documents": [{"text": TEXTS["en"]}]})
        info = wait_job(client, job.json()["job"]["id"])
        assert info["state"] == "failed"
        assert {"source": "job", "reason": "database error; see the server log"} in info["errors"]
        assert "hunter2" not in json.dumps(client.get("/api/jobs").json())
    assert "lost the connection" in caplog.text  # the detail stays in the server log


def test_a_lost_connection_is_opened_again_by_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from narrascope.serve import jobs as serve_jobs

    opened: list[Any] = []

    class Conn:
        broken = False
        closed = False

    class Fake:
        def __init__(self, url: str) -> None:
            self._conn = Conn()
            self.closed = False
            opened.append(self)

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(serve_jobs, "open_store", Fake)
    pool = serve_jobs.StorePool(SECRET_URL)
    first = pool.get()
    assert pool.get() is first  # a live connection is kept
    first._conn.broken = True  # the server went away
    second = pool.get()
    assert second is not first and first.closed and len(opened) == 2
    assert pool.get() is second
    pool.close_all()
    assert second.closed


def test_serve_prints_the_database_url_without_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("narrascope.serve.create_app", lambda *a, **k: object())
    monkeypatch.setattr("narrascope.cli.serve._serve", lambda *a: None)
    monkeypatch.delenv("NARRASCOPE_TOKEN", raising=False)
    assert main(["serve", "--db", "postgresql://me:pw1@h/x?password=pw2", "--port", "8125"]) == 0
    err = capsys.readouterr().err
    assert "serving postgresql://me:***@h/x?password=*** at" in err and "pw" not in err


# -- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema on the storage tests' PostgreSQL server (they skip without one)."""
    yield from postgres_schema_url(request.getfixturevalue("postgres_admin"))


def test_the_api_on_postgresql(postgres_url: str) -> None:
    with TestClient(create_app(postgres_url, pipeline=fake_pipeline(), batch_size=2)) as client:
        fill(client)
        job = client.post(
            "/api/documents",
            json={"documents": [{"text": TEXTS["en"], "id": "job-1"}, {"text": ""}]},
        ).json()["job"]
        info = wait_job(client, job["id"])
        assert info["done"] == 1 and info["failed"] == 1
        page = client.get("/api/documents", params={"narrative": BLAME, "limit": 2}).json()
        assert page["total"] == 6 and len(page["items"]) == 2
        assert client.get("/api/documents", params={"q": "генератори"}).json()["total"] == 1
        rows = client.get("/api/stats", params={"by": "source"}).json()["rows"]
        assert {"bucket": "channel-a", "narrative": BLAME, "documents": 2} in rows
        assert client.get("/api/facets").json()["documents"] == 7
        export = client.get("/api/export", params={"format": "jsonl", "language": "uk"})
        assert [json.loads(line)["id"] for line in export.text.splitlines()] == ["uk-1"]
        assert client.get("/api/documents/ru-1").json()["text"] == TEXTS["ru"]
        assert client.delete("/api/documents/ru-1").json()["deleted"] is True
        assert client.get("/api/health").json()["documents"] == 6
