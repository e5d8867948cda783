"""Run several benchmarks in turn (``make bench``), each in its own process.

Why not one make line per benchmark: make stops at the first that exits non-zero, so a
fresh clone without ../shared never reached the benchmarks that need no data. Here a
benchmark whose data or extra is missing is skipped with the reason, one that fails does
not stop the rest, and a summary at the end lists what ran, what was skipped and why, and
what failed (with its last line). Exit status 1 when a benchmark that could run failed.

Usage: python benchmarks/run_all.py [--no-write] NAME [NAME ...]   (e.g. bench_hate)
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
SEMEVAL25 = Path("datasets/semeval2025-task10")
# benchmark -> (arguments it runs with, what it needs: a folder under ../shared, or
# "scale" for the scale extra); every other bench_*.py runs with its defaults, needing nothing
NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bench_narratives": ((), (str(SEMEVAL25 / "test"),)),
    "bench_entities": ((), (str(SEMEVAL25 / "test"),)),
    "bench_techniques": ((), (str(SEMEVAL25 / "test"),)),
    "bench_encoder": ((), (str(SEMEVAL25 / "test"),)),
    "bench_discover": ((), (str(SEMEVAL25),)),
    "bench_campaigns": (("synthetic",), ()),
    "bench_ray": ((), ("scale",)),
}


def why_not(name: str, shared: Path = SHARED) -> str | None:
    """Why benchmark ``name`` cannot run on this machine, or None when it can."""
    for need in NEEDS.get(name, ((), ()))[1]:
        if need == "scale":
            missing = [m for m in ("ray", "pyarrow") if importlib.util.find_spec(m) is None]
            if missing:
                return f"needs the scale extra ({', '.join(missing)} missing): make scale"
        elif not (shared / need).is_dir():
            return f"needs ../shared/{need}, which is missing here"
    return None


def command(name: str, *, no_write: bool = False) -> list[str]:
    """How ``name`` is run: this Python, its arguments, ``--no-write`` last when asked."""
    args = list(NEEDS.get(name, ((), ()))[0])
    return [sys.executable, str(HERE / f"{name}.py"), *args, *(["--no-write"] if no_write else [])]


def run_each(commands: dict[str, list[str]], skipped: dict[str, str]) -> int:
    """Run every command in turn whatever the previous one did, its output shown as it
    comes; print the summary. Returns how many failed."""
    failed: dict[str, str] = {}
    for name, argv in commands.items():
        print(f"\n=== {name}: {' '.join(argv[1:])}", flush=True)
        started = time.perf_counter()
        last = ""
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                last = line.strip() or last
        seconds = time.perf_counter() - started
        if proc.returncode:
            failed[name] = f"exit {proc.returncode} after {seconds:.0f} s: {last}"
        else:
            print(f"=== {name}: done in {seconds:.0f} s", flush=True)
    ran = [n for n in commands if n not in failed]
    print("\n=== summary")
    print(f"ran: {', '.join(ran) or 'none'}")
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    for name, why in failed.items():
        print(f"FAILED {name}: {why}")
    return len(failed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    known = sorted(p.stem for p in HERE.glob("bench_*.py"))
    parser.add_argument("names", nargs="+", metavar="NAME", choices=known, help="benchmarks")
    parser.add_argument("--no-write", action="store_true", help="each prints only")
    args = parser.parse_args(argv)
    skipped = {n: why for n in args.names if (why := why_not(n)) is not None}
    commands = {n: command(n, no_write=args.no_write) for n in args.names if n not in skipped}
    return 1 if run_each(commands, skipped) else 0


if __name__ == "__main__":
    raise SystemExit(main())
