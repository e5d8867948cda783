"""Issue 27's CI check: a Ray cluster of a head and two worker nodes on this machine
(``ray start``, as on real machines), the bundled pipeline over 100 documents through
``--engine ray --address`` and ``--engine local``: identical records, jsonl and Parquet;
then a run whose worker and driver are killed mid-run loses nothing after ``--resume``.

The cluster is this module's own: its processes are found by its temporary folder and
stopped at the end (never ``ray stop``, which would stop every Ray of the machine).
Skips when Ray is not installed (``narrascope[scale]``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from narrascope.cli import main
from scale_texts import TEXTS, assert_same_records


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _processes_of(folder: str) -> set[int]:
    """Our cluster's processes: those naming ``folder`` and all their descendants (the
    agents rename themselves, so only their parents name it)."""
    parents: dict[int, int] = {}
    named: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        if folder.encode() in cmdline:
            named.add(int(entry))
    found, grew = set(named), True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _kill(pids: set[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, dict[str, str], str]]:
    """(address, environment, folder) of a head (no CPUs: it only schedules) and two worker
    nodes of one CPU each, with a token of their own."""
    pytest.importorskip("ray", reason="ray is not installed (narrascope[scale])")
    if not Path("/proc/self/stat").exists():
        pytest.skip("finds the cluster's processes through /proc (Linux)")
    ray_cli = Path(sys.executable).with_name("ray")
    folder = tempfile.mkdtemp(prefix="nsray-")  # short: Ray's socket paths must be
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }
    env.pop("RAY_ADDRESS", None)
    address = f"127.0.0.1:{_free_port()}"

    def start(*args: str) -> None:
        argv = [str(ray_cli), "start", *args, f"--temp-dir={folder}", "--disable-usage-stats"]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]

    try:
        start("--head", "--num-cpus=0", f"--port={address.split(':')[1]}")
        start(f"--address={address}", "--num-cpus=1")
        start(f"--address={address}", "--num-cpus=1")
        yield address, env, folder
    finally:
        pids = _processes_of(folder)
        _kill(pids, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
            time.sleep(0.2)
        _kill(_processes_of(folder) | pids, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)  # the nodes' logs and sockets


def narrascope(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "narrascope", *args]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(process: subprocess.Popen[str], timeout: float = 400) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out + err


@pytest.mark.slow  # ~90 s: the cluster, a local run and three Ray runs
def test_a_head_and_two_workers_give_the_local_records_and_lose_nothing_when_killed(
    cluster: tuple[str, dict[str, str], str], tmp_path: Path
) -> None:
    from narrascope.export.parquet import read_parquet_records

    address, env, folder = cluster
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        "\n".join(
            json.dumps({"id": f"p{i:03d}", "text": f"{TEXTS[i % 5]} Post {i}."}) for i in range(100)
        ),
        encoding="utf-8",
    )
    local = tmp_path / "local.jsonl"
    assert main(["analyze", str(posts), "--out", str(local), "--no-progress"]) == 0

    # every CPU of the cluster (its two worker nodes) without --workers
    on_ray = ["--engine", "ray", "--address", address, "--no-progress"]
    remote = tmp_path / "ray.jsonl"
    finished(narrascope(["analyze", str(posts), "--out", str(remote), *on_ray], env))
    assert_same_records(remote, local)  # e5 readers: scores to 1e-3 (see the helper)
    finished(narrascope(["analyze", str(posts), "--out", f"{tmp_path}/ds/", *on_ray], env))
    assert_same_records(list(read_parquet_records(tmp_path / "ds")), local)

    # a worker killed mid-run, then the driver: --resume ends with every record once
    out = tmp_path / "killed.jsonl"
    journal = Path(f"{out}.partial.jsonl")
    args = ["analyze", str(posts), "--out", str(out), "--batch-size", "4", *on_ray]
    driver = narrascope(args, env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and driver.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 12:
            break
        time.sleep(0.1)
    assert driver.poll() is None, "the run ended before it could be killed"
    actors = {pid for pid in _processes_of(folder) if _cmdline(pid).startswith(b"ray::Analyser")}
    assert actors, "no Analyser actor found"
    _kill({min(actors)}, signal.SIGKILL)  # one worker dies; Ray restarts it
    while time.monotonic() < deadline and driver.poll() is None:
        if journal.read_bytes().count(b"\n") >= 40:
            break
        time.sleep(0.1)
    driver.send_signal(signal.SIGKILL)  # then the job itself
    driver.wait()
    kept = journal.read_bytes().count(b"\n")  # whole records (a kill may cut the last)
    assert 12 <= kept < 100
    report = finished(narrascope([*args, "--resume"], env))
    assert f"{100 - kept} analysed, {kept} skipped" in report
    assert_same_records(out, local)


@pytest.mark.slow  # ~15 s: a second Ray, started by the command
def test_without_address_the_command_starts_its_own_ray_beside_a_running_cluster(
    cluster: tuple[str, dict[str, str], str], tmp_path: Path
) -> None:
    """RAY_ADDRESS names the running cluster, yet no --address was given: narrascope
    starts (and stops) a local Ray of --workers CPUs instead of failing to join it."""
    address, env, _ = cluster
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        "\n".join(json.dumps({"id": f"p{i}", "text": TEXTS[i]}) for i in range(3)),
        encoding="utf-8",
    )
    local = tmp_path / "local.jsonl"
    assert main(["analyze", str(posts), "--out", str(local), "--no-progress"]) == 0
    out = tmp_path / "own.jsonl"
    args = ["analyze", str(posts), "--out", str(out), "--engine", "ray", "--workers", "1"]
    finished(narrascope([*args, "--no-progress"], {**env, "RAY_ADDRESS": address}))
    assert_same_records(out, local)
