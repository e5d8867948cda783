"""How ``--engine ray`` starts or joins Ray (issue 27 review): a local Ray is sized from
the cores this process may use and ``--cpus-per-worker`` means fewer actors; an address
where nothing listens fails within seconds; a resumed run's bar counts what is left.

Most tests stand a recording double in for the ``ray`` module (starting Ray costs ~30 s
on this machine); one slow test starts a real local Ray and skips without ``ray``.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import json
import os
import socket
import sys
import types
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from narrascope.cli import main
from narrascope.doc import Document
from narrascope.engine import ray_engine
from narrascope.engine.ray_engine import check_reachable, ray_session, run_ray


class Echo:
    """A pipeline that annotates nothing: these tests are about the engine."""

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 16) -> Iterator[Document]:
        yield from docs


def echo() -> Echo:
    return Echo()


def documents(n: int) -> list[Document]:
    return [Document(text=f"Ships carrying grain left port {i}.", id=f"x{i:02d}") for i in range(n)]


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A ``ray`` module that records ``init``'s arguments and has as many CPUs as asked;
    ``init`` with an address fails the test (the real one would hang on a dead port)."""
    calls: list[dict[str, Any]] = []
    ray = types.ModuleType("ray")
    ray.__spec__ = importlib.machinery.ModuleSpec("ray", None)

    def init(**kwargs: Any) -> None:
        if kwargs["address"] != "local":
            raise AssertionError(f"ray.init reached with {kwargs['address']}")
        calls.append(kwargs)

    ray.init = init  # type: ignore[attr-defined]
    ray.is_initialized = lambda: False  # type: ignore[attr-defined]
    ray.cluster_resources = lambda: {"CPU": calls[-1]["num_cpus"]}  # type: ignore[attr-defined]
    ray.shutdown = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ray", ray)
    return calls


def test_a_local_ray_gets_the_cores_allowed_and_cpus_per_worker_means_fewer_actors(
    fake_ray: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a 4-core allocation (taskset, a Slurm or container cpuset) on a 64-core node
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    sized = {}
    for workers, per_worker in [(None, 1), (None, 2), (None, 8), (3, 2)]:
        with ray_session(None, workers, per_worker) as actors:
            sized[workers, per_worker] = (fake_ray[-1]["num_cpus"], actors)
    assert sized == {
        (None, 1): (4, 4),  # every core allowed, one actor each
        (None, 2): (4, 2),  # 2 CPUs a worker: half the copies of the models
        (None, 8): (8, 1),  # more than the cores: still one actor that can start
        (3, 2): (6, 3),  # --workers: as asked
    }


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A local port bound but not listening: a connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_address_where_nothing_listens_fails_at_once(
    fake_ray: list[dict[str, Any]], dead_port: int
) -> None:
    for address in (f"127.0.0.1:{dead_port}", f"ray://127.0.0.1:{dead_port}"):
        with (
            pytest.raises(ConnectionError, match=rf"cannot reach {address} \(.*refused"),
            ray_session(address, None),
        ):
            pass
    with socket.socket() as server:  # a listening port is reachable
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_reachable(f"127.0.0.1:{server.getsockname()[1]}")
    check_reachable("auto")  # Ray's to resolve


def test_cli_with_a_dead_address_is_a_usage_error_within_seconds(
    fake_ray: list[dict[str, Any]],
    dead_port: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("pyarrow", reason="--engine ray needs pyarrow (narrascope[scale])")
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "a", "text": "Grain left port."}) + "\n", "utf-8")
    argv = ["analyze", str(posts), "--engine", "ray", "--address", f"127.0.0.1:{dead_port}"]
    assert main([*argv, "--out", str(tmp_path / "x.jsonl"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"narrascope: error: Ray: cannot reach 127.0.0.1:{dead_port}" in err


def test_a_resumed_ray_run_takes_the_done_documents_off_its_bar_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cluster replaced by the pipeline in this process: what is tested is what the
    driver skips and tells the bar, for Parquet (skipped before the cluster and again
    checked by the writer) and jsonl."""
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (narrascope[scale])")
    from narrascope.engine.outputs import run_to_output

    @contextlib.contextmanager
    def session(address: str | None, workers: int | None, cpus: int = 1) -> Iterator[int]:
        yield 1

    def here(items: Iterable[Any], pool: Any, *, batch_size: int = 16) -> Iterator[Any]:
        yield from Echo().pipe(items)

    monkeypatch.setattr(ray_engine, "ray_session", session)
    monkeypatch.setattr(ray_engine, "ActorPool", lambda *args: None)
    monkeypatch.setattr(ray_engine, "analysed_on_ray", here)
    for fmt, out in [("parquet", tmp_path / "ds"), ("jsonl", tmp_path / "out.jsonl")]:
        run_to_output(documents(12), Echo(), out=out, fmt=fmt, progress=False)
        capsys.readouterr()
        run = partial(run_ray, factory=echo, out=out, fmt=fmt, resume=True, progress="always")
        report = run(documents(20), total=20)
        assert (report.processed, report.skipped) == (8, 12)
        assert "8/8" in capsys.readouterr().err, fmt


@pytest.mark.slow  # ~30 s: a local Ray starts
def test_a_real_local_ray_is_sized_from_the_allowed_cores_and_resumes_with_the_right_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ray = pytest.importorskip("ray", reason="ray is not installed (narrascope[scale])")
    pytest.importorskip("pyarrow")
    from narrascope.engine.outputs import run_to_output
    from narrascope.models.cpus import available_cpus

    if ray.is_initialized():
        pytest.skip("another test's Ray is running in this process")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Echo, to the workers
    out = tmp_path / "ds"
    run_to_output(documents(12), Echo(), out=out, fmt="parquet", progress=False)
    capsys.readouterr()
    cores = max(available_cpus(), 2)
    with ray_session(None, None, 2) as actors:
        assert (actors, ray.cluster_resources()["CPU"]) == (cores // 2, cores)
        report = run_ray(
            documents(20), echo, out=out, fmt="parquet", resume=True, progress="always", total=20
        )
    assert (report.processed, report.skipped) == (8, 12)
    assert "8/8" in capsys.readouterr().err
    assert not ray.is_initialized()
