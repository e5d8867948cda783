"""How ``narrascope train``/``eval`` and the training readers take bad data and arguments:
the loaders' own ``[E1xx] file:line`` errors (exit 2), never a traceback, and the number
of folds that really ran. Every fixture is invented text written into ``tmp_path``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from narrascope.cli import main
from narrascope.errors import NarrascopeError
from narrascope.models.encoder import SentenceEncoder
from narrascope.models.folds import group_folds
from narrascope.models.narratives import NarrativeClassifier
from narrascope.taxonomy import OTHER
from narrascope.training.corpus import (
    TechniqueArticle,
    TechniqueParagraph,
    load_entity_corpus,
    load_narrative_corpus,
    read_annotations,
    read_document_text,
)
from narrascope.training.cv import cross_validate
from narrascope.training.techniques import (
    cross_validate_techniques,
    load_technique_corpus,
    train_techniques,
)
from narrative_fixtures import DOOM, FEARS, MIGHT, PRAISE, fake_vectors, write_corpus

LOADED = "Loaded_Language"
DOUBT = "Doubt"
BOM = "\ufeff"

# an invented article: paragraphs on lines 1, 3 and 5; "traitors" is at 15..23
ARTICLE = "A title\n\nThose traitors lie.\n\nCalm words.\n"
LABELS = f"7\t1\t\n7\t3\t{LOADED}\n7\t5\t\n"
SPANS = f"7\t{LOADED}\t15\t23\n"


@pytest.fixture
def unpinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The train command pins the shared encoder's threads for the rest of the process;
    a test process runs other tests afterwards."""
    monkeypatch.setattr(SentenceEncoder, "pin_threads", lambda self: None)


def technique_release(
    root: Path,
    *,
    labels: str = LABELS,
    spans: str = SPANS,
    article: bool = True,
    encoding: str = "utf-8",
) -> Path:
    """A one-article SemEval-2023 layout (English) under ``root/data``."""
    en = root / "data" / "en"
    (en / "train-articles-subtask-3").mkdir(parents=True)
    (en / "train-labels-subtask-3-spans").mkdir()
    if article:
        (en / "train-articles-subtask-3" / "article7.txt").write_text(ARTICLE, encoding="utf-8")
    (en / "train-labels-subtask-3.txt").write_text(labels, encoding=encoding)
    (en / "train-labels-subtask-3-spans" / "article7-labels-subtask-3.txt").write_text(
        spans, encoding=encoding
    )
    return root / "data"


def entity_corpus(root: Path, lines: list[str], *, encoding: str = "utf-8") -> Path:
    """An English subtask-1 layout: two invented documents and the given annotation lines."""
    raw = root / "EN" / "raw-documents"
    raw.mkdir(parents=True)
    (raw / "EN_1.txt").write_text("Captain Rivers defended the harbour.", encoding="utf-8")
    (raw / "EN_2.txt").write_text("General Blackmoor shelled the village.", encoding="utf-8")
    (root / "EN" / "subtask-1-annotations.txt").write_text(
        "\n".join(lines) + "\n", encoding=encoding
    )
    return root


RIVERS = "EN_1.txt\tCaptain Rivers\t0\t13\tProtagonist\tGuardian"
BLACKMOOR = "EN_2.txt\tGeneral Blackmoor\t0\t16\tAntagonist\tInstigator"


# --- 1. train narratives without CV ---------------------------------------------------------


@pytest.mark.parametrize("folds", ["0", "1"])
def test_train_narratives_without_cv_says_where_the_model_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], unpinned: None, folds: str
) -> None:
    data, out = write_corpus(tmp_path / "corpus"), tmp_path / "model"
    code = main(["train", "narratives", "--data", str(data), "--folds", folds, "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "no cross-validation" in printed and f"model written to {out}" in printed
    assert json.loads((out / "meta.json").read_text())["cv"] is None


# --- 2. the folds that ran, and --folds as a usage error ------------------------------------


def test_fold_count_is_what_group_folds_makes() -> None:
    from narrascope.models.folds import fold_count

    assert fold_count(100, 7) == 7 and fold_count(5, 7) == 5 and fold_count(0, 7) == 2
    assert len(group_folds(range(7), ["en"] * 7, n_folds=100)) == fold_count(100, 7)


def test_narrative_cv_records_the_folds_that_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = load_narrative_corpus(write_corpus(tmp_path))
    result = cross_validate(
        docs,
        factory=lambda: NarrativeClassifier(seed=0),
        folds=100,
        progress=True,
        embeddings=fake_vectors([d.text for d in docs]),
    )
    assert result["folds"] == len(docs) == 22
    printed = capsys.readouterr().out
    assert "fold 22/22 done" in printed and "/100" not in printed


def _article(art_id: str, paras: list[tuple[str, list[str]]]) -> TechniqueArticle:
    text, out = "", []
    for line, (para, labels) in enumerate(paras, 1):
        start = len(text)
        text += para + "\n"
        out.append(TechniqueParagraph(line, start, start + len(para), frozenset(labels)))
    return TechniqueArticle(art_id, "en", text, tuple(out))


def test_technique_cv_records_the_folds_that_ran() -> None:
    articles = [
        _article("1", [("Can we trust the minister at all?", [DOUBT]), ("Rain today.", [])]),
        _article("2", [("Those disgusting liars!", [LOADED]), ("The shop opens at nine.", [])]),
        _article("3", [("Who checked these figures?", [DOUBT]), ("Shameless crooks!", [LOADED])]),
        _article("4", [("Monstrous thugs, all of them!", [LOADED]), ("Is it honest?", [DOUBT])]),
    ]
    texts = [a.text[p.start : p.end] for a in articles for p in a.paragraphs]
    result = cross_validate_techniques(articles, folds=50, embeddings=fake_vectors(texts))
    assert result["folds"] == 4 and len(result["thresholds"]) == 4


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "narratives", "--folds", "0"],
        ["eval", "narratives", "--folds", "1"],
        ["eval", "entities", "--folds", "-3"],
        ["train", "narratives", "--folds", "-1"],
        ["train", "narratives", "--folds", "two"],
    ],
    ids=["eval-0", "eval-1", "eval-negative", "train-negative", "train-word"],
)
def test_bad_folds_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--data", str(tmp_path)])
    assert exit_.value.code == 2
    assert "argument --folds" in capsys.readouterr().err


def test_eval_notes_clamped_folds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import narrascope.training

    def evaluate(data: Path, *, folds: int, seed: int) -> dict[str, Any]:
        return {"table": {}, "folds": 3, "seed": seed}

    monkeypatch.setattr(narrascope.training, "evaluate_narratives", evaluate)
    assert main(["eval", "narratives", "--data", str(tmp_path), "--folds", "9"]) == 0
    assert "note: --folds 9" in capsys.readouterr().err
    assert main(["eval", "narratives", "--data", str(tmp_path), "--folds", "3"]) == 0
    assert "note" not in capsys.readouterr().err


# --- 3. bad data: the loaders' own errors with file and line --------------------------------


def test_unknown_fine_role_names_file_and_line(tmp_path: Path) -> None:
    root = entity_corpus(tmp_path, [RIVERS, BLACKMOOR + "\tHero"])
    with pytest.raises(NarrascopeError, match=r"\[E106\] .*subtask-1-annotations.txt:2: .*Hero"):
        load_entity_corpus(root)


@pytest.mark.parametrize(
    ("labels", "spans", "message"),
    [
        (LABELS.replace(LOADED, "Made_Up_Technique"), SPANS, r"labels-subtask-3.txt:2: unknown"),
        (LABELS.replace("7\t3", "7\tthree"), SPANS, r"labels-subtask-3.txt:2: paragraph line"),
        (LABELS, SPANS.replace("15", "x"), r"article7-labels-subtask-3.txt:1: span start"),
        (LABELS, SPANS.replace("23", "2.5"), r"article7-labels-subtask-3.txt:1: span end"),
    ],
    ids=["unknown-technique", "paragraph-line", "span-start", "span-end"],
)
def test_bad_technique_labels_name_file_and_line(
    tmp_path: Path, labels: str, spans: str, message: str
) -> None:
    data = technique_release(tmp_path, labels=labels, spans=spans)
    with pytest.raises(NarrascopeError, match=r"\[E106\] .*" + message):
        load_technique_corpus(data)


def test_missing_technique_article_is_not_found(tmp_path: Path) -> None:
    data = technique_release(tmp_path, article=False)
    with pytest.raises(NarrascopeError, match=r"\[E101\] .*article 7: .*article7.txt not found"):
        load_technique_corpus(data)


def test_train_techniques_with_one_fold_is_refused_before_loading(tmp_path: Path) -> None:
    with pytest.raises(NarrascopeError, match="folds >= 2"):  # the data is not even read
        train_techniques(tmp_path / "missing", tmp_path / "out", folds=1)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("task", ["techniques", "encoder", "technique-student"])
@pytest.mark.parametrize("folds", ["0", "1"])
def test_train_that_reads_cv_folds_refuses_fewer_than_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], unpinned: None, task: str, folds: str
) -> None:
    argv = ["train", task, "--data", str(tmp_path), "--folds", folds]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert f"train {task} needs --folds 2 or more" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_one_document_corpus_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(NarrascopeError, match="at least two documents"):
        group_folds(["a", "a"], ["en", "en"])
    raw = tmp_path / "EN" / "raw-documents"
    raw.mkdir(parents=True)
    (raw / "EN_1.txt").write_text("The army parade showed new tanks.", encoding="utf-8")
    (tmp_path / "EN" / "subtask-2-annotations.txt").write_text(f"EN_1.txt\t{PRAISE}\t{MIGHT}\n")
    assert main(["eval", "narratives", "--data", str(tmp_path), "--folds", "2"]) == 2
    assert "at least two documents" in capsys.readouterr().err


# --- 4. a repeated document id in subtask 2 -------------------------------------------------


def test_repeated_subtask2_id_merges_its_labels(tmp_path: Path) -> None:
    path = tmp_path / "subtask-2-annotations.txt"
    path.write_text(
        f"EN_1.txt\t{PRAISE}\t{MIGHT}\n"
        f"EN_2.txt\tOther\tOther\n"
        f"EN_1.txt\t{FEARS}\t{DOOM}\n"
        f"EN_2.txt\t{FEARS}\t{DOOM}\n"
        f"EN_3.txt\tOther\tOther\n"
        f"EN_3.txt\t\t\n",
        encoding="utf-8",
    )
    got = read_annotations(path)
    assert got["EN_1.txt"] == ({PRAISE, FEARS}, {MIGHT, DOOM})
    assert got["EN_2.txt"] == ({FEARS}, {DOOM})  # Other yields to a real label
    assert got["EN_3.txt"] == ({OTHER}, {OTHER})


# --- 5. label files saved with a UTF-8 BOM --------------------------------------------------


def test_bom_annotation_files_load(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "narratives")
    ann = root / "EN" / "subtask-2-annotations.txt"
    ann.write_bytes(b"\xef\xbb\xbf" + ann.read_bytes().replace(b"\n", b"\r\n"))
    docs = load_narrative_corpus(root)
    assert len(docs) == 22 and not any(d.id.startswith(BOM) for d in docs)
    entities = load_entity_corpus(
        entity_corpus(tmp_path / "entities", [RIVERS, BLACKMOOR], encoding="utf-8-sig")
    )
    assert [d.id for d in entities] == ["EN_1.txt", "EN_2.txt"]
    (article,) = load_technique_corpus(technique_release(tmp_path / "t", encoding="utf-8-sig"))
    assert article.id == "7" and article.spans == ((15, 23, LOADED),)


def test_raw_documents_keep_a_bom(tmp_path: Path) -> None:
    """Offsets count characters of the raw text as stored, a BOM included."""
    path = tmp_path / "d.txt"
    path.write_bytes(b"\xef\xbb\xbfWords")
    assert read_document_text(path) == BOM + "Words"
