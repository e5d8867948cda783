"""Readers of the extra persuasion corpora: tiny fixtures in each real format (own text), plus
checks on ../shared/datasets when it is there."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from narrascope.errors import E_BAD_RECORD, E_NOT_FOUND, NarrascopeError
from narrascope.taxonomy import TECHNIQUES
from narrascope.training.persuasion_corpora import (
    SEMEVAL2021_TO_2023,
    SEMEVAL2021_UNKNOWN,
    UNLP2025_COVERED,
    UNLP2025_TO_2023,
    load_checkthat2024,
    load_extra_corpora,
    load_semeval2021,
    load_slavic_persuasion,
    load_unlp2025,
    unlp2025_articles,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

DATASETS = SHARED / "datasets"


# --- CheckThat! 2024 -------------------------------------------------------------------

EN_TEXT = "A title here\n\nThe evil cabal lies.\nNothing to see."
AR_TEXT = "نص قصير جدا هنا"


def _checkthat(tmp_path: Path, records: object) -> Path:
    folder = tmp_path / "checkthat2024-task3"
    folder.mkdir()
    (folder / "test-gold-part.json").write_text(json.dumps(records), encoding="utf-8")
    return folder


def test_checkthat_spans_inclusive_and_exclusive_ends(tmp_path: Path) -> None:
    cabal = EN_TEXT.index("evil cabal")
    records = [
        {
            "article_id": "7",
            "lang": "en",
            "text": EN_TEXT,
            # inclusive end; the second span carries a trailing space that is trimmed
            "annotations": [
                {"tag": "Name_Calling-Labeling", "start": cabal, "end": cabal + 9},
                {"tag": "Loaded_Language", "start": cabal, "end": cabal + 4},
            ],
        },
        {
            "article_id": "52",
            "lang": "ar",
            "text": AR_TEXT,
            "annotations": [{"tag": "Doubt", "start": 0, "end": 2}],  # exclusive end
        },
    ]
    arts = load_checkthat2024(_checkthat(tmp_path, records))
    assert [(a.language, a.id) for a in arts] == [("ar", "ct24:52"), ("en", "ct24:7")]
    ar, en = arts
    assert [(ar.text[s:e], t) for s, e, t in ar.spans] == [("نص", "Doubt")]
    assert sorted((en.text[s:e], t) for s, e, t in en.spans) == [
        ("evil", "Loaded_Language"),
        ("evil cabal", "Name_Calling-Labeling"),
    ]
    # lines numbered like split_paragraphs (line 2 is blank); labels from overlapping spans
    assert [(p.line, en.text[p.start : p.end], sorted(p.labels)) for p in en.paragraphs] == [
        (1, "A title here", []),
        (3, "The evil cabal lies.", ["Loaded_Language", "Name_Calling-Labeling"]),
        (4, "Nothing to see.", []),
    ]
    assert len(ar.paragraphs) == 1 and ar.paragraphs[0].labels == {"Doubt"}
    only_ar = load_checkthat2024(tmp_path / "checkthat2024-task3", languages=["ar"])
    assert [a.id for a in only_ar] == ["ct24:52"]


def test_checkthat_errors(tmp_path: Path) -> None:
    with pytest.raises(NarrascopeError) as err:
        load_checkthat2024(tmp_path / "absent")
    assert err.value.code == E_NOT_FOUND
    bad_tag = [{"article_id": "1", "lang": "en", "text": "x y", "annotations": [
        {"tag": "Made_Up", "start": 0, "end": 0}]}]  # fmt: skip
    with pytest.raises(NarrascopeError) as err:
        load_checkthat2024(_checkthat(tmp_path, bad_tag))
    assert err.value.code == E_BAD_RECORD and "record 0" in str(err.value)
    assert "test-gold-part.json" in str(err.value) and "Made_Up" in str(err.value)
    outside = [{"article_id": "1", "lang": "en", "text": "x", "annotations": [
        {"tag": "Doubt", "start": 0, "end": 5}]}]  # fmt: skip
    (tmp_path / "o").mkdir()
    with pytest.raises(NarrascopeError) as err:
        load_checkthat2024(_checkthat(tmp_path / "o", outside))
    assert err.value.code == E_BAD_RECORD
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(NarrascopeError) as err:
        load_checkthat2024(broken)
    assert err.value.code == E_BAD_RECORD and "broken.json" in str(err.value)


# --- Slavic persuasion -----------------------------------------------------------------

HEADER = ["filename", "start", "end", "content", "techniques", "persuasion_strategies"]


def _slavic_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def test_slavic_documents_from_sentences(tmp_path: Path) -> None:
    root = tmp_path / "slavic-persuasion"
    _slavic_csv(
        root / "RU" / "train.csv",
        [
            ["doc_a.txt", "40", "60", "Second sentence, wicked.", "['Loaded_Language']", "[]"],
            ["doc_a.txt", "0", "20", "First one,\nsplit.", "['Appeal_to_Pity', 'Doubt']", "[]"],
            ["doc_b.txt", "0", "9", "Only one.", "[]", "[]"],
        ],
    )
    _slavic_csv(
        root / "RU" / "valid.csv",
        [["doc_a.txt", "25", "35", "Middle.", "['False_Equivalence']", "[]"]],
    )
    # held back for evaluation: must never be read
    _slavic_csv(root / "RU" / "test.csv", [["doc_a.txt", "70", "80", "Secret.", "[]", "[]"]])
    _slavic_csv(root / "PL" / "train.csv", [["p.txt", "0", "5", "Tak.", "['Slogans']", "[]"]])
    dropped: Counter[str] = Counter()
    arts = load_slavic_persuasion(root, languages=["ru"], dropped=dropped)
    assert [(a.language, a.id) for a in arts] == [("ru", "slavic:doc_a"), ("ru", "slavic:doc_b")]
    doc = arts[0]
    assert "Secret" not in doc.text
    assert [(p.line, doc.text[p.start : p.end], sorted(p.labels)) for p in doc.paragraphs] == [
        (1, "First one, split.", ["Doubt"]),
        (2, "Middle.", []),
        (3, "Second sentence, wicked.", ["Loaded_Language"]),
    ]
    assert doc.spans == ()
    assert dropped == Counter({"Appeal_to_Pity": 1, "False_Equivalence": 1})
    assert {a.language for a in load_slavic_persuasion(root)} == {"pl", "ru"}


def test_slavic_errors(tmp_path: Path) -> None:
    with pytest.raises(NarrascopeError) as err:
        load_slavic_persuasion(tmp_path / "absent")
    assert err.value.code == E_NOT_FOUND
    root = tmp_path / "slavic"
    _slavic_csv(root / "BG" / "train.csv", [["d.txt", "0", "x", "Text.", "[]", "[]"]])
    with pytest.raises(NarrascopeError) as err:
        load_slavic_persuasion(root, languages=["pl"])
    assert err.value.code == E_NOT_FOUND
    with pytest.raises(NarrascopeError) as err:
        load_slavic_persuasion(root)
    assert err.value.code == E_BAD_RECORD and "train.csv: row 2" in str(err.value)
    _slavic_csv(root / "BG" / "train.csv", [["d.txt", "0", "5", "Text.", "['Nope']", "[]"]])
    with pytest.raises(NarrascopeError) as err:
        load_slavic_persuasion(root)
    assert err.value.code == E_BAD_RECORD and "Nope" in str(err.value)


# --- UNLP 2025 -------------------------------------------------------------------------

UNLP_ROWS = [
    {
        "id": "b-2",
        "content": "Перший рядок.\nДругий рядок, жах!",
        "lang": "uk",
        "manipulative": True,
        "techniques": ["loaded_language", "euphoria", "fud"],
        "trigger_words": [[0, 6]],
    },
    {
        "id": "a-1",
        "content": "Просто текст",
        "lang": "ru",
        "manipulative": False,
        "techniques": None,
        "trigger_words": None,
    },
]


def test_unlp_posts_are_single_line_articles() -> None:
    dropped: Counter[str] = Counter()
    arts = unlp2025_articles(UNLP_ROWS, dropped=dropped)
    assert [(a.language, a.id) for a in arts] == [("ru", "unlp:a-1"), ("uk", "unlp:b-2")]
    post = arts[1]
    assert len(post.text) == len(UNLP_ROWS[0]["content"]) and "\n" not in post.text
    (par,) = post.paragraphs
    assert post.text[par.start : par.end] == post.text
    assert par.labels == {"Loaded_Language", "Appeal_to_Fear-Prejudice"}
    assert arts[0].paragraphs[0].labels == frozenset()
    assert dropped == Counter({"euphoria": 1})
    assert set(TECHNIQUES) >= UNLP2025_COVERED
    assert {v for v in UNLP2025_TO_2023.values() if v} == UNLP2025_COVERED


def test_unlp_errors(tmp_path: Path) -> None:
    with pytest.raises(NarrascopeError) as err:
        load_unlp2025(tmp_path)
    assert err.value.code == E_NOT_FOUND
    with pytest.raises(NarrascopeError) as err:
        unlp2025_articles([{"id": "z", "content": "t", "lang": "uk", "techniques": ["odd"]}])
    assert err.value.code == E_BAD_RECORD and "id z" in str(err.value)
    with pytest.raises(NarrascopeError) as err:
        unlp2025_articles([{"content": "t"}], source="f.parquet")
    assert err.value.code == E_BAD_RECORD and "f.parquet: record 0" in str(err.value)


def test_unlp_parquet_roundtrip(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.Table.from_pylist(UNLP_ROWS), tmp_path / "train.parquet")
    assert [a.id for a in load_unlp2025(tmp_path)] == ["unlp:a-1", "unlp:b-2"]


# --- SemEval-2021 Task 6 ---------------------------------------------------------------

MEMES = [
    {"id": "7", "labels": ["Smears", "Loaded Language"], "text": "THEY LIE\n\nTO YOU\n"},
    {"id": "3", "labels": [], "text": "Nice weather today"},
]
MEME_SPANS = [
    {
        "id": "7",
        "text": "THEY LIE\n\nTO YOU\n",
        "labels": [{"start": 5, "end": 8, "technique": "Loaded Language", "text_fragment": "LIE"}],
    },
    {"id": "3", "text": "Nice weather today", "labels": []},
]


def _semeval2021(tmp_path: Path, memes: object = MEMES, spans: object = MEME_SPANS) -> Path:
    data = tmp_path / "semeval2021-task6-text" / "data"
    data.mkdir(parents=True)
    (data / "training_set_task1.txt").write_text(json.dumps(memes), encoding="utf-8")
    (data / "training_set_task2.txt").write_text(json.dumps(spans), encoding="utf-8")
    return data.parent


def test_semeval2021_memes_are_single_line_articles(tmp_path: Path) -> None:
    arts = load_semeval2021(_semeval2021(tmp_path))
    assert [a.id for a in arts] == ["sem21:3", "sem21:7"]
    meme = arts[1]
    assert meme.language == "en" and "\n" not in meme.text and len(meme.text) == 17
    assert [p.labels for p in meme.paragraphs] == [
        {"Questioning_the_Reputation", "Loaded_Language"}
    ]
    assert meme.spans == ((5, 8, "Loaded_Language"),) and meme.text[5:8] == "LIE"
    assert (
        meme.unknown
        == SEMEVAL2021_UNKNOWN
        == {
            "Appeal_to_Time",
            "Appeal_to_Hypocrisy",
            "Consequential_Oversimplification",
        }
    )
    assert arts[0].paragraphs[0].labels == frozenset()
    assert set(SEMEVAL2021_TO_2023.values()) <= set(TECHNIQUES)
    # found next to the other corpora under one datasets folder
    assert [a.id for a in load_extra_corpora(tmp_path)["sem21"]] == ["sem21:3", "sem21:7"]


def test_semeval2021_errors(tmp_path: Path) -> None:
    with pytest.raises(NarrascopeError) as err:
        load_semeval2021(tmp_path)
    assert err.value.code == E_NOT_FOUND
    odd = [{"id": "1", "labels": ["Odd"], "text": "x"}]
    with pytest.raises(NarrascopeError, match="unknown technique 'Odd'") as err:
        load_semeval2021(_semeval2021(tmp_path, odd, []))
    assert err.value.code == E_BAD_RECORD


# --- the real datasets, when ../shared is there ------------------------------------------


def _check_real(arts: list, languages: set[str], at_least: int) -> None:
    assert {a.language for a in arts} == languages
    assert len(arts) >= at_least
    for art in arts:
        for par in art.paragraphs:
            assert par.labels <= set(TECHNIQUES)
            assert art.text[par.start : par.end].strip()
        for start, end, technique in art.spans:
            assert technique in TECHNIQUES and 0 <= start < end <= len(art.text)
    labelled = sum(bool(p.labels) for a in arts for p in a.paragraphs)
    assert labelled > 0.2 * sum(len(a.paragraphs) for a in arts)


def test_real_checkthat2024() -> None:
    folder = DATASETS / "checkthat2024-task3"
    if not (folder / "test-gold-part.json").is_file():
        pytest.skip("../shared/datasets/checkthat2024-task3 is not available")
    arts = load_checkthat2024(folder)
    _check_real(arts, {"ar", "bg", "en", "pt", "sl"}, 1500)
    assert sum(len(a.spans) for a in arts) > 5000


def test_real_slavic_persuasion() -> None:
    folder = DATASETS / "slavic-persuasion"
    if not (folder / "BG" / "train.csv").is_file():
        pytest.skip("../shared/datasets/slavic-persuasion is not available")
    dropped: Counter[str] = Counter()
    arts = load_slavic_persuasion(folder, dropped=dropped)
    _check_real(arts, {"bg", "pl", "ru"}, 150)
    assert sum(len(a.paragraphs) for a in arts) > 5000
    assert set(dropped) <= {"Appeal_to_Pity", "False_Equivalence"}


def test_real_unlp2025() -> None:
    file = DATASETS / "unlp2025-manipulation" / "train.parquet"
    if not file.is_file():
        pytest.skip("../shared/datasets/unlp2025-manipulation is not available")
    pytest.importorskip("pyarrow", reason="reading parquet needs pyarrow (not installed)")
    arts = load_unlp2025(file)
    _check_real(arts, {"uk", "ru"}, 3000)


def test_real_semeval2021() -> None:
    folder = DATASETS / "semeval2021-task6-text"
    if not (folder / "data" / "training_set_task1.txt").is_file():
        pytest.skip("../shared/datasets/semeval2021-task6-text is not available")
    dropped: Counter[str] = Counter()
    arts = load_semeval2021(folder, dropped=dropped)
    _check_real(arts, {"en"}, 600)
    assert sum(len(a.spans) for a in arts) > 1000 and not dropped
