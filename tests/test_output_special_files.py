"""``--out`` naming /dev/null or a named pipe: written as a stream, the device kept (moving
the finished file onto it, as for a regular file, replaced /dev/null itself as root)."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from narrascope.cli import main

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_analyze_writes_through_a_named_pipe_and_keeps_it(tmp_path: Path, fmt: str) -> None:
    text = tmp_path / "report.txt"
    text.write_text("NATO troops crossed the border near Kharkiv, the ministry said.\n")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()))
    reader.start()
    code = main(["analyze", str(text), "-o", str(pipe), "-f", fmt, "--no-progress"])
    reader.join(timeout=60)
    assert code == 0
    assert stat.S_ISFIFO(pipe.stat().st_mode)  # still the pipe, not a file moved onto it
    assert not list(tmp_path.glob("pipe.*"))  # no journal, errors or marker files beside it
    body = got[0].decode("utf-8")
    if fmt == "jsonl":
        assert json.loads(body.splitlines()[0])["id"] == "report.txt"
    else:
        assert "report.txt" in body


def test_resume_into_a_named_pipe_is_refused(tmp_path: Path, capsys) -> None:
    text = tmp_path / "report.txt"
    text.write_text("The ministry said the convoy reached the city.\n")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    assert main(["analyze", str(text), "-o", str(pipe), "--resume", "--no-progress"]) == 2
    assert "cannot be read back" in capsys.readouterr().err
    assert stat.S_ISFIFO(pipe.stat().st_mode)
