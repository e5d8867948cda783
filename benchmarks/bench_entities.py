"""Benchmark: what entity framing costs inside ``narrascope analyze``.

Measured in one process over the SemEval-2025 test documents, so the machine's noise hits
both sides alike:
- seconds per stage; the entities stage as a share of the rest of the pipeline (the issue's
  budget: at most +50% of analyze's end-to-end time),
- the mention detectors alone (our CRF vs the packaged spaCy/natasha models), ms/document,
- the given-mentions evaluation mode (``analyze --mentions``) on the subtask-1 test files
  (the first ``--limit`` of them),
- start-up of the entities stage and the peak memory of the pipeline process, read before
  the detector comparison loads spaCy and natasha (that peak is given apart).

Usage: python benchmarks/bench_entities.py [--limit N] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import DEFAULT_DOCS, ROOT, write_section

MARK = "entities-speed"
TEST = ROOT.parent / "shared/datasets/semeval2025-task10/test"

PROFILE = """
import json, resource, sys, time
from pathlib import Path
t = time.perf_counter()
import narrascope
nlp = narrascope.load(stages=["language", "segment", "narratives", "explanation"])
base_load = time.perf_counter() - t
t = time.perf_counter()
from narrascope.stages.entities import EntityStage
entities = EntityStage(); entities.warm_up()
entity_load = time.perf_counter() - t
from narrascope.ingest import read_inputs
limit = int(sys.argv[1])
docs = [d for d in read_inputs(sys.argv[2:]) if isinstance(d, narrascope.Document)][:limit]
times = {}
for stage in [*nlp.stages, entities]:
    t = time.perf_counter()
    for i in range(0, len(docs), 16):
        stage(docs[i:i + 16])
    times[stage.name] = time.perf_counter() - t
framed = sum(e.framed for d in docs for e in d.entities)
found = sum(len(d.entities) for d in docs)
# the pipeline's own peak, before the comparison below loads the packaged detectors
pipeline_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from narrascope.text.mentions import FAST, PACKAGED, MentionDetector
detect = {}
for name, backends in (("crf", FAST), ("packaged", PACKAGED)):
    det = MentionDetector(backends=backends)
    t = time.perf_counter()
    det.warm_up(("en", "ru", "bg"))
    load = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(0, len(docs), 16):
        det.detect_many([d.text for d in docs[i:i + 16]], [d.language for d in docs[i:i + 16]])
    detect[name] = [load, time.perf_counter() - t]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n": len(docs), "times": times, "base_load": base_load,
                  "entity_load": entity_load, "detect": detect, "peak_mb": pipeline_peak,
                  "peak_with_packaged_mb": peak, "entities": found, "framed": framed}))
"""


def given_inputs(
    limit: int, mentions: Path, test: Path = TEST
) -> tuple[list[str], int, int] | None:
    """The inputs of ``analyze --mentions``: every language's subtask-1 test folder, or
    only the first ``limit`` documents of them; their given mentions are written to
    ``mentions``. Returns (inputs, documents, mentions), None without the test files."""
    folders = sorted(test.glob("*/subtask-1-documents"))
    if not folders:
        return None
    picked = [path for folder in folders for path in sorted(folder.glob("*.txt"))][:limit]
    names = {(path.parent.parent.name, path.name) for path in picked}
    n = 0
    with mentions.open("w", encoding="utf-8") as out:
        for folder in folders:
            listing = folder.parent / "subtask-1-entity-mentions.txt"
            if not listing.is_file():
                continue
            for line in listing.read_text(encoding="utf-8").splitlines():
                if line.strip() and (folder.parent.name, line.split("\t")[0]) in names:
                    out.write(line + "\n")
                    n += 1
    every = sum(1 for folder in folders for _ in folder.glob("*.txt"))
    inputs = [str(f) for f in folders] if len(picked) == every else [str(p) for p in picked]
    return inputs, len(picked), n


def given_mode(tmp: Path, limit: int) -> tuple[int, float, int] | None:
    """Seconds for ``analyze --mentions`` over the subtask-1 test files (the first
    ``limit`` documents): (mentions, seconds, documents)."""
    import time

    mentions = tmp / "mentions.txt"
    given = given_inputs(limit, mentions)
    if given is None:
        return None
    inputs, n_docs, n = given
    start = time.perf_counter()
    command = [sys.executable, "-m", "narrascope", "analyze", *inputs]
    command += ["--mentions", str(mentions), "--format", "semeval-entities"]
    subprocess.run([*command, "--out", str(tmp / "pred.txt"), "--no-progress"], check=True)
    return n, time.perf_counter() - start, n_docs


def parse_args(doc: str | None) -> argparse.Namespace:
    """``--limit N`` documents and ``--no-write`` (print only), shared by stage benchmarks."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument(
        "--limit", type=int, default=100_000, metavar="N", help="only the first N documents"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args()


def run_profile(code: str, limit: int) -> dict | None:
    """Run a profiling snippet over the test documents in a fresh process; its last stdout
    line is a JSON report. None (with a message) when the documents are missing."""
    dirs = [str(d) for d in DEFAULT_DOCS]
    if not dirs:
        print("no documents: ../shared/datasets/semeval2025-task10/test is missing")
        return None
    proc = subprocess.run(
        [sys.executable, "-c", code, str(limit), *dirs], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    import tempfile

    args = parse_args(__doc__)
    r = run_profile(PROFILE, args.limit)
    if r is None:
        return 1
    n, times = r["n"], r["times"]
    rest = sum(v for k, v in times.items() if k != "entities")
    share = times["entities"] / rest
    for name, secs in times.items():
        print(f"  stage {name:<12} {secs:6.2f} s  {1000 * secs / n:6.1f} ms/doc")
    print(f"entities add {100 * share:.0f}% to the rest of the pipeline (budget 50%)")
    with tempfile.TemporaryDirectory() as tmp:
        given = given_mode(Path(tmp), args.limit)
    lines = [
        f"Measured {date.today().isoformat()} on this machine ({os.cpu_count()} cores, "
        f"{platform.machine()}) with `python benchmarks/bench_entities.py`, in one process over "
        f"the {'first ' if n == args.limit else ''}{n} documents of "
        "`semeval2025-task10/test/*/subtask-2-documents` "
        f"({r['entities']} entities found, {r['framed']} framed).",
        "",
        "| measure | value | budget |",
        "|---|---|---|",
        f"| entities stage (detect + group + roles + evidence) | "
        f"{1000 * times['entities'] / n:.1f} ms/doc | — |",
        f"| the rest of the pipeline (language, segment, narratives, explanation) | "
        f"{1000 * rest / n:.1f} ms/doc | — |",
        f"| **entities / rest** (what entity framing adds to `analyze`) | "
        f"**+{100 * share:.0f}%** | ≤ +50% |",
        f"| start-up of the entities stage (role model + CRF) | {r['entity_load']:.2f} s | — |",
        f"| peak memory of the pipeline process (read before the detector comparison) | "
        f"{r['peak_mb']:.0f} MB | < 1,500 MB |",
        f"| the same process after also loading the packaged spaCy/natasha detectors for the "
        f"comparison below | {r['peak_with_packaged_mb']:.0f} MB | — |",
    ]
    for name, (load, secs) in r["detect"].items():
        lines.append(
            f"| mention detection alone, `{name}` (load {load:.2f} s) | "
            f"{1000 * secs / n:.1f} ms/doc | — |"
        )
    if given is not None:
        m, secs, k = given
        lines.append(
            f"| `analyze --mentions` (evaluation mode) over {k} documents of the subtask-1 "
            f"test folders, {m} mentions, whole CLI run incl. start-up | {secs:.1f} s | — |"
        )
    print("\n".join(lines))
    if not args.no_write:
        write_section("\n".join(lines), mark=MARK)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
