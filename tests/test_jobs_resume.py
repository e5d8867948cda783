"""Background jobs after a crash and in the queue: a resumed job counts every document it
stored, and a queued job that is cancelled fails at once and frees its place.

The stand-in pipeline of ``test_serve_api`` (its ``WAIT`` text holds a batch in the model)
keeps these tests fast; every test has its own database and jobs folder.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from narrascope.serve import create_app
from narrascope.serve.jobs import JOB_FILE
from narrascope.store import open_store
from test_serve_api import TEXTS, FakeNarratives, fake_pipeline, wait_job


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "corpus.db"


def _documents(prefix: str, texts: list[str]) -> list[dict[str, Any]]:
    return [{"text": text, "id": f"{prefix}{n}"} for n, text in enumerate(texts)]


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database in use (its WAL included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def test_a_job_resumed_after_a_crash_lists_every_document_it_stored(tmp_path: Path) -> None:
    """The record is written at most once a second while a job runs, so after a kill it
    can list fewer documents than the database holds; the resumed run skips those as
    stored, and must count them, not lose them from ``done`` and ``document_ids``."""
    db, jobs_dir = tmp_path / "corpus.db", tmp_path / "jobs"
    texts = [TEXTS["en"], TEXTS["ru"], TEXTS["uk"], TEXTS["bg"], "WAIT " + TEXTS["pt"]]
    texts.append(TEXTS["hi"])
    held = FakeNarratives()
    app = create_app(db, pipeline=fake_pipeline(held), batch_size=2, jobs_dir=jobs_dir)
    with TestClient(app) as client:
        job = client.post("/api/documents", json={"documents": _documents("k", texts)}).json()
        job_id = job["job"]["id"]
        assert held.holding.wait(30)  # k0-k3 are stored; the third batch is in the model
        assert client.get("/api/health").json()["documents"] == 4
        # the moment of a `kill -9`: the database, the job's folder, and a record written
        # after the first batch only (the throttle skipped the second)
        _copy_database(db, tmp_path / "crashed.db")
        shutil.copytree(jobs_dir / job_id, tmp_path / "crashed.jobs" / job_id)
        record_path = tmp_path / "crashed.jobs" / job_id / JOB_FILE
        record = json.loads(record_path.read_text(encoding="utf-8"))
        record.update(state="running", done=2, document_ids=["k0", "k1"])
        record_path.write_text(json.dumps(record), encoding="utf-8")
        held.release.set()
        wait_job(client, job_id)

    free = FakeNarratives()
    free.release.set()  # k4's WAIT is analysed again, without holding
    restarted = create_app(
        tmp_path / "crashed.db",
        pipeline=fake_pipeline(free),
        batch_size=2,
        jobs_dir=tmp_path / "crashed.jobs",
    )
    with TestClient(restarted) as client:
        before = client.get(f"/api/jobs/{job_id}").json()
        assert before["state"] == "failed" and before["resumable"] and before["done"] == 2
        assert client.post(f"/api/jobs/{job_id}/resume").status_code == 202
        info = wait_job(client, job_id)
    assert info["state"] == "done" and info["failed"] == 0
    assert info["document_ids"] == [f"k{n}" for n in range(6)]  # k2, k3 counted, once each
    assert info["done"] == 6 and info["total"] == 6
    with open_store(tmp_path / "crashed.db") as store:
        assert store.count() == 6
    # what the record on disk says, for the next restart, too
    saved = json.loads(record_path.read_text(encoding="utf-8"))
    assert saved["done"] == 6 and saved["total"] == 6 and len(saved["document_ids"]) == 6


def test_cancelling_a_queued_job_fails_it_at_once_and_frees_its_place(db: Path) -> None:
    held = FakeNarratives()
    app = create_app(db, pipeline=fake_pipeline(held), batch_size=2)
    with TestClient(app) as client:
        app.state.jobs.max_queued_jobs = 2
        running = client.post(
            "/api/documents", json={"documents": _documents("a", ["WAIT " + TEXTS["en"]])}
        ).json()["job"]
        assert held.holding.wait(30)
        queued = client.post(
            "/api/documents", json={"documents": _documents("b", [TEXTS["ru"], TEXTS["bg"]])}
        ).json()["job"]
        full = client.post("/api/documents", json={"documents": _documents("c", [TEXTS["pt"]])})
        assert full.status_code == 503 and "queue is full" in full.json()["detail"]

        cancelled = client.post(f"/api/jobs/{queued['id']}/cancel")
        assert cancelled.status_code == 200
        now = cancelled.json()
        assert now["state"] == "failed" and now["resumable"] and now["finished"]
        assert "cancelled" in now["errors"][-1]["reason"]
        assert client.get(f"/api/jobs/{queued['id']}").json()["state"] == "failed"
        assert client.post(f"/api/jobs/{queued['id']}/cancel").status_code == 409
        # its place is free while the running job still holds the worker
        room = client.post("/api/documents", json={"documents": _documents("c", [TEXTS["pt"]])})
        assert room.status_code == 202
        assert client.get(f"/api/jobs/{running['id']}").json()["state"] == "running"

        # resumed (there is room again), it runs once, after the job queued meanwhile:
        # its first place in the queue is stale
        app.state.jobs.max_queued_jobs = 3
        resumed = client.post(f"/api/jobs/{queued['id']}/resume")
        assert resumed.status_code == 202 and resumed.json()["state"] == "queued"
        held.release.set()
        infos = {j: wait_job(client, j) for j in (running["id"], room.json()["job"]["id"])}
        info = wait_job(client, queued["id"])
    assert all(i["state"] == "done" for i in infos.values())
    assert info["state"] == "done" and info["document_ids"] == ["b0", "b1"]
    assert info["done"] == 2 and info["total"] == 2
    assert info["finished"] >= infos[room.json()["job"]["id"]]["finished"]


def test_a_job_cancelled_while_queued_never_starts(db: Path) -> None:
    """The job thread takes a job from the queue only if it is still queued."""
    held = FakeNarratives()
    app = create_app(db, pipeline=fake_pipeline(held), batch_size=2)
    with TestClient(app) as client:
        first = client.post(
            "/api/documents", json={"documents": _documents("a", ["WAIT " + TEXTS["en"]])}
        ).json()["job"]
        assert held.holding.wait(30)
        second = client.post(
            "/api/documents", json={"documents": _documents("b", [TEXTS["ru"]])}
        ).json()["job"]
        assert client.post(f"/api/jobs/{second['id']}/cancel").status_code == 200
        held.release.set()
        wait_job(client, first["id"])
        time.sleep(0.3)  # the job thread meets the cancelled job's entry meanwhile
        info = client.get(f"/api/jobs/{second['id']}").json()
        assert info["state"] == "failed" and info["done"] == 0
        assert client.get("/api/documents/b0").status_code == 404
