"""The benchmark scripts still run: every one answers ``--help``, the ones that need
../shared say so in one line, the cheap ones run at their smallest size, and what they
write lands in their own block of docs/benchmarks.md (here: a file of the test's own,
through ``NARRASCOPE_BENCHMARKS_MD``, so no test writes into the repository's docs).

Why: a new stage once broke ``bench_threads.py`` unnoticed, and numbers pasted by hand
went stale. Each script runs in its own process (nothing shared, so the tests may run in
parallel); the texts are the scripts' own generated ones or a few lines written here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
DOCS = ROOT / "docs" / "benchmarks.md"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py"))
sys.path.insert(0, str(BENCHMARKS))

import bench_entities  # noqa: E402
import bench_hate  # noqa: E402
import bench_narratives  # noqa: E402
import run_all  # noqa: E402


def run_script(
    name: str, *args: str, tmp_path: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``benchmarks/NAME ARGS`` in a fresh process, writing (if at all) into a copy of
    the docs' markers under ``tmp_path``, never into docs/benchmarks.md."""
    env = {**os.environ, "NARRASCOPE_BENCHMARKS_MD": str(tmp_path / "benchmarks.md")}
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_script_answers_help_quickly(script: str, tmp_path: Path) -> None:
    started = time.perf_counter()
    done = run_script(script, "--help", tmp_path=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")
    assert time.perf_counter() - started < 60
    if script.startswith("bench_"):  # each writes its block, so each can print only
        assert "--no-write" in done.stdout or "{synthetic,semeval,store}" in done.stdout


def test_bench_campaigns_measurements_each_take_no_write(tmp_path: Path) -> None:
    for what in ("synthetic", "semeval", "store"):
        done = run_script("bench_campaigns.py", what, "--help", tmp_path=tmp_path, timeout=60)
        assert done.returncode == 0 and "--no-write" in done.stdout


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("lolo_narratives.py", ()),
        ("narratives_encoder_pilot.py", ()),
        ("lolo_techniques.py", ()),
        ("entities_end_to_end.py", ("--data",)),
        ("techniques_extra_corpora.py", ("--data",)),
    ],
)
def test_scripts_reading_shared_data_say_it_is_missing_in_one_line(
    script: str, args: tuple[str, ...], tmp_path: Path
) -> None:
    done = run_script(script, *args, str(tmp_path / "no-such-folder"), tmp_path=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no data" in lines[0] and "no-such-folder" in lines[0]


def test_bench_narratives_stops_before_timing_when_the_documents_are_not_there(
    tmp_path: Path,
) -> None:
    """A wrong --docs used to run the three start-up probes (a minute) before a traceback."""
    (tmp_path / "empty").mkdir()
    for folder, said in (("missing", "does not exist"), ("empty", "no documents")):
        started = time.perf_counter()
        done = run_script(
            "bench_narratives.py",
            "--docs",
            str(tmp_path / folder),
            "--limit",
            "5",
            "--no-write",
            tmp_path=tmp_path,
            timeout=30,
        )
        assert done.returncode == 1 and said in done.stdout
        assert "Traceback" not in done.stderr
        assert time.perf_counter() - started < 30


def test_bench_narratives_counts_documents_as_analyze_reads_them(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The council met on Tuesday.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Prices rose again in March.\n", encoding="utf-8")
    records = [{"id": f"r{i}", "text": f"Comment number {i} on the budget."} for i in range(3)]
    (corpus / "c.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    # the old count globbed *.txt: 2 where analyze reads 5
    assert len(bench_narratives.documents([corpus])) == 5
    assert len(bench_narratives.documents([corpus], limit=3)) == 3
    first = bench_narratives.input_files([corpus], 2)
    assert [Path(p).name for p in first] == ["a.txt", "b.txt"]
    label = bench_narratives.corpus_label([corpus])
    assert str(corpus) in label and "semeval" not in label
    if bench_narratives.DEFAULT_DOCS:
        assert bench_narratives.corpus_label(bench_narratives.DEFAULT_DOCS) == (
            bench_narratives.DEFAULT_LABEL
        )


def _peak_in_a_small_process(code: str) -> float:
    """Run ``code`` (which prints a peak in MB last) in a fresh, small Python process
    that can import the benchmarks: Linux starts a child's peak at its parent's size,
    and this test process may be large."""
    env = {**os.environ, "PYTHONPATH": str(BENCHMARKS)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(done.stdout.strip().splitlines()[-1])


def test_a_child_peak_is_its_own_not_the_largest_child_so_far() -> None:
    """RUSAGE_CHILDREN would report the big child's peak for the small one."""
    peak = _peak_in_a_small_process(
        """
        import subprocess, sys
        import bench_narratives
        subprocess.run([sys.executable, "-c", "block = b'x' * (400 * 2**20)"], check=True)
        wall, peak, out = bench_narratives.child("print(1)")
        assert out.strip() == "1" and wall > 0
        print(peak)
        """
    )
    assert peak < 200
    with pytest.raises(subprocess.CalledProcessError):
        bench_narratives.child("raise SystemExit(3)")


def test_a_process_started_by_a_large_one_reports_its_own_peak() -> None:
    """What the scale step of bench_discover and the one-core run of bench_ray read: their
    ru_maxrss began at the size of the process that started them (the loaded models)."""
    peak = _peak_in_a_small_process(
        """
        import subprocess, sys
        block = b"x" * (400 * 2**20)  # the large parent
        code = "import bench_narratives; print(bench_narratives.own_peak_mb())"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        print(done.stdout)
        """
    )
    assert peak < 200


def test_given_mentions_mode_takes_only_the_first_documents(tmp_path: Path) -> None:
    test = tmp_path / "test"
    for lang, names in (("EN", ["a.txt", "b.txt"]), ("RU", ["c.txt"])):
        folder = test / lang / "subtask-1-documents"
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).write_text("NATO and the West met in Brussels.", encoding="utf-8")
        listing = "".join(f"{name}\tNATO\t0\t3\n{name}\tthe West\t9\t16\n" for name in names)
        (test / lang / "subtask-1-entity-mentions.txt").write_text(listing, encoding="utf-8")
    mentions = tmp_path / "mentions.txt"
    inputs, docs, n = bench_entities.given_inputs(1, mentions, test=test)
    assert [Path(p).name for p in inputs] == ["a.txt"] and docs == 1 and n == 2
    assert {line.split("\t")[0] for line in mentions.read_text().splitlines()} == {"a.txt"}
    inputs, docs, n = bench_entities.given_inputs(100_000, mentions, test=test)
    assert [Path(p).parent.name for p in inputs] == ["EN", "RU"] and (docs, n) == (3, 6)


def test_bench_entities_reads_the_pipeline_peak_before_the_packaged_detectors_load() -> None:
    profile = bench_entities.PROFILE
    assert profile.index("pipeline_peak = ") < profile.index("MentionDetector(backends=")
    assert '"peak_mb": pipeline_peak' in profile


def test_hate_benchmark_comments_never_repeat_a_sentence() -> None:
    """``predict`` reads a repeated sentence once: twelve sentences over and over timed
    that shortcut (900 comments/s) rather than the model."""
    sentences = [s for comment in bench_hate.comment_sentences(300) for s in comment]
    assert len(sentences) == 600 and len(set(sentences)) == 600
    assert bench_hate.comments(2)[1] == " ".join(bench_hate.comment_sentences(2)[1])


def test_bench_hate_writes_its_block_as_printed(tmp_path: Path) -> None:
    target = tmp_path / "benchmarks.md"
    before = "# Benchmarks\n\nHand-written prose.\n\n"
    target.write_text(
        before + "<!-- hate-speed:start -->\nold\n<!-- hate-speed:end -->\n\nAfter.\n",
        encoding="utf-8",
    )
    done = run_script("bench_hate.py", "--comments", "6", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    text = target.read_text(encoding="utf-8")
    block = text.split("<!-- hate-speed:start -->")[1].split("<!-- hate-speed:end -->")[0]
    assert text.startswith(before) and text.endswith("\n\nAfter.\n") and "old" not in block
    assert "`python benchmarks/bench_hate.py --comments 6`" in block
    assert "load average" in block
    printed = [line for line in done.stdout.splitlines() if not line.startswith("written to")]
    assert "\n".join(printed) in block and "comments/s" in block


def test_bench_threads_runs_on_the_smallest_page(tmp_path: Path) -> None:
    """It loaded every stage of STAGES, so the custom-narrative stage (which needs a
    database) made it fail before measuring anything."""
    done = run_script(
        "bench_threads.py", "--comments", "1", "--repeat", "1", "--no-write", tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "extra cost:" in done.stdout and "peak memory" in done.stdout
    assert not (tmp_path / "benchmarks.md").exists()


def test_bench_comment_claims_runs_on_the_smallest_page(tmp_path: Path) -> None:
    """What reading every reader comment for claims and debunks costs (issue 25)."""
    done = run_script(
        "bench_comment_claims.py",
        *("--comments", "2", "--debunks", "50", "--repeat", "1", "--no-write"),
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "ms per comment" in done.stdout and "planted restatements found: 1/1" in done.stdout
    assert not (tmp_path / "benchmarks.md").exists()


def test_bench_debunks_prints_its_peak_and_measures_the_first_time_cold(
    tmp_path: Path,
) -> None:
    done = run_script(
        "bench_debunks.py",
        *("--debunks", "40", "--docs", "3", "--no-write", "--keep", str(tmp_path)),
        *("--reader-debunks", "30"),
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "peak memory (max RSS)" in done.stdout
    assert "reader vectors at import: 30 debunks" in done.stdout
    from bench_debunks import forget_e5

    from narrascope.store.debunks import DebunkStore

    db = tmp_path / "corpus-40-3.db"
    from narrascope.models.hate import e5_sentences_version

    version = e5_sentences_version()
    with DebunkStore(db) as store:
        assert len(store.without_e5(version=version)) < store.count()  # the Russian posts
    forget_e5(db)  # what the first-time rounds start from, even on a kept database
    with DebunkStore(db) as store:
        assert len(store.without_e5(version=version)) == store.count() == 40


def test_discover_cache_follows_xdg_and_the_narrative_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cached analyses were kept under ~/.cache whatever XDG_CACHE_HOME said, and
    reused after the narrative model was retrained."""
    import bench_discover

    from narrascope.models import artefact

    model = tmp_path / "narratives"
    model.mkdir()
    (model / "weights.npz").write_bytes(b"first model")
    monkeypatch.setattr(artefact, "bundled_path", lambda name: tmp_path / name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = bench_discover.cache_path("test", 2, 7)
    assert first.is_relative_to(tmp_path / "cache" / "narrascope" / "discover")
    (model / "weights.npz").write_bytes(b"retrained model")
    assert bench_discover.cache_path("test", 2, 7) != first
    assert bench_discover.cache_path("train", 2, 7) != bench_discover.cache_path("test", 2, 7)


def test_run_all_goes_on_past_a_failure_and_says_what_it_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fails = [sys.executable, "-c", "print('no artefact here'); raise SystemExit(3)"]
    works = [sys.executable, "-c", "print('second one ran')"]
    failed = run_all.run_each(
        {"bench_a": fails, "bench_b": works}, {"bench_c": "needs ../shared/x"}
    )
    out = capsys.readouterr().out
    assert failed == 1 and "second one ran" in out
    assert "FAILED bench_a: exit 3" in out and "no artefact here" in out.split("summary")[1]
    assert "skipped bench_c: needs ../shared/x" in out and "ran: bench_b" in out
    assert "../shared" in (run_all.why_not("bench_entities", shared=tmp_path) or "")
    assert run_all.why_not("bench_hate", shared=tmp_path) is None
    assert run_all.command("bench_campaigns", no_write=True)[-2:] == ["synthetic", "--no-write"]


def test_make_bench_runs_every_benchmark_through_run_all() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nbench:")[1].split("\n\n")[0]
    assert "benchmarks/run_all.py $(BENCHMARKS)" in recipe
    names = re.search(r"BENCHMARKS \?=((?:.|\\\n)*?)\n\n", makefile + "\n\n")
    assert names is not None
    listed = names.group(1).replace("\\", " ").split()
    assert {"bench_hate", "bench_threads", "bench_ingest", "bench_debunks"} <= set(listed)
    assert all((BENCHMARKS / f"{name}.py").is_file() for name in listed)


def _blocks(text: str) -> dict[str, str]:
    found = re.findall(r"<!-- ([a-z0-9-]+):start -->\n(.*?)\n<!-- \1:end -->", text, re.S)
    return dict(found)


def test_every_block_a_benchmark_writes_is_in_the_docs_once() -> None:
    source = "\n".join((BENCHMARKS / s).read_text(encoding="utf-8") for s in SCRIPTS)
    marks = set(re.findall(r'^MARK\w* = "([a-z0-9-]+)"', source, re.M))
    marks |= set(re.findall(r'mark="([a-z0-9-]+)"', source))
    assert {"hate-speed", "threads-cost", "debunks-speed", "store-writers-sqlite"} <= marks
    text = DOCS.read_text(encoding="utf-8")
    for mark in marks:
        assert text.count(f"<!-- {mark}:start -->") == 1, mark
        assert text.count(f"<!-- {mark}:end -->") == 1, mark
    assert marks <= set(_blocks(text))


def test_the_docs_speed_blocks_are_the_scripts_current_output() -> None:
    blocks = _blocks(DOCS.read_text(encoding="utf-8"))
    techniques = blocks["techniques-speed"]  # once written with labels of an older script
    assert "paragraph vectors" in techniques and "sentence vectors" not in techniques
    assert "(language, segment, narratives" in techniques
    assert "comments/s" in blocks["hate-speed"] and "bench_hate.py" in blocks["hate-speed"]


def test_bench_ingest_reads_every_format_it_times(tmp_path: Path) -> None:
    done = run_script("bench_ingest.py", "--records", "40", "--files", "20", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    for said in (
        "40 records",
        "20 markdown files with a front matter: 20 in",
        "2 Word files of 30 paragraphs: 2 in",
        "2 e-mails:",
        "a WhatsApp chat of 500 messages",
        "an RSS feed of 40 items",
    ):
        assert said in done.stdout, done.stdout
    assert ", 0 errors" in done.stdout and "errors" not in done.stdout.replace(", 0 errors", "")
    block = _blocks((tmp_path / "benchmarks.md").read_text())["ingest-speed"]
    assert "| one RSS feed of 40 items | 40 |" in block
