"""Emerging narratives: clusters of the text no taxonomy label explains (issue 26).

The SemEval taxonomy is fixed; the stories a war (or a town) produces are not. :func:`discover`
takes the documents of a corpus database that the narrative model does not explain with
confidence, groups their paragraphs by meaning and names each group, so an analyst sees
what new story is spreading, how fast, where and in which languages, and can promote a
group to a custom narrative (:func:`cluster_examples` gives its texts).

Why this design:

* **What is unexplained.** A document is explained when its best narrative other than
  ``Other`` scores at least ``threshold`` (default :data:`THRESHOLD`, 0.7: the narrative
  model's scores are calibrated probabilities), when its record carries a custom
  narrative (``taxonomy add``; as a narrative or a sub-narrative), or when a custom
  narrative of the database fires on it now: each candidate is scored with the stored
  models as the analyze stage would score it, so a promoted cluster is not discovered
  again though its documents were analysed before it was promoted. A document labelled
  only ``Other``, or below the bar, or stored without narratives (``analyze`` never ran
  its narrative stage) is a candidate. Measured on 300 SemEval test articles (not seen
  in training) 127 of 300 fall under 0.7, and every one of our 36 injected texts does
  (the Russian ones draw "Discrediting Ukraine" at up to 0.63): docs/discover.md.
* **Units: paragraphs** (``unit="paragraph"``, the default) of the candidate documents,
  each a line of at least ``min_chars`` characters (bylines and share buttons are
  shorter), at most :data:`MAX_PARAGRAPHS` per document so one long text does not
  outweigh many short ones; a document with no such line is one unit. ``unit="document"``
  clusters whole documents (the mean of their paragraph vectors) instead; the benchmark
  compares the two (docs/discover.md).
* **Vectors**: the multilingual USE encoder the pipeline already loads
  (:class:`~narrascope.models.encoder.SentenceEncoder`), cached per document id and
  unit-text hash in the corpus file (:mod:`narrascope.store.discover`): a rerun encodes
  only new text.
* **Density clustering**: unit vectors are L2-normalised, reduced by PCA to ``pca_dims``
  (50) and normalised again (Euclidean distance is then a monotone function of cosine),
  and clustered by scikit-learn's HDBSCAN: it finds the number of clusters itself and
  leaves the many texts that belong to no story as noise, which is what most of a corpus
  is. Its membership probabilities give each cluster's ``confidence`` (their mean).
  When leaf selection finds no cluster, one more run may return the whole tree as one
  (:func:`_one_story`: a corpus that is mostly one story), if that cluster is cohesive.
* **Names**: class-based TF-IDF, as BERTopic does: term frequency in the cluster's text
  (normalised by the cluster's length) times ``log(1 + A / f_t)`` (``A`` the mean number
  of words per class, ``f_t`` the term's count over all classes, the noise being one more
  class), over words that are not function words of the unit's language
  (:mod:`narrascope.text.function_words`) and that occur in at least two of the cluster's
  documents. Exemplars: the three sentences nearest the cluster's centroid (distinct
  documents where possible), with document id and character offsets.
* **Stable ids**: each run's clusters are stored (centroid, member unit keys, terms). A
  new cluster takes the id of the stored one it shares most members with, when they are
  at least :data:`MATCH_OVERLAP` of the smaller of the two (the overlap coefficient: a
  cluster that grew holds all its old members however many joined; when two stories
  merge the larger keeps its id, when one splits its larger part does; Jaccard missed
  both, measured on SemEval: docs/discover.md), else of the one whose centroid is
  nearest (cosine at least :data:`MATCH_COSINE`), one to one, most shared members first;
  any other cluster gets a new id (``D1``, ``D2``... never reused).

Limits: HDBSCAN's cost grows faster than linearly (10k paragraphs: see docs/discover.md);
the clusters are as multilingual as USE is (Bulgarian, Ukrainian and Hindi are not among
its training languages, so their texts gather less well); dates are read from the
documents' ``date`` field (undated documents count as ``unknown`` in the growth).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_EMPTY, E_STORE_OPEN, NarrascopeError, StoreError
from narrascope.text.dates import exact_day

log = logging.getLogger(__name__)

THRESHOLD = 0.7  # a narrative (not "Other") scoring this much explains its document
MIN_CLUSTER_SIZE = 10  # units (paragraphs or documents)
MIN_SAMPLES = 2  # HDBSCAN's density neighbourhood
SELECTION = "leaf"  # HDBSCAN's cluster selection ("eom" made one giant cluster: docs)
MIN_DOCUMENTS = 3  # a story is told by several documents, not one long one
MIN_CHARS = 40  # shorter lines are bylines, dates, share buttons: not units
MAX_PARAGRAPHS = 60  # per document (as the narrative stage reads a document)
PCA_DIMS = 50
# when the leaf run finds no cluster, a single one (HDBSCAN's root) is kept if its
# cohesion is at least this, and this much above the candidates' own: our stork posts
# (10 or 15, beside 3 to 20 unrelated texts) made one at 0.71-0.73; 10-30 neutral news texts
# in five languages one at 0.43-0.53, no more than 0.08 above theirs (docs/discover.md)
ONE_STORY_COHESION = 0.6
ONE_STORY_MARGIN = 0.1
MATCH_OVERLAP = 0.5  # shared members / the smaller cluster's: the same cluster
MATCH_COSINE = 0.9  # ... or one whose centroid is this close
N_TERMS = 10
N_EXEMPLARS = 3
UNKNOWN = "unknown"
UNITS = ("paragraph", "document")
OTHER = "Other"
# models.custom_narratives.CUSTOM_PREFIX: a user's narrative (``taxonomy add``) is on a
# document only when it fired at its own threshold, so it explains the document
CUSTOM_PREFIX = "Custom: "
_ENCODE_CHUNK = 512
_MIN_SENTENCE = 20  # characters: an exemplar is a sentence, not a fragment
_DIGITS = re.compile(r"^[\d.,'’-]+$")
# Words of reporting and hedging that name no story, on top of the function words
# (text.function_words: its lists are for span edges and leave these in).
_EXTRA_STOP = frozenset(
    """said says say told according would could also will can may must one two new
    заявил сказал также может могут будет которые который это этого этот
    каза това може трябва тези които който която бъдат други много също
    disse diz afirmou pode podem também sobre após
    कहा नहीं करने करना करते किया कहना रहा रहे गया हुए होने अपने उन्होंने""".split()
)


@dataclass
class Exemplar:
    """A sentence that shows what a cluster is about: ``text == document.text[start:end]``."""

    doc_id: str
    start: int
    end: int
    text: str
    similarity: float  # cosine with the cluster's centroid

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "similarity": round(self.similarity, 4)}


@dataclass
class ClusterMember:
    """One unit of a cluster: a paragraph (or a whole document) of a stored document."""

    doc_id: str
    start: int
    end: int
    probability: float  # HDBSCAN's membership strength

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "probability": round(self.probability, 4)}


@dataclass
class DiscoveredCluster:
    """A group of unexplained text about one thing, named by its terms and exemplars."""

    id: str
    size: int  # units
    documents: int
    terms: list[str]
    exemplars: list[Exemplar]
    languages: dict[str, int]  # documents per language
    sources: dict[str, int]  # documents per source ("unknown" when missing)
    first_seen: str | None
    last_seen: str | None
    growth: list[dict[str, Any]]  # [{"bucket": "2025-W12", "documents": 3}, ...]
    confidence: float  # mean HDBSCAN membership probability, 0-1
    cohesion: float  # mean cosine of the members with the centroid
    status: str = "new"  # "new" this run, or "persisting" (id kept from a stored run)
    matched_by: str | None = None  # "members" or "centroid" when persisting
    narratives: list[dict[str, Any]] = field(default_factory=list)  # weak labels, counted
    doc_ids: list[str] = field(default_factory=list)
    members: list[ClusterMember] = field(default_factory=list)

    @property
    def label(self) -> str:
        """A short name: its first three terms."""
        return " · ".join(self.terms[:3]) or self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "status": self.status,
            "matched_by": self.matched_by,
            "size": self.size,
            "documents": self.documents,
            "terms": list(self.terms),
            "exemplars": [e.to_dict() for e in self.exemplars],
            "languages": dict(self.languages),
            "sources": dict(self.sources),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "growth": [dict(g) for g in self.growth],
            "confidence": round(self.confidence, 4),
            "cohesion": round(self.cohesion, 4),
            "narratives": [dict(n) for n in self.narratives],
            "doc_ids": list(self.doc_ids),
            "members": [m.to_dict() for m in self.members],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscoveredCluster:
        return cls(
            id=str(data["id"]),
            size=int(data["size"]),
            documents=int(data["documents"]),
            terms=[str(t) for t in data.get("terms", [])],
            exemplars=[Exemplar(**e) for e in data.get("exemplars", [])],
            languages={str(k): int(v) for k, v in data.get("languages", {}).items()},
            sources={str(k): int(v) for k, v in data.get("sources", {}).items()},
            first_seen=data.get("first_seen"),
            last_seen=data.get("last_seen"),
            growth=[dict(g) for g in data.get("growth", [])],
            confidence=float(data.get("confidence", 0.0)),
            cohesion=float(data.get("cohesion", 0.0)),
            status=str(data.get("status", "new")),
            matched_by=data.get("matched_by"),
            narratives=[dict(n) for n in data.get("narratives", [])],
            doc_ids=[str(d) for d in data.get("doc_ids", [])],
            members=[ClusterMember(**m) for m in data.get("members", [])],
        )


@dataclass
class DiscoverReport:
    """What one run read and found (the CLI's message when nothing is found)."""

    clusters: list[DiscoveredCluster]
    documents: int = 0  # read from the store
    candidates: int = 0  # not explained with confidence
    unlabelled: int = 0  # stored without narratives (all candidates)
    units: int = 0
    encoded: int = 0  # vectors computed this run (the rest came from the cache)
    noise: int = 0  # units in no cluster
    custom: int = 0  # left out: a stored custom narrative fires on them (not yet on record)
    run: int | None = None


@dataclass
class _Doc:
    id: str
    text: str
    language: str | None
    source: str | None
    day: date | None
    narratives: tuple[str, ...]
    article_start: int = 0  # the stages read text[article_start:] (the article alone)


@dataclass
class _Unit:
    doc: int  # index into the documents
    start: int
    end: int
    text: str
    key: tuple[str, str]  # (doc id, text hash): the vector cache's key


# -- public API ------------------------------------------------------------------------------


def discover(db: str | Path, **params: Any) -> list[DiscoveredCluster]:
    """Cluster the unexplained text of corpus ``db``; store and return the clusters.

    ``params``: see :func:`discover_run` (``since``, ``min_cluster_size``, ``threshold``,
    ``unit``...).
    """
    return discover_run(db, **params).clusters


def discover_run(
    db: str | Path,
    *,
    since: str | None = None,
    min_cluster_size: int = MIN_CLUSTER_SIZE,
    min_samples: int | None = MIN_SAMPLES,
    min_documents: int = MIN_DOCUMENTS,
    threshold: float = THRESHOLD,
    unit: str = "paragraph",
    min_chars: int = MIN_CHARS,
    pca_dims: int = PCA_DIMS,
    selection: str = SELECTION,
    growth_by: str = "auto",
    save: bool = True,
    encoder: Any = None,
) -> DiscoverReport:
    """:func:`discover` with the counts of what it read (for messages and benchmarks).

    ``since`` (an ISO day) reads only documents dated that day or later (undated ones are
    left out then). ``save=False`` matches ids against the stored runs without recording
    this one.
    """
    from narrascope.store.discover import DiscoverStore, discover_db_path

    if unit not in UNITS:
        raise ValueError(f"unit is one of {', '.join(UNITS)}, got {unit!r}")
    if min_cluster_size < 2:
        raise ValueError("min_cluster_size must be at least 2")
    path = discover_db_path(db)
    docs, all_ids, unlabelled = _read_documents(path, since, threshold)
    stored_count = len(all_ids)
    if stored_count == 0:
        where = f"dated {since} or later " if since else ""
        raise NarrascopeError(
            E_EMPTY,
            f"{path} holds no documents {where}to discover from; fill it with "
            f"`narrascope analyze INPUT --db {path}`",
        )
    report = DiscoverReport([], documents=stored_count)
    report.unlabelled = unlabelled
    narratives = _custom_narratives(path)
    with DiscoverStore(path) as dstore:
        docs, scored, report.custom, encoded = _custom_explained(dstore, docs, narratives, encoder)
        report.candidates = len(docs)
        units = _units(docs, unit, min_chars)
        report.units = len(units)
        vectors, report.encoded = _vectors(dstore, units, docs, unit, min_chars, encoder)
        report.encoded += encoded
        if since is None and save:
            _prune(dstore, docs, all_ids, min_chars, keep=scored)
        if len(units) < min_cluster_size:
            log.info("%d units: too few to cluster (min %d)", len(units), min_cluster_size)
            labels = np.full(len(units), -1)
            probs = np.zeros(len(units))
        else:
            doc_of = [u.doc for u in units]
            labels, probs = _cluster(vectors, min_cluster_size, min_samples, pca_dims, selection)
            labels = _drop_thin(labels, doc_of, min_documents)
            if not (labels >= 0).any():
                labels, probs = _one_story(
                    vectors, min_cluster_size, min_samples, pca_dims, doc_of, min_documents
                )
        report.noise = int((labels < 0).sum())
        clusters, centroids, keys = _describe(
            docs, units, vectors, labels, probs, growth_by, dstore, encoder
        )
        _assign_ids(clusters, centroids, keys, dstore)
        order = sorted(range(len(clusters)), key=lambda i: (-clusters[i].size, clusters[i].id))
        clusters = [clusters[i] for i in order]
        if save:
            params = {
                "since": since,
                "min_cluster_size": min_cluster_size,
                "min_samples": min_samples,
                "min_documents": min_documents,
                "threshold": threshold,
                "unit": unit,
                "min_chars": min_chars,
                "pca_dims": pca_dims,
                "selection": selection,
            }
            rows = [
                (c.id, centroids[i], keys[i], c.terms, c.to_dict())
                for c, i in zip(clusters, order, strict=True)
            ]
            report.run = dstore.save_run(params, len(units), rows)
    report.clusters = clusters
    return report


def load_clusters(db: str | Path) -> list[DiscoveredCluster]:
    """The clusters of the latest ``discover`` run on ``db``, largest first ([] if none)."""
    from narrascope.store.discover import DiscoverStore, has_discover_tables

    if not has_discover_tables(db):
        return []
    with DiscoverStore(db) as dstore:
        found = [DiscoveredCluster.from_dict(c.record) for c in dstore.clusters(active_only=True)]
    return sorted(found, key=lambda c: (-c.size, c.id))


def cluster_examples(db: str | Path, cluster_id: str) -> list[str]:
    """The texts of a stored cluster's members (paragraphs, or whole documents), most
    typical first: what ``taxonomy add`` needs to promote the cluster to a narrative.

    Reads the cluster's last stored record (a cluster of an older run too); a member whose
    document changed or went since is skipped. Unknown id: :class:`KeyError`.
    """
    from narrascope.store import open_store
    from narrascope.store.discover import DiscoverStore, discover_db_path, has_discover_tables

    record = None
    if has_discover_tables(db):
        with DiscoverStore(db) as dstore:
            record = next((c.record for c in dstore.clusters() if c.id == cluster_id), None)
    if record is None:
        raise KeyError(f"no discovered cluster {cluster_id!r} in {db}")
    cluster = DiscoveredCluster.from_dict(record)
    members = sorted(cluster.members, key=lambda m: -m.probability)
    texts: list[str] = []
    with open_store(discover_db_path(db)) as store:
        cache: dict[str, Any] = {}
        for m in members:
            if m.doc_id not in cache:
                cache[m.doc_id] = store.get_document(m.doc_id)
            doc = cache[m.doc_id]
            if doc is None or m.end > len(doc.text):
                continue
            text = doc.text[m.start : m.end].strip()
            if text:
                texts.append(text)
    return texts


# -- reading ---------------------------------------------------------------------------------


def explained(narratives: Sequence[Any], threshold: float) -> bool:
    """Whether a document's narratives explain it: a label other than ``Other`` at or
    above ``threshold`` (scores are the model's calibrated probabilities), or a custom
    narrative (it is on a record only when it fired; the caller passes the custom
    sub-narratives too, as a custom narrative added with a parent is one)."""
    return any(
        a.label.startswith(CUSTOM_PREFIX) or (a.label != OTHER and a.score >= threshold)
        for a in narratives
    )


def _read_documents(
    path: Path, since: str | None, threshold: float
) -> tuple[list[_Doc], set[str], int]:
    """The candidate documents, the ids of all documents read, how many had no narratives."""
    from narrascope.store import Filters, open_store

    if not path.exists():
        raise StoreError(E_STORE_OPEN, f"no database at {path}; create it with analyze --db")
    docs: list[_Doc] = []
    ids: set[str] = set()
    unlabelled = 0
    with open_store(path) as store:
        for doc in store.iter_documents(Filters(date_from=since)):
            ids.add(doc.id)
            custom = [a for a in doc.subnarratives if a.label.startswith(CUSTOM_PREFIX)]
            if "narratives" not in doc.groups:
                unlabelled += 1
            if explained([*doc.narratives, *custom], threshold):
                continue
            docs.append(
                _Doc(
                    id=doc.id,
                    text=doc.text,
                    language=doc.language,
                    source=_text_or_none(doc.meta.get("source")),
                    day=_day(doc.meta.get("date")),
                    narratives=tuple(a.label for a in doc.narratives),
                )
            )
            if doc.article is not None:  # reader comments are not the story
                docs[-1].text = doc.text[: doc.article[1]]
                docs[-1].article_start = doc.article[0]
    docs.sort(key=lambda d: d.id)  # the store reads newest first: a stable order instead
    return docs, ids, unlabelled


def _text_or_none(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _day(value: Any) -> date | None:
    """The day a document's date names, read as the database reads it (its ``day``
    column, which ``--since`` filters on), so "05.03.2024" is dated and "2024" is not."""
    day = exact_day(None if value is None else str(value))
    return None if day is None else date.fromordinal(day)


def _paragraphs(doc: _Doc, min_chars: int) -> list[tuple[int, int]]:
    from narrascope.text.segment import split_paragraphs

    spans = []
    for _line, start, end in split_paragraphs(doc.text):
        text = doc.text[start:end]
        lead = len(text) - len(text.lstrip())
        if end - start - lead >= min_chars:
            spans.append((start + lead, end))
    if not spans:  # a short post: the whole text is its one unit
        stripped = doc.text.strip()
        if stripped:
            start = doc.text.index(stripped)
            spans = [(start, start + len(stripped))]
    return spans[:MAX_PARAGRAPHS]


def _units(docs: list[_Doc], unit: str, min_chars: int) -> list[_Unit]:
    from narrascope.store.discover import unit_hash

    units = []
    for i, doc in enumerate(docs):
        spans = _paragraphs(doc, min_chars)
        if not spans:
            continue
        if unit == "document":
            start, end = spans[0][0], spans[-1][1]
            text = doc.text[start:end]
            units.append(_Unit(i, start, end, text, (doc.id, "doc:" + unit_hash(text))))
        else:
            for start, end in spans:
                text = doc.text[start:end]
                units.append(_Unit(i, start, end, text, (doc.id, unit_hash(text))))
    return units


def _prune(
    dstore: Any,
    docs: list[_Doc],
    all_ids: set[str],
    min_chars: int,
    keep: Collection[tuple[str, str]] = (),
) -> None:
    """Drop cached vectors of documents gone from the corpus, and of paragraphs gone from
    the candidates (edited text); explained documents keep theirs (a lower threshold may
    make them candidates again), exemplar sentences stay while their document does, and
    so do the ``keep`` keys (the paragraphs the custom narratives were scored on)."""
    current: dict[str, set[str]] = {}
    for u in _units(docs, "paragraph", min_chars):
        current.setdefault(u.key[0], set()).add(u.key[1])
    stale = [
        (doc_id, h)
        for doc_id, h in dstore.cached_keys()
        if doc_id not in all_ids
        or (
            doc_id in current
            and not h.startswith("s:")
            and h not in current[doc_id]
            and (doc_id, h) not in keep
        )
    ]
    dstore.delete_vectors(stale)


# -- custom narratives -----------------------------------------------------------------------


def _custom_narratives(path: Path) -> list[Any]:
    """The database's custom narratives, ready to score ([] without them)."""
    try:
        from narrascope.stages.custom_narratives import load_narratives
    except ImportError:  # a narrascope without custom narratives
        return []
    return load_narratives(path)


def _custom_explained(
    dstore: Any, docs: list[_Doc], narratives: Sequence[Any], encoder: Any
) -> tuple[list[_Doc], set[tuple[str, str]], int, int]:
    """(the candidates no custom narrative explains, the vector keys read, how many it
    explains, how many vectors were encoded).

    Why score here: a narrative added after its documents were stored (a promoted
    cluster) is on no record until they are analysed again, and ``analyze --resume``
    skips what is stored; without this the promoted cluster comes straight back. The
    test is the stage's (:func:`~narrascope.stages.custom_narratives.fired_labels`) on
    the vectors of the same paragraphs (the article's first 60 non-blank lines), read
    from or added to the vector cache, where most already are as units.
    """
    if not narratives or not docs:
        return docs, set(), 0, 0
    from narrascope.models.custom_narratives import PARAGRAPHS
    from narrascope.stages.custom_narratives import fired_labels
    from narrascope.store.discover import unit_hash
    from narrascope.text.segment import split_paragraphs

    keys: list[tuple[str, str]] = []
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    for doc in docs:
        article = doc.text[doc.article_start :]
        first = len(keys)
        for _line, start, end in split_paragraphs(article)[:PARAGRAPHS]:
            text = article[start:end].strip()
            keys.append((doc.id, unit_hash(text)))
            texts.append(text)
        spans.append((first, len(keys)))
    vectors, encoded = _encode_cached(dstore, keys, texts, encoder)
    kept = [
        doc
        for doc, (a, b) in zip(docs, spans, strict=True)
        if not fired_labels(narratives, vectors[a:b] if b > a else None)
    ]
    return kept, set(keys), len(docs) - len(kept), encoded


# -- vectors ---------------------------------------------------------------------------------


def _encode_cached(
    dstore: Any, keys: list[tuple[str, str]], texts: list[str], encoder: Any
) -> tuple[np.ndarray, int]:
    """Vectors of ``texts`` under their cache ``keys``: cached ones read, others encoded
    (and stored, a chunk at a time, so an interrupted run keeps what it paid for)."""
    from narrascope.models.encoder import WIDTH, SentenceEncoder

    out = np.zeros((len(keys), WIDTH), dtype=np.float32)
    have = dstore.vectors(keys)
    missing: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(keys):
        if key in have:
            out[i] = have[key]
        else:
            missing.setdefault(key, []).append(i)
    todo = list(missing)
    if todo:
        encoder = encoder or SentenceEncoder.shared()
        for k in range(0, len(todo), _ENCODE_CHUNK):
            chunk = todo[k : k + _ENCODE_CHUNK]
            vecs = encoder.encode([texts[missing[key][0]].strip() for key in chunk])
            dstore.put_vectors(chunk, vecs)
            for key, vec in zip(chunk, vecs, strict=True):
                # stored as float16: read back the same, so a rerun gives the same clusters
                out[missing[key]] = vec.astype(np.float16).astype(np.float32)
    return out, len(todo)


def _vectors(
    dstore: Any, units: list[_Unit], docs: list[_Doc], unit: str, min_chars: int, encoder: Any
) -> tuple[np.ndarray, int]:
    if unit == "paragraph":
        return _encode_cached(dstore, [u.key for u in units], [u.text for u in units], encoder)
    # a document's vector: the mean of its paragraphs' (cached as paragraphs)
    para = _units(docs, "paragraph", min_chars)
    by_doc: dict[int, list[int]] = {}
    for j, p in enumerate(para):
        by_doc.setdefault(p.doc, []).append(j)
    pvec, encoded = _encode_cached(dstore, [p.key for p in para], [p.text for p in para], encoder)
    out = np.zeros((len(units), pvec.shape[1]), dtype=np.float32)
    for i, u in enumerate(units):
        rows = by_doc.get(u.doc, [])
        if rows:
            out[i] = pvec[rows].mean(axis=0)
    return out, encoded


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _cluster(
    vectors: np.ndarray,
    min_cluster_size: int,
    min_samples: int | None,
    pca_dims: int,
    selection: str = "eom",
    *,
    single: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    x = _normalise(vectors)
    if pca_dims and len(x) > 2 * pca_dims:
        x = _normalise(PCA(n_components=pca_dims, random_state=0).fit_transform(x))
    model = HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        metric="euclidean",
        cluster_selection_method=selection,
        allow_single_cluster=single,
        copy=True,
    )
    labels = model.fit_predict(x.astype(np.float64))
    return labels, np.asarray(model.probabilities_, dtype=np.float64)


def _cohesion(x: np.ndarray) -> float:
    """Mean cosine of unit rows with their normalised mean (as a cluster's ``cohesion``)."""
    centroid = x.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    return float(np.mean(x @ centroid))


def _one_story(
    vectors: np.ndarray,
    min_cluster_size: int,
    min_samples: int | None,
    pca_dims: int,
    doc_of: list[int],
    min_documents: int,
) -> tuple[np.ndarray, np.ndarray]:
    """HDBSCAN again, allowed to return the whole tree as one cluster ("eom" with
    ``allow_single_cluster``), for when the leaf run found none.

    Why: HDBSCAN never makes its root a cluster by default, so when most of the
    unexplained text is one story (a small monitoring corpus, a few channels pushing one
    rumour) that story is the root and the leaf run returns only noise. A cluster this
    run gives is kept only when it is cohesive (:data:`ONE_STORY_COHESION`) and clearly
    tighter than the candidates as a whole (:data:`ONE_STORY_MARGIN`): on a few unrelated
    texts the root is just all of them.
    """
    labels, probs = _cluster(vectors, min_cluster_size, min_samples, pca_dims, "eom", single=True)
    labels = _drop_thin(labels, doc_of, min_documents)
    x = _normalise(vectors)
    bar = max(ONE_STORY_COHESION, _cohesion(x) + ONE_STORY_MARGIN)
    for label in {int(v) for v in labels if v >= 0}:
        if _cohesion(x[labels == label]) < bar:
            labels[labels == label] = -1
    probs = np.where(labels >= 0, probs, 0.0)
    return labels, probs


def _drop_thin(labels: np.ndarray, doc_of: list[int], min_documents: int) -> np.ndarray:
    """Clusters drawn from fewer than ``min_documents`` documents become noise (one long
    article's paragraphs agree with each other; that is no spreading story)."""
    labels = labels.copy()
    docs: dict[int, set[int]] = {}
    for label, doc in zip(labels, doc_of, strict=True):
        if label >= 0:
            docs.setdefault(int(label), set()).add(doc)
    for label, members in docs.items():
        if len(members) < min_documents:
            labels[labels == label] = -1
    return labels


# -- naming ----------------------------------------------------------------------------------


def _words(text: str, language: str | None) -> list[str]:
    from narrascope.text.function_words import WORD, function_words

    stop = function_words(language)
    out = []
    for m in WORD.finditer(text):
        w = m.group().lower().strip("'’-")
        if w.endswith(("'s", "’s")):  # English possessive: festival's -> festival
            w = w[:-2]
        if len(w) < 3 or w in stop or w in _EXTRA_STOP or _DIGITS.match(w):
            continue
        out.append(w)
    return out


def c_tf_idf(
    classes: Sequence[Sequence[tuple[str, str | None, str]]], top: int = N_TERMS
) -> list[list[tuple[str, float]]]:
    """Class-based TF-IDF (BERTopic's): each class is a list of (group key, language, text);
    a term counts for a class only if two of its groups (documents) use it, when it has
    two. Returns each class's ``top`` terms with their weights, best first."""
    counts: list[Counter[str]] = []
    groups: list[dict[str, set[str]]] = []
    for cls in classes:
        c: Counter[str] = Counter()
        g: dict[str, set[str]] = {}
        for key, language, text in cls:
            words = _words(text, language)
            c.update(words)
            for w in words:
                g.setdefault(w, set()).add(key)
        counts.append(c)
        groups.append(g)
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    sizes = [sum(c.values()) for c in counts]
    mean_words = (sum(sizes) / len(sizes)) if sizes else 0.0
    out = []
    for c, g, size in zip(counts, groups, sizes, strict=True):
        need = 2 if len({k for s in g.values() for k in s}) >= 2 else 1
        scored = [
            (w, (n / size) * math.log(1 + mean_words / total[w]))
            for w, n in c.items()
            if len(g[w]) >= need
        ]
        scored.sort(key=lambda t: (-t[1], t[0]))
        out.append([(w, round(s, 6)) for w, s in scored[:top]])
    return out


def _exemplars(
    members: list[int],
    units: list[_Unit],
    docs: list[_Doc],
    vectors: np.ndarray,
    centroid: np.ndarray,
    dstore: Any,
    encoder: Any,
) -> list[Exemplar]:
    """The sentences nearest the centroid, from the units nearest it, distinct documents
    first."""
    from narrascope.store.discover import unit_hash
    from narrascope.text.segment import split_sentences

    sims = _normalise(vectors[members]) @ centroid
    near = [members[j] for j in np.argsort(-sims, kind="stable")[:12]]
    keys, texts, where = [], [], []
    for i in near:
        u = units[i]
        doc = docs[u.doc]
        for s, e in split_sentences(u.text):
            text = u.text[s:e]
            if len(text.strip()) < _MIN_SENTENCE and len(split_sentences(u.text)) > 1:
                continue
            keys.append((doc.id, "s:" + unit_hash(text)))
            texts.append(text)
            where.append((doc.id, u.start + s, u.start + e))
    if not keys:
        return []
    vecs, _ = _encode_cached(dstore, keys, texts, encoder)
    score = _normalise(vecs) @ centroid
    order = list(np.argsort(-score, kind="stable"))
    chosen: list[int] = []
    seen: set[str] = set()
    for j in order:  # one sentence per document first, then the rest by score
        if where[j][0] not in seen and texts[j] not in {texts[c] for c in chosen}:
            chosen.append(j)
            seen.add(where[j][0])
        if len(chosen) == N_EXEMPLARS:
            break
    for j in order:
        if len(chosen) >= N_EXEMPLARS:
            break
        if j not in chosen and texts[j] not in {texts[c] for c in chosen}:
            chosen.append(j)
    return [
        Exemplar(where[j][0], where[j][1], where[j][2], texts[j], float(score[j])) for j in chosen
    ]


def _growth(days: list[date | None], growth_by: str) -> list[dict[str, Any]]:
    known = sorted(d for d in days if d is not None)
    by = growth_by
    if by == "auto":
        by = "day" if known and (known[-1] - known[0]).days <= 31 else "week"
    counts: Counter[str] = Counter()
    for d in known:
        if by == "day":
            counts[d.isoformat()] += 1
        elif by == "month":
            counts[d.strftime("%Y-%m")] += 1
        else:
            year, week, _ = d.isocalendar()
            counts[f"{year}-W{week:02d}"] += 1
    out = [{"bucket": b, "documents": n} for b, n in sorted(counts.items())]
    undated = sum(d is None for d in days)
    if undated:
        out.append({"bucket": UNKNOWN, "documents": undated})
    return out


def _describe(
    docs: list[_Doc],
    units: list[_Unit],
    vectors: np.ndarray,
    labels: np.ndarray,
    probs: np.ndarray,
    growth_by: str,
    dstore: Any,
    encoder: Any,
) -> tuple[list[DiscoveredCluster], list[np.ndarray], list[list[str]]]:
    ids = sorted({int(label) for label in labels if label >= 0})
    members = [[i for i in range(len(units)) if labels[i] == c] for c in ids]
    noise = [i for i in range(len(units)) if labels[i] < 0]

    def texts(rows: list[int]) -> list[tuple[str, str | None, str]]:
        return [(docs[units[i].doc].id, docs[units[i].doc].language, units[i].text) for i in rows]

    terms = c_tf_idf([texts(m) for m in members] + [texts(noise)])
    clusters, centroids, keys = [], [], []
    for n, rows in enumerate(members):
        x = _normalise(vectors[rows])
        centroid = x.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        doc_rows = sorted({units[i].doc for i in rows})
        member_docs = [docs[d] for d in doc_rows]
        days = [d.day for d in member_docs]
        known = [d for d in days if d is not None]
        narratives = Counter(label for d in member_docs for label in d.narratives)
        cluster = DiscoveredCluster(
            id=f"new-{n}",
            size=len(rows),
            documents=len(doc_rows),
            terms=[w for w, _ in terms[n]],
            exemplars=_exemplars(rows, units, docs, vectors, centroid, dstore, encoder),
            languages=dict(Counter(d.language or UNKNOWN for d in member_docs).most_common()),
            sources=dict(Counter(d.source or UNKNOWN for d in member_docs).most_common()),
            first_seen=min(known).isoformat() if known else None,
            last_seen=max(known).isoformat() if known else None,
            growth=_growth(days, growth_by),
            confidence=float(np.mean(probs[rows])),
            cohesion=float(np.mean(x @ centroid)),
            narratives=[{"label": k, "count": v} for k, v in narratives.most_common(5)],
            doc_ids=[d.id for d in member_docs],
            members=[
                ClusterMember(docs[units[i].doc].id, units[i].start, units[i].end, float(probs[i]))
                for i in rows
            ],
        )
        clusters.append(cluster)
        centroids.append(centroid.astype(np.float32))
        keys.append(sorted(_member_key(units[i].key) for i in rows))
    return clusters, centroids, keys


def _member_key(key: tuple[str, str]) -> str:
    return f"{key[0]}\x1f{key[1]}"


# -- stable ids ------------------------------------------------------------------------------


def match_clusters(
    new: Sequence[tuple[np.ndarray, Sequence[str]]],
    old: Sequence[tuple[np.ndarray, frozenset[str]]],
    *,
    overlap: float = MATCH_OVERLAP,
    cosine: float = MATCH_COSINE,
) -> dict[int, tuple[int, str]]:
    """New cluster index -> (old cluster index, "members" | "centroid"), one to one.

    Shared members decide first: every pair whose shared members are at least ``overlap``
    of the smaller cluster, most shared first (a grown cluster keeps its old members; of
    two merged ones the larger part wins). Then centroid cosine (>= ``cosine``) for the
    clusters left: a cluster whose texts were all replaced still sits where it was.
    """
    owner: dict[str, list[int]] = {}
    for j, (_c, members) in enumerate(old):
        for key in members:
            owner.setdefault(key, []).append(j)
    pairs: list[tuple[int, float, float, int, int]] = []
    for i, (centroid, members) in enumerate(new):
        shared: Counter[int] = Counter()
        for key in set(members):
            shared.update(owner.get(key, ()))
        for j, k in shared.items():
            smaller = min(len(set(members)), len(old[j][1]))
            if smaller and k / smaller >= overlap:
                pairs.append((1, float(k), k / smaller, i, j))
        for j, (old_centroid, _m) in enumerate(old):
            score = float(np.dot(centroid, old_centroid))
            if score >= cosine:
                pairs.append((0, score, score, i, j))
    pairs.sort(key=lambda p: (-p[0], -p[1], -p[2], p[3], p[4]))
    out: dict[int, tuple[int, str]] = {}
    taken: set[int] = set()
    for kind, _size, _score, i, j in pairs:
        if i in out or j in taken:
            continue
        out[i] = (j, "members" if kind else "centroid")
        taken.add(j)
    return out


def _assign_ids(
    clusters: list[DiscoveredCluster],
    centroids: list[np.ndarray],
    keys: list[list[str]],
    dstore: Any,
) -> None:
    from narrascope.store.discover import ID_PREFIX

    stored = dstore.clusters()
    matched = match_clusters(
        list(zip(centroids, keys, strict=True)), [(s.centroid, s.members) for s in stored]
    )
    fresh = iter(dstore.next_numbers(len(clusters) - len(matched)))
    # new ids in a stable order: largest cluster first
    for i in sorted(range(len(clusters)), key=lambda i: (-clusters[i].size, keys[i])):
        if i in matched:
            j, how = matched[i]
            clusters[i].id = stored[j].id
            clusters[i].status = "persisting"
            clusters[i].matched_by = how
        else:
            clusters[i].id = f"{ID_PREFIX}{next(fresh)}"
