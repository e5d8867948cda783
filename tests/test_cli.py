"""The CLI and the Python API end to end, with the bundled model, on real text."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import narrascope
from narrascope.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

NATO_TEXT = (
    "The West Wanted This War\n\n"
    "For thirty years NATO expanded eastwards and broke its promises to Moscow. "
    "The United States sabotaged every peace deal because a long war weakens Russia. "
    "Ukraine is a puppet of the West and its government obeys orders from Washington."
)


@pytest.fixture(scope="module")
def nlp() -> narrascope.Pipeline:
    return narrascope.load()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_python_api_finds_a_urw_narrative_with_evidence(nlp: narrascope.Pipeline) -> None:
    doc = nlp(NATO_TEXT)
    assert doc.language == "en"
    labels = [n.label for n in doc.narratives]
    assert labels and all(label.startswith("URW:") for label in labels), labels
    top = max(doc.narratives, key=lambda n: n.score)
    assert 0.0 < top.score <= 1.0
    assert top.evidence, "every narrative label carries evidence"
    for span in top.evidence:
        assert NATO_TEXT[span.start : span.end] == span.text
    assert doc.explanation and len(doc.explanation.split()) <= 80
    assert all(s.parent in labels for s in doc.subnarratives)


def test_pipe_streams_batches_and_neutral_text_is_other(nlp: narrascope.Pipeline) -> None:
    neutral = (
        "The city council approved the budget for a new public library. Construction "
        "starts in spring and the reading room will open next year."
    )
    docs = list(nlp.pipe([NATO_TEXT, neutral], batch_size=1))
    assert [n.label for n in docs[1].narratives] == ["Other"]
    assert docs[1].explanation is None
    assert docs[0].narratives[0].label != "Other"


def test_analyze_examples_to_jsonl_and_semeval(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["analyze", str(EXAMPLES), "--out", str(out), "--no-progress"]) == 0
    records = {r["id"]: r for r in read_jsonl(out)}
    assert {"en_nato_provoked_the_war.txt", "comment-1", "en_neutral_city_budget.html"} <= set(
        records
    )
    assert records["ru_russian_army_unstoppable.txt"]["language"] == "ru"
    assert records["hi_nuclear_escalation.txt"]["language"] == "hi"
    nato = records["en_nato_provoked_the_war.txt"]
    assert any(n["label"].startswith("URW:") and n["evidence"] for n in nato["narratives"])

    sub = tmp_path / "sub.txt"
    assert (
        main(
            ["analyze", str(EXAMPLES), "-o", str(sub), "-f", "semeval-narratives", "--no-progress"]
        )
        == 0
    )
    lines = sub.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(records)
    for line in lines:
        doc_id, coarse, fine = line.split("\t")
        assert doc_id in records
        for label in fine.split(";"):
            assert label == "Other" or any(label.startswith(c + ": ") for c in coarse.split(";"))


def test_bad_inputs_are_reported_and_the_batch_goes_on(tmp_path: Path, capsys) -> None:
    data = tmp_path / "in"
    data.mkdir()
    (data / "good_cp1251.txt").write_bytes(
        "Западные санкции бьют по самой Европе, а Россия только крепнет.".encode("cp1251")
    )
    (data / "good_utf16.txt").write_text(NATO_TEXT, encoding="utf-16")
    (data / "empty.txt").write_bytes(b"")
    (data / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (data / "posts.jsonl").write_text(
        '{"id": "p1", "text": "Kyiv obeys Washington."}\n{not json\n'
        '{"id": "p2", "text": "Climate policies ruin farmers."}\n',
        encoding="utf-8",
    )
    (data / "rows.csv").write_text("id,text\nr1,Hello world\nr2,too,many,cells\n")
    out = tmp_path / "out.jsonl"
    assert main(["analyze", str(data), "--out", str(out), "--no-progress"]) == 1
    ids = {r["id"] for r in read_jsonl(out)}
    assert ids == {"good_cp1251.txt", "good_utf16.txt", "p1", "p2", "r1"}
    cp1251 = next(r for r in read_jsonl(out) if r["id"] == "good_cp1251.txt")
    assert cp1251["text"].startswith("Западные санкции") and cp1251["language"] == "ru"
    errors = [json.loads(x) for x in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    sources = {Path(e["source"].split(":")[0]).name for e in errors}
    assert sources == {"empty.txt", "image.png", "posts.jsonl", "rows.csv"}
    assert any(e["source"].endswith("posts.jsonl:2") for e in errors)
    assert any(e["source"].endswith("rows.csv:3") for e in errors)
    stderr = capsys.readouterr().err
    assert "empty.txt" in stderr and "image.png" in stderr


def test_resume_skips_what_is_done(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.csv"
    one = EXAMPLES / "en_nato_provoked_the_war.txt"
    assert main(["analyze", str(one), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(EXAMPLES), "--out", str(out), "--resume", "--no-progress"]) == 0
    assert "1 skipped" in capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert text.count("en_nato_provoked_the_war.txt,") >= 1
    assert "ru_russian_army_unstoppable.txt" in text


def test_stdin_and_terminal_summary(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(NATO_TEXT.encode())))
    assert main(["analyze", "-", "--no-progress"]) == 0
    shown = capsys.readouterr().out
    assert "stdin" in shown and "URW:" in shown


def test_train_then_eval_commands_on_a_small_corpus(tmp_path: Path, capsys) -> None:
    from narrative_fixtures import write_corpus

    corpus = write_corpus(tmp_path / "corpus")
    model_dir = tmp_path / "model"
    args = ["train", "narratives", "--data", str(corpus), "--out", str(model_dir), "--folds", "2"]
    assert main(args) == 0
    shown = capsys.readouterr().out
    assert "mean(lang)" in shown and str(model_dir) in shown
    assert {"config.json", "meta.json"} <= {p.name for p in model_dir.iterdir()}
    first = (model_dir / "weights.npz").read_bytes()
    assert main(args) == 0  # deterministic: the same data gives the same weights
    assert (model_dir / "weights.npz").read_bytes() == first
    capsys.readouterr()
    assert main(["eval", "narratives", "--data", str(corpus), "--folds", "2"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["language", "docs", "coarse", "F1", "fine", "F1"]
    assert {line.split()[0] for line in table.splitlines()[1:]} >= {"en", "ru", "mean(lang)"}


def test_missing_training_data_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["eval", "narratives", "--data", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_analyze_db_with_the_real_pipeline_then_stats(tmp_path: Path, capsys) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        json.dumps({"id": "en", "text": NATO_TEXT, "day": "2024-05-01", "site": "a"}) + "\n"
        "{broken\n"
        + json.dumps(
            {"id": "ru", "text": "Западные санкции бьют по самой Европе.", "day": "2024-06-02"},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    db = tmp_path / "corpus.db"
    args = ["analyze", str(posts), "--db", str(db), "--date-field", "day", "--source-field"]
    assert main([*args, "site", "--no-progress"]) == 1
    assert "posts.jsonl:2" in capsys.readouterr().err
    from narrascope.store import open_store

    with open_store(db) as store:
        doc = store.get_document("en")
        assert doc is not None and doc.text == NATO_TEXT and doc.meta["source"] == "a"
        assert any(n.label.startswith("URW:") and n.evidence for n in doc.narratives)
        assert store.get_document("ru").language == "ru"
    assert main(["stats", "--db", str(db), "--by", "month", "--json"]) == 0
    months = {r["month"] for r in json.loads(capsys.readouterr().out)}
    assert months == {"2024-05", "2024-06"}


def test_a_repeated_id_fails_into_the_errors_file_and_is_not_skipped(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narrascope.pipeline import Pipeline

    monkeypatch.setattr(narrascope, "load", lambda config=None: Pipeline([]))  # no model needed
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        "\n".join(
            json.dumps({"id": i, "text": t})
            for i, t in [("a", "First text."), ("b", "Second."), ("a", "Another text.")]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert main(["analyze", str(posts), "--out", str(out), "--no-progress"]) == 1
    assert [(r["id"], r["text"]) for r in read_jsonl(out)] == [
        ("a", "First text."),
        ("b", "Second."),
    ]
    (entry,) = read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert (entry["source"], entry["code"]) == (f"{posts}:3", "E106")
    assert entry["reason"] == f"id 'a' repeated: first seen in {posts}:1; the first is kept"
    err = capsys.readouterr().err
    assert "2 analysed, 0 skipped (already done), 1 failed" in err
    assert f"error: {posts}:3: id 'a' repeated" in err

    # --resume: "skipped" counts the documents done before; the repeat is still an error
    assert main(["analyze", str(posts), "--out", str(out), "--resume", "--no-progress"]) == 1
    assert "0 analysed, 2 skipped (already done), 1 failed" in capsys.readouterr().err
    assert [r["id"] for r in read_jsonl(out)] == ["a", "b"]


@pytest.mark.parametrize("command", ["analyze", "stats", "search", "serve"])
def test_help_names_postgresql_as_working(command: str, capsys: pytest.CaptureFixture) -> None:
    """PostgreSQL works (issue 23): no help text or README calls it "planned"."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "planned" not in text.lower() and "postgresql" in " ".join(text.lower().split())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "planned" not in readme.lower() and "postgresql://" in readme


def no_model(config=None):  # type: ignore[no-untyped-def]
    raise AssertionError("the models were loaded")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_the_run_never_reads_its_own_files_inside_an_input_folder(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    from narrascope.pipeline import Pipeline

    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    monkeypatch.setattr(narrascope, "load", lambda config=None: Pipeline([]))  # no model needed
    folder = tmp_path / "in"
    folder.mkdir()
    names = [f"doc{i}.txt" for i in range(6)]
    for i, name in enumerate(names):
        (folder / name).write_text(f"Text number {i}.", encoding="utf-8")
    out = folder / ("out.jsonl" if fmt == "jsonl" else "ds")
    args = ["analyze", str(folder), "-o", str(out), "-f", fmt, "--batch-size", "2", "--no-progress"]
    for _ in range(2):  # the second run finds the first one's output (and errors) in there
        assert main(args) == 0, capsys.readouterr().err
        assert "6 analysed, 0 skipped (already done), 0 failed" in capsys.readouterr().err
        if fmt == "jsonl":
            assert [r["id"] for r in read_jsonl(out)] == names
            (folder / "out.jsonl.errors.jsonl").write_text(
                '{"source": "x", "reason": "y"}\n', encoding="utf-8"
            )
        else:
            from narrascope.export.parquet import read_parquet_records

            assert [r["id"] for r in read_parquet_records(out)] == names


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-f", "csv", "-o", "{dir}"], "is a folder; -f csv writes a file"),
        (["-o", "{dir}", "-f", "semeval-narratives"], "-f semeval-narratives writes a file"),
        (["-f", "parquet"], "-f parquet needs --out DIR"),
        (["-f", "parquet", "--db", "{tmp}/c.db"], "-f parquet needs --out DIR"),
    ],
)
def test_an_output_the_format_cannot_write_is_a_usage_error(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, extra: list[str], message: str
) -> None:
    monkeypatch.setattr(narrascope, "load", no_model)
    src = tmp_path / "a.txt"
    src.write_text("Some text.", encoding="utf-8")
    (tmp_path / "adir").mkdir()
    given = [x.format(dir=tmp_path / "adir", tmp=tmp_path) for x in extra]
    assert main(["analyze", str(src), *given, "--no-progress"]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "adir"]
    assert list((tmp_path / "adir").iterdir()) == []


@pytest.mark.parametrize("size", ["0", "-3", "two"])
def test_a_batch_size_below_one_is_a_usage_error(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, size: str
) -> None:
    monkeypatch.setattr(narrascope, "load", no_model)
    src = tmp_path / "a.txt"
    src.write_text("Some text.", encoding="utf-8")
    out = tmp_path / "z.jsonl"
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", str(src), "-o", str(out), f"--batch-size={size}", "--no-progress"])
    assert exit_.value.code == 2
    assert f"--batch-size: a positive whole number, got '{size}'" in capsys.readouterr().err
    assert not out.exists()


def test_a_reader_that_closes_early_ends_the_command_quietly(tmp_path: Path) -> None:
    # ``narrascope stats ... | head``: no BrokenPipeError traceback, the usual exit code
    from narrascope.doc import Annotation, Document
    from narrascope.store import open_store

    db = tmp_path / "corpus.db"
    docs = []
    for i in range(30):
        doc = Document(text=f"Post {i} about the war.", id=f"p{i}", language="en")
        doc.meta = {"date": f"2024-03-{1 + i:02d}"}
        doc.groups["narratives"] = [Annotation("URW: Discrediting Ukraine", 0.8)]
        docs.append(doc)
    with open_store(db) as store:
        store.save(docs)
    command = [sys.executable, "-m", "narrascope", "stats", "--db", str(db), "--by", "day"]
    writer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.close()  # the reader leaves before the command has written a line
    errors = writer.stderr.read().decode()
    assert writer.wait(timeout=120) == 141, errors  # 128 + SIGPIPE
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
