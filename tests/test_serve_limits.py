"""The server under load: per-text limit, time limit, cancellation, lanes, jobs across
restarts, SIGTERM. Stand-in pipelines whose stages record their calls and can be held, so
the tests are fast and do not depend on how busy the machine is."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from narrascope.cli import main
from narrascope.doc import Document
from narrascope.pipeline import Pipeline
from narrascope.pipeline.pipeline import Cancelled
from narrascope.serve import create_app
from narrascope.serve.jobs import AnalysisPool
from narrascope.stages.segment import SegmentStage
from narrascope.store import open_store

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Peace talks were blocked again, commentators claim. Aid convoys reached the city."


class Step:
    """A stage that notes its calls; a text with ``HOLD`` waits in it until ``release``."""

    def __init__(self, name: str, calls: list[str], delay: float = 0.0) -> None:
        self.name = name
        self.calls = calls
        self.delay = delay
        self.release = threading.Event()
        self.holding = threading.Event()

    def __call__(self, docs: list[Document]) -> list[Document]:
        self.calls.append(f"{self.name}:{','.join(d.id for d in docs)}")
        if any("HOLD" in d.text for d in docs):
            self.holding.set()
            assert self.release.wait(30)
        time.sleep(self.delay)
        for doc in docs:
            doc.language = doc.language or "en"
        return docs


def steps(calls: list[str], *names: str, delay: float = 0.0) -> list[Step]:
    return [Step(name, calls, delay) for name in names]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "corpus.db"


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return value


def wait_job(client: TestClient, job_id: str) -> dict[str, Any]:
    return wait_for(
        lambda: (
            (info := client.get(f"/api/jobs/{job_id}").json())["state"] in ("done", "failed")
            and info
        )
    )


# -- the pipeline's hooks --------------------------------------------------------------------


def test_pipeline_stops_between_stages_and_reports_progress() -> None:
    calls: list[str] = []
    first, second, third = steps(calls, "one", "two", "three")
    pipeline = Pipeline([first, second, third])
    heard: list[tuple[str, int, int]] = []
    doc = pipeline(Document(text=TEXT, id="a"), progress=lambda *p: heard.append(p))
    assert doc.language == "en" and calls == ["one:a", "two:a", "three:a"]
    assert heard == [("one", 0, 3), ("two", 1, 3), ("three", 2, 3)]

    calls.clear()
    stop = threading.Event()
    pipeline = Pipeline([first, _Then(stop.set), third])
    with pytest.raises(Cancelled, match="before stage 'three'"):
        pipeline(Document(text=TEXT, id="b"), should_stop=stop.is_set)
    assert calls == ["one:b"]  # the stage after the stop never ran

    calls.clear()  # between batches too
    docs = (Document(text=TEXT, id=f"d{n}") for n in range(4))
    seen = []
    with pytest.raises(Cancelled):
        for out in Pipeline([first]).pipe(docs, batch_size=2, should_stop=lambda: len(seen) == 2):
            seen.append(out.id)
    assert seen == ["d0", "d1"] and calls == ["one:d0,d1"]
    assert not issubclass(Cancelled, Exception)  # `except Exception` does not swallow a stop


class _Then:
    name = "then"

    def __init__(self, action: Any) -> None:
        self.action = action

    def __call__(self, docs: list[Document]) -> list[Document]:
        self.action()
        return docs


# -- limits ----------------------------------------------------------------------------------


def test_a_text_over_the_per_text_limit_is_refused_naming_the_limit(db: Path) -> None:
    calls: list[str] = []
    app = create_app(db, pipeline=Pipeline(steps(calls, "one")), max_text_bytes=1000)
    with TestClient(app) as client:
        r = client.post("/api/analyze", json={"text": "б" * 501})  # 1002 bytes in UTF-8
        assert r.status_code == 413
        assert "per-text limit of 0.001 MB" in r.json()["detail"]
        assert "--max-text-mb" in r.json()["detail"]
        assert calls == []
        assert client.post("/api/analyze", json={"text": "b" * 1000}).status_code == 200

        documents = [{"text": "x" * 2000, "id": "big"}, {"text": TEXT, "id": "fine"}]
        job = client.post("/api/documents", json={"documents": documents}).json()["job"]
        info = wait_job(client, job["id"])
        assert info["document_ids"] == ["fine"] and info["failed"] == 1
        assert info["errors"][0]["source"] == "big"
        assert "per-text limit" in info["errors"][0]["reason"]

        files = [("files", ("big.txt", b"y" * 2000)), ("files", ("ok.txt", TEXT.encode()))]
        info = wait_job(
            client, client.post("/api/documents/upload", files=files).json()["job"]["id"]
        )
        assert info["document_ids"] == ["ok.txt"]
        assert "--max-text-mb" in info["errors"][0]["reason"], info["errors"]


def test_booleans_are_strict(db: Path) -> None:
    with TestClient(create_app(db, pipeline=Pipeline(steps([], "one")))) as client:
        for value in ("yes", "true", 1, 0, "no", None):
            r = client.post("/api/analyze", json={"text": TEXT, "store": value})
            assert r.status_code == 422, value
            assert "store" in r.json()["detail"] and "boolean" in r.json()["detail"]
        assert client.get("/api/health").json()["documents"] == 0
        assert client.post("/api/analyze", json={"text": TEXT, "store": True}).status_code == 200
        assert client.get("/api/health").json()["documents"] == 1


def test_serve_refuses_a_short_token(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.Server.run", lambda *a: pytest.fail("the server started"))
    assert main(["serve", "--db", str(db), "--token", "x"]) == 2
    err = capsys.readouterr().err
    assert "1 characters long; use at least 16" in err
    monkeypatch.setenv("NARRASCOPE_TOKEN", "fifteen-chars-x")
    assert main(["serve", "--db", str(db), "--host", "0.0.0.0"]) == 2
    assert "at least 16" in capsys.readouterr().err
    monkeypatch.delenv("NARRASCOPE_TOKEN")
    assert main(["serve", "--db", str(db), "--timeout", "0"]) == 2
    assert "--timeout must be positive" in capsys.readouterr().err
    assert not db.exists()


def test_the_library_refuses_a_short_token_too(db: Path) -> None:
    """``create_app`` (used without the CLI) holds the same rule as ``narrascope serve``."""
    import narrascope.cli.serve
    import narrascope.serve.app

    assert narrascope.cli.serve.MIN_TOKEN_CHARS == narrascope.serve.app.MIN_TOKEN_CHARS == 16
    with pytest.raises(ValueError, match="15 characters long; use at least 16"):
        create_app(db, token="fifteen-chars-x", pipeline=Pipeline(steps([], "one")))
    assert not db.exists()


def test_serve_gives_each_analysis_one_blas_thread(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy  # noqa: F401  (BLAS loaded, so threadpoolctl sees it)
    from threadpoolctl import threadpool_info, threadpool_limits

    before = max(d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas")
    seen: list[int] = []

    def fake_run(server: Any) -> None:
        seen.extend(d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas")

    monkeypatch.setattr("uvicorn.Server.run", fake_run)
    try:
        assert main(["serve", "--db", str(db), "--port", "8125"]) == 0
    finally:
        threadpool_limits(before, user_api="blas")  # as it was, for the tests after this
    assert seen and set(seen) == {1}


def test_an_analysis_past_the_timeout_is_stopped_with_a_504(db: Path) -> None:
    calls: list[str] = []
    pipeline = Pipeline(steps(calls, "one", "two", "three", "four", delay=0.3))
    with TestClient(create_app(db, pipeline=pipeline, timeout=0.4)) as client:
        started = time.monotonic()
        r = client.post("/api/analyze", json={"text": TEXT, "id": "slow", "store": True})
        assert r.status_code == 504
        assert time.monotonic() - started < 2
        assert "limit of 0.4 s" in r.json()["detail"] and "--timeout" in r.json()["detail"]
        assert "POST /api/documents" in r.json()["detail"]
        time.sleep(0.8)  # time enough for every stage, had it gone on
        assert calls == ["one:slow", "two:slow"]  # stopped before the third stage
        assert client.get("/api/documents/slow").status_code == 404


def test_the_work_stops_when_the_client_goes_away(db: Path) -> None:
    calls: list[str] = []
    first, second = steps(calls, "one", "two")
    app = create_app(db, pipeline=Pipeline([first, second]))
    body = json.dumps({"text": "HOLD " + TEXT, "id": "gone"}).encode()
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/analyze",
        "raw_path": b"/api/analyze",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []
    body_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if first.holding.is_set():  # the client hangs up while the first stage works
            return {"type": "http.disconnect"}
        await anyio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def request() -> None:
        with anyio.fail_after(20):
            await app(scope, receive, send)

    threading.Timer(1.0, first.release.set).start()  # the stage ends after the hang-up
    anyio.run(request)
    assert sent[0]["status"] == 499
    time.sleep(0.3)
    assert calls == ["one:gone"]  # the second stage never ran


def test_a_short_text_and_search_are_answered_while_a_long_text_is_analysed(db: Path) -> None:
    calls: list[str] = []
    (step,) = steps(calls, "one")
    app = create_app(db, pipeline=Pipeline([SegmentStage(), step]), batch_size=2)
    long_text = "HOLD " + TEXT * 1000  # over the long-lane threshold
    with TestClient(app) as client:
        assert client.post("/api/analyze", json={"text": TEXT, "id": "s0", "store": True})
        answers: dict[str, Any] = {}
        long_request = threading.Thread(
            target=lambda: answers.update(
                long=client.post("/api/analyze", json={"text": long_text, "id": "long"})
            )
        )
        long_request.start()
        assert step.holding.wait(10)
        # a job's batch is long work too: it waits, the short requests do not
        job = client.post("/api/documents", json={"documents": [{"text": TEXT, "id": "j"}]})
        for n in range(1, 4):
            started = time.monotonic()
            r = client.post("/api/analyze", json={"text": TEXT, "id": f"s{n}", "store": True})
            assert r.status_code == 200 and time.monotonic() - started < 5
            started = time.monotonic()
            found = client.get("/api/documents", params={"q": "convoys"}).json()
            assert found["total"] == n + 1 and time.monotonic() - started < 1
        assert client.get(f"/api/jobs/{job.json()['job']['id']}").json()["state"] != "done"
        assert "long" not in answers
        step.release.set()
        long_request.join(20)
        assert answers["long"].status_code == 200 and answers["long"].json()["id"] == "long"
        assert wait_job(client, job.json()["job"]["id"])["state"] == "done"


def test_a_busy_pool_keeps_a_worker_for_short_work() -> None:
    calls: list[str] = []
    (step,) = steps(calls, "one")
    pool = AnalysisPool(Pipeline([step]), workers=2, long_chars=100)
    try:
        held = pool.submit([Document(text="HOLD" + "x" * 200, id="long1")])
        assert held.long and step.holding.wait(10)
        waiting = pool.submit([Document(text="x" * 200, id="long2")])
        short = pool.submit([Document(text="short", id="short")])
        assert [d.id for d in short.future.result(timeout=5)] == ["short"]
        assert not waiting.future.done()  # the second long one waits for the first
        step.release.set()
        assert [d.id for d in waiting.future.result(timeout=5)] == ["long2"]
    finally:
        step.release.set()
        pool.stop()


def test_too_many_waiting_analyses_get_a_503_to_retry(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("narrascope.serve.jobs.MAX_WAITING_SHORT", 1)
    (step,) = steps([], "one")
    app = create_app(db, pipeline=Pipeline([step]), workers=1)
    with TestClient(app) as client:
        answers: list[int] = []

        def analyse(text: str) -> None:
            answers.append(client.post("/api/analyze", json={"text": text}).status_code)

        held = threading.Thread(target=analyse, args=("HOLD " + TEXT,))
        held.start()
        assert step.holding.wait(10)
        waiting = threading.Thread(target=analyse, args=(TEXT,))
        waiting.start()
        wait_for(lambda: len(app.state.pool._short) == 1)
        r = client.post("/api/analyze", json={"text": TEXT + " again"})
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "busy" in r.json()["detail"] and "try again" in r.json()["detail"]
        step.release.set()
        held.join(10)
        waiting.join(10)
        assert answers == [200, 200]


# -- jobs: progress, cancel, resume after a restart ------------------------------------------


def test_jobs_show_their_stage_can_be_cancelled_and_resume_after_a_restart(db: Path) -> None:
    calls: list[str] = []
    first, second = steps(calls, "one", "two")
    documents = [{"text": ("HOLD " if n == 2 else "") + TEXT, "id": f"d{n}"} for n in range(5)]
    documents.append({"text": TEXT, "id": "d0"})  # a repeated id
    app = create_app(db, pipeline=Pipeline([first, second]), batch_size=2)
    with TestClient(app) as client:
        job = client.post("/api/documents", json={"documents": documents}).json()["job"]
        assert first.holding.wait(10)  # the second batch (d2, d3) is in stage "one"
        info = client.get(f"/api/jobs/{job['id']}").json()
        assert info["state"] == "running" and info["stage"] == "one"
        assert info["done"] == 2 and info["progress"] == pytest.approx(2 / 6, abs=1e-3)
        assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
        first.release.set()
        info = wait_job(client, job["id"])
        assert calls[-1] == "one:d2,d3"  # stage "two" of the cancelled batch never ran
        assert info["state"] == "failed" and info["resumable"] and info["done"] == 2
        assert "cancelled" in info["errors"][-1]["reason"]
        assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 409

        other = client.post("/api/documents", json={"documents": [{"text": TEXT, "id": "o"}]})
        finished = wait_job(client, other.json()["job"]["id"])
        assert finished["state"] == "done" and not finished["resumable"]
    assert (db.parent / "corpus.db.jobs" / job["id"] / "job.json").is_file()

    calls.clear()
    fresh = steps(calls, "one", "two")
    for step in fresh:
        step.release.set()  # d2 holds no more
    app = create_app(db, pipeline=Pipeline(fresh), batch_size=2)
    with TestClient(app) as client:  # a new server on the same database
        listed = client.get("/api/jobs").json()["jobs"]
        assert [j["id"] for j in listed] == [finished["id"], job["id"]]
        assert listed[1]["state"] == "failed" and listed[1]["resumable"]
        assert listed[0]["state"] == "done" and listed[0]["document_ids"] == ["o"]
        again = client.post(f"/api/jobs/{job['id']}/resume")
        assert again.status_code == 202
        info = wait_job(client, job["id"])
        assert info["state"] == "done" and not info["resumable"], info
        assert info["document_ids"] == ["d0", "d1", "d2", "d3", "d4"]
        assert (
            info["failed"] == 1
            and "id 'd0' repeated: first seen in documents[0]" in info["errors"][0]["reason"]
        )
        assert not any("d0" in c or "d1" in c for c in calls)  # stored ones were skipped
        assert client.post(f"/api/jobs/{job['id']}/resume").status_code == 409
        assert client.post("/api/jobs/nope/resume").status_code == 404
    with open_store(db) as store:
        assert store.count() == 6


def test_a_job_cut_by_a_stopping_server_is_resumable_after_restart(db: Path) -> None:
    calls: list[str] = []
    first, second = steps(calls, "one", "two")
    app = create_app(db, pipeline=Pipeline([first, second]), batch_size=1)
    files = [
        ("files", (f"f{n}.txt", (("HOLD " if n == 1 else "") + TEXT).encode())) for n in range(3)
    ]
    with TestClient(app) as client:
        job = client.post("/api/documents/upload", files=files).json()["job"]
        assert first.holding.wait(10)
        threading.Timer(0.5, first.release.set).start()
    info = app.state.jobs.get(job["id"]).info()
    assert info["state"] == "failed" and info["document_ids"] == ["f0.txt"]
    assert "server stopped" in info["errors"][-1]["reason"] and info["resumable"]

    (fresh,) = steps(calls, "one")
    fresh.release.set()
    with TestClient(create_app(db, pipeline=Pipeline([fresh]))) as client:
        assert client.get(f"/api/jobs/{job['id']}").json()["resumable"]
        client.post(f"/api/jobs/{job['id']}/resume")
        info = wait_job(client, job["id"])
        assert info["state"] == "done" and info["document_ids"] == ["f0.txt", "f1.txt", "f2.txt"]
    assert not (db.parent / "corpus.db.jobs" / job["id"] / "files").exists()  # stored now


def test_a_full_job_queue_refuses_new_jobs_with_a_503_to_retry(db: Path) -> None:
    calls: list[str] = []
    (first,) = steps(calls, "one")
    app = create_app(db, pipeline=Pipeline([first]), batch_size=1)
    folder = db.parent / "corpus.db.jobs"
    with TestClient(app) as client:
        app.state.jobs.max_queued_jobs = 3
        held = [{"text": "HOLD " + "word " * 2500, "id": "h"}]
        ids = [client.post("/api/documents", json={"documents": held}).json()["job"]["id"]]
        assert first.holding.wait(10)  # running, and two more queued behind it
        for n in range(2):
            body = {"documents": [{"text": TEXT, "id": f"q{n}"}]}
            ids.append(client.post("/api/documents", json=body).json()["job"]["id"])
        refused = [
            client.post("/api/documents", json={"documents": [{"text": TEXT}]}),
            client.post("/api/documents/upload", files=[("files", ("a.txt", TEXT.encode()))]),
        ]
        for answer in refused:
            assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
            assert "job queue is full: 3 jobs are queued or running" in answer.json()["detail"]
        assert sorted(p.name for p in folder.iterdir()) == sorted(ids)  # nothing stored

        app.state.jobs.max_queued_jobs = 100
        app.state.jobs.max_queued_bytes = 20_000  # the bytes of the inputs count too
        big = {"documents": [{"text": "word " * 2500}]}
        answer = client.post("/api/documents", json=big)
        assert answer.status_code == 503
        assert "over this server's limit of 0.02 MB" in answer.json()["detail"]
        assert sorted(p.name for p in folder.iterdir()) == sorted(ids)
        first.release.set()
        for job_id in ids:
            assert wait_job(client, job_id)["state"] == "done"
        assert client.post("/api/documents", json=big).status_code == 202  # room again


def test_failed_jobs_keep_their_inputs_only_while_they_are_few(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("narrascope.serve.jobs.MAX_KEPT_INPUTS", 1)
    calls: list[str] = []
    first, second = steps(calls, "one", "two")
    folder = db.parent / "corpus.db.jobs"
    with TestClient(create_app(db, pipeline=Pipeline([first, second]))) as client:
        ids = []
        for name in ("a.txt", "b.txt"):  # a runs and holds, b waits
            files = [("files", (name, ("HOLD " + TEXT).encode()))]
            ids.append(client.post("/api/documents/upload", files=files).json()["job"]["id"])
            assert first.holding.wait(10)
        for job_id in reversed(ids):
            assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 200
        first.release.set()
        for job_id in ids:
            assert wait_job(client, job_id)["state"] == "failed"
        # the queued one failed when cancelled; the running one's inputs go once it has
        # ended (a moment after its state says so)
        deadline = time.monotonic() + 10
        while (older := client.get(f"/api/jobs/{ids[0]}").json())["resumable"]:
            assert time.monotonic() < deadline, older
            time.sleep(0.02)
        assert not older["resumable"] and "inputs were deleted" in older["errors"][-1]["reason"]
        assert "cancelled" in older["errors"][0]["reason"]  # what happened stays readable
        assert not (folder / ids[0] / "files").exists()
        assert (folder / ids[1] / "files" / "b.txt").is_file()  # the newest can resume
        assert client.post(f"/api/jobs/{ids[0]}/resume").status_code == 409
        assert client.get(f"/api/jobs/{ids[1]}").json()["resumable"]


# -- SIGTERM -----------------------------------------------------------------------------------

SERVER = """
import sys, time
import narrascope
from narrascope.pipeline import Pipeline
from narrascope.stages.segment import SegmentStage

class Stuck:
    '''A stage that works for two minutes without ever looking up.'''
    name = "stuck"
    def __call__(self, docs):
        if any("STUCK" in d.text for d in docs):
            sys.stdout.write("stuck\\n")  # one write: two lanes print at once
            sys.stdout.flush()
            end = time.monotonic() + 120
            while time.monotonic() < end:
                sum(range(1000))
        return docs

narrascope.load = lambda: Pipeline([SegmentStage(), Stuck()])
from narrascope.cli import main
sys.exit(main(["serve", "--db", sys.argv[1], "--port", sys.argv[2]]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict[str, Any], answers: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            answers[url] = (answer.status, json.loads(answer.read()))
    except urllib.error.HTTPError as exc:
        answers[url] = (exc.code, json.loads(exc.read()))
    except OSError as exc:
        answers[url] = (None, str(exc))


@pytest.fixture
def server(db: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    child = subprocess.Popen(
        [sys.executable, str(script), str(db), str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/health", timeout=2).read()
                break
            except OSError:
                assert child.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.1)
        yield child, url
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)


def test_sigterm_stops_the_server_mid_analysis_within_10_s(
    server: tuple[subprocess.Popen[str], str], db: Path
) -> None:
    child, url = server
    answers: dict[str, Any] = {}
    job = {"documents": [{"text": "STUCK " + TEXT, "id": "j1"}, {"text": TEXT, "id": "j2"}]}
    _post(f"{url}/api/documents", job, answers)
    analysis = threading.Thread(
        target=_post, args=(f"{url}/api/analyze", {"text": "STUCK " + TEXT}, answers)
    )
    analysis.start()
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "stuck"
    assert child.stdout.readline().strip() == "stuck"  # both lanes are busy
    started = time.monotonic()
    child.send_signal(signal.SIGTERM)
    child.wait(10)  # raises TimeoutExpired past 10 s
    assert time.monotonic() - started < 10
    analysis.join(10)
    status, body = answers[f"{url}/api/analyze"]
    assert status == 503 and "stopping" in body["detail"]  # told, not cut off
    records = list((db.parent / "corpus.db.jobs").glob("*/job.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["state"] == "failed" and record["resumable"]
