"""Benchmark: does ``narrascope analyze`` take time linear in a text's length?

One 1 MB text should cost about what ten 100 KB texts cost (issue 23: at most 1.5x), and its
memory should stay bounded. The texts are built here, from the bundled English examples and
news-like paragraphs of our own, varied (names, places, numbers, order) so that no two
paragraphs repeat word for word: a cache or a deduplication cannot make the long text cheap.

Each side runs in a fresh child process (the pipeline loaded first, then timed), so the peak
memory reported is that side's own.

``--corpus DIR`` builds the texts from real articles instead (every ``*.txt`` under DIR,
concatenated in order, blank line between them; never written into the repository): ten
consecutive 100 KB slices against one 1 MB text of the same articles.

The printed lines are written into docs/benchmarks.md ("Long texts") as printed.

Usage: python benchmarks/bench_long_texts.py [--kb 100] [--parts 10] [--corpus DIR] [--profile]
       [--no-write]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import PrintedRun

ROOT = Path(__file__).resolve().parents[1]
MARK = "long-texts"

PEOPLE = [
    "Olena Kovalenko",
    "Mark Rutte",
    "Emmanuel Macron",
    "Olaf Scholz",
    "Viktor Orban",
    "Antony Blinken",
    "Dmitry Peskov",
    "Sergei Lavrov",
    "Ursula von der Leyen",
    "Jens Stoltenberg",
    "Andriy Yermak",
    "Kaja Kallas",
    "Rishi Sunak",
    "Giorgia Meloni",
    "Pedro Sanchez",
    "Petr Fiala",
    "Donald Tusk",
    "Alexander Stubb",
    "Ulf Kristersson",
]
PLACES = [
    "Kharkiv",
    "Odesa",
    "Dnipro",
    "Zaporizhzhia",
    "Lviv",
    "Mykolaiv",
    "Kherson",
    "Sumy",
    "Poltava",
    "Chernihiv",
    "Vinnytsia",
    "Rivne",
    "Brussels",
    "Warsaw",
    "Berlin",
    "Paris",
    "Vilnius",
    "Riga",
    "Tallinn",
    "Bucharest",
    "Sofia",
    "Budapest",
    "Prague",
    "Helsinki",
]
GROUPS = [
    "the European Union",
    "NATO",
    "the United Nations",
    "the Red Cross",
    "the IMF",
    "the World Bank",
    "the OSCE",
    "the G7",
    "the Council of Europe",
    "Amnesty International",
]
TOPICS = [
    "grain exports",
    "energy prices",
    "air defence",
    "refugee housing",
    "sanctions",
    "reconstruction funds",
    "ammunition deliveries",
    "power grid repairs",
    "fuel reserves",
    "peace talks",
    "cyber attacks",
    "railway links",
    "school reopenings",
    "water supply",
]
TEMPLATES = [
    "{person} said on {day} that {group} would review its plans for {topic} in {place} "
    "before the end of {month}. Officials expect a decision within {n} weeks, and local "
    "authorities have asked for {m} million euros to cover the most urgent needs.",
    "In {place}, residents queued for hours as {topic} dominated the city council's agenda. "
    "{person} told reporters that the situation was difficult but under control, while "
    "critics argued that {group} had promised help in {month} and delivered only part of it.",
    "The report published by {group} on {day} counts {n} incidents linked to {topic} near "
    "{place}. {person} called the figures alarming and urged partners to act quickly, "
    "adding that every delay costs lives and money.",
    "{person} visited {place} on {day} to discuss {topic} with regional leaders. The talks "
    "lasted {n} hours; both sides described them as constructive, although no agreement "
    "was signed and a second round is planned for {month}.",
    "Analysts in {place} warn that {topic} will remain a problem through the winter. "
    "According to {group}, about {m} thousand households are affected, and {person} has "
    "promised a new package of measures by {month}.",
    "They lie to you every day. {group} does not care about ordinary people in {place}; it "
    "cares only about its own interests, and {person} is just a puppet who obeys orders. "
    "Wake up before it is too late: {topic} is only the beginning.",
    "Everyone knows the truth, but nobody dares to say it: the crisis over {topic} was "
    "planned from the start. {person} and {group} want you to pay for their mistakes, and "
    "the people of {place} are the first victims of this shameful adventure.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "March", "April", "June", "September", "October", "November"]


def long_text(size: int, seed: int = 0) -> str:
    """A news-like English text of about ``size`` characters, every paragraph different.

    A headline, then the bundled English examples' paragraphs and generated ones, shuffled;
    every 12 paragraphs a short section heading, as long reports have.
    """
    rng = random.Random(seed)
    examples = [
        para.strip()
        for path in sorted((ROOT / "examples").glob("en_*.txt"))
        for para in path.read_text(encoding="utf-8").split("\n\n")[1:]
        if para.strip()
    ]
    parts = [f"Weekly digest {seed}: what happened in {rng.choice(PLACES)} and beyond"]
    size_now = len(parts[0])
    while size_now < size:
        if rng.random() < 0.1:
            para = rng.choice(examples)
        else:
            para = rng.choice(TEMPLATES).format(
                person=rng.choice(PEOPLE),
                place=rng.choice(PLACES),
                group=rng.choice(GROUPS),
                topic=rng.choice(TOPICS),
                day=rng.choice(DAYS),
                month=rng.choice(MONTHS),
                n=rng.randint(2, 90),
                m=rng.randint(3, 900),
            )
            para = para[0].upper() + para[1:]
        if len(parts) % 12 == 0:
            parts.append(f"Part {len(parts) // 12}: {rng.choice(TOPICS).capitalize()}")
        parts.append(para)
        size_now += len(para) + 2
    return "\n\n".join(parts)


def corpus_texts(folder: Path, size: int, parts: int) -> tuple[list[str], str]:
    """``parts`` texts of about ``size`` characters cut from the articles under ``folder``
    (whole articles each), and one long text made of the same articles."""
    articles = [p.read_text(encoding="utf-8").strip() for p in sorted(folder.rglob("*.txt"))]
    short: list[str] = []
    current: list[str] = []
    for article in articles:
        current.append(article)
        if sum(len(a) + 2 for a in current) >= size:
            short.append("\n\n".join(current))
            current = []
            if len(short) == parts:
                break
    if len(short) < parts:
        raise SystemExit(f"{folder}: not enough text for {parts} x {size} characters")
    return short, "\n\n".join(short)


CHILD = """
import json, resource, sys, time
import narrascope
nlp = narrascope.load()
texts = [open(p, encoding="utf-8").read() for p in sys.argv[2:]]
profile = sys.argv[1] == "1"
if profile:
    import cProfile, pstats
    prof = cProfile.Profile(); prof.enable()
times = {}
for text in texts:
    doc = narrascope.Document(text=text, id="x")
    docs = [doc]
    for stage in nlp.stages:
        t = time.perf_counter()
        docs = stage(docs)
        times[stage.name] = times.get(stage.name, 0.0) + time.perf_counter() - t
if profile:
    prof.disable()
    pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": sum(times.values()), "stages": times, "peak_mb": peak}))
"""


def measure(paths: list[Path], profile: bool) -> dict:
    """Analyse ``paths`` in a fresh process: seconds (models already loaded), peak RSS MB."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "1" if profile else "0", *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    if profile:
        print(proc.stderr[-12000:], file=sys.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=100, help="size of one short text (KB)")
    parser.add_argument("--parts", type=int, default=10, help="short texts; long = parts x kb")
    parser.add_argument("--corpus", type=Path, help="cut the texts from the articles here")
    parser.add_argument("--profile", action="store_true", help="cProfile both sides (stderr)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.corpus is not None and not args.corpus.is_dir():
        print(f"no data: {args.corpus} is not a folder", file=sys.stderr)
        return 1
    with PrintedRun("bench_long_texts.py") as run:
        compare(args)
    if not args.no_write:
        run.write(MARK)
    return 0


def compare(args: argparse.Namespace) -> None:
    """Ten short texts against one long one, each side in its own process."""
    with tempfile.TemporaryDirectory() as tmp:
        if args.corpus:
            texts, text = corpus_texts(args.corpus, args.kb * 1000, args.parts)
        else:
            texts = [long_text(args.kb * 1000, seed=i + 1) for i in range(args.parts)]
            text = long_text(args.kb * args.parts * 1000, seed=0)
        short = []
        for i, t in enumerate(texts):
            short.append(Path(tmp) / f"short{i}.txt")
            short[-1].write_text(t, encoding="utf-8")
        long_path = Path(tmp) / "long.txt"
        long_path.write_text(text, encoding="utf-8")
        many = measure(short, args.profile)
        one = measure([long_path], args.profile)
    ratio = one["seconds"] / many["seconds"]
    print(f"{args.parts} x {args.kb} KB: {many['seconds']:.1f} s, peak {many['peak_mb']:.0f} MB")
    print(f"1 x {args.parts * args.kb} KB: {one['seconds']:.1f} s, peak {one['peak_mb']:.0f} MB")
    print(f"ratio (one long / {args.parts} short): {ratio:.2f}  (issue 23 asks <= 1.5)")
    for name in many["stages"]:
        print(f"  {name:12s} {many['stages'][name]:7.1f} s  vs  {one['stages'][name]:7.1f} s")


if __name__ == "__main__":
    raise SystemExit(main())
