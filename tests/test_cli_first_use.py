"""Small things a new user meets first: the British spelling, a one-line JSON array."""

from __future__ import annotations

from pathlib import Path

from narrascope.cli import build_parser
from narrascope.ingest import read_inputs
from narrascope.ingest.core import InputError


def test_analyse_is_analyze() -> None:
    args = build_parser().parse_args(["analyse", "a.txt", "--no-progress"])
    same = build_parser().parse_args(["analyze", "a.txt", "--no-progress"])
    assert args.run is same.run and args.inputs == ["a.txt"]


def test_a_json_array_on_one_line_says_to_write_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text('[{"text": "one"}, {"text": "two"}]\n{"text": "three"}\n', encoding="utf-8")
    items = list(read_inputs([str(path)]))
    errors = [i for i in items if isinstance(i, InputError)]
    assert len(errors) == 1 and "JSON Lines" in str(errors[0]) and "jq -c" in str(errors[0])
    assert [i.text for i in items if not isinstance(i, InputError)] == ["three"]


def test_debunks_add_of_a_missing_file_names_the_file_not_a_row(tmp_path: Path, capsys) -> None:
    from narrascope.cli import main

    missing = tmp_path / "missing.jsonl"
    assert main(["debunks", "add", str(missing), "--db", str(tmp_path / "c.db"), "--quiet"]) == 1
    out = capsys.readouterr()
    assert f"{missing}: no such file or folder" in out.err and f"{missing}:0" not in out.err
    assert "0 bad rows, 1 unreadable files" in out.out


def test_verbose_goes_before_or_after_the_subcommand() -> None:
    parse = build_parser().parse_args
    assert parse(["-v", "analyze", "a.txt"]).verbose is True
    assert parse(["analyze", "a.txt", "-v"]).verbose is True
    assert parse(["analyze", "a.txt"]).verbose is False
    assert parse(["debunks", "add", "f.jsonl", "--db", "c.db", "-v"]).verbose is True
