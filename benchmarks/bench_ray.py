"""Throughput of ``analyze --engine ray`` against the local engine (issue 27).

Runs the bundled pipeline (all default stages) over the same generated documents with

* the local engine (this process, :func:`narrascope.engine.outputs.run_to_output`),
  as it runs by default (every core) and pinned to one core in a child process
  (``sched_setaffinity`` and ``OMP_NUM_THREADS=1``: what Ray gives an actor of one CPU),
  so each Ray run is compared with the local engine on the same CPUs,
* Ray with ``WORKERSxCPUS`` configurations (``--configs 1x1 1x2 2x1``: workers x CPUs
  per worker; a local Ray of as many CPUs as the largest needs), each worker an actor
  that loads the models once per run,

checks that the records are identical, and prints docs/s (end to end, and without the
model load), Ray's overhead at 1 worker, peak memory per worker, the driver's own
ceiling (docs/s it can take in and write: unpickle, journal, Parquet) and a projection to
32 and 256 cores: workers x the measured per-worker rate, capped by the driver ceiling.

    .venv/bin/python benchmarks/bench_ray.py            # 100 documents, 1x1 1x2 2x1
    .venv/bin/python benchmarks/bench_ray.py --docs 1000 --configs 1x1 1x2

The documents are generated from sentences written for this benchmark (no dataset text).
Needs ``narrascope[scale]`` (ray, pyarrow). The machine may be shared: the load average
is printed with the results; compare numbers from one run only. The printed results are
written into docs/benchmarks.md ("Scale") as printed (``--no-write``: print only).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import narrascope
from narrascope.doc import Document
from narrascope.engine.outputs import run_to_output
from narrascope.engine.ray_engine import Identity, WorkerStats, run_ray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import PrintedRun, own_peak_mb

MARK = "ray-engine"

SENTENCES = [
    "NATO has expanded eastwards for thirty years and broken every promise it made to Moscow.",
    "The government in Kyiv takes its orders from Washington and London, not from its voters.",
    "Western weapons only prolong the war and bring more suffering to ordinary people.",
    "The sanctions hurt Europe far more than Russia, whose economy keeps growing.",
    "Energy prices in Germany have doubled and factories are moving to America.",
    "The city council approved a new budget for schools and public transport on Tuesday.",
    "Farmers near Odesa expect a good harvest if the weather stays dry until July.",
    "Grain ships left the port this morning, and traders expect prices to fall.",
    "Volunteers reopened two shelters in Kyiv after the night's air raid.",
    "The mayor thanked the rescue teams from Lviv for their work after the strike.",
    "Officials say the new bridge will open in September, two months later than planned.",
    "Russian troops are advancing on every front and the Ukrainian army is collapsing.",
    "Climate activists are funded by foreign foundations that want to weaken our industry.",
    "The elections were rigged, the opposition claims, and the results must be annulled.",
    "Refugees are draining our social budget while pensioners go without help.",
    "The ministry reported that exports of sunflower oil rose by eight percent in May.",
    "Scientists at the university published a study on the river's water quality.",
    "Only negotiations with Moscow can end the war; Ukraine must accept neutrality.",
    "The biolabs in Ukraine were secretly developing weapons for the Pentagon.",
    "Local football clubs will receive new funding for youth training this season.",
]
TITLES = [
    "The War Nobody Wanted",
    "Budget Debate",
    "Harvest Outlook",
    "Sanctions Backfire",
    "After the Strike",
    "Front Line Report",
    "Energy Crisis",
    "City News",
]


def make_documents(n: int, seed: int = 27) -> list[Document]:
    """``n`` articles: a title and 4-9 sentences drawn from :data:`SENTENCES`."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        body = " ".join(rng.sample(SENTENCES, rng.randint(4, 9)))
        text = f"{rng.choice(TITLES)}\n\n{body} (Report {i}.)"
        docs.append(Document(text=text, id=f"bench-{i:04d}", meta={"source": "bench"}))
    return docs


def peak_rss_mb() -> float:
    """This process's own peak: the one-core child is started by the process that has
    already loaded the pipeline, whose size its ``ru_maxrss`` would start from."""
    return own_peak_mb()


def bench_local(n: int, folder: Path, name: str = "local") -> dict:
    started = time.perf_counter()
    nlp = narrascope.load()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    report = run_to_output(
        make_documents(n), nlp, out=folder / f"{name}.jsonl", fmt="jsonl", progress=False
    )
    wall = time.perf_counter() - started
    assert report.processed == n, report
    return {"engine": name, "load_s": load_s, "wall_s": wall, "peak_rss_mb": peak_rss_mb()}


def bench_local_one_core(n: int, folder: Path) -> dict:
    """The local engine in a child process on one core with ``OMP_NUM_THREADS=1``, as
    Ray runs an actor of one CPU (the models' thread pools follow the affinity)."""
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": "1", "BENCH_ONE_CORE": "1"}
    argv = [sys.executable, __file__, "--docs", str(n), "--local-only", str(folder)]
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["identical"] = (folder / "local 1c.jsonl").read_bytes() == (
        folder / "local.jsonl"
    ).read_bytes()
    return result


def bench_ray(n: int, workers: int, cpus: int, folder: Path) -> dict:
    stats = WorkerStats()
    out = folder / f"ray{workers}x{cpus}.jsonl"
    started = time.perf_counter()
    report = run_ray(
        make_documents(n),
        partial(narrascope.load),
        out=out,
        fmt="jsonl",
        progress=False,
        workers=workers,
        cpus_per_worker=cpus,
        stats=stats,
    )
    wall = time.perf_counter() - started
    assert report.processed == n, report
    identical = out.read_bytes() == (folder / "local.jsonl").read_bytes()
    return {
        "engine": f"ray {workers}x{cpus}",
        "cpus": workers * cpus,
        "wall_s": wall,
        "load_s": max(s["load_s"] for s in stats.values()),
        "busy_s": sum(s["busy_s"] for s in stats.values()),
        "per_worker": {str(pid): s for pid, s in stats.items()},
        "peak_rss_mb": max(s["peak_rss_mb"] for s in stats.values()),
        "identical": identical,
    }


def driver_ceiling(folder: Path) -> dict:
    """Docs/s the driver alone can take: unpickle the workers' batches, journal them
    (jsonl) or write Parquet, with no analysis at all."""
    from narrascope.export.parquet import read_parquet_records

    records = [json.loads(line) for line in (folder / "local.jsonl").open(encoding="utf-8")]
    docs = [Document.from_dict(r) for r in records]
    blobs = [pickle.dumps(docs[i : i + 16]) for i in range(0, len(docs), 16)]
    result = {}
    for fmt, out in (("jsonl", folder / "ceil.jsonl"), ("parquet", folder / "ceil")):
        reps = 20
        started = time.perf_counter()
        for _ in range(reps):
            stream = (d for blob in blobs for d in pickle.loads(blob))
            run_to_output(stream, Identity(), out=out, fmt=fmt, progress=False)
        result[fmt] = reps * len(docs) / (time.perf_counter() - started)
    assert list(read_parquet_records(folder / "ceil")) == records
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100, help="generated documents")
    parser.add_argument(
        "--configs", nargs="+", default=["1x1", "1x2", "2x1"], help="WORKERSxCPUS each"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--local-only", type=Path, help=argparse.SUPPRESS)  # the child run
    args = parser.parse_args()
    if args.local_only is not None:
        if os.environ.get("BENCH_ONE_CORE"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        print(json.dumps(bench_local(args.docs, args.local_only, "local 1c")))
        return 0
    try:  # the scale extra
        import pyarrow  # noqa: F401
        import ray  # noqa: F401
    except ImportError:
        print("needs the scale extra (ray, pyarrow): make scale", file=sys.stderr)
        return 1
    with PrintedRun("bench_ray.py") as run:
        status = compare(args)
    if status == 0 and not args.no_write:
        run.write(MARK)
    return status


def compare(args: argparse.Namespace) -> int:
    """The local engine against Ray's configurations; 1 when the records differ."""
    import ray

    configs = [tuple(int(x) for x in c.split("x")) for c in args.configs]
    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results.append(bench_local(args.docs, folder))
        results.append(bench_local_one_core(args.docs, folder))
        cpus = max(w * c for w, c in configs)
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level="WARNING")
        try:
            for workers, per_worker in configs:
                results.append(bench_ray(args.docs, workers, per_worker, folder))
        finally:
            ray.shutdown()
        ceiling = driver_ceiling(folder)
    load_after = os.getloadavg()

    n = args.docs
    print(f"\n{n} documents, default pipeline; CPUs: {os.cpu_count()}; load average ")
    print(f"before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)\n")
    head = f"{'engine':<10} {'wall s':>7} {'docs/s':>7} {'docs/s*':>8} {'load s':>7} "
    print(head + f"{'peak MB/worker':>15} {'identical':>9}")
    for r in results:
        rate = n / r["wall_s"]
        steady = rate
        if r["engine"].startswith("ray"):
            steady = n / max(r["wall_s"] - r["load_s"], 1e-9)
            r["workers_seen"] = len(r["per_worker"])
            r["per_worker_docs_s"] = n / r["busy_s"]  # docs per busy second of one worker
            # start-up, scheduling, shipping: wall time no worker spent analysing
            r["outside_s"] = r["wall_s"] - r["busy_s"] / r["workers_seen"]
        r["docs_s"], r["docs_s_without_load"] = rate, steady
        ident = "yes" if r.get("identical", True) else "NO"
        print(
            f"{r['engine']:<10} {r['wall_s']:>7.1f} {rate:>7.2f} {steady:>8.2f} "
            f"{r['load_s']:>7.1f} {r['peak_rss_mb']:>15.0f} {ident:>9}"
        )
    print("docs/s*: without the model load (local: loaded before the run; ray: the")
    print("slowest worker's load time subtracted from the wall time)\n")
    local = {"local": results[0], "local 1c": results[1]}
    for r in results[2:]:
        # the local engine on the same CPUs: one core for one 1-CPU worker, else all
        base = local["local 1c"] if r["cpus"] == 1 else local["local"]
        # end to end both ways, as a user times the command: the local engine's model
        # load counted too (Ray's run includes its start-up and its workers' loads)
        overhead = r["wall_s"] / (base["wall_s"] + base["load_s"]) - 1
        per_doc = r["busy_s"] / n / (base["wall_s"] / n) - 1
        r["overhead"], r["overhead_base"] = overhead, base["engine"]
        print(
            f"{r['engine']}: {overhead:+.1%} wall time against {base['engine']} (model "
            f"loads and start-up included); {per_doc:+.1%} per document in the worker; "
            f"{r['outside_s']:.1f} s outside analysis"
        )
    print(
        f"driver ceiling (unpickle + write, no analysis): jsonl {ceiling['jsonl']:.0f} docs/s, "
        f"parquet {ceiling['parquet']:.0f} docs/s"
    )
    one = next((r for r in results if r["engine"] == "ray 1x1"), None)
    if one is not None:
        # one worker per dedicated core: the rate of the 1x1 run
        rate, peak = one["per_worker_docs_s"], one["peak_rss_mb"]
        cap = min(ceiling.values())
        for cores in (32, 256):
            projected = min(cores * rate, cap)
            print(
                f"projection {cores:>3} cores: {cores} x {rate:.2f} docs/s = "
                f"{cores * rate:.0f} docs/s, driver cap {cap:.0f} -> "
                f"{projected:.0f} docs/s; memory {cores * peak / 1024:.1f} GiB "
                f"({peak:.0f} MB/worker)"
            )
    if args.json is not None:
        payload = {"docs": n, "load_before": load_before, "load_after": load_after}
        payload.update({"results": results, "driver_ceiling": ceiling})
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0 if all(r.get("identical", True) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
