"""Load test of the workspace server (issue 5): concurrent analyses and searches, on loopback.

Starts the real server (``python -m narrascope serve``, bundled models) on 127.0.0.1 at a
free port with a temporary SQLite database, fills it through the API with analysed
documents (one background job, whose throughput is reported too), then runs a bounded mix
of requests from a few concurrent clients: searches (``GET /api/documents`` with varied
filters and pages) and analyses (``POST /api/analyze`` with ``store: true``). It checks
that no request failed and nothing was lost (documents stored = documents posted), prints
requests/s and p50/p99 latency per kind and the server's peak memory, and writes them into
the "Workspace server (issue 5)" section of docs/benchmarks.md.

The texts are synthetic, built here from short sentences written for this benchmark.

Usage: python benchmarks/bench_serve.py [--clients 4] [--searches 200] [--analyses 40]
                                        [--prefill 200] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import write_section

MARK = "serve-load"
SENTENCES = {
    "en": [
        "NATO keeps pushing its weapons closer to the border, the commentator said.",
        "Western sanctions hurt ordinary Europeans far more than they hurt Moscow.",
        "The city council opened two new shelters for families who lost their homes.",
        "Officials in Kyiv are accused of following every order from Washington.",
        "Volunteers delivered generators and medicine to the hospital overnight.",
        "The front line has barely moved in weeks despite heavy shelling.",
    ],
    "ru": [
        "Западные страны продолжают поставлять оружие, затягивая конфликт.",
        "Наши войска уверенно продвигаются и освобождают новые посёлки.",
        "Санкции бьют прежде всего по простым жителям Европы.",
        "В городе открыли пункт обогрева для пострадавших семей.",
        "Эксперты спорят о том, кто на самом деле выиграл от переговоров.",
    ],
    "uk": [
        "Після нічної атаки дронів частина міста залишилася без світла.",
        "Волонтери зібрали кошти на нові генератори для лікарні.",
        "Уряд пообіцяв компенсації родинам, які втратили житло.",
    ],
    "bg": [
        "Правителството обяви нова помощ за бежанците от войната.",
        "Анализаторите твърдят, че санкциите вредят повече на Европа.",
        "НАТО засилва присъствието си в региона на Черно море.",
    ],
    "pt": [
        "A OTAN provocou esta guerra, dizem alguns comentadores na televisão.",
        "Os preços da energia subiram novamente em toda a Europa.",
        "As negociações de paz foram adiadas mais uma vez.",
    ],
    "hi": [
        "कई चैनलों पर दावा किया गया कि नाटो ने यह युद्ध भड़काया।",
        "यूरोप में ऊर्जा की कीमतें फिर से बढ़ गई हैं।",
        "शांति वार्ता एक बार फिर टल गई है।",
    ],
}
SOURCES = ["channel-a", "channel-b", "site-c", "blog-d", "forum-e"]
WORDS = ["NATO", "sanctions", "войска", "генератори", "OTAN", "hospital", "Европа", "peace"]


def synthetic(n: int, seed: int, prefix: str) -> list[dict[str, str]]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        lang = rng.choice(list(SENTENCES))
        text = " ".join(rng.choice(SENTENCES[lang]) for _ in range(rng.randint(4, 9)))
        day = date(2024, rng.randint(1, 6), rng.randint(1, 28)).isoformat()
        docs.append(
            {"id": f"{prefix}{i:04}", "text": text, "source": rng.choice(SOURCES), "date": day}
        )
    return docs


def top_up(db: Path, target: int) -> int:
    """Grow the corpus to ``target`` documents with copies of the analysed ones.

    Analysing 10,000 documents would take the model many minutes here; a copy keeps its
    text's real analysis and gets its own id, date and source, so searches, stats and the
    export run over a corpus of realistic size. Saved through the store, while the server
    runs (SQLite WAL), as ``analyze --db`` would.
    """
    from narrascope.doc import Document
    from narrascope.store import open_store

    rng = random.Random(3)
    with open_store(db) as store:
        originals = [d.to_dict() for d in store.iter_documents()]
        missing = target - store.count()
        batch: list[Document] = []
        for i in range(max(missing, 0)):
            doc = Document.from_dict(originals[i % len(originals)])
            doc.id = f"copy-{i:05}"
            doc.meta["date"] = date(2024, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
            doc.meta["source"] = rng.choice(SOURCES)
            batch.append(doc)
            if len(batch) == 500:
                store.save(batch)
                batch = []
        if batch:
            store.save(batch)
        return store.count()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def search_params(rng: random.Random, narratives: list[str]) -> dict[str, str | int]:
    params: dict[str, str | int] = {"limit": 50, "offset": rng.choice([0, 0, 0, 50, 100])}
    choice = rng.random()
    if choice < 0.3:
        params["q"] = rng.choice(WORDS)
    elif choice < 0.55 and narratives:
        params["narrative"] = rng.choice(narratives)
        params["min_score"] = rng.choice(["0.3", "0.5"])
    elif choice < 0.75:
        params["language"] = rng.choice(list(SENTENCES))
    elif choice < 0.9:
        params["source"] = rng.choice(SOURCES)
        params["date_from"], params["date_to"] = "2024-02-01", "2024-04-30"
    return params


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--analyses", type=int, default=40)
    parser.add_argument("--prefill", type=int, default=200, help="documents analysed by a job")
    parser.add_argument("--corpus", type=int, default=10_000, help="documents in the database")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if k != "NARRASCOPE_TOKEN"}
        t0 = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "narrascope", "serve", "--db", str(db), "--port", str(port)],
            env=env,
        )
        try:
            return run(args, server, base, db, t0, load_before)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()


def run(
    args: argparse.Namespace,
    server: subprocess.Popen[bytes],
    base: str,
    db: Path,
    t0: float,
    load_before: tuple[float, float, float],
) -> int:
    client = httpx.Client(base_url=base, timeout=300)
    while True:
        if server.poll() is not None:
            print("the server exited", file=sys.stderr)
            return 1
        try:
            if client.get("/api/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    first = client.post("/api/analyze", json={"text": SENTENCES["en"][0]})
    first.raise_for_status()
    startup = time.perf_counter() - t0
    print(f"server up and first analysis done in {startup:.1f} s")

    prefill = synthetic(args.prefill, 1, "pre-")
    t = time.perf_counter()
    job = client.post("/api/documents", json={"documents": prefill}).json()["job"]
    while (info := client.get(f"/api/jobs/{job['id']}").json())["state"] not in ("done", "failed"):
        time.sleep(0.2)
    job_wall = time.perf_counter() - t
    print(
        f"prefill job: {info['done']} stored, {info['failed']} failed, {job_wall:.1f} s "
        f"({info['done'] / job_wall:.1f} docs/s)"
    )
    t = time.perf_counter()
    corpus = top_up(db, args.corpus)
    print(f"corpus topped up to {corpus} documents in {time.perf_counter() - t:.1f} s")

    peak_before_exports = peak_rss_mb(server.pid)
    single: dict[str, tuple[float, str]] = {}
    for name, path in [
        ("facets", "/api/facets"),
        ("stats by month", "/api/stats?by=month"),
        ("stats by source, one language", "/api/stats?by=source&language=ru"),
        ("first page, no filter", "/api/documents"),
        ("export, whole corpus, jsonl", "/api/export?format=jsonl"),
        ("export, whole corpus, csv", "/api/export?format=csv"),
    ]:
        t = time.perf_counter()
        r = client.get(path)
        r.raise_for_status()
        size = len(r.content)
        shown = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} KB"
        single[name] = (time.perf_counter() - t, shown)
        print(f"{name}: {single[name][0] * 1000:.0f} ms, {single[name][1]}")
    exported = sum(1 for line in client.get("/api/export?format=jsonl").iter_lines() if line)
    facets = client.get("/api/facets").json()
    narratives = [f["value"] for f in facets["narrative"]][:8]

    rng = random.Random(7)
    posted = synthetic(args.analyses, 2, "load-")
    tasks: list[tuple[str, object]] = [
        ("search", search_params(rng, narratives)) for _ in range(args.searches)
    ]
    tasks += [("analyse", doc) for doc in posted]
    rng.shuffle(tasks)
    todo = iter(tasks)
    todo_lock = threading.Lock()
    tally = Tally()

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            while True:
                with todo_lock:
                    task = next(todo, None)
                if task is None:
                    return
                kind, payload = task
                start = time.perf_counter()
                error = None
                try:
                    if kind == "search":
                        r = http.get("/api/documents", params=payload)  # type: ignore[arg-type]
                        ok = r.status_code == 200 and "total" in r.json()
                    else:
                        r = http.post("/api/analyze", json={**payload, "store": True})  # type: ignore[dict-item]
                        ok = r.status_code == 200 and r.json()["id"] == payload["id"]  # type: ignore[index]
                    if not ok:
                        error = f"HTTP {r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as exc:
                    error = repr(exc)
                tally.add(kind, time.perf_counter() - start, error)

    t = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t

    stored = client.get("/api/health").json()["documents"]
    expected = corpus + args.analyses
    missing = [
        d["id"] for d in posted if client.get(f"/api/documents/{d['id']}").status_code != 200
    ]
    peak = peak_rss_mb(server.pid)
    load_after = os.getloadavg()
    total = sum(len(v) for v in tally.latencies.values())
    print(
        f"{total} requests from {args.clients} clients in {wall:.1f} s: "
        f"{total / wall:.1f} requests/s"
    )
    rows = []
    for kind in ("search", "analyse"):
        values = tally.latencies.get(kind, [])
        if not values:
            continue
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        rate = len(values) / wall
        print(
            f"  {kind}: {len(values)} requests, {rate:.1f}/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
            f"mean {statistics.mean(values) * 1000:.0f} ms"
        )
        rows.append((kind, len(values), rate, p50, p99))
    print(f"errors: {len(tally.errors)}; stored {stored}, expected {expected}; missing {missing}")
    print(
        f"server peak memory (VmHWM): {peak:.0f} MB; "
        f"load average {load_before[0]:.2f} -> {load_after[0]:.2f}"
    )
    for error in tally.errors[:10]:
        print("  ", error)
    ok = (
        not tally.errors
        and stored == expected
        and not missing
        and info["failed"] == 0
        and exported == corpus
    )

    if not args.no_write:
        labels = {
            "search": "search (`GET /api/documents`, varied filters and pages)",
            "analyse": "analyse and store (`POST /api/analyze`, `store: true`)",
        }
        table = "\n".join(
            f"| {labels[kind]} | {n} | {rate:.1f} | {p50:.0f} ms | {p99:.0f} ms |"
            for kind, n, rate, p50, p99 in rows
        )
        single_rows = "\n".join(
            f"| {name} | {seconds * 1000:.0f} ms | {size} |"
            for name, (seconds, size) in single.items()
        )
        text = f"""## Workspace server (issue 5)

Measured {date.today().isoformat()} with `python benchmarks/bench_serve.py` on this machine
({os.cpu_count()} cores, {platform.machine()}), **shared with other jobs and busy** (load
average {load_before[0]:.2f} before, {load_after[0]:.2f} after): the real server
(`narrascope serve`, bundled models, SQLite) on 127.0.0.1, {args.clients} concurrent clients
(httpx), a bounded mix of {args.searches} searches and {args.analyses} analyses in random
order, over a database of {corpus:,} documents: {info["done"]} synthetic documents in six
languages analysed through the API (one background job), the rest copies of them with their
own ids, dates and sources (the model would need many minutes for 10,000 here).

| requests | count | requests/s | p50 | p99 |
|---|---|---|---|---|
{table}
| **all** | {total} | **{total / wall:.1f}** | — | — |

One request at a time over the same {corpus:,}-document database (before the load):

| request | time | size |
|---|---|---|
{single_rows}

- Errors: {len(tally.errors)}; documents stored {stored:,} = expected {expected:,} (the
  corpus plus every analysis posted), and the export held all {exported:,}
  ({"nothing lost" if ok else "SOMETHING WAS LOST OR FAILED"}).
- Background job (`POST /api/documents`, {info["done"]} documents, batches of 8):
  {job_wall:.1f} s, {info["done"] / job_wall:.1f} documents/s analysed and stored
  (short texts of 4-9 sentences; news articles are several times longer).
- Server start-up to the first analysis: {startup:.1f} s; server peak memory (VmHWM):
  {peak:.0f} MB at the end, {peak_before_exports:.0f} MB before the two whole-corpus exports.

Analyses share one model and take turns (one model per server, two cores), so under load
their latency is mostly queueing behind each other; searches do not wait for the model. The
exports stream from the database a batch at a time, so downloading the whole corpus costs
the server little memory (compare the two peaks)."""
        write_section(text, mark=MARK)
        print("wrote docs/benchmarks.md")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
