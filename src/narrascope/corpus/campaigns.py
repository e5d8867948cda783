"""Near-duplicate campaigns: the same text pushed by several sources, lightly edited.

Influence operations reuse text. :func:`find_campaigns` groups documents whose words
largely coincide, however they were edited, and says who posted each group, when, and
how tightly together.

Why this design:

* **Word 5-shingles over normalised text** (NFKC, case-folded, words only): a word
  substitution breaks at most five shingles, punctuation and spacing edits break none.
  Shingles stay inside a line (a paragraph), so reordering paragraphs costs nothing; a
  line shorter than five words is one shingle. (Shingles across line breaks lost 23% of
  the Jaccard similarity of a reordered five-paragraph text; text re-wrapped at another
  width is the case this choice gives up.)
* **Boilerplate goes first.** A line (its normalised words) found in many documents of
  one source (``boilerplate_min_docs`` and ``boilerplate_share`` of that source's
  documents) is that source's footer or header ("subscribe to our channel"); it is dropped
  before shingling, so two unrelated posts of a channel do not match on it. A document
  that would be left with nothing keeps its lines. Documents without a source take no
  part: they are not one source, and a paragraph copied into several of them is the
  very text to find, not a footer.
* **Stock lines go too.** A source's footer rule needs several posts of that source; a
  corpus sampled a few posts per channel shows a legal label (the foreign-agent notice
  Russian law puts on every post of many outlets), a "read more" line or an agency
  credit once per source. A line found in documents of ``stock_line_sources`` distinct
  sources (3) whose other text is unrelated (:func:`_stock_lines`: the rests of one
  document per source, compared as pairs are, fall into that many groups) is a stock
  line, dropped from every document that has a sentence of its own besides it
  (:data:`STOCK_OWN_SHINGLES`); a post that is little more than the line keeps it.
  Copies of one text that each carry a line make one group, so the paragraphs of a
  copied article are not stock however many sources carry them. What this gives up: a
  single paragraph pasted verbatim under three or more different texts of its sources'
  own reads as a stock line there (its bare copies still cluster); 0 turns the rule off.
* **Sub-quadratic candidates, exact verification.** Every document's shingle set gets a
  MinHash signature of ``num_perm`` values (:func:`signatures`, numpy, many documents
  per call); datasketch's ``MinHashLSH`` at ``lsh_threshold`` returns the documents that
  probably share most shingles (edited copies). Its in-memory index is the largest
  memory cost (0.72 GB per 100k documents at 64 permutations, 21 bands; 1.26 GB at 128:
  hence 64, the anchors below make up the recall). Truncated
  copies and copies with paragraphs deleted share few shingles *relative to the longer
  text*, so LSH misses them; a second index catches those: content-defined *anchors*
  (the shingles whose hash is 0 modulo ``anchor_every``, so every copy samples the same
  ones) map to the documents holding them, and two documents sharing ``anchor_min``
  anchors are candidates. An anchor held by more than ``anchor_cap`` documents is a
  stock phrase and is skipped. Documents with identical shingle sets are grouped before
  either index. Each candidate pair is then checked on the exact shingle sets: it is an
  edge when their Jaccard similarity is at least ``jaccard`` or the smaller set lies at
  least ``containment`` inside the larger (and holds ``min_contained`` shingles or more,
  so that a slogan does not tie two articles together). Clusters are the connected
  components (union-find); a pair already in one cluster is not checked again.
* **Coordination score** (:func:`coordination`): for each number *k* of distinct
  sources, the shortest time τ\\ :sub:`k` in which *k* sources first posted the text;
  score = max over *k* ≥ 2 of (*k* − 1) · 2^(−τ\\ :sub:`k` / ``half_life_hours``).
  Five sources within the hour score ≈ 4; five a day apart each (half-life one day)
  score max(1·2^−1, 2·2^−2, 3·2^−3, 4·2^−4) = 0.5; one source 0. Only members with a
  known source and date count (a source named "unknown" is known: a missing one is
  None, only shown as "unknown"); a date without a time is midnight UTC. A date is read
  as the corpus database reads it (:func:`narrascope.text.dates.moment`: ISO with its
  offset, "12.03.2024 14:35" day first, "March 7, 2024"..., an epoch number or its
  digits in seconds or milliseconds); one that pins no day ("2024", "March 2024") is
  undated. Members are ordered by their UTC instant; first and last seen are written in
  UTC ("2024-04-01T03:00:00Z"), a date without a time as its day.
* **Shared passage**: the longest run of the earliest text's shingles that every member
  holds (or, when truncated copies make that empty, at least half of them), mapped
  back to the original characters.

* **Cluster ids** are ``"C"`` and 16 hex digits of the BLAKE2b hash of the earliest
  member's document id (members are ordered by date, undated last, ties by document id,
  so the order the documents were read in does not matter). A rerun on the same or a
  grown corpus gives a cluster the same id as long as its earliest member stays its
  earliest: new later copies, lost copies or changed thresholds keep it; a newly found
  *earlier* copy, or two clusters merged by a new bridging text, give the id of the new
  earliest member. (16 hex digits: below one chance in 10^7 of two ids colliding among
  a million clusters.) :mod:`narrascope.store.campaigns` stores clusters under this id.

Limits: clusters are connected components, so one long text that contains two
unrelated shorter ones (a digest) joins them; the per-source boilerplate rule needs a
few documents per source to see a footer, the stock-line rule three sources. The CLI
writes JSONL, CSV, HTML or a STIX 2.1 bundle (:mod:`narrascope.export.stix`) and stores
the clusters in the corpus database (:mod:`narrascope.store.campaigns`).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from narrascope.text.dates import has_time, moment

UNKNOWN = "unknown"
_NO_LINES = np.zeros(0, dtype=np.uint64)
SHINGLE = 5
# Chosen on SemEval articles with edited copies (benchmarks/bench_campaigns.py): at
# 0.35/0.6 copies with up to 15% of their words changed were found at recall 0.67; at
# 0.3/0.5, 0.86; at 0.25/0.45 shared wire-copy paragraphs and a site's footer began to
# join distinct SemEval articles. See docs/benchmarks.md, "Campaigns".
JACCARD = 0.3
CONTAINMENT = 0.5
HALF_LIFE_HOURS = 24.0
# A stock line (see _stock_lines) is dropped from a document that has at least this many
# shingles of its own besides it (about 14 words, a sentence): a post that is little more
# than the line keeps it, so copies of a short text under a one-line header still match.
STOCK_OWN_SHINGLES = 10
STOCK_SAMPLE = 12  # sources whose documents are compared per candidate stock line

# words: letters and digits of any script (Devanagari vowel signs are marks, not \w)
_WORD = re.compile(r"[\w\u0900-\u0dff]+")
# odd 64-bit multipliers, one per shingle position: a shingle's hash is the high half
# of sum(token_hash_i * C_i) mod 2**64
_MIX = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0x94D049BB133111EB,
        0xBF58476D1CE4E5B9,
        0x85EBCA77C2B2AE63,
    ],
    dtype=np.uint64,
)


@dataclass(frozen=True)
class CampaignRecord:
    """What clustering needs of one document; ``source``/``date`` may be unknown (None)."""

    id: str
    text: str
    source: str | None = None
    date: Any = None
    narratives: tuple[str, ...] = ()
    url: str | None = None
    techniques: tuple[str, ...] = ()


@dataclass
class CampaignMember:
    """One document of a cluster, compared with the cluster's earliest text."""

    id: str
    source: str | None  # None: the document has none (shown as "unknown")
    date: str
    similarity: float  # Jaccard similarity of the shingle sets, with the earliest text
    containment: float  # share of the smaller set inside the larger one
    narratives: list[str] = field(default_factory=list)
    url: str | None = None
    techniques: list[str] = field(default_factory=list)
    sha256: str | None = None  # of the clustered text (a STIX file object's hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": UNKNOWN if self.source is None else self.source,
            "date": self.date,
            "url": self.url,
            "similarity": round(self.similarity, 4),
            "containment": round(self.containment, 4),
            "narratives": list(self.narratives),
            "techniques": list(self.techniques),
            "sha256": self.sha256,
        }


@dataclass
class Campaign:
    """A cluster of near-duplicate documents, earliest first."""

    id: str
    members: list[CampaignMember]
    first_seen: str
    last_seen: str
    time_span_hours: float | None
    sources: list[str]  # as shown: a missing source is "unknown" here
    coordination: float
    coordinated_sources: int
    coordination_window_hours: float | None
    shared_passage: str
    shared_by: int
    narratives: list[tuple[str, int]]
    techniques: list[tuple[str, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def source_count(self) -> int:
        """Distinct known sources: a source named "unknown" is one, a missing one not
        (as :func:`coordination` counts them)."""
        return len({m.source for m in self.members if m.source is not None})

    def to_dict(self) -> dict[str, Any]:
        return cluster_dict(self, size=self.size, source_count=self.source_count)


def cluster_dict(cluster: Any, *, size: int, source_count: int) -> dict[str, Any]:
    """The record of a cluster, found (:class:`Campaign`) or stored
    (``store.campaigns.StoredCampaign``): one set of keys for JSONL, the API and STIX."""
    return {
        "id": cluster.id,
        "size": size,
        "first_seen": cluster.first_seen,
        "last_seen": cluster.last_seen,
        "time_span_hours": _round(cluster.time_span_hours),
        "sources": list(cluster.sources),
        "source_count": source_count,
        "coordination": round(cluster.coordination, 4),
        "coordinated_sources": cluster.coordinated_sources,
        "coordination_window_hours": _round(cluster.coordination_window_hours),
        "shared_passage": cluster.shared_passage,
        "shared_by": cluster.shared_by,
        "narratives": [{"label": label, "count": n} for label, n in cluster.narratives],
        "techniques": [{"label": label, "count": n} for label, n in cluster.techniques],
        "members": [m.to_dict() for m in cluster.members],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# -- reading records ---------------------------------------------------------------------


def as_record(item: Any, index: int) -> CampaignRecord:
    """A :class:`CampaignRecord` from a Document, a record mapping or a CampaignRecord."""
    if isinstance(item, CampaignRecord):
        return item
    if isinstance(item, Mapping):
        meta: Mapping[str, Any] = item
        labels = narrative_labels(item.get("narratives"))
        techniques = narrative_labels(item.get("techniques"))
        text = item.get("text")
        doc_id = item.get("id")
    else:  # a Document
        meta = item.meta
        labels = [a.label for a in item.groups.get("narratives", [])]
        techniques = [t.label for t in item.techniques]
        text = item.text
        if item.article is not None:  # reader comments under a post are not its copy
            text = text[item.article[0] : item.article[1]]
        doc_id = item.id
    source = meta.get("source")
    url = meta.get("url")
    return CampaignRecord(
        id=str(doc_id) if doc_id not in (None, "") else f"#{index + 1}",
        text=text if isinstance(text, str) else "",
        source=str(source).strip() or None if source not in (None, "") else None,
        date=meta.get("date"),
        narratives=tuple(labels),
        url=url.strip() or None if isinstance(url, str) else None,
        techniques=tuple(dict.fromkeys(techniques)),
    )


def narrative_labels(value: Any) -> list[str]:
    """Labels of a record's ``narratives`` (or ``techniques``): dicts with a label (analyze
    output) or strings."""
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        label = item.get("label") if isinstance(item, Mapping) else item
        if isinstance(label, str) and label:
            out.append(label)
    return out


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch of a document's date, as the whole package reads it
    (:func:`narrascope.text.dates.moment`): its time and offset kept, a day without a
    time at midnight UTC, an epoch number or its digits in seconds or milliseconds; None
    for a date that pins no day. So campaigns and ``stats`` agree on which documents are
    dated, and on their UTC day.
    """
    found = moment(value)
    return None if found is None else found.timestamp()


def _seen_text(value: Any) -> str:
    """A dated member's date as first/last seen, one form for every cluster so that they
    read and sort alike: its moment in UTC ("2024-04-01T06:00:00+03:00" ->
    "2024-04-01T03:00:00Z", an epoch number too), a day without a time as its ISO day
    ("05.03.2024" -> "2024-03-05"); as given when UTC cannot hold it (year 10000)."""
    found = moment(value)
    if found is None:
        return _date_text(value)
    if not has_time(value):
        return found.date().isoformat()
    try:
        utc = found.astimezone(UTC)
    except OverflowError:
        return _date_text(value)
    return utc.isoformat().removesuffix("+00:00") + "Z"


def _date_text(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return UNKNOWN
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


# -- text to shingles --------------------------------------------------------------------


class _Tokens:
    """Normalised word hashes, cached per word form (a corpus repeats its vocabulary)."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def hash(self, word: str) -> int:
        value = self._cache.get(word)
        if value is None:
            norm = unicodedata.normalize("NFKC", word).casefold().encode("utf-8", "replace")
            value = zlib.crc32(norm) or 1
            self._cache[word] = value
        return value

    def units(self, text: str) -> tuple[list[np.ndarray], np.ndarray]:
        """Each non-blank line's word hashes, and each line's 64-bit hash."""
        arrays: list[np.ndarray] = []
        keys: list[int] = []
        get = self._cache.__getitem__
        for line in text.split("\n"):
            words = _WORD.findall(line)
            if not words:
                continue
            try:
                arr = np.array(list(map(get, words)), dtype=np.uint32)
            except KeyError:  # a word not seen yet
                arr = np.array([self.hash(w) for w in words], dtype=np.uint32)
            data = arr.tobytes()
            arrays.append(arr)
            keys.append(zlib.crc32(data) | (zlib.crc32(data, 0x5BD1E995) << 32))
        return arrays, np.array(keys, dtype=np.uint64)

    def offsets(self, text: str) -> Iterator[tuple[int, int, int, int]]:
        """(line number among non-blank lines, start, end, hash) of every word."""
        line_no = -1
        pos = 0
        for line in text.split("\n"):
            found = False
            for match in _WORD.finditer(line):
                if not found:
                    line_no += 1
                    found = True
                yield line_no, pos + match.start(), pos + match.end(), self.hash(match.group())
            pos += len(line) + 1


def shingles(tokens: np.ndarray, k: int = SHINGLE) -> np.ndarray:
    """The hash of every run of ``k`` words, in order (one for a text shorter than k)."""
    n = len(tokens)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    k = min(k, n)
    t = tokens.astype(np.uint64)
    acc = np.zeros(n - k + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(k):
            acc += t[i : n - k + 1 + i] * _MIX[i]
    return (acc >> np.uint64(32)).astype(np.uint32)


# -- the clustering ----------------------------------------------------------------------


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class _Doc:
    record: CampaignRecord
    ts: float | None
    source_key: int | None  # None: no source, so no boilerplate rule applies
    tokens: np.ndarray | None  # every line's word hashes, concatenated
    lengths: np.ndarray  # words per line
    units: np.ndarray
    text_z: bytes


def find_campaigns(
    records: Iterable[Any],
    *,
    min_size: int = 2,
    jaccard: float = JACCARD,
    containment: float = CONTAINMENT,
    min_contained: int = 20,
    num_perm: int = 64,
    lsh_threshold: float = 0.3,
    anchor_every: int = 8,
    anchor_min: int = 2,
    anchor_cap: int = 100,
    boilerplate_min_docs: int = 5,
    boilerplate_share: float = 0.05,
    stock_line_sources: int = 3,
    half_life_hours: float = HALF_LIFE_HOURS,
    passage_chars: int = 1000,
) -> list[Campaign]:
    """Near-duplicate clusters of at least ``min_size`` documents, largest first.

    ``records`` is streamed once: Documents (``narrascope.ingest.read_inputs``, a store's
    ``iter_documents``), mappings with ``id``, ``text``, ``source``, ``date`` and
    ``narratives`` (a record of ``narrascope analyze`` output), or :class:`CampaignRecord`.
    What is kept per document is its word hashes and its compressed text (for the shared
    passage). See the module docstring for what each parameter does.
    """
    if min_size < 2:
        raise ValueError(f"min_size must be at least 2, got {min_size}")
    tokenizer = _Tokens()
    docs: list[_Doc] = []
    source_ids: dict[str | None, int] = {}
    for index, item in enumerate(records):
        record = as_record(item, index)
        arrays, units = tokenizer.units(record.text)
        docs.append(
            _Doc(
                record=replace(record, text=""),  # the text is kept compressed
                ts=timestamp(record.date),
                source_key=None
                if record.source is None
                else source_ids.setdefault(record.source, len(source_ids)),
                tokens=np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.uint32),
                lengths=np.array([len(a) for a in arrays], dtype=np.int32),
                units=units,
                text_z=zlib.compress(record.text.encode("utf-8", "surrogatepass"), 1),
            )
        )
    boiler = _boilerplate(docs, len(source_ids), boilerplate_min_docs, boilerplate_share)
    sets = [_shingle_set(doc, _kept_lines(doc, boiler, _NO_LINES)) for doc in docs]
    stock = _stock_lines(docs, sets, boiler, stock_line_sources, jaccard, containment)
    for i, doc in enumerate(docs):
        if len(stock) and np.isin(doc.units, stock).any():
            sets[i] = _shingle_set(doc, _kept_lines(doc, boiler, stock))
        doc.tokens = None  # the shingle set is all that later steps need
    forest = _UnionFind(len(docs))
    reps = _exact_groups(sets, forest)
    check = _Checker(sets, forest, jaccard, containment, min_contained)
    _lsh_candidates(sets, reps, num_perm, lsh_threshold, check)
    _anchor_candidates(sets, reps, anchor_every, anchor_min, anchor_cap, check)
    groups: dict[int, list[int]] = {}
    for i in range(len(docs)):
        if len(sets[i]):
            groups.setdefault(forest.find(i), []).append(i)
    campaigns = [
        _campaign(members, docs, sets, boiler, stock, tokenizer, half_life_hours, passage_chars)
        for members in groups.values()
        if len(members) >= min_size
    ]
    campaigns.sort(key=lambda c: (-c.size, -c.coordination, c.id))
    _unique_ids(campaigns)
    return campaigns


def _unique_ids(campaigns: list[Campaign]) -> None:
    """Two clusters whose earliest members share a document id (the same id in two input
    files) would share a cluster id: the later one gets ``-2``, ``-3``..."""
    seen: set[str] = set()
    for campaign in campaigns:
        base, n = campaign.id, 1
        while campaign.id in seen:
            n += 1
            campaign.id = f"{base}-{n}"
        seen.add(campaign.id)


def _boilerplate(docs: list[_Doc], n_sources: int, min_docs: int, share: float) -> set[int]:
    """Keys (line hash mixed with source) of lines repeated across a source's documents.

    Documents without a source are left out: pooled as one "source", a paragraph copied
    into five of them would count as its footer and be dropped before it could match.
    """
    keyed = [(d.units, d.source_key) for d in docs if d.source_key is not None]
    if not keyed:
        return set()
    per_doc = [np.unique(_source_keys(units, key)) for units, key in keyed]
    keys = np.concatenate(per_doc)
    owners = np.concatenate(
        [np.full(len(k), key, dtype=np.int64) for k, (_, key) in zip(per_doc, keyed, strict=True)]
    )
    uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
    docs_per_source = np.bincount([key for _, key in keyed], minlength=n_sources)
    need = np.maximum(min_docs, np.ceil(share * docs_per_source[owners[first]]))
    return {int(k) for k in uniq[counts >= need]}


def _source_keys(units: np.ndarray, source_key: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return units ^ (np.uint64(source_key + 1) * np.uint64(0x9E3779B97F4A7C15))


def _source_kept(doc: _Doc, boiler: set[int]) -> np.ndarray:
    """Which lines are not the boilerplate of the document's own source."""
    if not boiler or doc.source_key is None:
        return np.ones(len(doc.units), dtype=bool)
    keys = _source_keys(doc.units, doc.source_key)
    return np.array([int(k) not in boiler for k in keys], dtype=bool)


def _line_shingle_counts(lengths: np.ndarray) -> np.ndarray:
    """Shingles per line, from its word count (a line shorter than a shingle is one)."""
    return np.maximum(lengths - SHINGLE + 1, 1)


def _kept_lines(doc: _Doc, boiler: set[int], stock: np.ndarray) -> np.ndarray:
    """Which lines survive boilerplate removal: the source's own boilerplate, and stock
    lines when the document has text of its own besides them (all lines if none would
    survive)."""
    keep = _source_kept(doc, boiler)
    if len(stock):
        is_stock = keep & np.isin(doc.units, stock)
        own = _line_shingle_counts(doc.lengths)[keep & ~is_stock].sum()
        if is_stock.any() and own >= STOCK_OWN_SHINGLES:
            keep &= ~is_stock
    return keep if keep.any() else np.ones(len(doc.units), dtype=bool)


def _stock_lines(
    docs: list[_Doc],
    sets: list[np.ndarray],
    boiler: set[int],
    min_sources: int,
    jaccard: float,
    containment: float,
) -> np.ndarray:
    """Line keys (sorted) of stock lines: lines found in documents of ``min_sources``
    distinct sources whose other text is unrelated (a legal label, a "subscribe" line, an
    agency credit), where one source's boilerplate rule sees one post per source only.

    For each line carried by that many sources, one document per source that has text of
    its own besides the line (:data:`STOCK_OWN_SHINGLES`), up to :data:`STOCK_SAMPLE`
    sources, is compared with the others on the rest of its text (its other lines); they
    are grouped by the clustering's own Jaccard and containment thresholds. The line is
    stock when the rests fall into ``min_sources`` groups or more: copies of one text
    that each carry it (a paragraph of a copied article) share their rest and make one
    group. Documents without a source take no part, as in :func:`_boilerplate`.
    """
    kept: dict[int, np.ndarray] = {}  # document -> its lines not its source's boilerplate
    for i, doc in enumerate(docs):
        if doc.source_key is not None:
            kept[i] = _source_kept(doc, boiler)
    if len({docs[i].source_key for i in kept}) < min_sources or min_sources < 2:
        return np.zeros(0, dtype=np.uint64)
    by_doc = {i: np.unique(docs[i].units[keep]) for i, keep in kept.items()}
    uniq, counts = np.unique(np.concatenate(list(by_doc.values())), return_counts=True)
    frequent = set(uniq[counts >= min_sources].tolist())
    carriers: dict[int, list[int]] = {}  # line key -> the documents carrying it
    for i, lines in by_doc.items():
        for key in frequent.intersection(lines.tolist()):
            carriers.setdefault(key, []).append(i)
    stock = []
    for key, holders in carriers.items():
        if len({docs[i].source_key for i in holders}) < min_sources:
            continue
        # the line's shingles, the same in every document carrying it (a shingle it shares
        # with another line of a document leaves that document's rest too: negligible)
        first = docs[holders[0]]
        at = int(np.flatnonzero(first.units == np.uint64(key))[0])
        start = int(first.lengths[:at].sum())
        words = first.tokens[start : start + first.lengths[at]]  # type: ignore[index]
        line_set = np.unique(shingles(words))
        rests: list[np.ndarray] = []
        sampled: set[int | None] = set()
        for i in holders:
            doc = docs[i]
            if doc.source_key in sampled:
                continue
            line = doc.units == np.uint64(key)
            others = kept[i] & ~line
            if _line_shingle_counts(doc.lengths)[others].sum() < STOCK_OWN_SHINGLES:
                continue
            sampled.add(doc.source_key)
            rests.append(_without(sets[i], line_set))
            if len(rests) == STOCK_SAMPLE:
                break
        if len(rests) >= min_sources and _unrelated(rests, min_sources, jaccard, containment):
            stock.append(key)
    return np.array(sorted(stock), dtype=np.uint64)


def _unrelated(rests: list[np.ndarray], need: int, jaccard: float, containment: float) -> bool:
    """Whether ``rests`` fall into ``need`` groups or more, joined as the clustering joins
    a pair; stops once too few groups are left (copies of one text: after a few pairs)."""
    groups = _UnionFind(len(rests))
    left = len(rests)
    for a in range(len(rests)):
        for b in range(a + 1, len(rests)):
            if groups.find(a) == groups.find(b):
                continue
            jac, con = similarity(rests[a], rests[b])
            if jac >= jaccard or con >= containment:
                groups.union(a, b)
                left -= 1
                if left < need:
                    return False
    return True


def line_shingles(lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every line's shingles in order, with the index (over all lines' words) of each
    shingle's first and last word. Shingles stay inside a line: moving a paragraph costs
    nothing; a line shorter than the shingle is one shingle."""
    hashes, firsts, lasts = [], [], []
    at = 0
    for words in lines:
        h = shingles(words)
        span = min(SHINGLE, len(words))
        hashes.append(h)
        firsts.append(np.arange(at, at + len(h)))
        lasts.append(np.arange(at + span - 1, at + span - 1 + len(h)))
        at += len(words)
    if not hashes:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=np.uint32), empty, empty
    return np.concatenate(hashes), np.concatenate(firsts), np.concatenate(lasts)


def _lines(doc: _Doc) -> list[np.ndarray]:
    """Each line's word hashes (while the document still holds them)."""
    tokens = doc.tokens if doc.tokens is not None else np.zeros(0, dtype=np.uint32)
    return np.split(tokens, np.cumsum(doc.lengths)[:-1]) if len(doc.lengths) else []


def _shingle_set(doc: _Doc, keep: np.ndarray) -> np.ndarray:
    kept = [a for a, k in zip(_lines(doc), keep, strict=True) if k]
    return np.unique(line_shingles(kept)[0])


def _without(whole: np.ndarray, part: np.ndarray) -> np.ndarray:
    """A sorted unique set without the members of another (few: a line's shingles)."""
    at = np.searchsorted(whole, part)
    hit = at < len(whole)
    hit[hit] = whole[at[hit]] == part[hit]
    return np.delete(whole, at[hit])


def _exact_groups(sets: list[np.ndarray], forest: _UnionFind) -> list[int]:
    """Join documents with identical shingle sets; the first of each is its representative."""
    first: dict[bytes, int] = {}
    reps = []
    for i, s in enumerate(sets):
        if not len(s):
            continue
        key = hashlib.blake2b(s.tobytes(), digest_size=16).digest()
        j = first.setdefault(key, i)
        if j == i:
            reps.append(i)
        else:
            forest.union(j, i)
    return reps


class _Checker:
    """Verifies candidate pairs on exact shingle sets and joins the near-duplicates."""

    def __init__(
        self,
        sets: list[np.ndarray],
        forest: _UnionFind,
        jaccard: float,
        containment: float,
        min_contained: int,
    ) -> None:
        self.sets = sets
        self.forest = forest
        self.jaccard = jaccard
        self.containment = containment
        self.min_contained = min_contained
        self.checked = 0

    def __call__(self, a: int, b: int) -> None:
        forest = self.forest
        if forest.find(a) == forest.find(b):
            return
        self.checked += 1
        jac, con = similarity(self.sets[a], self.sets[b])
        small = min(len(self.sets[a]), len(self.sets[b]))
        if jac >= self.jaccard or (con >= self.containment and small >= self.min_contained):
            forest.union(a, b)


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two sorted unique sets."""
    if not len(a) or not len(b):
        return 0.0, 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))


def signatures(sets: list[np.ndarray], num_perm: int, seed: int = 1) -> np.ndarray:
    """MinHash signatures, one row per set: min over the set of ``num_perm`` hash functions.

    The functions are multiply-shift hashes ((a·x + b) mod 2**64) >> 32 with odd random
    ``a``, evaluated in numpy over many documents at once (``np.minimum.reduceat``): the
    per-document ``MinHash.update_batch`` loop was most of the running time. Values stay
    below 2**32, the range datasketch's MinHash uses. An empty set's row is all 2**32 − 1.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**62, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**62, size=num_perm, dtype=np.uint64)
    out = np.full((len(sets), num_perm), np.uint64(2**32 - 1), dtype=np.uint64)
    chunk_shingles = 40_000  # bounds the (shingles × num_perm) matrix at ~40 MB
    start = 0
    while start < len(sets):
        stop, total = start, 0
        while stop < len(sets) and (total == 0 or total + len(sets[stop]) <= chunk_shingles):
            total += len(sets[stop])
            stop += 1
        batch = [s for s in sets[start:stop] if len(s)]
        rows = [i for i in range(start, stop) if len(sets[i])]
        if batch:
            x = np.concatenate(batch).astype(np.uint64)
            with np.errstate(over="ignore"):
                # (num_perm, shingles): reduceat runs along contiguous rows
                hashed = (a[:, None] * x[None, :] + b[:, None]) >> np.uint64(32)
            offsets = np.cumsum([0] + [len(s) for s in batch[:-1]])
            out[rows] = np.minimum.reduceat(hashed, offsets, axis=1).T
        start = stop
    return out


def _lsh_candidates(
    sets: list[np.ndarray], reps: list[int], num_perm: int, threshold: float, check: _Checker
) -> None:
    """Pairs that datasketch's MinHashLSH puts in one bucket (probably similar sets)."""
    from datasketch import LeanMinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    batch = 5000
    for at in range(0, len(reps), batch):
        keys = reps[at : at + batch]
        for i, row in zip(keys, signatures([sets[i] for i in keys], num_perm), strict=True):
            m = LeanMinHash(seed=1, hashvalues=row)
            for j in lsh.query(m):
                check(j, i)
            lsh.insert(i, m, check_duplication=False)


def _anchor_candidates(
    sets: list[np.ndarray], reps: list[int], every: int, need: int, cap: int, check: _Checker
) -> None:
    """Pairs sharing ``need`` content-defined anchor shingles (truncated or cut copies)."""
    if not reps:
        return
    anchors = [sets[i][sets[i] % every == 0] for i in reps]
    hashes = np.concatenate(anchors)
    owners = np.concatenate(
        [np.full(len(a), i, dtype=np.int64) for a, i in zip(anchors, reps, strict=True)]
    )
    order = np.argsort(hashes, kind="stable")
    hashes, owners = hashes[order], owners[order]
    cuts = np.flatnonzero(np.diff(hashes)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(hashes)]])
    sizes = ends - starts
    shared: Counter[tuple[int, int]] = Counter()
    usable = (sizes >= 2) & (sizes <= cap)
    for s, e in zip(starts[usable], ends[usable], strict=True):
        holders = owners[s:e].tolist()
        for x in range(len(holders)):
            for y in range(x + 1, len(holders)):
                shared[(holders[x], holders[y])] += 1
    for (a, b), n in shared.items():
        if n >= need:
            check(a, b)


# -- describing a cluster ----------------------------------------------------------------


def _campaign(
    members: list[int],
    docs: list[_Doc],
    sets: list[np.ndarray],
    boiler: set[int],
    stock: np.ndarray,
    tokenizer: _Tokens,
    half_life_hours: float,
    passage_chars: int,
) -> Campaign:
    # by date, undated last; ties by document id, not by reading order, so that the
    # cluster id (the earliest member's) does not depend on how the corpus was read
    members = sorted(
        members, key=lambda i: (docs[i].ts is None, docs[i].ts or 0.0, docs[i].record.id, i)
    )
    first = members[0]
    out = []
    for i in members:
        jac, con = (1.0, 1.0) if i == first else similarity(sets[first], sets[i])
        rec = docs[i].record
        out.append(
            CampaignMember(
                id=rec.id,
                source=rec.source,
                date=_date_text(rec.date),
                similarity=jac,
                containment=con,
                narratives=list(rec.narratives),
                url=rec.url,
                techniques=list(rec.techniques),
                sha256=hashlib.sha256(zlib.decompress(docs[i].text_z)).hexdigest(),
            )
        )
    dated = [docs[i] for i in members if docs[i].ts is not None]
    span = (dated[-1].ts - dated[0].ts) / 3600 if len(dated) >= 2 else None  # type: ignore[operator]
    sources = list(dict.fromkeys(UNKNOWN if m.source is None else m.source for m in out))
    posts = [(docs[i].record.source, docs[i].ts) for i in members]
    score, k, window = coordination(posts, half_life_hours)
    passage, shared_by = _shared_passage(
        members, docs, sets, boiler, stock, tokenizer, passage_chars
    )
    return Campaign(
        id=cluster_id(docs[first].record.id),
        members=out,
        first_seen=_seen_text(dated[0].record.date) if dated else UNKNOWN,
        last_seen=_seen_text(dated[-1].record.date) if dated else UNKNOWN,
        time_span_hours=span,
        sources=sources,
        coordination=score,
        coordinated_sources=k,
        coordination_window_hours=window,
        shared_passage=passage,
        shared_by=shared_by,
        narratives=_count_labels(out),
        techniques=_count_labels(out, "techniques"),
    )


def cluster_id(earliest_doc_id: str) -> str:
    """The id of a cluster whose earliest member has this document id (see the module
    docstring: stable across reruns while that member stays the earliest)."""
    digest = hashlib.blake2b(earliest_doc_id.encode("utf-8", "surrogatepass"), digest_size=8)
    return "C" + digest.hexdigest()


def _count_labels(members: list[CampaignMember], kind: str = "narratives") -> list[tuple[str, int]]:
    """Each label (narrative or technique) with the number of members that carry it, most
    common first."""
    labels = Counter(label for m in members for label in dict.fromkeys(getattr(m, kind)))
    return sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))


def set_narratives(
    campaigns: list[Campaign],
    labels: Mapping[str, list[str]],
    techniques: Mapping[str, list[str]] | None = None,
) -> None:
    """Give members the narrative (and technique) labels found for their ids elsewhere (a
    second read)."""
    for campaign in campaigns:
        for member in campaign.members:
            if not member.narratives and member.id in labels:
                member.narratives = list(labels[member.id])
            if techniques and not member.techniques and member.id in techniques:
                member.techniques = list(dict.fromkeys(techniques[member.id]))
        campaign.narratives = _count_labels(campaign.members)
        campaign.techniques = _count_labels(campaign.members, "techniques")


def coordination(
    posts: Iterable[tuple[str | None, float | None]], half_life_hours: float = HALF_LIFE_HOURS
) -> tuple[float, int, float | None]:
    """(score, k, τ_k in hours) from (source, timestamp) posts; see the module docstring.

    Each source counts once, at its first post; posts with no source or date are left out.
    """
    firsts: dict[str, float] = {}
    for source, ts in posts:
        if source is None or ts is None:
            continue
        firsts[source] = min(ts, firsts.get(source, ts))
    times = np.sort(np.array(list(firsts.values()), dtype=float))
    best, best_k, best_tau = 0.0, min(len(times), 1), None
    half_life = half_life_hours * 3600
    for k in range(2, len(times) + 1):
        tau = float(np.min(times[k - 1 :] - times[: len(times) - k + 1]))
        score = (k - 1) * 2.0 ** (-tau / half_life)
        if score > best:
            best, best_k, best_tau = score, k, tau / 3600
    return best, best_k, best_tau


def _shared_passage(
    members: list[int],
    docs: list[_Doc],
    sets: list[np.ndarray],
    boiler: set[int],
    stock: np.ndarray,
    tokenizer: _Tokens,
    limit: int,
) -> tuple[str, int]:
    """The earliest text's longest run shared by all members (else by half), and by how many."""
    doc = docs[members[0]]
    text = zlib.decompress(doc.text_z).decode("utf-8", "surrogatepass")
    keep = _kept_lines(doc, boiler, stock)
    words = [(line, s, e, h) for line, s, e, h in tokenizer.offsets(text) if keep[line]]
    if not words:
        return "", 0
    lines: dict[int, list[int]] = {}
    for line, _, _, h in words:
        lines.setdefault(line, []).append(h)
    arrays = [np.array(hs, dtype=np.uint32) for hs in lines.values()]
    hashes, firsts, lasts = line_shingles(arrays)
    counts = np.zeros(len(hashes), dtype=np.int64)
    for i in members:
        counts += np.isin(hashes, sets[i], assume_unique=False)
    n = len(members)
    for need in dict.fromkeys((n, max(2, math.ceil(n / 2)))):
        start, length = _longest_run(counts >= need)
        if length:
            passage = text[words[firsts[start]][1] : words[lasts[start + length - 1]][2]]
            if len(passage) > limit:
                passage = passage[: limit - 1].rstrip() + "…"
            return passage, int(counts[start : start + length].min())
    return "", 0


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    best_start, best_len, start = 0, 0, None
    for i, flag in enumerate([*mask.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = None
    return best_start, best_len
