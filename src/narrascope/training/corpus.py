"""Read the organisers' SemEval-2025 Task 10 subtask-2 layout into labelled documents.

The dataset itself is research-licensed, so nothing here copies it: it is read by path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from narrascope.errors import E_BAD_RECORD, E_DECODE, E_NOT_FOUND, NarrascopeError
from narrascope.taxonomy import FINE_ROLES, MAIN_ROLES, OTHER


@dataclass(frozen=True, slots=True)
class LabelledDocument:
    """A training document with its gold narrative (coarse) and sub-narrative (fine) sets."""

    id: str
    language: str
    text: str
    narratives: frozenset[str] = field(default_factory=frozenset)
    subnarratives: frozenset[str] = field(default_factory=frozenset)
    # organisers' subtask-3 (dominant narrative, dominant sub-narrative | 'none', explanation)
    explanations: tuple[tuple[str, str, str], ...] = ()


def read_document_text(path: str | Path) -> str:
    """Decode a document as UTF-8, keeping CR/LF exactly as stored (offsets depend on it)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def read_label_text(path: str | Path) -> str:
    """Decode an annotation or label file, dropping a UTF-8 BOM (a common Windows save),
    which would otherwise stick to the first id. Raw documents keep
    :func:`read_document_text`: their offsets count characters, a BOM included."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise NarrascopeError(E_DECODE, f"{path}: not UTF-8 text ({exc})") from exc


def _split_labels(field_text: str) -> frozenset[str]:
    """Split a ';'-joined label field; the release repeats labels, so a set is right."""
    labels = {part.strip() for part in field_text.split(";")}
    return frozenset(label for label in labels if label)


def read_annotations(path: str | Path) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Parse ``subtask-2-annotations.txt``: id → (narratives, subnarratives).

    A document id on several lines gets the union of their labels, as the subtask-1 and
    subtask-3 readers gather an id's lines: a merged or hand-edited file then loses
    nothing, and a bare ``Other`` yields to the real labels it is merged with.
    """
    out: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for lineno, line in enumerate(read_label_text(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise NarrascopeError(E_BAD_RECORD, f"{path}:{lineno}: expected 3 tab-separated fields")
        doc_id, coarse, fine = parts[0].strip(), _split_labels(parts[1]), _split_labels(parts[2])
        if doc_id in out:  # merged like subtask 1's repeated ids, never silently replaced
            coarse = _merge_labels(out[doc_id][0], coarse)
            fine = _merge_labels(out[doc_id][1], fine)
        out[doc_id] = (coarse or frozenset({OTHER}), fine)
    return out


def _merge_labels(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """The union of two lines' labels; ``Other`` only when nothing else is there."""
    union = a | b
    return union - {OTHER} if union - {OTHER} else union


def read_explanations(path: str | Path) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Parse ``subtask-3-annotations.txt``: id → ((narrative, sub-narrative, explanation), ...)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for line in read_label_text(path).splitlines():
        parts = line.split("\t")
        if len(parts) >= 4 and parts[3].strip():
            out.setdefault(parts[0].strip(), []).append(
                (parts[1].strip(), parts[2].strip(), parts[3].strip())
            )
    return {k: tuple(v) for k, v in out.items()}


def load_narrative_corpus(
    data_dir: str | Path, *, languages: tuple[str, ...] | None = None
) -> list[LabelledDocument]:
    """Load every annotated document under ``data_dir/{L}/`` (L = BG, EN, HI, PT, RU...).

    Language comes from the folder name (lower-cased ISO code). Documents are sorted by
    language then id so that anything built on top (CV folds) is deterministic.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise NarrascopeError(E_NOT_FOUND, f"corpus directory not found: {root}")
    docs: list[LabelledDocument] = []
    for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        language = lang_dir.name.lower()
        if languages is not None and language not in languages:
            continue
        ann_path = lang_dir / "subtask-2-annotations.txt"
        raw_dir = lang_dir / "raw-documents"
        if not ann_path.is_file() or not raw_dir.is_dir():
            continue
        exp_path = lang_dir / "subtask-3-annotations.txt"
        explained = read_explanations(exp_path) if exp_path.is_file() else {}
        for doc_id, (coarse, fine) in sorted(read_annotations(ann_path).items()):
            path = raw_dir / doc_id
            if not path.is_file():
                raise NarrascopeError(E_NOT_FOUND, f"{ann_path}: document {doc_id} not found")
            if not fine:
                fine = frozenset({OTHER}) if coarse == {OTHER} else frozenset()
            text = read_document_text(path)
            extra = explained.get(doc_id, ())
            docs.append(LabelledDocument(doc_id, language, text, coarse, fine, extra))
    if not docs:
        raise NarrascopeError(E_NOT_FOUND, f"no subtask-2 annotations found under {root}")
    return docs


# --- subtask 1: entity framing -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoldMention:
    """One annotated entity mention. ``end`` is exclusive (the release's inclusive end + 1)."""

    text: str
    start: int
    end: int
    main_role: str
    fine_roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EntityDocument:
    """A training document with its annotated mentions, in file order."""

    id: str
    language: str
    text: str
    mentions: tuple[GoldMention, ...]

    def aligned_mentions(self) -> tuple[GoldMention, ...]:
        """Mentions whose offsets really point at their text (a few release lines do not)."""
        return tuple(m for m in self.mentions if self.text[m.start : m.end] == m.text)


def read_entity_annotations(path: str | Path) -> dict[str, list[GoldMention]]:
    """Parse ``subtask-1-annotations.txt``: id → mentions (fine roles deduplicated, in order)."""
    out: dict[str, list[GoldMention]] = {}
    for lineno, line in enumerate(read_label_text(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 6:
            raise NarrascopeError(E_BAD_RECORD, f"{path}:{lineno}: expected 6+ fields")
        doc_id, mention, start, end, main = (p.strip() for p in parts[:5])
        fine = tuple(dict.fromkeys(p.strip() for p in parts[5:] if p.strip()))
        try:
            gold = GoldMention(parts[1], int(start), int(end) + 1, main, fine)
        except ValueError as exc:
            raise NarrascopeError(E_BAD_RECORD, f"{path}:{lineno}: bad offsets") from exc
        if not mention or main not in MAIN_ROLES:
            raise NarrascopeError(E_BAD_RECORD, f"{path}:{lineno}: bad mention or role {main!r}")
        unknown = [f for f in fine if f not in FINE_ROLES]
        if unknown:
            raise NarrascopeError(
                E_BAD_RECORD, f"{path}:{lineno}: fine role outside the taxonomy: {unknown}"
            )
        out.setdefault(doc_id, []).append(gold)
    return out


def load_entity_corpus(
    data_dir: str | Path, *, languages: tuple[str, ...] | None = None
) -> list[EntityDocument]:
    """Load every document with subtask-1 annotations under ``data_dir/{L}/``.

    Text keeps CR/LF exactly as stored, because the release's offsets count them.
    Sorted by language then id, so CV folds built on top are deterministic.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise NarrascopeError(E_NOT_FOUND, f"corpus directory not found: {root}")
    docs: list[EntityDocument] = []
    for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        language = lang_dir.name.lower()
        if languages is not None and language not in languages:
            continue
        ann_path = lang_dir / "subtask-1-annotations.txt"
        raw_dir = lang_dir / "raw-documents"
        if not ann_path.is_file() or not raw_dir.is_dir():
            continue
        for doc_id, mentions in sorted(read_entity_annotations(ann_path).items()):
            path = raw_dir / doc_id
            if not path.is_file():
                raise NarrascopeError(E_NOT_FOUND, f"{ann_path}: document {doc_id} not found")
            ordered = tuple(sorted(mentions, key=lambda m: (m.start, m.end)))
            docs.append(EntityDocument(doc_id, language, read_document_text(path), ordered))
    if not docs:
        raise NarrascopeError(E_NOT_FOUND, f"no subtask-1 annotations found under {root}")
    return docs


# --- persuasion techniques (SemEval-2023 Task 3 and the corpora mapped onto it) ----------

# The source name of SemEval-2023 Task 3 articles (TechniqueArticle.source).
SEMEVAL2023 = "semeval2023"


@dataclass(frozen=True, slots=True)
class TechniqueParagraph:
    """One gold paragraph: its official line number, offsets in the article and labels."""

    line: int
    start: int
    end: int
    labels: frozenset[str]


@dataclass(frozen=True, slots=True)
class TechniqueArticle:
    """An article with paragraph-level gold and (English only) character-span gold.

    ``unknown``: techniques its annotators never looked for (UNLP 2025 covers 7 of the 23):
    unknown, not absent, so training never counts them as negatives for this article.
    """

    id: str
    language: str
    text: str
    paragraphs: tuple[TechniqueParagraph, ...]
    spans: tuple[tuple[int, int, str], ...] = field(default_factory=tuple)
    unknown: frozenset[str] = frozenset()

    @property
    def group(self) -> str:
        """CV grouping key: an article never has paragraphs in two folds."""
        return f"{self.language}:{self.id}"

    @property
    def source(self) -> str:
        """The corpus: the id's prefix (``ct24``, ``slavic``, ``unlp``, ``sem21``:
        persuasion_corpora), else :data:`SEMEVAL2023` (SemEval-2023 and PTC ids have no prefix)."""
        prefix, sep, _ = self.id.partition(":")
        return prefix if sep else SEMEVAL2023
