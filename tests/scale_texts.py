"""Texts written for the scale tests (Ray engine, Parquet, the cluster check): a war
narrative, three neutral local stories and a claim about sanctions. No dataset text;
and how two runs' records are compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEXTS = [
    "The West Wanted This War\n\nFor thirty years NATO expanded eastwards and broke its "
    "promises to Moscow. Ukraine is a puppet of Washington and its army obeys foreign orders.",
    "City Budget Passed\n\nThe city council approved next year's budget on Tuesday. "
    "Funding for schools and bus lines rises by four percent, the mayor said.",
    "Grain Ships Leave Odesa\n\nUkraine's grain exports rose in May as ships left Odesa. "
    "Traders expect prices in Egypt and Turkey to fall before the harvest.",
    "Sanctions Hurt Europe Only\n\nThe sanctions against Russia are destroying European "
    "industry while Moscow grows richer than ever, the commentator claimed.",
    "Kyiv Shelters Reopen\n\nVolunteers in Kyiv reopened two shelters after the night's "
    "air raid; the mayor thanked the rescue teams from Lviv.",
]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_same_records(got: Path | list[dict], want: Path | list[dict]) -> None:
    """The same records in the same order, field for field; numbers equal to 1e-3.

    Why not the same bytes when the e5 readers run: they batch the documents a worker
    holds, and on some CPUs a matrix product's last bits depend on how many rows it has
    (OpenBLAS's Haswell kernels on an AMD EPYC, 2026-12-06: one row alone and the same row
    among others differ by 1e-6), so a score can move by one in its fourth decimal between
    two batchings. Every label, span and text must still be equal.
    """
    got = read_jsonl(got) if isinstance(got, Path) else got
    want = read_jsonl(want) if isinstance(want, Path) else want
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        _same(a, b, str(b.get("id")))


def _same(a: Any, b: Any, where: str) -> None:
    if isinstance(b, float) or (isinstance(a, float) and isinstance(b, int)):
        assert isinstance(a, int | float) and abs(a - b) <= 1e-3, (where, a, b)
    elif isinstance(b, dict):
        assert isinstance(a, dict) and list(a) == list(b), (where, a, b)
        for key in b:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)
