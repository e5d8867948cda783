"""Benchmark: importing 100k debunks and matching documents against them (issue 25).

A synthetic debunk database (English-like claims made from word pools and made-up names,
so posting lists and claim lengths look like a fact-check archive's; nothing from any
dataset) is written as JSONL and imported as ``narrascope debunks add`` imports it (reader,
USE vectors, FTS5 index). Then documents are matched with :class:`DebunkMatcher`, warm
(the vector index built once, timed apart):

* ``post``: a short post, one query unit; a third restate a debunk in other words;
* ``article``: 12 sentences in paragraphs of one or two, no claim stage (each paragraph
  is a unit);
* ``article+claims``: the same articles with 5 claims set (what runs after the claim
  stage: SemEval test articles hold 4.5 on average, at most 7);
* ``Russian post``: against the English debunks, read by the cross-lingual head (e5).

Every debunk is dated (a day in 2016-2025) and so is every document: a restatement up to
two weeks before its debunk, any other text on any day, so the dated head runs as it runs
for users whose files carry dates (and may raise a debunk that is near by chance).

Each set is timed twice: with the units encoded here (USE), and with the paragraph
vectors already on the document (``doc.tensor``, as the narrative stage leaves them in
``analyze``: a unit reads its paragraph's vector). The Russian posts' first time is
measured on a database holding no e5 vector of a debunk, once one at a time and again in
batches (the e5 vectors the first pass made are dropped in between), so both are cold.
Prints the peak memory of the process; the run is written into docs/benchmarks.md as
printed.

Usage: python benchmarks/bench_debunks.py [--debunks 100000] [--docs 60] [--seed 3]
[--keep DIR] [--scorer ARTEFACT] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_narratives import PrintedRun  # noqa: E402

if TYPE_CHECKING:
    from narrascope.doc import Document

MARK = "debunks-speed"

SUBJECTS = [
    "the government",
    "a senator",
    "the president",
    "the army",
    "the ministry",
    "a celebrity",
    "the company",
    "the police",
    "scientists",
    "a governor",
    "the mayor",
    "doctors",
    "the central bank",
    "a famous actor",
    "the prime minister",
    "the health agency",
    "a football club",
    "the opposition",
    "local officials",
    "an airline",
]
VERBS = [
    "secretly banned",
    "announced",
    "paid for",
    "admitted to",
    "planned",
    "hid",
    "funded",
    "approved",
    "cancelled",
    "ordered",
    "invented",
    "sold",
    "closed",
    "leaked",
    "faked",
    "confirmed",
    "denied",
    "bought",
    "destroyed",
    "recalled",
]
ADJECTIVES = [
    "new",
    "secret",
    "illegal",
    "free",
    "deadly",
    "foreign",
    "toxic",
    "cheap",
    "hidden",
    "nuclear",
    "fake",
    "giant",
    "mandatory",
    "experimental",
    "banned",
    "historic",
]
NOUNS = [
    "vaccines",
    "elections",
    "weapons",
    "refugees",
    "taxes",
    "schools",
    "bridges",
    "coins",
    "phones",
    "laboratories",
    "flights",
    "pensions",
    "chemicals",
    "fries",
    "masks",
    "satellites",
    "tanks",
    "passports",
    "mines",
    "voting machines",
    "wind farms",
    "banks",
]
TAILS = [
    "to control the population",
    "before the elections",
    "to hide the truth",
    "for profit",
    "after a scandal",
    "without telling anyone",
    "according to a leaked memo",
    "to blame the neighbours",
    "as a test",
    "under pressure from abroad",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "to",
    "va",
    "sha",
    "dor",
    "bel",
    "quin",
    "zu",
    "nor",
    "pa",
    "tel",
    "vik",
    "sar",
    "om",
    "li",
    "gra",
    "fen",
]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).title()


def make_claim(rng: random.Random) -> str:
    place = _name(rng)
    person = _name(rng) + " " + _name(rng)
    year = rng.randint(1990, 2025)
    return (
        f"{rng.choice(SUBJECTS).capitalize()} of {place} {rng.choice(VERBS)} "
        f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(TAILS)}, "
        f"says {person} in {year}."
    )


def paraphrase(claim: str, rng: random.Random) -> str:
    """The claim in other words: some words dropped, a frame around it."""
    words = claim.rstrip(".").split()
    kept = [w for w in words if rng.random() > 0.25 or w[0].isupper()]
    frame = rng.choice(
        [
            "Breaking: {} — share before they delete it!",
            "Did you know? {}. Nobody is talking about it.",
            "They finally admitted it: {}.",
        ]
    )
    return frame.format(" ".join(kept))


def filler(rng: random.Random) -> str:
    return (
        rng.choice(
            [
                "The weather stayed mild for most of the week across the region.",
                "Local shops reported more visitors than usual during the holiday.",
                "The city council will discuss the new bus timetable next month.",
                "Fans gathered in the square to watch the final on a big screen.",
                "The museum opened a new wing dedicated to modern photography.",
                "Traffic on the main road was slow because of the repairs.",
            ]
        )
        + f" {_name(rng)} said it was {rng.choice(['expected', 'a surprise', 'good news'])}."
    )


# Russian posts on the claims' subjects (our own words): against English debunks they go
# through the cross-lingual head, whose e5 pass is the costly part of matching
RU_SUBJECTS = ["Правительство", "Армия", "Министерство", "Центральный банк", "Полиция", "Мэр"]
RU_VERBS = ["тайно запретило", "объявило", "скрыло", "одобрило", "отменило"]
RU_OBJECTS = ["продажу хлеба", "новые налоги", "бесплатный проезд", "выборы", "вакцины"]


# a database in several languages: claims in Hindi (written for this benchmark), a language
# USE does not read, so that every post pays the e5 channel's one pass (its reverse reach)
HINDI_CLAIMS = (
    "नाटो ने वादा किया था कि वह पूर्व की ओर विस्तार नहीं करेगा",
    "यूक्रेन में जैविक हथियारों की प्रयोगशालाएँ अमेरिका चलाता है",
    "रूसी सेना ने शहर पर कब्ज़े की पुष्टि की",
    "पश्चिमी देशों ने हमले की योजना पहले से बनाई थी",
    "शरणार्थियों को सरकार मुफ्त घर दे रही है",
)


def russian_post(rng: random.Random) -> str:
    return (
        f"{rng.choice(RU_SUBJECTS)} {rng.choice(RU_VERBS)} {rng.choice(RU_OBJECTS)}, "
        f"пишет {_name(rng)}. Делитесь, пока не удалили!"
    )


def some_day(rng: random.Random) -> dt.date:
    """A day in ten years of fact-checking (2016-2025)."""
    return dt.date(2016, 1, 1) + dt.timedelta(days=rng.randrange(3650))


def build(path: Path, n: int, rng: random.Random) -> tuple[list[str], list[dt.date]]:
    claims, days = [], []
    when = random.Random(n)  # apart from rng: the claims stay those of a kept database
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            claim = make_claim(rng)
            claims.append(claim)
            days.append(some_day(when))
            row = {
                "id": f"syn-{i}",
                "claim": claim,
                "verdict": "false",
                "url": f"https://example.org/fact-check/{i}",
                "date": days[-1].isoformat(),
                "language": "en",
            }
            out.write(json.dumps(row) + "\n")
    return claims, days


def forget_e5(db: Path) -> None:
    """Drop every debunk's kept e5 vector, so the next cross-lingual match makes them
    again: a "first time" measured on a database whose earlier pass (or earlier run,
    with ``--keep``) already made them would be a warm one."""
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("UPDATE debunks SET e5 = NULL WHERE e5 IS NOT NULL")
    conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--debunks", type=int, default=100_000, help="synthetic debunks")
    parser.add_argument("--docs", type=int, default=60, help="documents of each kind matched")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the database in this folder and reuse it next time (skips the import)",
    )
    parser.add_argument(
        "--scorer", type=Path, help="a debunk scorer artefact (default: the shipped one)"
    )
    parser.add_argument(
        "--reader-debunks",
        type=int,
        default=20_000,
        help="synthetic debunks of the database read with the debunk reader (0: skip)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    with PrintedRun("bench_debunks.py", argv) as run:
        measure(args)
    if not args.no_write:
        run.write(MARK)
    return 0


def measure(args: argparse.Namespace) -> None:

    from narrascope.doc import Claim, Document, Span
    from narrascope.ingest.debunks import read_debunks
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.encoder import SentenceEncoder
    from narrascope.store.debunks import Debunk, DebunkStore

    rng = random.Random(args.seed)
    encoder = SentenceEncoder.shared()
    encoder.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        src, db = folder / "debunks.jsonl", folder / f"corpus-{args.debunks}-{args.seed}.db"
        claims, days = build(src, args.debunks, rng)
        kept = db.exists() and DebunkStore(db).count() == args.debunks
        started = time.perf_counter()
        with DebunkStore(db) as store:
            report = store.add(
                (d for d in read_debunks(src) if isinstance(d, Debunk)), encode=encoder.encode
            )
        import_s = time.perf_counter() - started
        if kept:
            print(f"import: skipped, {db} kept from an earlier run")
        else:
            print(
                f"import: {report.added} debunks in {import_s:.1f} s "
                f"({report.added / import_s:.0f}/s; reader + USE vectors + FTS5 index)"
            )
        started = time.perf_counter()
        with DebunkStore(db) as store:
            again = store.add(d for d in read_debunks(src) if isinstance(d, Debunk))
        print(
            f"re-import unchanged: {again.unchanged} rows in {time.perf_counter() - started:.1f} s"
        )

        store = DebunkStore(db)
        matcher = DebunkMatcher(store, encoder=encoder, scorer_path=args.scorer)
        started = time.perf_counter()
        matcher.index()
        print(
            f"index at first use (BM25 postings, vectors, PCA, sign bits; then kept): "
            f"{time.perf_counter() - started:.2f} s"
        )
        matcher = DebunkMatcher(store, encoder=encoder, scorer_path=args.scorer)
        started = time.perf_counter()
        matcher.index()
        print(
            f"index read back from the copy kept in the database: "
            f"{time.perf_counter() - started:.2f} s, "
            f"{db.stat().st_size / 2**20:.0f} MB database"
        )

        posts, articles, planted, with_claims = [], [], [], []
        when = random.Random(args.seed + 1)  # apart from rng: the same texts as before
        for i in range(args.docs):
            target = rng.randrange(len(claims))
            restates = i % 3 == 0
            text = paraphrase(claims[target], rng) if restates else filler(rng)
            # dated as users' documents are: a restatement up to two weeks before its
            # fact-check, any other text on any day (near some debunks by chance)
            day = days[target] - dt.timedelta(days=when.randrange(15)) if restates else None
            meta = {"date": (day or some_day(when)).isoformat()}
            posts.append(Document(text=text, id=f"post-{i}", language="en", meta=meta))
            planted.append(f"syn-{target}" if restates else None)
            sentences = [filler(rng) for _ in range(12)]
            if restates:
                sentences[5] = paraphrase(claims[target], rng)
            # paragraphs of one or two sentences, as news articles are written
            text, spans = "", []
            for n, sentence in enumerate(sentences):
                if n:
                    text += "\n\n" if rng.random() < 0.5 else " "
                spans.append((len(text), len(text) + len(sentence)))
                text += sentence
            articles.append(Document(text=text, id=f"art-{i}", language="en", meta=meta))
            claimed = Document(text=text, id=f"art-{i}-c", language="en", meta=meta)
            picked = rng.sample(spans, 5)
            claimed.claims = [Claim(span=Span.of(text, s, e), score=0.9) for s, e in picked]
            with_claims.append(claimed)

        matcher.match(posts[0])  # warm
        from narrascope.models.encoder import encode_paragraphs
        from narrascope.text.segment import segment

        russian = [
            Document(
                text=russian_post(rng),
                id=f"ru-{i}",
                language="ru",
                meta={"date": some_day(when).isoformat()},
            )
            for i in range(args.docs)
        ]
        first_time = "Russian post, first time (e5 of new debunks made)"
        forget_e5(db)  # none kept from an earlier run (--keep) either
        for label, docs in (
            ("post", posts),
            ("article", articles),
            ("article+claims", with_claims),
            (first_time, russian),
            ("Russian post, again (e5 of the debunks kept)", russian),
        ):
            for warm in (False, True) if docs is not russian else (True,):
                for doc in docs:
                    doc.tensor = None
                    segment(doc)
                if warm:  # what the narrative stage leaves: the paragraph vectors
                    encode_paragraphs(encoder, docs)
                times = []
                for doc in docs:
                    t0 = time.perf_counter()
                    doc.debunks = matcher.match(doc)
                    times.append((time.perf_counter() - t0) * 1000)
                if label == first_time:  # the batches' first time too, not after the above
                    forget_e5(db)
                t0, c0 = time.perf_counter(), time.process_time()
                for start in range(0, len(docs), 32):  # as the stage runs: a batch at once
                    matcher.match_many(docs[start : start + 32])
                batched = (time.perf_counter() - t0) * 1000 / len(docs)
                cpu = (time.process_time() - c0) * 1000 / len(docs)
                print(
                    f"{label} ({'paragraph vectors given' if warm else 'units encoded here'}): "
                    f"one at a time median {statistics.median(times):.1f} ms, "
                    f"p90 {sorted(times)[int(0.9 * len(times))]:.1f} ms; in batches of 32 "
                    f"{batched:.1f} ms per document, CPU {cpu:.1f} ms "
                    f"({len(matcher.units(docs[0]))} units)"
                )
        found = sum(
            1
            for d, p in zip(posts, planted, strict=True)
            if p and d.debunks and d.debunks[0].id == p
        )
        false = sum(1 for d, p in zip(posts, planted, strict=True) if not p and d.debunks)
        print(
            f"posts: planted restatement ranked first {found}/{sum(1 for p in planted if p)}; "
            f"posts with no restatement shown a match {false}/{planted.count(None)}"
        )
        for label, docs in (
            ("articles", articles),
            ("articles after the claim stage", with_claims),
        ):
            hit = sum(
                1
                for d, p in zip(docs, planted, strict=True)
                if p and d.debunks[:1] and d.debunks[0].id == p
            )
            wrong = sum(
                len([m for m in d.debunks if m.id != p]) for d, p in zip(docs, planted, strict=True)
            )
            print(
                f"{label}: planted restatement ranked first {hit}/{sum(1 for p in planted if p)}; "
                f"wrong debunks shown {wrong / len(docs):.2f} per article"
            )
        multilingual_posts(db, posts, encoder, args.scorer)
        store.close()
        if args.reader_debunks:
            reader_posts(folder, args, encoder)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB")


def multilingual_posts(db: Path, posts: list[Document], encoder: Any, scorer: Path | None) -> None:
    """English posts again, the database also holding a few Hindi debunks (removed after)."""
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.store.debunks import Debunk, DebunkStore

    hindi = [Debunk(id=f"hi-{i}", claim=c, language="hi") for i, c in enumerate(HINDI_CLAIMS)]
    with DebunkStore(db) as writer:
        writer.add(hindi, encode=encoder.encode)
    try:
        matcher = DebunkMatcher(DebunkStore(db), encoder=encoder, scorer_path=scorer)
        matcher.index()
        matcher.match_many(posts[:8])  # warm: the Hindi debunks' e5 vectors made and kept
        times = []
        for doc in posts:
            t0 = time.perf_counter()
            matcher.match(doc)
            times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        for start in range(0, len(posts), 32):
            matcher.match_many(posts[start : start + 32])
        batched = (time.perf_counter() - t0) * 1000 / len(posts)
        print(
            f"post, the database also holding {len(hindi)} Hindi debunks (one e5 pass a post): "
            f"one at a time median {statistics.median(times):.1f} ms; in batches of 32 "
            f"{batched:.1f} ms per document"
        )
    finally:
        with DebunkStore(db) as writer:
            writer.delete([d.id for d in hindi])


def reader_posts(folder: Path, args: argparse.Namespace, encoder: Any) -> None:
    """Posts against a database whose every debunk has a reader vector (what `debunks add`
    makes by default up to 20,000 debunks): what making the vectors costs, and matching."""
    from narrascope.doc import Document
    from narrascope.ingest.debunks import read_debunks
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.debunk_reader import make_debunk_vectors
    from narrascope.store.debunks import Debunk, DebunkStore

    rng = random.Random(args.seed + 7)
    n = args.reader_debunks
    src, db = folder / f"reader-{n}.jsonl", folder / f"reader-{n}-{args.seed}.db"
    claims, days = build(src, n, rng)
    with DebunkStore(db) as store:
        store.add((d for d in read_debunks(src) if isinstance(d, Debunk)), encode=encoder.encode)
        todo = store.reader_missing()
        started = time.perf_counter()
        make_debunk_vectors(store)
        took = time.perf_counter() - started
    if todo:
        print(
            f"reader vectors at import: {todo} debunks in {took:.1f} s ({todo / took:.0f}/s, "
            f"{1000 * took / todo:.1f} ms a debunk)"
        )
    else:
        print(f"reader vectors: kept from an earlier run ({db})")
    posts, planted = [], []
    for i in range(args.docs):
        target = rng.randrange(len(claims))
        restates = i % 3 == 0
        text = paraphrase(claims[target], rng) if restates else filler(rng)
        meta = {"date": (days[target] if restates else some_day(rng)).isoformat()}
        posts.append(Document(text=text, id=f"rpost-{i}", language="en", meta=meta))
        planted.append(f"syn-{target}" if restates else None)
    for reads in (False, True):
        matcher = DebunkMatcher(
            DebunkStore(db), encoder=encoder, scorer_path=args.scorer, use_reader=reads
        )
        matcher.match_many(posts[:4])  # warm: index, reader table, the reader itself
        times = []
        for doc in posts:
            t0 = time.perf_counter()
            doc.debunks = matcher.match(doc)
            times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        for start in range(0, len(posts), 32):
            matcher.match_many(posts[start : start + 32])
        batched = (time.perf_counter() - t0) * 1000 / len(posts)
        found = sum(
            1
            for d, p in zip(posts, planted, strict=True)
            if p and d.debunks[:1] and d.debunks[0].id == p
        )
        false = sum(1 for d, p in zip(posts, planted, strict=True) if not p and d.debunks)
        print(
            f"post against {n} debunks {'with' if reads else 'without'} the reader: one at a "
            f"time median {statistics.median(times):.1f} ms; in batches of 32 {batched:.1f} ms "
            f"per document; planted restatement first {found}/{sum(1 for p in planted if p)}, "
            f"posts restating nothing shown a match {false}/{planted.count(None)}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
