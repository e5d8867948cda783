"""Which known debunks a document restates: a fast shortlist, then a trained scorer.

Why two stages: a debunk database holds 10^4-10^5 claims and a document is matched in a
few milliseconds, so every debunk cannot be read closely. The *first stage* shortlists, per
query unit (a claim of the document, a sentence, or the whole of a short post and its
claims):

* BM25 over the stemmed claim + title: restatements in the same language share rare
  words (names, places, numbers);
* cosine of multilingual USE vectors (``models.encoder``) over all debunks: the channel
  that finds a Russian or Portuguese restatement of an English debunk;
* for a unit in a language USE was not trained on (Hindi, Ukrainian, Bulgarian...), or a
  database holding debunks in one, the e5 nearest debunks in another language (those
  with an e5 vector), read by the cross head whatever their USE cosine;
* for a post (a short document whole, a reader comment) when the database holds a
  vector of the *debunk reader* (:mod:`narrascope.models.debunk_reader`, e5-small's top
  layers trained on the pairing) for every debunk, the reader's ``READER_SHORTLIST``
  nearest debunks.

Both read :class:`~narrascope.models.debunk_index.DebunkIndex`, the database held in
memory (FTS5's BM25 as posting arrays; a PCA-128 pass, after a sign-bit pass past 30k
debunks, then the exact cosine of the best 50), built once per database generation and
kept in the database for the next process.

The *second stage* (:class:`DebunkScorer`, logistic heads over pair features and their
pairwise products, trained on CheckThat! 2022 2A English by ``training.debunks``) reads
each shortlisted pair closely. The *fast* head reads every pair: BM25, its rank and share
of the unit's best, USE cosine and its gap to the unit's best, word overlap both ways,
fuzzy string ratios. For a post the reader read, the *read* head reads the same and the
reader's cosine, its gap to the unit's best and the debunk's rank among the reader's
nearest (out of fold on CheckThat! 2A train, shown MAP@5 0.84 -> 0.90; a debunk's reader
vector costs ~11 ms, so it is made at import: ``debunks add --reader``, by default for a
database of up to 20,000). In a database of fewer than ``SMALL_DATABASE`` debunks the *small*
head reads them instead (being the best of a few says less), and for the parts of a
text (the units of a document longer than a post, a post's listed claims) the *article*
head (news paragraphs name what fact-checks name). A unit of fewer than
``MIN_UNIT_WORDS`` content words ("#Kharkiv", "Black Sea corridor") restates only a
debunk whose words it mostly holds: every other pair of it gets probability 0. With
``rerank=True`` (slower: an e5 pass per matched unit, 0.1-0.5 s on two busy cores) the
best ``RERANK_TOP`` pairs of each unit at or above ``RERANK_GATE`` are read again by the
*full* head, which adds the cosine of e5-small vectors (a closer reader than USE; e5
vectors of debunks are made on first need and kept in the database) and says whether the
pair stands out among its rivals. A pair in two languages (or where
either language is unknown) is also read by the *cross* head on vectors only (USE and e5
cosines; e5 reads Ukrainian, Bulgarian and Hindi, which USE does not); the higher
probability counts. A pair whose debunk is dated near the unit's day (the document's
``meta["date"]``, or the signature of a post embedded in it) is read last by the *dated*
head, on its probability so far and how near the days are; it can only raise it, since a
debunk dated years away is no evidence against (false claims come back). Every head gives
the probability that the unit restates the debunk; ONE threshold
(``DebunkScorer.threshold_``, chosen on the training queries; with ``rerank=True`` its
own, ``rerank_threshold_``) decides what is shown. The heads of a post's paths (fast,
rerank, read) also learned from posts that restate no debunk, which lowers their scale:
each path's log-odds are shifted (``fast_shift_``, ``rerank_shift_``, ``read_shift_``) so
that its own operating point is that threshold. A document's score for a debunk is its
best unit's, whose span is the ``claim_span``.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import regex
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from narrascope.doc import DebunkMatch, Document, Span
from narrascope.models.artefact import Estimator, bundled_path
from narrascope.models.debunk_index import DebunkIndex, VectorIndex, one_blas_thread
from narrascope.models.encoder import ENCODER_LANGUAGES
from narrascope.models.pair_map import PARTS, PairMap
from narrascope.store import stems as stemming
from narrascope.store.debunks import DebunkStore
from narrascope.store.stems import index_tokens
from narrascope.text.dates import embedded_post_days, exact_day
from narrascope.text.function_words import function_words, is_function_word

log = logging.getLogger(__name__)

# a unit's words are read by BM25 and again by the features: tokenised once
_unit_tokens = functools.lru_cache(maxsize=4096)(index_tokens)

MONO_FEATURES = (
    "bm25",
    "bm25_share",  # of the unit's best BM25
    "bm25_rank",  # 1 / (1 + rank)
    "pair_cos",  # USE cosine, both vectors bent by the scorer's PairMap (when it has one)
    "pair_gap",  # that cosine minus the unit's best among its shortlisted pairs
    "debunk_covered",  # share of the debunk's words in the unit
    "unit_covered",  # share of the unit's words in the debunk
    "token_set_ratio",
    # rapidfuzz's partial_ratio was here: 87% of the string features' time (1.25 ms a
    # paragraph unit) and no MAP@5 out of fold or on dev without it (0.802 / 0.912 shown)
)
CROSS_FEATURES = ("use_cos", "e5_cos")
DATED_FEATURES = ("logit", "closeness", "logit_x_closeness")
# the debunk reader's (models.debunk_reader), for a post when the database holds reader
# vectors of every debunk: its cosine, the gap to the unit's best shortlisted pair, and
# 1 / (1 + rank) of the debunk among the unit's READER_RANKS nearest by the reader
READER_FEATURES = ("reader_cos", "reader_gap", "reader_rank")
SMALL_FEATURES = (*MONO_FEATURES, "log_size")  # log of the number of debunks
# the log of the unit's words and of the document's units
ARTICLE_FEATURES = (*MONO_FEATURES, "log_words", "log_units")

BM25_SHORTLIST = 30
VECTOR_SHORTLIST = 30
RERANK_TOP = 5  # with rerank=True, per unit the fast head's best pairs are read again...
RERANK_GATE = 0.05  # ...with e5 when at least this probable
CROSS_SHORTLIST = 5  # per unit, the best by USE cosine are read by e5 when cross-lingual
CROSS_MIN_COS = 0.35  # below this USE cosine a pair is not worth an e5 pass
CROSS_PER_DOCUMENT = 10  # and at most this many pairs per document are
# A unit in a language USE was not trained on (``ENCODER_LANGUAGES``: not Hindi, Ukrainian,
# Bulgarian) is far from its restatements in other languages by USE cosine (a Hindi
# restatement of an English debunk: under 0.13, e5 0.92), so neither first-stage channel
# finds them and CROSS_MIN_COS never lets them through. Its e5 nearest debunks (those
# with an e5 vector) are shortlisted too and read by the cross head, whatever their USE
# cosine; so are the e5 nearest debunks in such a language for a unit in another one.
E5_SHORTLIST = 5
# debunks in the channel's reach without an e5 vector are read by e5 when it first needs
# them, up to this many (about 13 s, kept in the database); past that it reads the ones
# that have one (`narrascope debunks add FILE --e5` makes them all)
E5_FILL = 2_000
SHORT_TEXT = 600  # characters: a post this short is one query unit (and its claims more)
# A unit of fewer content words than this (a hashtag, a place name, a caption: "Kharkiv",
# "Black Sea corridor") states no claim, yet every word of it is in some debunk, so the
# features read a perfect pair ("Kharkiv" scored 1.00 against a debunk about Kharkiv). Its
# pairs pass only with a debunk whose words it mostly holds (SHORT_UNIT_COVERED of them,
# "Chanel No.5 discontinued!"). Every CheckThat! 2A tweet has 6 or more (their signatures
# count: "— The Dodo (@dodo) April 1, 2019" names who made the claim).
MIN_UNIT_WORDS = 4
SHORT_UNIT_COVERED = 0.5
MAX_UNITS = 24
PARAGRAPH_SHARE = 0.6  # a unit this much of its paragraph reads the paragraph's vector
# a debunk dated from DATE_BEFORE days before a unit's day to DATE_AFTER days after it is
# *near* (closeness exp(-days after / DATE_DECAY)): 83% of the 2A train tweets' debunks
# are dated from 3 days before to 30 days after them, 1% of random debunks
DATE_BEFORE, DATE_AFTER, DATE_DECAY = 7, 90, 30.0
# below this many debunks the *small* head reads every pair in place of the fast head
SMALL_DATABASE = 5_000
# a post's READER_SHORTLIST nearest debunks by the reader join its shortlist (a third
# first-stage channel: the gold debunk of 0.987 of the 2A train queries is then shortlisted
# out of fold, against 0.951 by BM25 and USE alone)
READER_SHORTLIST = 10
READER_RANKS = 100


_LINKS = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S+")
# scripts written without spaces between words: a run of them is one "word" to stems.WORD
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
_COVERED = MONO_FEATURES.index("debunk_covered")


def _stripped(text: str, span: Span) -> Span:
    """``span`` without its leading white space (a paragraph as a unit)."""
    lead = len(span.text) - len(span.text.lstrip())
    return Span.of(text, span.start + lead, span.end)


def _content_stems(text: str, language: str | None) -> set[str]:
    """The stems of ``text``'s content words: its function words dropped, then stemmed as
    the search index stems (an unknown language as English)."""
    stop = function_words(language)
    content = [w for w in stemming.words(text) if w not in stop]
    return set(stemming.stems(content, language or "en"))


def content_words(text: str, language: str | None) -> int:
    """How many distinct content words ``text`` holds: words of two or more letters or
    digits that are no function word of ``language``. In a script written without spaces
    (Chinese, Japanese, Thai...) every two characters count as one word."""
    stop = function_words(language)
    words: set[str] = set()
    unspaced = 0
    for word in stemming.WORD.findall(text):
        if n := len(_UNSPACED.findall(word)):
            unspaced += n
        elif len(word) > 1 and not is_function_word(word, stop):
            words.add(word.casefold())
    return len(words) + (unspaced + 1) // 2


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as float32 rows of unit length (a zero row stays zero)."""
    vectors = np.asarray(vectors, np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def clean_query(text: str) -> str:
    """A unit as matched: links say nothing a debunk says (pic.twitter.com/x is 3 words)."""
    return " ".join(_LINKS.sub(" ", text).split()) or text


# ----------------------------------------------------------------------------- scorer
HEADS = {
    # every shortlisted pair: lexical + USE features and their pairwise products
    "fast": (MONO_FEATURES, True),
    # the same in a database of fewer than SMALL_DATABASE debunks, where being the best
    # of the few says less (the best of three on-topic debunks was shown 60% of the time
    # when none was restated): fitted on databases of 3-3,000 debunks sampled from the
    # archive, half of them without the text's debunk
    "small": (SMALL_FEATURES, True),
    # the same for a unit of a longer document (a paragraph, a sentence, a claim) in a
    # larger database: news paragraphs share names with many fact-checks without
    # restating them (the fast head showed 3.8 wrong debunks an article); fitted on news
    # articles with a train tweet set in them as a paragraph
    "article": (ARTICLE_FEATURES, True),
    # the best few per unit (fast probability >= RERANK_GATE): the same + e5 cosine
    # (e5 cosine; the pair's fast logit minus the unit's best; its e5 cosine minus the
    # best of the unit's reread pairs: whether it stands out among its rivals)
    "full": ((*MONO_FEATURES, "e5_cos", "fast_gap", "e5_gap"), True),
    # the fast head for a post when the database holds reader vectors of every debunk
    # (``narrascope debunks add --reader``): the same + the reader's cosine, gap and rank
    "read": ((*MONO_FEATURES, *READER_FEATURES), True),
    # pairs in two languages (or an unknown one): vectors only
    "cross": (CROSS_FEATURES, False),
    # pairs dated near each other: the probability so far and the closeness; its
    # probability counts only when higher (a date far away is no evidence against: the
    # same false claim comes back years later)
    "dated": (DATED_FEATURES, False),
    # the same after the read head (fitted on its probabilities)
    "read_dated": (DATED_FEATURES, False),
    # the same after an own head (small, article), on their scale: fitted on a fast head
    # fitted on the queries alone (the fast head learns from unrelated posts too, which
    # lowers its scale, and the dated head then lifts more than these heads need)
    "own_dated": (DATED_FEATURES, False),
}
# heads an older artefact may lack: the matcher then never reads with the reader
OPTIONAL_HEADS = ("read", "read_dated")
# ...and the heads that stand in for one it lacks (an older dated head read both scales)
STAND_INS = {"own_dated": "dated"}


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))


def shift_odds(p: np.ndarray, shift: float) -> np.ndarray:
    """``p`` moved by ``shift`` in log-odds (a scorer's path shift; the ranking is kept)."""
    if not shift or not len(p):
        return p
    return 1.0 / (1.0 + np.exp(-(_logit(p) + shift)))


def full_features(x: np.ndarray, fast: np.ndarray, best_fast: float, e5: np.ndarray) -> np.ndarray:
    """The full head's rows for a unit's reread pairs: their fast features, e5 cosine,
    fast logit minus the unit's best (``best_fast``, a probability), e5 cosine minus the
    best of these pairs."""
    gap = _logit(fast) - _logit(np.array([best_fast]))[0]
    return np.column_stack([x, e5, gap, e5 - e5.max()])


def small_features(x: np.ndarray, size: int) -> np.ndarray:
    """The small head's rows: the fast features and the log of the database's size."""
    return np.column_stack([x, np.full(len(x), np.log(max(size, 1)))])


def article_features(
    x: np.ndarray, texts: Sequence[str], candidates: list[Candidate]
) -> np.ndarray:
    """The article head's rows: the fast features, the log of the unit's words and of
    the document's units."""
    words = np.array([np.log1p(len(texts[c.unit].split())) for c in candidates], np.float64)
    units = np.full(len(candidates), np.log(max(len(texts), 1)))
    return np.column_stack([x, words, units])


def dated_features(p: np.ndarray, closeness: np.ndarray) -> np.ndarray:
    """The dated head's rows: the pair's probability so far (as a logit) and closeness."""
    logit = _logit(p)
    return np.column_stack([logit, closeness, logit * closeness])


def closeness(days: np.ndarray) -> np.ndarray:
    """How near a debunk's day is to a unit's (``debunk - unit`` in days; NaN unknown):
    1 up to the unit's day, decaying after it, 0 outside the near window."""
    near = (days >= -DATE_BEFORE) & (days <= DATE_AFTER)
    return np.where(near, np.exp(-np.clip(np.nan_to_num(days), 0, None) / DATE_DECAY), 0.0)


def reader_features(cosines: np.ndarray, units: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The read head's extra columns of each pair: the reader cosine, its gap to the best
    of the same unit's pairs, and ``1 / (1 + rank)`` of the debunk among the unit's
    nearest by the reader (``ranks``; ``READER_RANKS`` past them)."""
    best = np.full(int(units.max()) + 1 if len(units) else 0, -np.inf)
    np.maximum.at(best, units, cosines)
    gaps = cosines - best[units] if len(units) else cosines
    return np.column_stack([cosines, gaps, 1.0 / (1.0 + ranks)])


def _stand_ins(heads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``heads`` with a head it lacks copied from its stand-in (:data:`STAND_INS`)."""
    for head, other in STAND_INS.items():
        if f"{head}_coef" not in heads and f"{other}_coef" in heads:
            prefix = f"{other}_"
            heads |= {
                head + k[len(other) :]: v for k, v in list(heads.items()) if k.startswith(prefix)
            }
    return heads


def _products(z: np.ndarray) -> np.ndarray:
    """The standardised features and their pairwise products (a quadratic model)."""
    i, j = np.triu_indices(z.shape[1])
    return np.hstack([z, z[:, i] * z[:, j]])


class DebunkScorer(Estimator):
    """The second stage: P(unit restates debunk) from pair features, three logistic heads
    (see :data:`HEADS`)."""

    artefact_what = "debunk matcher"
    train_hint = "train one with `python -m narrascope.training.debunks`"

    def __init__(self, *, C: float = 1.0) -> None:
        self._set_params(locals())
        self.pair_map: PairMap | None = None  # bends the USE vectors of pair_cos

    def fit(
        self,
        data: dict[str, tuple[np.ndarray, np.ndarray]],
        *,
        threshold: float = 0.5,
        rerank_threshold: float = 0.5,
        heads: Sequence[str] | None = None,
    ) -> DebunkScorer:
        """``data[head] = (x, y)`` or ``(x, y, sample_weight)`` for each of ``heads``
        (default: every head of :data:`HEADS`, the optional ones when ``data`` has them)."""
        from sklearn.linear_model import LogisticRegression

        if heads is None:
            heads = tuple(h for h in HEADS if h in data or h not in (*OPTIONAL_HEADS, *STAND_INS))
        state: dict[str, np.ndarray] = {}
        for head in heads:
            names, quadratic = HEADS[head]
            x, y, *weight = data[head]
            if x.shape[1] != len(names):
                raise ValueError(f"{head}: {x.shape[1]} features, expected {len(names)}")
            mean, scale = x.mean(0), x.std(0) + 1e-9
            z = (x - mean) / scale
            if quadratic:
                z = _products(z)
            mean2, scale2 = z.mean(0), z.std(0) + 1e-9
            model = LogisticRegression(C=self.C, max_iter=5000).fit(
                (z - mean2) / scale2, y, sample_weight=weight[0] if weight else None
            )
            state[f"{head}_mean"], state[f"{head}_scale"] = mean, scale
            state[f"{head}_mean2"], state[f"{head}_scale2"] = mean2, scale2
            state[f"{head}_coef"] = model.coef_[0]
            state[f"{head}_intercept"] = model.intercept_
        self.heads_ = _stand_ins({k: np.asarray(v, np.float64) for k, v in state.items()})
        self.read_shift_ = self.fast_shift_ = self.rerank_shift_ = 0.0
        self.threshold_ = float(threshold)
        self.rerank_threshold_ = float(rerank_threshold)
        return self

    def proba(self, head: str, x: np.ndarray) -> np.ndarray:
        """P(restates) of each row of ``x`` (the features of :data:`HEADS` ``[head]``)."""
        self._check_fitted()
        if not len(x):
            return np.zeros(0)
        w = self.heads_
        z = (x - w[f"{head}_mean"]) / w[f"{head}_scale"]
        if HEADS[head][1]:
            z = _products(z)
        logit = ((z - w[f"{head}_mean2"]) / w[f"{head}_scale2"]) @ w[f"{head}_coef"]
        return 1.0 / (1.0 + np.exp(-(logit + w[f"{head}_intercept"][0])))

    def shifted(self, p: np.ndarray, path: str) -> np.ndarray:
        """Probabilities of one path moved by its shift in log-odds (:attr:`read_shift_`,
        :attr:`fast_shift_`, :attr:`rerank_shift_`): the read and fast heads are fitted
        with unrelated posts as negatives, so their own scale is lower, and the shift puts
        each path's chosen operating point on the one shown threshold (ranking unchanged)."""
        return shift_odds(p, getattr(self, f"{path}_shift_"))

    def unshifted(self, p: np.ndarray, path: str) -> np.ndarray:
        """The inverse of :meth:`shifted`: a probability on the shown scale read back
        on the path's own (a gate, or another head's probability it is compared with)."""
        return shift_odds(p, -getattr(self, f"{path}_shift_"))

    @property
    def reads(self) -> bool:
        """Whether the scorer has the heads that read the debunk reader's features."""
        return self.is_fitted and all(f"{h}_coef" in self.heads_ for h in OPTIONAL_HEADS)

    def _get_state(self) -> dict[str, Any]:
        state = {
            "threshold": self.threshold_,
            "rerank_threshold": self.rerank_threshold_,
            "read_shift": self.read_shift_,
            "fast_shift": self.fast_shift_,
            "rerank_shift": self.rerank_shift_,
            **self.heads_,
        }
        if self.pair_map is not None:
            state["pair_map_params"] = self.pair_map.get_params()
            state.update({f"pair_map_{k}": v for k, v in self.pair_map.maps_.items()})
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        heads = {}
        for head, (names, quadratic) in HEADS.items():
            if head in (*OPTIONAL_HEADS, *STAND_INS) and f"{head}_coef" not in state:
                continue
            n = len(names)
            width = n + n * (n + 1) // 2 if quadratic else n
            for part, size in (
                ("mean", n),
                ("scale", n),
                ("mean2", width),
                ("scale2", width),
                ("coef", width),
                ("intercept", 1),
            ):
                value = np.asarray(state[f"{head}_{part}"], np.float64)
                if value.shape != (size,):
                    raise ValueError(f"{head}_{part} has shape {value.shape}, not ({size},)")
                heads[f"{head}_{part}"] = value
        self.heads_ = _stand_ins(heads)
        self.threshold_ = float(state["threshold"])
        self.rerank_threshold_ = float(state["rerank_threshold"])
        # older artefacts have none (no shift: their heads never saw unrelated posts)
        self.read_shift_ = float(state.get("read_shift", 0.0))
        self.fast_shift_ = float(state.get("fast_shift", 0.0))
        self.rerank_shift_ = float(state.get("rerank_shift", 0.0))
        self.pair_map = None
        if "pair_map_params" in state:
            self.pair_map = PairMap(**state["pair_map_params"])
            self.pair_map._set_state({k: state[f"pair_map_{k}"] for k in PARTS})


# ----------------------------------------------------------------------------- pairs
@dataclass(slots=True)
class Candidate:
    """One shortlisted (unit, debunk) pair and its first-stage numbers."""

    unit: int
    key: int
    bm25: float = 0.0
    bm25_share: float = 0.0
    bm25_rank: float = 0.0
    use_cos: float = 0.0
    use_gap: float = 0.0
    pair_cos: float = 0.0
    pair_gap: float = 0.0


@dataclass
class _Plan:
    """One document's units after the fast head: what the e5 heads still read."""

    texts: list[str]
    candidates: list[Candidate]
    x: np.ndarray
    probs: np.ndarray
    fast: np.ndarray  # the fast head's probabilities (the full head reads them)
    own_head: np.ndarray  # per pair: the small or article head gave its probability, so a
    # reread may only lower it
    by_unit: dict[int, list[int]]
    full: list[int]  # pairs the full head rereads (rerank=True)
    cross: list[int]  # pairs in two languages, read by the cross head
    near: np.ndarray  # each pair's date closeness (0: not near, or a day unknown)
    blocked: np.ndarray  # pairs of a unit too short to restate their debunk: probability 0
    known: dict[int, float]  # pairs the e5 channel reached: their e5 cosine
    read: np.ndarray  # pairs the read head scored (the read_dated head reads them after)

    @property
    def need(self) -> list[int]:
        """The pairs whose e5 cosine is still to be read."""
        return sorted((set(self.full) | set(self.cross)) - set(self.known))


@dataclass
class _Reading:
    """What the debunk reader made of a document's posts: per unit read, its vector and
    its ``READER_RANKS`` nearest rows of the index, nearest first."""

    table: np.ndarray  # the index's reader vectors, row by row with its keys (float32)
    units: dict[int, tuple[np.ndarray, np.ndarray]]

    def nearest_keys(self, keys: np.ndarray, count: int) -> list[list[int]]:
        """Per unit (up to the highest read), the keys of its ``count`` nearest debunks."""
        top = max(self.units, default=-1) + 1
        return [
            [int(keys[r]) for r in self.units[u][1][:count]] if u in self.units else []
            for u in range(top)
        ]

    def features(self, index: DebunkIndex, candidates: Sequence[Candidate]) -> np.ndarray:
        """:func:`reader_features` of ``candidates`` (all of units that were read)."""
        rows = np.searchsorted(index.keys, [c.key for c in candidates])
        units = np.array([c.unit for c in candidates], np.int64)
        cosines = np.zeros(len(candidates))
        ranks = np.full(len(candidates), float(READER_RANKS))
        for u, (vector, ranked) in self.units.items():
            mine = np.flatnonzero(units == u)
            if not len(mine):
                continue
            cosines[mine] = self.table[rows[mine]] @ vector
            place = {int(r): i for i, r in enumerate(ranked)}
            ranks[mine] = [place.get(int(r), READER_RANKS) for r in rows[mine]]
        return reader_features(cosines, units, ranks)


# a document's units as scored: texts, language, USE vectors (None: encoded), days, and
# whether they are parts of a text (read by the article head): one flag, or one per unit
_Units = tuple[
    Sequence[str],
    str | None,
    np.ndarray | None,
    Sequence[int | None] | None,
    bool | Sequence[bool],
]


# ----------------------------------------------------------------------------- matcher
class DebunkMatcher:
    """Finds the debunks of a :class:`DebunkStore` that documents restate.

    ``threshold`` overrides the scorer's (a probability); ``encoder`` is a USE encoder with
    ``encode(texts)`` (the pipeline's, or :meth:`SentenceEncoder.shared`); ``e5`` a callable
    texts → unit vectors (default ``E5Sentences.shared()``, loaded on the first
    cross-lingual pair).
    """

    def __init__(
        self,
        store: DebunkStore | str | Path,
        *,
        scorer: DebunkScorer | None = None,
        scorer_path: str | Path | None = None,
        threshold: float | None = None,
        encoder: Any = None,
        e5: Callable[[Sequence[str]], np.ndarray] | None = None,
        rerank: bool = False,
        max_matches: int = 5,
        reader: Any = None,
        use_reader: bool = True,
        reader_table: np.ndarray | None = None,
    ) -> None:
        self.store = store if isinstance(store, DebunkStore) else DebunkStore(store)
        self.scorer = scorer or DebunkScorer.load(scorer_path or bundled_path("debunks"))
        self.rerank = rerank
        name = "rerank_threshold_" if rerank else "threshold_"
        fitted = getattr(self.scorer, name, 0.5)  # an unfitted scorer: training
        self.threshold = fitted if threshold is None else float(threshold)
        self._encoder = encoder
        self._e5 = e5
        self.max_matches = max_matches
        self._index: DebunkIndex | None = None
        self._terms: tuple[DebunkIndex, np.ndarray] | None = None  # the pair map's, per index
        # the e5 channel, per index: the debunks in a language outside USE's, and the e5
        # vectors of every debunk (False) or of those (True); vectors made since are fresh
        self._foreign: tuple[DebunkIndex, dict[int, str]] | None = None
        self._e5_tables: dict[bool, tuple[DebunkIndex, VectorIndex]] = {}
        self._e5_fresh: dict[int, np.ndarray] = {}
        # the debunk reader: units' vectors (``reader.encode_units``; default the bundled
        # reader) against those kept for every debunk; ``reader_table`` (row by row with
        # the index's keys) stands in for the kept ones (training: a fold's reader)
        self._reader = reader
        self.use_reader = use_reader
        self._reader_given = reader_table
        self._reader_table: tuple[DebunkIndex, Any, np.ndarray | None] | None = None
        self._languages: tuple[DebunkIndex, frozenset[str]] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ resources
    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            from narrascope.models.encoder import SentenceEncoder

            self._encoder = SentenceEncoder.shared()
        return self._encoder

    @property
    def e5(self) -> Callable[[Sequence[str]], np.ndarray]:
        if self._e5 is None:
            from narrascope.models.hate import E5Sentences

            self._e5 = E5Sentences.shared()
        return self._e5

    @property
    def e5_version(self) -> str:
        """The version of :attr:`e5`'s vectors, under which the database keeps them: a
        stand-in without a ``version`` (a test's, a research script's) gets one of its
        own, so its vectors are never read by another e5, nor the real ones by it."""
        version = getattr(self.e5, "version", None)
        return str(version) if version else f"unversioned-{id(self.e5):x}"

    @property
    def reader(self) -> Any:
        if self._reader is None:
            from narrascope.models.debunk_reader import shared_reader

            self._reader = shared_reader()
        return self._reader

    def reader_table(self, index: DebunkIndex) -> np.ndarray | None:
        """The reader vectors of every debunk of ``index``, row by row with its keys, or
        None when the matcher does not read with the reader: turned off, a scorer without
        the read head, a database with fewer than ``SMALL_DATABASE`` debunks (the small
        head reads them), or one where a debunk has no vector of the bundled reader's
        version (``narrascope debunks add --reader`` makes them)."""
        if not self.use_reader or index.size < SMALL_DATABASE:
            return None
        if self._reader_given is not None:
            return self._reader_given
        if not self.scorer.reads:
            return None
        from narrascope.models.debunk_reader import reader_version

        version = reader_version()
        if not version:
            return None
        stamp = (self.store.reader_generation(), version)
        with self._lock:
            held = self._reader_table
            if held is not None and held[0] is index and held[1] == stamp:
                return held[2]
        kept = self.store.reader_matrix(version)
        table = None
        if kept is not None and np.array_equal(kept[0], index.keys):
            table = kept[1].astype(np.float32)
        with self._lock:
            self._reader_table = (index, stamp, table)
        return table

    def index(self) -> DebunkIndex:
        """The in-memory index, reloaded when the database changed since it was read."""
        with self._lock:
            if self._index is None or self._index.generation != self.store.generation():
                self._index = DebunkIndex.load(self.store)
            return self._index

    def warm_up(self) -> None:
        self.index()
        self.encoder.encode(["warm up"])

    # ------------------------------------------------------------ first stage
    def candidates(
        self,
        texts: Sequence[str],
        language: str | None,
        vectors: np.ndarray | None = None,
        reach: Sequence[Sequence[tuple[int, float]]] | None = None,
        near: tuple[np.ndarray, np.ndarray] | None = None,
        also: Sequence[Sequence[int]] | None = None,
    ) -> list[Candidate]:
        """The shortlist of every unit: BM25's best and the nearest vectors, merged, with
        the debunks the e5 channel reached (``reach``: per unit, (key, e5 cosine)) and
        those the reader found (``also``: per unit, keys). ``near``: the units' nearest
        rows and cosines, when found for several documents at once (:meth:`_score_many`)."""
        index = self.index()
        if vectors is None:
            vectors = self.encoder.encode(list(texts))
        vectors = _unit_rows(vectors)
        rows, cosines = near or index.vectors.nearest(vectors, VECTOR_SHORTLIST)
        out: list[Candidate] = []
        for u, text in enumerate(texts):
            found: dict[int, Candidate] = {}
            hits = index.bm25(_unit_tokens(text, language or "en"), BM25_SHORTLIST)
            best = hits[0][1] if hits else 1.0
            for rank, (key, score) in enumerate(hits):
                found[key] = Candidate(u, key, score, score / best, 1.0 / (1 + rank))
            top = float(cosines[u, 0]) if cosines.shape[1] else 0.0
            for row, cos in zip(rows[u], cosines[u], strict=True):
                key = int(index.keys[row])
                c = found.setdefault(key, Candidate(u, key, bm25_rank=1.0 / (1 + BM25_SHORTLIST)))
                c.use_cos, c.use_gap = float(cos), float(cos) - top
            reached = [key for key, _ in reach[u]] if reach else []
            for key in reached + (list(also[u]) if also and u < len(also) else []):
                found.setdefault(key, Candidate(u, key, bm25_rank=1.0 / (1 + BM25_SHORTLIST)))
            # the cosine of a BM25 hit that is not among the nearest vectors
            lexical = [c for c in found.values() if c.use_cos == 0.0]
            positions = np.searchsorted(index.keys, [c.key for c in lexical])
            for c, pos in zip(lexical, positions, strict=True):
                if pos < len(index.keys) and index.keys[pos] == c.key:
                    c.use_cos = float(index.vectors.full[pos].astype(np.float32) @ vectors[u])
                    c.use_gap = c.use_cos - top
            out.extend(found.values())
        self._pair_cosines(index, out, vectors)
        return out

    def _pair_cosines(self, index: DebunkIndex, found: list[Candidate], units: np.ndarray) -> None:
        """``pair_cos`` / ``pair_gap`` of the units' shortlists: the USE cosine with both
        vectors bent by the scorer's pair map, or the plain cosine without one. The
        archive's :meth:`PairMap.debunk_terms` are made once per index, so a pair costs
        96 numbers read, not a debunk vector bent (1.2 ms an article, now 0.1 ms)."""
        bend = getattr(self.scorer, "pair_map", None)
        if bend is None or not found:
            for c in found:
                c.pair_cos, c.pair_gap = c.use_cos, c.use_gap
            return
        with self._lock:
            if self._terms is None or self._terms[0] is not index:
                self._terms = (index, bend.debunk_terms(index.vectors.full))
            terms = self._terms[1]
        keys = index.keys
        wanted = np.array([c.key for c in found], np.int64)
        pos = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        has = keys[pos] == wanted if len(keys) else np.zeros(len(found), bool)
        unit_of = np.array([c.unit for c in found])
        cosines = np.zeros(len(found), np.float32)
        if has.any():
            plain = np.array([c.use_cos for c in found], np.float32)[has]
            cosines[has] = bend.cosines(units, unit_of[has], terms[pos[has]], plain)
        best = np.full(len(units), -np.inf, np.float32)
        np.maximum.at(best, unit_of, cosines)
        gaps = cosines - best[unit_of]
        for c, cos, gap in zip(found, cosines.tolist(), gaps.tolist(), strict=True):
            c.pair_cos, c.pair_gap = cos, gap

    # ------------------------------------------------------------ second stage
    def features(
        self, texts: Sequence[str], language: str | None, candidates: list[Candidate]
    ) -> np.ndarray:
        """The ``MONO_FEATURES`` row of each candidate (the string ratio of a unit's pairs
        in one rapidfuzz call: ~250 pairs an article)."""
        lexical = self.index().lexical
        claims = self._claims(sorted({c.key for c in candidates}))
        unit_tokens = [set(_unit_tokens(t, language or "en")) for t in texts]
        unit_words = [np.fromiter(lexical.word_ids(t), np.int64) for t in unit_tokens]
        x = np.zeros((len(candidates), len(MONO_FEATURES)), np.float64)
        if not candidates:
            return x
        x[:, :5] = [(c.bm25, c.bm25_share, c.bm25_rank, c.pair_cos, c.pair_gap) for c in candidates]
        rows = lexical.rows_of([c.key for c in candidates])
        starts = np.where(rows >= 0, lexical.row_indptr[np.maximum(rows, 0)], 0)
        ends = np.where(rows >= 0, lexical.row_indptr[np.maximum(rows, 0) + 1], 0)
        by_unit: dict[int, list[int]] = {}
        for i, c in enumerate(candidates):
            by_unit.setdefault(c.unit, []).append(i)
        for u, mine in by_unit.items():
            terms = [lexical.row_terms[starts[i] : ends[i]] for i in mine]
            hit = np.isin(np.concatenate(terms), unit_words[u]).astype(np.int64)
            cuts = np.cumsum([0, *(len(t) for t in terms)])
            shared = np.add.reduceat(np.append(hit, 0), cuts[:-1]) * (cuts[1:] > cuts[:-1])
            x[mine, 5] = shared / np.maximum(1, cuts[1:] - cuts[:-1])
            x[mine, 6] = shared / max(1, len(unit_tokens[u]))
            theirs = [claims.get(candidates[i].key, "") for i in mine]
            x[mine, 7] = cdist([texts[u]], theirs, scorer=fuzz.token_set_ratio)[0] / 100.0
        return x

    def _claims(self, keys: Sequence[int]) -> dict[int, str]:
        held = self.index().claims
        return {k: held.get(k, "") for k in keys}

    def e5_cosines(self, texts: Sequence[str], pairs: list[Candidate]) -> np.ndarray:
        """e5 cosine of each (unit, debunk) pair; debunk vectors are read from the database
        or made once and kept there."""
        return self._e5_cosines([(list(texts), pairs)])[0]

    def _e5_cosines(
        self,
        groups: Sequence[tuple[Sequence[str], list[Candidate]]],
        read: dict[str, np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """:meth:`e5_cosines` of several (texts, pairs) groups (the documents of a batch)
        with one e5 call for all their units and one for the debunks not yet read: e5
        reads a few sentences little faster than one (its weights, 85 MB, are streamed
        per call), so 3 units read alone cost 3 calls and read together about one.
        ``read``: units' e5 vectors already made (by the e5 channel), by text."""
        keys = sorted({c.key for _, pairs in groups for c in pairs})
        version = self.e5_version
        known = self.store.e5_vectors(keys, version=version) if keys else {}
        missing = [k for k in keys if k not in known]
        if missing:
            claims = self._claims(missing)
            made = self.e5([claims.get(k, "") for k in missing])
            fresh = {k: made[i] for i, k in enumerate(missing)}
            self.store.set_e5_vectors(fresh, version=version)
            known.update(fresh)
            with self._lock:
                self._e5_fresh.update(fresh)
        unit_vec = dict(read or {})
        wanted = sorted({texts[c.unit] for texts, pairs in groups for c in pairs} - set(unit_vec))
        if wanted:
            unit_vec.update(zip(wanted, self.e5(wanted), strict=True))
        return [
            np.array([float(unit_vec[texts[c.unit]] @ known[c.key]) for c in pairs], np.float64)
            for texts, pairs in groups
        ]

    # ------------------------------------------------------------ e5 channel
    def _outside_use(self, index: DebunkIndex) -> dict[int, str]:
        """The debunks in a language USE was not trained on (key → language), per index."""
        with self._lock:
            if self._foreign is None or self._foreign[0] is not index:
                outside = {
                    k: lang
                    for k, lang in index.languages.items()
                    if lang and lang not in ENCODER_LANGUAGES
                }
                self._foreign = (index, outside)
            return self._foreign[1]

    def _e5_table(self, index: DebunkIndex, outside_only: bool) -> VectorIndex:
        """The e5 vectors of every debunk (or of those in a language outside USE's), for
        the e5 channel; built once per index. Debunks in reach without a vector are read
        by e5 first when there are at most ``E5_FILL`` of them."""
        with self._lock:
            held = self._e5_tables.get(outside_only)
            if held is not None and held[0] is index:
                return held[1]
        scope = self._outside_use(index) if outside_only else index.languages
        version = self.e5_version
        missing = [(k, c) for k, c in self.store.without_e5(version=version) if k in scope]
        kept: dict[int, np.ndarray] = {}
        if missing and len(missing) <= E5_FILL:
            made = self.e5([claim for _, claim in missing])
            kept = {k: made[i] for i, (k, _) in enumerate(missing)}
            self.store.set_e5_vectors(kept, version=version)
        elif missing:
            log.warning(
                "%d debunks have no e5 vector: texts in Hindi, Ukrainian or Bulgarian (or "
                "debunks in them) are matched across languages only with the %d that do; "
                "`narrascope debunks add FILE --e5` reads them all",
                len(missing),
                len(scope) - len(missing),
            )
        # those just made count even where the file could not keep them (read-only)
        found = kept | self.store.e5_vectors(sorted(scope), version=version)
        keys = np.array(sorted(found), np.int64)
        full = np.stack([found[k] for k in keys]) if len(keys) else np.zeros((0, 384))  # e5's
        table = VectorIndex.build(keys, full.astype(np.float16))
        with self._lock:
            self._e5_tables[outside_only] = (index, table)
            self._e5_fresh = {k: v for k, v in self._e5_fresh.items() if k not in found}
        return table

    def _reach(
        self, groups: Sequence[tuple[list[str], str | None, bool | Sequence[bool]]]
    ) -> tuple[list[list[list[tuple[int, float]]] | None], dict[str, np.ndarray]]:
        """The e5 channel of each (units, language, article) group: per unit, (key, e5
        cosine) of the ``E5_SHORTLIST`` debunks in another language nearest by e5, when the
        units are in a language outside USE's (``ENCODER_LANGUAGES``; reading every debunk)
        or, for a whole post (not the parts of a text: an e5 pass per unit would cost an
        article 70 ms and more), when the database holds debunks in such a language
        (reading those); None for the others. Also the e5 vectors it made, by text (the
        cross head reads them again)."""
        index = self.index()
        outside = self._outside_use(index)
        scopes: list[bool | None] = []
        eligible: list[list[bool]] = []
        for texts, language, article in groups:
            parts = [article] * len(texts) if isinstance(article, bool) else list(article)
            if not texts:
                scopes.append(None)
                eligible.append([])
            elif language and language not in ENCODER_LANGUAGES:
                scopes.append(False)  # every debunk
                eligible.append([True] * len(texts))
            else:
                posts = [not a for a in parts]
                scopes.append(True if outside and any(posts) else None)
                eligible.append(posts)
        wanted = sorted(
            {
                t
                for (texts, _, _), sc, ok in zip(groups, scopes, eligible, strict=True)
                if sc is not None
                for t, e in zip(texts, ok, strict=True)
                if e
            }
        )
        if not wanted:
            return [None] * len(groups), {}
        read = dict(zip(wanted, self.e5(wanted), strict=True))
        languages = index.languages
        out: list[list[list[tuple[int, float]]] | None] = []
        for (texts, language, _), scope, ok in zip(groups, scopes, eligible, strict=True):
            if scope is None:
                out.append(None)
                continue
            table = self._e5_table(index, scope)
            with self._lock:
                fresh = [k for k in self._e5_fresh if not scope or k in outside]
                fresh_rows = np.stack([self._e5_fresh[k] for k in fresh]) if fresh else None
            units = np.stack(
                [
                    read[t] if e else np.zeros(384, np.float32)
                    for t, e in zip(texts, ok, strict=True)
                ]
            ).astype(np.float32)
            rows, cosines = table.nearest(units, 4 * E5_SHORTLIST)
            extra = units @ fresh_rows.T if fresh_rows is not None else None
            found: list[list[tuple[int, float]]] = []
            for u in range(len(texts)):
                pairs = [
                    (int(table.keys[r]), float(c)) for r, c in zip(rows[u], cosines[u], strict=True)
                ]
                if extra is not None:
                    pairs += [(k, float(c)) for k, c in zip(fresh, extra[u], strict=True)]
                best: dict[int, float] = {}
                for key, cos in pairs:
                    if not (language and languages.get(key) == language):
                        best[key] = max(cos, best.get(key, -1.0))
                found.append(
                    sorted(best.items(), key=lambda kv: -kv[1])[:E5_SHORTLIST] if ok[u] else []
                )
            out.append(found)
        return out, read

    def pair_closeness(
        self, days: Sequence[int | None] | None, candidates: list[Candidate]
    ) -> np.ndarray:
        """The :func:`closeness` of each candidate's debunk to its unit's day (``days``,
        one per unit; 0 where either day is unknown)."""
        if not days or all(d is None for d in days):
            return np.zeros(len(candidates))
        unit_day = np.array([np.nan if d is None else d for d in days], np.float64)
        keys = np.fromiter((c.key for c in candidates), np.int64, len(candidates))
        units = np.fromiter((c.unit for c in candidates), np.int64, len(candidates))
        return closeness(self.index().days_of(keys) - unit_day[units])

    def cross_features(self, texts: Sequence[str], candidates: list[Candidate]) -> np.ndarray:
        """The ``CROSS_FEATURES`` row of each candidate."""
        e5 = self.e5_cosines(texts, candidates)
        return (
            np.column_stack([[c.use_cos for c in candidates], e5])
            if candidates
            else (np.zeros((0, len(CROSS_FEATURES))))
        )

    def score(
        self,
        texts: Sequence[str],
        language: str | None,
        vectors: np.ndarray | None = None,
        days: Sequence[int | None] | None = None,
        article: bool | Sequence[bool] = False,
    ) -> list[tuple[Candidate, float]]:
        """Every shortlisted pair with its probability (both stages; nothing thresholded).

        The fast head reads every pair; per unit the best ``RERANK_TOP`` at or above
        ``RERANK_GATE`` are read again with their e5 cosine (the full head), and pairs in
        two languages by the cross-lingual head too; a pair whose debunk is dated near its
        unit's day (``days``, one per unit, see :meth:`unit_days`) by the dated head. The
        highest probability counts. ``article``: the units are parts of a text, a longer
        document's or a post's listed claims (read by the article head in place of the
        fast one); one flag for all units or one per unit.
        """
        return self._score_many([(texts, language, vectors, days, article)])[0]

    def _score_many(self, items: Sequence[_Units]) -> list[list[tuple[Candidate, float]]]:
        """:meth:`score` of several documents' units, their e5 passes made together, and
        their nearest vectors found in one pass over the index when they are all given (a
        small database's vectors are then read once for the batch, not once a document:
        a thread's comments are a document each)."""
        with one_blas_thread():
            cleaned = [[clean_query(t) for t in item[0]] for item in items]
            reach, read = self._reach(
                [(t, item[1], item[4]) for t, item in zip(cleaned, items, strict=True)]
            )
            near = self._nearest_many([item[2] for item in items])
            readings = self.read(
                [(t, item[1], item[4]) for t, item in zip(cleaned, items, strict=True)]
            )
            plans = [
                self._plan(texts, language, vectors, days, article, reached, nearby, reading)
                if texts
                else None
                for texts, (_, language, vectors, days, article), reached, nearby, reading in zip(
                    cleaned, items, reach, near, readings, strict=True
                )
            ]
            live = [p for p in plans if p is not None and p.need]
            cosines = self._e5_cosines(
                [(p.texts, [p.candidates[i] for i in p.need]) for p in live], read
            )
            e5 = {
                id(p): dict(zip(p.need, c, strict=True)) for p, c in zip(live, cosines, strict=True)
            }
            return [self._finish(p, e5.get(id(p), {})) if p else [] for p in plans]

    def read(
        self, groups: Sequence[tuple[Sequence[str], str | None, bool | Sequence[bool]]]
    ) -> list[_Reading | None]:
        """The debunk reader over each (units, language, article) group's posts (the units
        that are not parts of a text: a post whole, a comment), all in one reader call: per
        unit its vector and nearest debunks. None for every group when the matcher does not
        read with the reader (:meth:`reader_table`), and for a group without a post or in a
        language none of the debunks is in: the read head reads only pairs in one language,
        as it was trained (read across languages, unrelated Russian war news was shown
        English fact-checks at 0.5-0.8; the cross head reads those pairs)."""
        index = self.index()
        table = self.reader_table(index) if any(g[0] for g in groups) else None
        if table is None:
            return [None] * len(groups)
        held = self._debunk_languages(index)
        posts: list[list[int]] = []
        for texts, language, article in groups:
            parts = [article] * len(texts) if isinstance(article, bool) else list(article)
            ours = bool(language) and language in held
            posts.append([u for u, part in enumerate(parts) if not part and ours])
        wanted = sorted({g[0][u] for g, mine in zip(groups, posts, strict=True) for u in mine})
        if not wanted:
            return [None] * len(groups)
        vectors = np.asarray(self.reader.encode_units(wanted), np.float32)
        sims = vectors @ table.T
        k = min(READER_RANKS, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < sims.shape[1] else None
        if top is None:
            top = np.broadcast_to(np.arange(sims.shape[1]), sims.shape)
        order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1, kind="stable")
        ranked = np.take_along_axis(top, order, 1)
        row_of = {t: i for i, t in enumerate(wanted)}
        out: list[_Reading | None] = []
        for (texts, _, _), mine in zip(groups, posts, strict=True):
            units = {u: (vectors[row_of[texts[u]]], ranked[row_of[texts[u]]]) for u in mine}
            out.append(_Reading(table, units) if units else None)
        return out

    def _debunk_languages(self, index: DebunkIndex) -> frozenset[str]:
        """The languages the debunks of ``index`` are in, once per index."""
        with self._lock:
            held = self._languages
            if held is None or held[0] is not index:
                held = (index, frozenset(v for v in index.languages.values() if v))
                self._languages = held
            return held[1]

    def _nearest_many(
        self, vectors: Sequence[np.ndarray | None]
    ) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """The nearest rows and cosines of each document's unit ``vectors``, found in one
        pass for all of them (row by row the same as one document at a time); None for
        each when a document's vectors are not given (:meth:`candidates` encodes them)."""
        if any(v is None for v in vectors) or len(vectors) < 2:
            return [None] * len(vectors)
        given = [_unit_rows(v) for v in vectors if v is not None]  # all of them, here
        if not sum(len(v) for v in given):
            return [None] * len(vectors)
        rows, cosines = self.index().vectors.nearest(np.concatenate(given), VECTOR_SHORTLIST)
        cuts = np.cumsum([0, *(len(v) for v in given)])
        return [(rows[a:b], cosines[a:b]) for a, b in pairwise(cuts)]

    def _plan(
        self,
        texts: list[str],
        language: str | None,
        vectors: np.ndarray | None,
        days: Sequence[int | None] | None,
        article: bool | Sequence[bool] = False,
        reach: Sequence[Sequence[tuple[int, float]]] | None = None,
        near: tuple[np.ndarray, np.ndarray] | None = None,
        reading: _Reading | None = None,
    ) -> _Plan | None:
        """The first stage and the fast (or read) head; which pairs the e5 heads read."""
        index = self.index()
        also = reading.nearest_keys(index.keys, READER_SHORTLIST) if reading else None
        candidates = self.candidates(texts, language, vectors, reach, near, also)
        if not candidates:
            return None
        x = self.features(texts, language, candidates)
        unit_of = np.fromiter((c.unit for c in candidates), np.int64, len(candidates))
        parts = np.zeros(len(texts), bool)
        parts[:] = article  # one flag for every unit, or one per unit
        read = np.zeros(len(candidates), bool)
        languages = index.languages
        if index.size < SMALL_DATABASE:
            probs = self.scorer.proba("small", small_features(x, index.size))
            own_head = np.ones(len(candidates), bool)
        else:
            own_head = parts[unit_of]
            probs = np.zeros(len(candidates))
            if reading is not None:  # pairs in the post's language (see :meth:`read`)
                same = np.fromiter(
                    (languages.get(c.key) == language for c in candidates), bool, len(candidates)
                )
                read = np.isin(unit_of, list(reading.units)) & ~own_head & same
            mono, part = np.flatnonzero(~own_head & ~read), np.flatnonzero(own_head)
            if read.any():
                mine = np.flatnonzero(read)
                extra = reading.features(index, [candidates[i] for i in mine])  # type: ignore[union-attr]
                probs[mine] = self.scorer.proba("read", np.hstack([x[mine], extra]))
            if len(mono):
                probs[mono] = self.scorer.proba("fast", x[mono])
            if len(part):
                rows = article_features(x[part], texts, [candidates[i] for i in part])
                probs[part] = self.scorer.proba("article", rows)
        # the full head reads the fast head's probabilities, as it was trained on them
        fast = self.scorer.proba("fast", x) if own_head.any() and self.rerank else probs
        short = np.array([content_words(t, language) < MIN_UNIT_WORDS for t in texts])
        blocked = short[unit_of] & (x[:, _COVERED] < SHORT_UNIT_COVERED)
        full: list[int] = []
        by_unit: dict[int, list[int]] = {}
        for i, c in enumerate(candidates):
            if not blocked[i]:  # no e5 pass for a pair that cannot pass
                by_unit.setdefault(c.unit, []).append(i)
        # the e5 channel's pairs: their e5 cosine is known, the cross head reads them all
        reached = {(u, key): cos for u, found in enumerate(reach or ()) for key, cos in found}
        known: dict[int, float] = {}
        far: list[int] = []
        gate = RERANK_GATE  # on the shown scale; the fast head's own is lower (its shift)
        if self.rerank:
            gate = float(self.scorer.unshifted(np.array([RERANK_GATE]), "fast")[0])
        for rows in by_unit.values():
            # a post the reader read is not reread by e5 (the reader reads it closer)
            if self.rerank and not read[rows[0]]:
                best = sorted(rows, key=lambda i: -probs[i])[:RERANK_TOP]
                full.extend(i for i in best if probs[i] >= (RERANK_GATE if own_head[i] else gate))
            two = [
                i for i in rows if not (language and language == languages.get(candidates[i].key))
            ]
            for i in two:
                cos = reached.get((candidates[i].unit, candidates[i].key))
                if cos is not None:
                    known[i] = cos
            mine = [i for i in two if i not in known and candidates[i].use_cos >= CROSS_MIN_COS]
            far.extend(sorted(mine, key=lambda i: -candidates[i].use_cos)[:CROSS_SHORTLIST])
        cross = sorted(far, key=lambda i: -candidates[i].use_cos)[:CROSS_PER_DOCUMENT]
        cross += sorted(known)
        near = self.pair_closeness(days, candidates)
        return _Plan(
            texts,
            candidates,
            x,
            probs,
            fast,
            own_head,
            by_unit,
            full,
            cross,
            near,
            blocked,
            known,
            read,
        )

    def _finish(self, plan: _Plan, e5: dict[int, float]) -> list[tuple[Candidate, float]]:
        """The e5 heads over the pairs :meth:`_plan` chose, given their e5 cosines."""
        x, probs, candidates = plan.x, plan.probs.copy(), plan.candidates
        e5 = {**e5, **plan.known}
        if plan.full:
            fast = plan.fast
            reread = set(plan.full)
            for rows in plan.by_unit.values():
                mine = [i for i in rows if i in reread]
                if mine:
                    xf = full_features(
                        x[mine], fast[mine], fast[rows].max(), np.array([e5[i] for i in mine])
                    )
                    p = self.scorer.proba("full", xf)
                    # an own head's pair can only lose: compared on the shown scale
                    shown = self.scorer.shifted(p, "rerank")
                    probs[mine] = np.where(plan.own_head[mine], np.minimum(shown, probs[mine]), p)
        # the pairs the fast (or full) head scored: shifted last, by the path's shift
        fast_path = ~plan.own_head & ~plan.read
        path = "rerank" if self.rerank else "fast"
        if plan.cross:
            xc = np.array([[candidates[i].use_cos, e5[i]] for i in plan.cross])
            pc = self.scorer.proba("cross", xc)
            # the cross head is on the shown scale: on the fast path, read back on the
            # fast head's own, so that the shift below returns it unchanged
            mine = fast_path[plan.cross]
            pc[mine] = self.scorer.unshifted(pc[mine], path)
            probs[plan.cross] = np.maximum(probs[plan.cross], pc)
        for head, mine in (
            ("dated", fast_path),
            ("own_dated", plan.own_head),
            ("read_dated", plan.read),
        ):
            dated = np.flatnonzero((plan.near > 0) & mine)
            if len(dated):
                xd = dated_features(probs[dated], plan.near[dated])
                probs[dated] = np.maximum(probs[dated], self.scorer.proba(head, xd))
        if plan.read.any():
            probs[plan.read] = self.scorer.shifted(probs[plan.read], "read")
        if fast_path.any():
            probs[fast_path] = self.scorer.shifted(probs[fast_path], path)
        probs[plan.blocked] = 0.0
        return list(zip(candidates, probs.tolist(), strict=True))

    # ------------------------------------------------------------ documents
    @staticmethod
    def units(doc: Document) -> list[Span]:
        """What a document is matched by: a short post whole, then its listed claims; else
        the posts it embeds (a paragraph of up to ``SHORT_TEXT`` characters signed "— Name
        (@handle) date") whole, then its claims outside them; else its paragraphs of up to
        ``SHORT_TEXT`` characters whole (a tweet-sized unit, as the scorer was trained on,
        whose vector the narrative stage already made) and the sentences of longer ones,
        each of 4 words or more; at most ``MAX_UNITS``. A unit of fewer than
        ``MIN_UNIT_WORDS`` content words is scored, but passes only with a debunk whose
        words it mostly holds (:meth:`score`)."""
        text = doc.text
        if len(text.strip()) <= SHORT_TEXT:
            # whole even when the claim stage ran: the scorer reads tweet-sized units, and
            # a tweet's claim sentences alone lost dev MAP@5 through `analyze` (0.919 ->
            # 0.884: 85 of the 199 dev tweets hold a claim). Its listed claims too: a
            # restatement amid chatter scores low whole (0.19 in 534 characters, 0.89 alone)
            start = len(text) - len(text.lstrip())
            end = len(text.rstrip())
            if end <= start:
                return []
            whole = Span.of(text, start, end)
            claims = [c.span for c in doc.claims if (c.span.start, c.span.end) != (start, end)]
            return [whole, *claims][:MAX_UNITS]
        from narrascope.text.segment import split_paragraphs, split_sentences

        paragraphs = doc.paragraphs or [Span.of(text, s, e) for _, s, e in split_paragraphs(text)]
        if doc.claims:
            # an embedded post is what fact-checkers check, and its claim sentences alone
            # are not (a 2A dev tweet set into a news article, through `analyze`: MAP@5
            # 0.216 by claims, 0.761 with its post whole, at the same cost)
            posts = [
                _stripped(text, p)
                for p in paragraphs
                if len(p.text.strip()) <= SHORT_TEXT and embedded_post_days(p.text)
            ]
            claims = [
                c.span
                for c in doc.claims
                if not any(p.start <= c.span.start and c.span.end <= p.end for p in posts)
            ]
            return (posts + claims)[:MAX_UNITS]
        sentences = doc.sentences or [Span.of(text, s, e) for s, e in split_sentences(text)]
        out: list[Span] = []
        for para in paragraphs:
            if len(para.text.strip()) <= SHORT_TEXT:
                out.append(_stripped(text, para))
            else:
                out.extend(s for s in sentences if para.start <= s.start and s.end <= para.end)
        long_enough = [s for s in out if len(s.text.split()) >= 4]
        return long_enough[:MAX_UNITS]

    @staticmethod
    def is_article(doc: Document) -> bool:
        """Whether ``doc`` is longer than a post (matched by parts; the article head reads
        them)."""
        return len(doc.text.strip()) > SHORT_TEXT

    @staticmethod
    def parts(doc: Document, units: Sequence[Span]) -> list[bool]:
        """Which units are parts of the text, read by the article head (in a database of
        ``SMALL_DATABASE`` debunks or more): every unit of a document longer than a post;
        a post's listed claims but not the post itself (:meth:`units` puts it first). Read
        by the fast head as the post is, the claims of the 2A tweets showed twice as many
        wrong debunks (train: 0.29 a tweet, from 0.14) for +0.008 MAP@5."""
        if DebunkMatcher.is_article(doc):
            return [True] * len(units)
        return [i > 0 for i in range(len(units))]

    @staticmethod
    def unit_days(doc: Document, units: Sequence[Span]) -> list[int | None]:
        """Each unit's day: that of a post embedded in it (its signature, "— Name
        (@handle) January 14, 2020"), else the document's: ``meta["date"]``, else the day
        of the one post it embeds. None where no day is known."""
        date = doc.meta.get("date")
        own = exact_day(str(date)) if date else None
        if own is None:
            embedded = set(embedded_post_days(doc.text))
            own = embedded.pop() if len(embedded) == 1 else None
        out: list[int | None] = []
        for unit in units:
            found = embedded_post_days(unit.text)
            out.append(found[-1] if found else own)
        return out

    @staticmethod
    def narrowest(
        unit: Span,
        claim: str,
        sentences: Sequence[Span],
        language: str | None,
        similarity: Callable[[str, Sequence[str]], np.ndarray] | None = None,
    ) -> Span:
        """The sentence of a paragraph unit that shares the most content words with the
        debunk's claim: the span a reader checks. Function words do not count ("the",
        "in", "by" are in every long sentence and sent readers to the wrong one). Sentences
        that share as many, or none (a debunk in another language), are told apart by
        ``similarity`` (claim, sentences -> one score each; the matcher's USE cosine);
        without it, or when the unit is one sentence, the span is the unit itself."""
        inside = [
            s for s in sentences if unit.start <= s.start and s.end <= unit.end and s.has_words
        ]
        if len(inside) < 2:
            return unit
        said = _content_stems(claim, language)
        shared = [len(said & _content_stems(s.text, language)) for s in inside]
        top = max(shared)
        tied = [s for s, n in zip(inside, shared, strict=True) if n == top]
        if len(tied) == 1:
            return tied[0]
        if similarity is None:
            return unit
        return tied[int(np.argmax(similarity(claim, [s.text for s in tied])))]

    def claim_similarity(self, claim: str, texts: Sequence[str]) -> np.ndarray:
        """USE cosine of ``claim`` with each of ``texts`` (:meth:`narrowest`'s tie-break)."""
        vectors = self.encoder.encode([clean_query(t) for t in (claim, *texts)])
        return vectors[1:] @ vectors[0]

    def unit_vectors(
        self, docs: Sequence[Document], spans: Sequence[list[Span]]
    ) -> list[np.ndarray]:
        """USE vectors of each document's units. A unit that is most of its paragraph
        (``PARAGRAPH_SHARE``; a post, a one-sentence paragraph) reads the paragraph's vector
        from ``doc.tensor`` (what the narrative stage left), so it costs no encoding; the
        others, of every document at once (one encoder call per batch, not per document:
        3 claims cost 10 ms encoded alone), are encoded here."""
        out: list[np.ndarray] = []
        missing: list[tuple[int, int]] = []
        for d, (doc, units) in enumerate(zip(docs, spans, strict=True)):
            tensor = doc.tensor
            have = tensor is not None and len(tensor) > 0
            vectors = np.zeros((len(units), tensor.shape[1] if have else 512), np.float32)
            paragraphs = doc.paragraphs[: len(tensor)] if have else []
            starts = [p.start for p in paragraphs]
            for i, span in enumerate(units):
                j = bisect.bisect_right(starts, span.start) - 1
                para = paragraphs[j] if j >= 0 else None
                if (
                    para is not None
                    and span.end <= para.end
                    and (span.end - span.start >= PARAGRAPH_SHARE * len(para.text.strip()))
                ):
                    vectors[i] = tensor[j]
                else:
                    missing.append((d, i))
            out.append(vectors)
        if missing:
            made = self.encoder.encode([clean_query(spans[d][i].text) for d, i in missing])
            for (d, i), vector in zip(missing, made, strict=True):
                out[d][i] = vector
        return out

    def match(self, doc: Document, *, threshold: float | None = None) -> list[DebunkMatch]:
        """The debunks ``doc`` restates at or above the threshold, best first."""
        return self.match_many([doc], threshold=threshold)[0]

    def match_many(
        self, docs: Sequence[Document], *, threshold: float | None = None
    ) -> list[list[DebunkMatch]]:
        """:meth:`match` of each document, the units of all encoded together."""
        spans = [self.units(doc) for doc in docs]
        cut = self.threshold if threshold is None else threshold
        with one_blas_thread():
            vectors = self.unit_vectors(docs, spans)
            scored = self._score_many(
                [
                    (
                        [s.text for s in units],
                        doc.language,
                        unit_vectors,
                        self.unit_days(doc, units),
                        self.parts(doc, units),
                    )
                    for doc, units, unit_vectors in zip(docs, spans, vectors, strict=True)
                ]
            )
        return [self._matches(d, u, s, cut) for d, u, s in zip(docs, spans, scored, strict=True)]

    def match_and_rank(self, doc: Document) -> tuple[list[DebunkMatch], list[tuple[str, float]]]:
        """What :meth:`match` shows, and every shortlisted debunk id with its best
        probability, best first (for evaluation: one scoring pass for both)."""
        spans = self.units(doc)
        scored = self.score(
            [s.text for s in spans],
            doc.language,
            days=self.unit_days(doc, spans),
            article=self.parts(doc, spans),
        )
        best: dict[int, float] = {}
        for c, p in scored:
            best[c.key] = max(best.get(c.key, 0.0), p)
        keys = sorted(best, key=lambda k: -best[k])
        rows = self.store.by_keys(keys)
        ranking = [(rows[k].id, best[k]) for k in keys if k in rows]
        return self._matches(doc, spans, scored, self.threshold), ranking

    def _matches(
        self,
        doc: Document,
        spans: list[Span],
        scored: list[tuple[Candidate, float]],
        threshold: float,
    ) -> list[DebunkMatch]:
        best: dict[int, tuple[float, int]] = {}
        for c, p in scored:
            if p >= threshold and p > best.get(c.key, (-1.0, 0))[0]:
                best[c.key] = (p, c.unit)
        keys = sorted(best, key=lambda k: -best[k][0])[: self.max_matches]
        rows = self.store.by_keys(keys)
        sentences = doc.sentences
        if keys and not sentences:
            from narrascope.text.segment import split_sentences

            sentences = [Span.of(doc.text, s, e) for s, e in split_sentences(doc.text)]
        out = []
        for k in keys:
            debunk = rows.get(k)
            if debunk is None:
                continue
            p, unit = best[k]
            out.append(
                DebunkMatch(
                    id=debunk.id,
                    claim=debunk.claim,
                    score=p,
                    url=debunk.url,
                    verdict=debunk.verdict,
                    date=debunk.date,
                    claim_span=self.narrowest(
                        spans[unit],
                        debunk.claim,
                        sentences,
                        doc.language,
                        self.claim_similarity,
                    ),
                )
            )
        return out

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc, matches in zip(docs, self.match_many(docs), strict=True):
            doc.debunks = matches
        return docs

    name: ClassVar[str] = "debunks"
