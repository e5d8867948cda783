"""Readers for the extra persuasion-technique corpora in ``../shared/datasets`` (issue 22, item 5).

Each reader turns one dataset into the records :mod:`narrascope.training.techniques` trains on
(:class:`TechniqueArticle` of :class:`TechniqueParagraph`), labels mapped onto the 23
SemEval-2023 techniques (:data:`narrascope.taxonomy.TECHNIQUES`) by the explicit dicts below
(``None`` = the source label has no counterpart and is dropped; a label missing from a dict is
an error, so a new label in a new release is never silently lost). Paragraphs are always the
lines of ``article.text`` as :func:`narrascope.text.segment.split_paragraphs` numbers them.

Why these shapes:

* ``checkthat2024-task3`` (CLEF-2024 CheckThat! Task 3, bg/en/pt/sl articles, ar paragraphs):
  one article per record, text as given, so the gold character spans stay valid. The source
  ``end`` is inclusive for bg/en/pt/sl and exclusive for ar; spans are returned end-exclusive
  with surrounding whitespace trimmed. There is no paragraph gold: a line gets a technique when
  a span of that technique overlaps it (how SemEval-2023 paragraph gold relates to its spans).
  The file ``test-gold-part.json`` is the part of the CheckThat test gold this project may
  train on: the held-back 2 of every 5 bg/en/pt articles are not in it (they are this
  project's evaluation data) and no reader looks for them.
* ``slavic-persuasion`` (bg, pl, ru; sentence-level labels): only ``train.csv`` and
  ``valid.csv`` are read; ``test.csv`` is held back for evaluation and skipped even if present.
  The sentences are a sample of each source document (its other sentences are in the other
  splits or not released), so the original document offsets cannot be kept; one article per
  source document, one line per sentence in source order, so sentences of a document stay in
  one CV fold and neighbouring sentences are context. No spans (the labels are per sentence).
* ``unlp2025-manipulation`` (uk/ru Telegram posts, 10 techniques, post-level labels): one
  article per post with the post as a single line (line breaks become spaces, same length, so
  offsets are kept): the labels belong to the post, not to any one of its lines. Its trigger
  spans carry no technique, so no spans. Only 7 of its techniques map; the 23 minus
  :data:`UNLP2025_COVERED` were never annotated there, so each UNLP article lists them in
  ``TechniqueArticle.unknown`` and training treats them as unknown (masked), not negative.
  Reading parquet needs ``pyarrow`` (in the ``train`` extra); :func:`unlp2025_articles`
  converts rows already read.

* ``semeval2021-task6-text`` (English text of memes, 20 techniques, the ancestor taxonomy):
  only the training split (``training_set_task1/2.txt``; dev and test are never read), one
  single-line article per meme labelled with its subtask-1 techniques, subtask-2 spans kept
  (line breaks become spaces: same length, the spans stay valid). 20 of its labels map onto
  the 23 (Smears -> Questioning_the_Reputation, Reductio ad hitlerum -> Guilt_by_Association,
  Black-and-white -> False_Dilemma-No_Choice ...); the 3 techniques new in 2023 are unknown.

:func:`load_extra_corpora` reads whichever of the four sit in one folder (what
``narrascope train/eval techniques`` add to SemEval-2023; ``training/techniques.py``).

Article ids are prefixed by corpus (``ct24:``, ``slavic:``, ``unlp:``, ``sem21:``) so a CV group
(``language:id``) never merges articles of two corpora.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from narrascope.errors import E_BAD_RECORD, E_NOT_FOUND, NarrascopeError
from narrascope.taxonomy import TECHNIQUES
from narrascope.text.segment import split_paragraphs
from narrascope.training.corpus import TechniqueArticle, TechniqueParagraph

# CheckThat! 2024 Task 3 uses the SemEval-2023 names verbatim.
CHECKTHAT2024_TO_2023: dict[str, str | None] = {t: t for t in TECHNIQUES}

# Slavic persuasion corpus: the 23 SemEval-2023 names plus two of its own.
SLAVIC_TO_2023: dict[str, str | None] = {
    **{t: t for t in TECHNIQUES},
    # Emotional appeal to sympathy; none of the 23 covers it (Appeal_to_Values is about values).
    "Appeal_to_Pity": None,
    # Treating unlike things as alike; neither Whataboutism (hypocrisy) nor Guilt_by_Association.
    "False_Equivalence": None,
}

# UNLP 2025 (techniques-en.md) -> SemEval-2023.
UNLP2025_TO_2023: dict[str, str | None] = {
    "loaded_language": "Loaded_Language",
    # Positive abstract words (freedom, justice...): the 2023 guidelines' Appeal_to_Values.
    "glittering_generalities": "Appeal_to_Values",
    "euphoria": None,  # morale-boosting good news: no counterpart
    "appeal_to_fear": "Appeal_to_Fear-Prejudice",
    # Fear, uncertainty, doubt: defined there as a subtype of appeal to fear.
    "fud": "Appeal_to_Fear-Prejudice",
    # "Others are doing it": SemEval-2023's Appeal_to_Popularity (bandwagon).
    "bandwagon": "Appeal_to_Popularity",
    # Thought-terminating cliché: SemEval-2023's Conversation_Killer (as for PTC).
    "cliche": "Conversation_Killer",
    "thought_terminating_cliche": "Conversation_Killer",
    "whataboutism": "Whataboutism",
    "cherry_picking": None,  # selective facts: no counterpart
    "straw_man": "Straw_Man",
}
# SemEval-2021 Task 6 (meme texts, techniques_list_task1-2.txt) -> SemEval-2023 (whose
# guidelines renamed or refined these: the 2023 annotation guidelines, section by section).
SEMEVAL2021_TO_2023: dict[str, str | None] = {
    "Appeal to authority": "Appeal_to_Authority",
    "Appeal to fear/prejudice": "Appeal_to_Fear-Prejudice",
    "Black-and-white Fallacy/Dictatorship": "False_Dilemma-No_Choice",
    "Causal Oversimplification": "Causal_Oversimplification",
    "Doubt": "Doubt",
    "Exaggeration/Minimisation": "Exaggeration-Minimisation",
    "Flag-waving": "Flag_Waving",
    # Positive abstract values ("freedom", "justice"): 2023's Appeal_to_Values.
    "Glittering generalities (Virtue)": "Appeal_to_Values",
    "Loaded Language": "Loaded_Language",
    "Misrepresentation of Someone's Position (Straw Man)": "Straw_Man",
    "Name calling/Labeling": "Name_Calling-Labeling",
    "Obfuscation, Intentional vagueness, Confusion": "Obfuscation-Vagueness-Confusion",
    "Presenting Irrelevant Data (Red Herring)": "Red_Herring",
    # Likening to a hated group: one case of 2023's Guilt_by_Association.
    "Reductio ad hitlerum": "Guilt_by_Association",
    "Repetition": "Repetition",
    "Slogans": "Slogans",
    # Attacking someone's character: 2023's Questioning_the_Reputation.
    "Smears": "Questioning_the_Reputation",
    "Thought-terminating cliché": "Conversation_Killer",
    "Whataboutism": "Whataboutism",
    "Bandwagon": "Appeal_to_Popularity",
}
SEMEVAL2021_COVERED = frozenset(t for t in SEMEVAL2021_TO_2023.values() if t is not None)
# Appeal_to_Time, Appeal_to_Hypocrisy and Consequential_Oversimplification are new in 2023.
SEMEVAL2021_UNKNOWN = frozenset(TECHNIQUES) - SEMEVAL2021_COVERED
SEMEVAL2021_FILES = ("training_set_task1.txt", "training_set_task2.txt")  # dev/test: not read

# The techniques UNLP annotators looked for: the other 23 - 7 are unknown there, not absent.
UNLP2025_COVERED = frozenset(t for t in UNLP2025_TO_2023.values() if t is not None)
# ... recorded on each UNLP article (TechniqueArticle.unknown) so training masks them.
UNLP2025_UNKNOWN = frozenset(TECHNIQUES) - UNLP2025_COVERED

SLAVIC_FOLDERS = {"BG": "bg", "PL": "pl", "RU": "ru"}
SLAVIC_SPLITS = ("train", "valid")  # test.csv is held back for evaluation: never read
CHECKTHAT_FILE = "test-gold-part.json"
CHECKTHAT_EXCLUSIVE_END = frozenset({"ar"})  # other languages' ``end`` is inclusive
UNLP_FILE = "train.parquet"


def _bad(where: str, why: str) -> NarrascopeError:
    return NarrascopeError(E_BAD_RECORD, f"{where}: {why}")


def _map(
    labels: Iterable[str],
    mapping: Mapping[str, str | None],
    where: str,
    dropped: Counter[str] | None,
) -> list[str]:
    out = []
    for label in labels:
        if label not in mapping:
            raise _bad(where, f"unknown technique {label!r}")
        target = mapping[label]
        if target is None:
            if dropped is not None:
                dropped[label] += 1
        else:
            out.append(target)
    return out


def _one_line(text: str) -> str:
    """Line breaks -> spaces (same length: offsets into the text stay valid)."""
    return text.replace("\r", " ").replace("\n", " ")


def _lines_article(
    art_id: str, language: str, lines: Sequence[tuple[str, frozenset[str]]]
) -> TechniqueArticle | None:
    """An article whose lines are ``lines`` (already single-line, non-blank)."""
    text = "\n".join(line for line, _ in lines)
    paragraphs = tuple(
        TechniqueParagraph(number, start, end, lines[number - 1][1])
        for number, start, end in split_paragraphs(text)
    )
    if not paragraphs:
        return None
    return TechniqueArticle(art_id, language, text, paragraphs)


# --- CheckThat! 2024 Task 3 -------------------------------------------------------------


def load_checkthat2024(
    path: str | Path,
    *,
    languages: Sequence[str] | None = None,
    dropped: Counter[str] | None = None,
) -> list[TechniqueArticle]:
    """Articles of ``checkthat2024-task3`` (folder or its ``test-gold-part.json``), sorted by
    language then id, with end-exclusive spans and span-derived line labels."""
    file = _data_file(path, CHECKTHAT_FILE, "CheckThat! 2024 Task 3 gold")
    try:
        records = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(str(file), f"not a JSON file ({exc})") from None
    if not isinstance(records, list):
        raise _bad(str(file), "expected a JSON list of articles")
    out = []
    for index, record in enumerate(records):
        art = _checkthat_article(record, f"{file}: record {index}", dropped)
        if art is not None and (languages is None or art.language in languages):
            out.append(art)
    return sorted(out, key=lambda a: (a.language, a.id))


def _checkthat_article(
    record: Any, where: str, dropped: Counter[str] | None
) -> TechniqueArticle | None:
    if not isinstance(record, dict):
        raise _bad(where, "not an object")
    try:
        art_id = str(record["article_id"])
        lang = str(record["lang"]).strip().lower()
        text = record["text"]
        annotations = record["annotations"]
    except KeyError as exc:
        raise _bad(where, f"missing field {exc.args[0]!r}") from None
    where = f"{where} (article {art_id})"
    if not isinstance(text, str) or not isinstance(annotations, list):
        raise _bad(where, "text must be a string and annotations a list")
    shift = 0 if lang in CHECKTHAT_EXCLUSIVE_END else 1
    spans = set()
    for ann in annotations:
        try:
            tag, start, end = ann["tag"], int(ann["start"]), int(ann["end"]) + shift
        except (KeyError, TypeError, ValueError):
            raise _bad(where, f"bad annotation {ann!r}") from None
        if not 0 <= start < end <= len(text):
            raise _bad(where, f"span {start}-{end} outside the text ({len(text)} chars)")
        mapped = _map([tag], CHECKTHAT2024_TO_2023, where, dropped)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if mapped and start < end:
            spans.add((start, end, mapped[0]))
    paragraphs = tuple(
        TechniqueParagraph(
            line, start, end, frozenset(t for s, e, t in spans if s < end and e > start)
        )
        for line, start, end in split_paragraphs(text)
    )
    if not paragraphs:
        return None
    return TechniqueArticle(f"ct24:{art_id}", lang, text, paragraphs, tuple(sorted(spans)))


# --- Slavic persuasion corpus -----------------------------------------------------------


def load_slavic_persuasion(
    path: str | Path,
    languages: Sequence[str] | None = None,
    *,
    dropped: Counter[str] | None = None,
) -> list[TechniqueArticle]:
    """One article per source document of ``slavic-persuasion/{BG,PL,RU}/{train,valid}.csv``
    (``languages``: ISO codes, default all), lines = its sentences in source order."""
    root = Path(path)
    if not root.is_dir():
        raise NarrascopeError(E_NOT_FOUND, f"slavic-persuasion folder not found: {root}")
    out: list[TechniqueArticle] = []
    read_any = False
    for folder, lang in sorted(SLAVIC_FOLDERS.items(), key=lambda kv: kv[1]):
        if languages is not None and lang not in languages:
            continue
        docs: dict[str, list[tuple[int, int, str, frozenset[str]]]] = {}
        for split in SLAVIC_SPLITS:
            file = root / folder / f"{split}.csv"
            if file.is_file():
                read_any = True
                for name, row in _slavic_rows(file, dropped):
                    docs.setdefault(name, []).append(row)
        for name in sorted(docs):
            rows = sorted(docs[name])
            stem = name[:-4] if name.endswith(".txt") else name
            art = _lines_article(f"slavic:{stem}", lang, [(c, labels) for _, _, c, labels in rows])
            if art is not None:
                out.append(art)
    if not read_any:
        raise NarrascopeError(
            E_NOT_FOUND,
            f"no {{train,valid}}.csv under {root}/{{BG,PL,RU}} for languages {languages or 'all'}",
        )
    return out


def _slavic_rows(
    file: Path, dropped: Counter[str] | None
) -> Iterable[tuple[str, tuple[int, int, str, frozenset[str]]]]:
    """(filename, (start, end, one-line sentence, mapped labels)) of each non-blank row."""
    with file.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        needed = {"filename", "start", "end", "content", "techniques"}
        if reader.fieldnames is None or not needed <= set(reader.fieldnames):
            raise _bad(str(file), f"expected columns {sorted(needed)}")
        for row in reader:
            where = f"{file}: row {reader.line_num}"
            try:
                name = row["filename"].strip()
                start, end = int(row["start"]), int(row["end"])
                labels = ast.literal_eval(row["techniques"].strip() or "[]")
            except (AttributeError, TypeError, ValueError, SyntaxError):
                raise _bad(where, "unparseable start/end/techniques") from None
            if not name or not isinstance(labels, list | tuple):
                raise _bad(where, "no filename or techniques is not a list")
            if not all(isinstance(label, str) for label in labels):
                raise _bad(where, "techniques must be strings")
            sentence = _one_line(row["content"] or "").strip()
            mapped = frozenset(_map(labels, SLAVIC_TO_2023, where, dropped))
            if sentence:
                yield name, (start, end, sentence, mapped)


# --- UNLP 2025 manipulation -------------------------------------------------------------


def load_unlp2025(
    path: str | Path, *, dropped: Counter[str] | None = None
) -> list[TechniqueArticle]:
    """Posts of ``unlp2025-manipulation/train.parquet`` (folder or file). Needs ``pyarrow``."""
    file = _data_file(path, UNLP_FILE, "UNLP 2025 train.parquet")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise NarrascopeError(
            E_NOT_FOUND,
            f"reading {file} needs pyarrow, which is not installed (pip install pyarrow)",
        ) from None
    try:
        rows = pq.read_table(file).to_pylist()
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise _bad(str(file), f"not a readable parquet file ({exc})") from None
    return unlp2025_articles(rows, source=str(file), dropped=dropped)


def unlp2025_articles(
    rows: Iterable[Mapping[str, Any]],
    *,
    source: str = "unlp2025",
    dropped: Counter[str] | None = None,
) -> list[TechniqueArticle]:
    """UNLP rows (``id``, ``content``, ``lang``, ``techniques``) -> one single-line article per
    post, sorted by language then id."""
    out = []
    for index, row in enumerate(rows):
        where = f"{source}: record {index}"
        try:
            post_id, content, lang = row["id"], row["content"], row["lang"]
        except (KeyError, TypeError):
            raise _bad(where, "missing id/content/lang") from None
        where = f"{where} (id {post_id})"
        labels = row.get("techniques") or []
        if not isinstance(content, str) or not isinstance(labels, list | tuple):
            raise _bad(where, "content must be a string and techniques a list")
        mapped = frozenset(_map(labels, UNLP2025_TO_2023, where, dropped))
        text = _one_line(content)
        paragraphs = tuple(
            TechniqueParagraph(line, start, end, mapped)
            for line, start, end in split_paragraphs(text)
        )
        if paragraphs:
            out.append(
                TechniqueArticle(
                    f"unlp:{post_id}",
                    str(lang).strip().lower(),
                    text,
                    paragraphs,
                    unknown=UNLP2025_UNKNOWN,
                )
            )
    return sorted(out, key=lambda a: (a.language, a.id))


# --- SemEval-2021 Task 6 (text of memes) ------------------------------------------------


def load_semeval2021(
    path: str | Path, *, dropped: Counter[str] | None = None
) -> list[TechniqueArticle]:
    """Memes of ``semeval2021-task6-text/data``: subtask-1 labels and subtask-2 spans of the
    training split (its dev and test splits are never read), one single-line article each."""
    root = Path(path)
    folder = root / "data" if (root / "data").is_dir() else root
    labelled, spanned = (
        _semeval2021_records(_data_file(folder, name, f"SemEval-2021 Task 6 {name}"))
        for name in SEMEVAL2021_FILES
    )
    out = []
    for meme_id, record in sorted(labelled.items()):
        where = f"{folder}: meme {meme_id}"
        labels = record.get("labels")
        text = record.get("text")
        if not isinstance(text, str) or not isinstance(labels, list):
            raise _bad(where, "text must be a string and labels a list")
        mapped = set(_map(labels, SEMEVAL2021_TO_2023, where, dropped))
        spans = set()
        other = spanned.get(meme_id)
        if other is not None and other.get("text") == text:
            for ann in other.get("labels") or []:
                try:
                    tag, start, end = ann["technique"], int(ann["start"]), int(ann["end"])
                except (KeyError, TypeError, ValueError):
                    raise _bad(where, f"bad span {ann!r}") from None
                if not 0 <= start < end <= len(text):
                    raise _bad(where, f"span {start}-{end} outside the text ({len(text)} chars)")
                # spans are mapped for the record; their labels are subtask 1's anyway
                target = _map([tag], SEMEVAL2021_TO_2023, where, None)
                if target:
                    spans.add((start, end, target[0]))
                    mapped.add(target[0])
        line = _one_line(text)
        paragraphs = tuple(
            TechniqueParagraph(number, start, end, frozenset(mapped))
            for number, start, end in split_paragraphs(line)
        )
        if paragraphs:
            out.append(
                TechniqueArticle(
                    f"sem21:{meme_id}",
                    "en",
                    line,
                    paragraphs,
                    tuple(sorted(spans)),
                    unknown=SEMEVAL2021_UNKNOWN,
                )
            )
    return out


def _semeval2021_records(file: Path) -> dict[str, dict[str, Any]]:
    try:
        records = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(str(file), f"not a JSON file ({exc})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _bad(str(file), "expected a JSON list of memes")
    out: dict[str, dict[str, Any]] = {}
    for index, record in enumerate(records):
        if "id" not in record:
            raise _bad(f"{file}: record {index}", "missing field 'id'")
        out[str(record["id"])] = record
    return out


def _data_file(path: str | Path, name: str, what: str) -> Path:
    """``path`` itself, or its file ``name`` when it is the dataset's folder."""
    file = Path(path)
    if file.is_dir():
        file = file / name
    if not file.is_file():
        raise NarrascopeError(E_NOT_FOUND, f"{what} not found: {file}")
    return file


# --- all of them --------------------------------------------------------------------------

# Source (the article id prefix, TechniqueArticle.source) -> the dataset's folder name.
EXTRA_CORPORA = {
    "ct24": "checkthat2024-task3",
    "slavic": "slavic-persuasion",
    "unlp": "unlp2025-manipulation",
    "sem21": "semeval2021-task6-text",
}


def find_extra_corpora(root: str | Path) -> dict[str, Path]:
    """The dataset folders of :data:`EXTRA_CORPORA` present under ``root``, by source."""
    base = Path(root)
    return {src: base / name for src, name in EXTRA_CORPORA.items() if (base / name).is_dir()}


def load_extra_corpora(
    root: str | Path,
    *,
    sources: Sequence[str] | None = None,
    skipped: dict[str, str] | None = None,
) -> dict[str, list[TechniqueArticle]]:
    """Articles of each extra corpus found under ``root`` (the folder holding the datasets,
    e.g. ``../shared/datasets``), by source; ``sources`` limits which are read. A corpus
    whose folder is absent, or UNLP when ``pyarrow`` is not installed, is left out and
    its reason recorded in ``skipped``. No corpus at all under ``root`` is an error."""
    wanted = list(EXTRA_CORPORA) if sources is None else list(sources)
    unknown = set(wanted) - set(EXTRA_CORPORA)
    if unknown:
        raise ValueError(f"unknown corpora {sorted(unknown)}; known: {sorted(EXTRA_CORPORA)}")
    found = find_extra_corpora(root)
    if not any(src in found for src in wanted):
        raise NarrascopeError(
            E_NOT_FOUND,
            f"none of {', '.join(EXTRA_CORPORA[s] for s in wanted)} under {root}",
        )
    readers = {
        "ct24": load_checkthat2024,
        "slavic": load_slavic_persuasion,
        "unlp": load_unlp2025,
        "sem21": load_semeval2021,
    }
    out: dict[str, list[TechniqueArticle]] = {}
    for src in wanted:
        if src not in found:
            reason = f"{EXTRA_CORPORA[src]} not found under {root}"
        elif src == "unlp" and importlib.util.find_spec("pyarrow") is None:
            reason = "needs pyarrow (pip install 'narrascope[train]')"
        else:
            out[src] = readers[src](found[src])
            continue
        if skipped is not None:
            skipped[src] = reason
    return out
