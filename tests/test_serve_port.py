"""`narrascope serve` on a port another program holds: a clear usage error (exit 2), said
before the database is created and before any "serving" line; and the line it prints
once bound names the port it really holds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from narrascope.cli import main


def test_a_busy_port_is_refused_before_anything_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NARRASCOPE_TOKEN", raising=False)
    db = tmp_path / "s.db"
    with socket.socket() as squatter:  # another server, listening
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        assert main(["serve", "--db", str(db), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} is in use" in err and "--port" in err
    assert "serving" not in err
    assert not db.exists() and not list(tmp_path.iterdir())


def test_a_port_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", "70000"])
    assert exit_.value.code == 2
    assert "a port from 0 to 65535" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_the_serving_line_names_the_bound_port(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NARRASCOPE_TOKEN"}
    db = tmp_path / "s.db"
    server = subprocess.Popen(
        [sys.executable, "-m", "narrascope", "serve", "--db", str(db), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()  # printed once bound: the server answers from now on
        assert line.startswith(f"narrascope: serving {db} at http://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
        assert port != 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=60) as r:
            assert r.status == 200 and json.loads(r.read())["status"] == "ok"
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
