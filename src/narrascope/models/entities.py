"""Entity-role classifier (SemEval-2025 Task 10, subtask 1: entity framing).

Given a document and the character span of one entity mention, predict the main role
(Protagonist / Antagonist / Innocent) and the fine roles (22, each under one main role).
Why this design (measurements in docs/entities-research.md):

* Stage 1 is one multi-output dual ridge (``models.ridge``) over TF-IDF views of the
  mention (its window and sentence with the mention masked, its name, the tokens at its
  edges), a name indicator, a language one-hot and dense blocks: the document's
  narrative probabilities and the USE vector of the mention's paragraph, each once more
  per side of the war (the only views that carry what one language teaches another).
  With ~5k mentions the dual form is one ``n x n`` solve for all 25 outputs, and the
  internal out-of-fold scores (grouped by document) reuse the same kernel.
* Stage 2 ("stacker") is a small logistic regression over those out-of-fold scores, the
  language, the name's role frequencies in training, the other mentions of the name and
  of the document (``document_context``): calibrated probabilities.
* Decisions follow the hierarchy: the main role is the arg-max, fine roles are chosen
  among its children only. Optionally ``fit`` takes unannotated candidate spans
  (negatives) and learns a "framed" probability, so detected entities that are merely
  mentioned can be left without a role.

The model is pure: the paragraph vectors are an argument (:func:`mention_paragraph_vectors`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import regex
import scipy.sparse as sp

from narrascope.models.artefact import Estimator, Int8Matrix, check_rows
from narrascope.models.folds import group_folds
from narrascope.models.linear import language_block, platt, sigmoid
from narrascope.models.ridge import columns_to_keep, dual_solve, kernel, out_of_fold_scores
from narrascope.models.tfidf import TOKEN_PATTERN, TfidfViews, View
from narrascope.taxonomy import FINE_ROLES, MAIN_ROLES
from narrascope.text.segment import segment, split_sentences
from narrascope.text.sides import SIDES, entity_side

if TYPE_CHECKING:
    from narrascope.doc import Document
    from narrascope.models.encoder import SentenceEncoder

MASK = " ENTX "  # replaces the mention in its context views (lower-cased: "entx")
_NAME_STRIP = " \t\r\n\"'«»“”„‘’().,;:!?"
_SPACES = re.compile(r"\s+")
# words with their combining marks (Hindi postpositions such as "ने" are a letter and a
# vowel sign, which TOKEN_PATTERN drops), or one punctuation character
_EDGE_TOKEN = regex.compile(r"[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]")
_EDGE_REACH = 40  # characters looked at on each side of the mention
N_CUES = 3  # document-level cues of the framed head (see _framed_cues)
PARAGRAPH_WIDTH = 512
FEATURE_ROWS = 2048  # mentions whose feature rows are built at once (predict_proba)

# view -> (text it reads, analyzer); the n-gram ranges are parameters
TEXT_VIEWS = {
    "win_char": ("win", "char_wb"),
    "win_word": ("win", "word"),
    "sent_char": ("sent", "char_wb"),
    "sent_word": ("sent", "word"),
    "name_char": ("name", "char_wb"),
    "edge": ("edge", "word"),
}
VIEW_WEIGHTS = {**dict.fromkeys(TEXT_VIEWS, 1.0), "name_id": 1.0}
SIDE_TAGS = ("", *SIDES)  # by _Mentions.side

Span = tuple[int, int]
# Per-document narrative probabilities, label -> probability (None: unknown)
Narratives = Sequence[Mapping[str, float] | None]


def normalise_name(text: str) -> str:
    """Lower-cased mention string without surrounding quotes/punctuation (the prior's key)."""
    return _SPACES.sub(" ", text.strip(_NAME_STRIP).lower())


# Every fine role in the taxonomy's order, and each one's main-role index: the columns of
# the fine-tuned role reader (models.encoder_roles) and of its training.
FINE = tuple(FINE_ROLES)
FINE_PARENT = np.array([MAIN_ROLES.index(FINE_ROLES[f]) for f in FINE])


def decide_roles(
    main: np.ndarray,
    fine: np.ndarray,
    fine_labels: Sequence[str],
    parents: np.ndarray,
    second_threshold: float,
) -> list[tuple[str, list[str]]]:
    """(main role, fine roles) per row, respecting the role hierarchy: the most probable
    main role; among its children the most probable fine role, plus the second when its
    probability reaches ``second_threshold`` (most mentions have one; EMR punishes extras).
    ``parents[j]`` is the main-role index of ``fine_labels[j]``."""
    out: list[tuple[str, list[str]]] = []
    for pm, pf in zip(main, fine, strict=True):
        m = int(pm.argmax())
        p = np.where(parents == m, pf, -1.0)
        order = np.argsort(-p, kind="stable")
        chosen = [order[0]]
        if len(order) > 1 and p[order[1]] >= second_threshold:
            chosen.append(order[1])
        out.append((MAIN_ROLES[m], [fine_labels[j] for j in chosen if p[j] >= 0]))
    return out


@dataclass
class RoleScores:
    """Per-mention probabilities, mentions flattened in (document, mention) order.

    ``main`` is ``(n, 3)`` over ``MAIN_ROLES``; ``fine`` is ``(n, len(fine_labels))``, the
    probability that each fine role is *the* (first) role of the mention; ``framed`` is
    the probability that the mention is framed at all (``None`` for models trained
    without negatives); ``doc`` gives each row's document index.
    """

    main: np.ndarray
    fine: np.ndarray
    framed: np.ndarray | None
    doc: np.ndarray


@dataclass
class _Mentions:
    """Feature texts of a batch of mentions (one row per mention)."""

    texts: dict[str, list[str]]  # "win", "sent", "name", "edge" (the views' sources)
    keys: list[str]  # "<lang>|<normalised name>"
    languages: list[str]
    doc: np.ndarray
    group: np.ndarray  # rows with the same (document, name) share a group id
    side: np.ndarray  # 1 + index in SIDES of the name's side, 0 for none
    narr: np.ndarray | None = None  # (n, n_narrative_labels) document probabilities
    paragraph: np.ndarray | None = None  # (n, 512) USE vector of each mention's paragraph


def _mention_rows(m: _Mentions, lo: int, hi: int) -> _Mentions:
    """Rows ``lo:hi`` of a batch of mentions (what their features are built from)."""
    return _Mentions(
        {view: rows[lo:hi] for view, rows in m.texts.items()},
        m.keys[lo:hi],
        m.languages[lo:hi],
        m.doc[lo:hi],
        m.group[lo:hi],
        m.side[lo:hi],
        None if m.narr is None else m.narr[lo:hi],
        None if m.paragraph is None else m.paragraph[lo:hi],
    )


def edge_text(text: str, start: int, end: int, width: int = 2) -> str:
    """The ``width`` tokens on each side of a mention, tagged by position: what governs
    it ("by", "against", Hindi "ने" after an agent, "पर" after a target) and what it does."""
    reach = _EDGE_REACH * width // 2
    left = _EDGE_TOKEN.findall(text[max(0, start - reach) : start].lower())[-width:]
    right = _EDGE_TOKEN.findall(text[end : end + reach].lower())[:width]
    out = [f"l{k + 1}:{w}" for k, w in enumerate(reversed(left))]
    out += [f"r{k + 1}:{w}" for k, w in enumerate(right)]
    if len(left) >= 2:
        out.append(f"l21:{left[-2]}_{left[-1]}")
    if len(right) >= 2:
        out.append(f"r12:{right[0]}_{right[1]}")
    return " ".join(out)


def mention_texts(
    texts: Sequence[str],
    languages: Sequence[str | None],
    mentions: Sequence[Sequence[Span]],
    window: int,
    edge_width: int = 2,
) -> _Mentions:
    """The text of every view for every mention (pure Python, no model needed).

    Each edge token comes once more tagged with the side of the mention's name
    ("russia|r1:ने"), so what a side does is learned over all its names."""
    out: dict[str, list[str]] = {"win": [], "sent": [], "name": [], "edge": []}
    keys: list[str] = []
    langs: list[str] = []
    doc: list[int] = []
    group: list[int] = []
    side: list[int] = []
    groups: dict[tuple[int, str], int] = {}
    side_index = {s: j + 1 for j, s in enumerate(SIDES)}
    for i, (text, lang, spans) in enumerate(zip(texts, languages, mentions, strict=True)):
        lang = lang or ""
        sentences = split_sentences(text) if spans else []
        starts = [s for s, _ in sentences]
        for start, end in spans:
            if not 0 <= start < end <= len(text):
                raise ValueError(f"mention span {(start, end)} outside document {i}")
            out["win"].append(
                text[max(0, start - window) : start] + MASK + text[end : end + window]
            )
            k = bisect_right(starts, start) - 1
            a, b = sentences[k] if k >= 0 else (start, end)
            a, b = min(a, start), max(b, end)
            out["sent"].append(text[a:start] + MASK + text[end:b])
            name = normalise_name(text[start:end])
            s = side_index.get(entity_side(name) or "", 0)
            edge = edge_text(text, start, end, edge_width)
            if s:
                edge += "".join(f" {SIDE_TAGS[s]}|{t}" for t in edge.split())
            out["edge"].append(edge)
            out["name"].append(name)
            keys.append(f"{lang}|{name}")
            langs.append(lang)
            doc.append(i)
            group.append(groups.setdefault((i, name), len(groups)))
            side.append(s)
    return _Mentions(
        out, keys, langs, np.asarray(doc, dtype=int), np.asarray(group, dtype=int), np.array(side)
    )


# which sides oppose which (indices are 1 + position in SIDES, as in _Mentions.side)
_OPPOSED = {
    1 + j: [1 + k for k, o in enumerate(SIDES) if (s == "russia") != (o == "russia")]
    for j, s in enumerate(SIDES)
}


def document_context(
    scores: np.ndarray,
    doc: np.ndarray,
    group: np.ndarray,
    side: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Per mention, the weighted mean scores of three sets of the document's other
    mentions, each followed by how much of it there is (capped at 1): mentions of other
    names; other names of the same side; names of an opposing side. Zeros when a set is
    empty. ``weights`` (default 1): how much each mention counts, e.g. its probability
    of being framed when the mentions were detected rather than given."""
    n, d = scores.shape
    if n == 0:
        return np.zeros((0, 3 * (d + 1)))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    n_sides = len(SIDES) + 1
    n_docs = int(doc.max()) + 1
    name_s, name_w = _group_sums(scores, group, w)
    doc_s, doc_w = _group_sums(scores, doc, w)
    cell = doc * n_sides + side
    side_s, side_w = _group_sums(scores, cell, w, n_docs * n_sides)
    own_s, own_w = name_s[group], name_w[group]
    sets = [(doc_s[doc] - own_s, doc_w[doc] - own_w)]
    same_s, same_w = side_s[cell] - own_s, side_w[cell] - own_w
    has_side = side > 0
    sets.append((same_s * has_side[:, None], same_w * has_side))
    opp_s, opp_w = np.zeros((n, d)), np.zeros(n)
    for j, opposed in _OPPOSED.items():
        rows = side == j
        for k in opposed:
            opp_s[rows] += side_s[doc[rows] * n_sides + k]
            opp_w[rows] += side_w[doc[rows] * n_sides + k]
    sets.append((opp_s, opp_w))
    out = []
    for total, weight in sets:
        weight = np.where(weight > 1e-9, weight, 0.0)
        mean = np.divide(total, weight[:, None], out=np.zeros((n, d)), where=weight[:, None] > 0)
        out += [mean, np.minimum(weight, 1.0)[:, None]]
    return np.hstack(out)


class EntityRoleClassifier(Estimator):
    """Two-stage (TF-IDF dual ridge -> logistic stacker) entity-role classifier.

    Parameters: the views' ``window`` (characters each side), ``edge_width`` (tokens each
    side), n-gram ranges, ``min_df`` / ``max_df`` / ``max_features`` (every view) and
    ``view_weights`` (the six views and ``name_id``, the name indicator); the dense
    blocks' weights (0 leaves a block out; ``paragraph_languages``: the languages whose
    paragraph vectors are read); the ridge ``alpha`` and ``keep_features`` (n-gram
    columns kept by pruning); the stacker (``calibration_folds``, ``stack_c``,
    ``prior_smoothing``, ``document_context`` weight, ``main_from_fine``: the share of the
    main-role probability taken from its fine roles' summed probabilities); decisions
    (``second_threshold``); the framed head (``framed_c``, ``framed_folds``) and the
    framed-probability thresholds the stage applies (``min_framed``, pooled, and
    ``min_framed_by_language``, both chosen in CV by ``narrascope train entities``).

    ``fine_labels_`` lists the fine roles seen in training (sorted); ``parent_`` gives the
    index in ``MAIN_ROLES`` of each one's main role.
    """

    artefact_what = "entity-role model"
    train_hint = "train one with `narrascope train entities`"

    def __init__(
        self,
        *,
        window: int = 200,
        edge_width: int = 2,
        char_ngrams: tuple[int, int] = (2, 5),
        word_ngrams: tuple[int, int] = (1, 2),
        name_ngrams: tuple[int, int] = (2, 4),
        token_pattern: str = TOKEN_PATTERN,
        min_df: int = 2,
        max_df: float = 0.9,
        max_features: int = 200_000,
        view_weights: Mapping[str, float] | None = None,
        language_weight: float = 1.0,
        narrative_weight: float = 1.0,
        side_narrative_weight: float = 1.0,
        paragraph_weight: float = 1.0,
        side_paragraph_weight: float = 1.0,
        paragraph_languages: Sequence[str] = ("en", "pt", "ru"),
        alpha: float = 1.0,
        keep_features: int = 60_000,
        calibration_folds: int = 5,
        stack_c: float = 1.0,
        prior_smoothing: float = 2.0,
        document_context: float = 1.0,
        main_from_fine: float = 0.5,
        second_threshold: float = 0.5,
        framed_c: float = 0.3,
        framed_folds: int = 3,
        min_framed: float = 0.5,
        min_framed_by_language: Mapping[str, float] | None = None,
        seed: int = 0,
    ) -> None:
        self._set_params(locals())

    # ---------------------------------------------------------------- settings
    @property
    def uses_narratives(self) -> bool:
        return self.narrative_weight > 0 or self.side_narrative_weight > 0

    @property
    def uses_paragraphs(self) -> bool:
        return self.paragraph_weight > 0 or self.side_paragraph_weight > 0

    def _weights(self) -> dict[str, float]:
        weights = {**VIEW_WEIGHTS, **(self.view_weights or {})}
        unknown = set(weights) - set(VIEW_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown views {sorted(unknown)}; known: {sorted(VIEW_WEIGHTS)}")
        return weights

    def _views(self) -> dict[str, View]:
        """The TF-IDF views with a positive weight, in :data:`TEXT_VIEWS` order."""
        weights = self._weights()
        views = {}
        for name, (source, kind) in TEXT_VIEWS.items():
            if name == "edge":  # position-tagged tokens, one at a time
                grams, pattern = (1, 1), r"\S+"
            elif kind == "word":
                grams, pattern = self.word_ngrams, self.token_pattern
            else:
                grams = self.name_ngrams if name == "name_char" else self.char_ngrams
                pattern = TOKEN_PATTERN  # (char_wb ignores it)
            w = weights[name]
            if w > 0:
                views[name] = View(
                    kind, tuple(grams), self.min_df, self.max_features, pattern, w, source
                )
        return views

    def _set_labels(self, fine: Sequence[str]) -> None:
        unknown = [f for f in fine if f not in FINE_ROLES]
        if unknown:
            raise ValueError(f"fine roles outside the taxonomy: {unknown}")
        self.fine_labels_ = sorted(fine)
        self.parent_ = np.array([MAIN_ROLES.index(FINE_ROLES[f]) for f in self.fine_labels_])

    def _targets(
        self, main_roles: Sequence[str], fine_roles: Sequence[Sequence[str]]
    ) -> np.ndarray:
        """[main one-hot | fine roles, each of k roles weighted 1/k] per mention."""
        y = np.zeros((len(main_roles), 3 + len(self.fine_labels_)))
        index = {f: j for j, f in enumerate(self.fine_labels_)}
        for r, (main, fines) in enumerate(zip(main_roles, fine_roles, strict=True)):
            y[r, MAIN_ROLES.index(main)] = 1.0
            fs = [index[f] for f in dict.fromkeys(fines) if f in index]
            for j in fs:
                y[r, 3 + j] = 1.0 / len(fs)
        return y

    # ---------------------------------------------------------------- features
    def _narrative_rows(self, narratives: Narratives | None, n_docs: int) -> np.ndarray:
        """Per document, the probabilities in ``narrative_labels_`` order; documents
        without any (``None``, or no ``narratives`` at all) get the training mean."""
        out = np.tile(self.narrative_mean_, (n_docs, 1)).astype(np.float32)
        if narratives is not None and len(narratives) != n_docs:
            raise ValueError("narratives must have one entry (or None) per document")
        index = {lab: j for j, lab in enumerate(self.narrative_labels_)}
        for i, probs in enumerate(narratives or ()):
            if probs is not None:  # labels are matched by name; unknown ones are ignored
                out[i] = 0.0
                for lab, p in probs.items():
                    if lab in index:
                        out[i, index[lab]] = float(p)
        return out

    def _mentions(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        mentions: Sequence[Sequence[Span]],
        narratives: Narratives | None,
        paragraph_vectors: np.ndarray | None,
    ) -> _Mentions:
        """mention_texts plus the document-level rows the dense blocks read."""
        m = mention_texts(texts, languages, mentions, self.window, self.edge_width)
        if self.uses_narratives:
            m.narr = self._narrative_rows(narratives, len(texts))[m.doc]
        if self.uses_paragraphs:
            if paragraph_vectors is None:
                paragraph_vectors = mention_paragraph_vectors(
                    texts, mentions, self.paragraph_languages, languages=languages
                )
            vectors = np.asarray(paragraph_vectors, dtype=np.float32)
            if vectors.shape != (len(m.keys), PARAGRAPH_WIDTH):
                raise ValueError(
                    f"paragraph_vectors must be (n_mentions, {PARAGRAPH_WIDTH}), "
                    f"not {vectors.shape}"
                )
            read = np.isin(m.languages, list(self.paragraph_languages))
            m.paragraph = vectors * read[:, None]
        return m

    def _dense_blocks(self, m: _Mentions, names: list[str], langs: list[str]) -> list[Any]:
        """Name indicator, language one-hot, and the narrative and paragraph blocks, each
        as is and once per side (zero outside the mention's own side), so a weight is
        learned per (side, column); a block whose weight is 0 is left out."""
        name_index = {k: j for j, k in enumerate(names)}
        rows = [r for r, k in enumerate(m.keys) if k in name_index]
        cols = [name_index[m.keys[r]] for r in rows]
        wid = self._weights()["name_id"]
        blocks = [
            sp.csr_matrix(
                (np.full(len(rows), wid, np.float32), (rows, cols)),
                shape=(len(m.keys), len(names)),
            ),
            sp.csr_matrix(language_block(m.languages, langs, self.language_weight)),
        ]

        def plain_and_per_side(block: np.ndarray, weight: float, side_weight: float) -> None:
            if weight > 0:
                blocks.append(sp.csr_matrix((block * weight).astype(np.float32)))
            if side_weight > 0:
                per_side = [(m.side == j + 1)[:, None] * block for j in range(len(SIDES))]
                blocks.append(sp.csr_matrix((np.hstack(per_side) * side_weight).astype(np.float32)))

        if m.narr is not None:
            narr = m.narr / (np.linalg.norm(m.narr, axis=1, keepdims=True) + 1e-12)
            plain_and_per_side(narr, self.narrative_weight, self.side_narrative_weight)
        if m.paragraph is not None:  # centred on the training mean, L2-normalised
            known = (np.abs(m.paragraph).sum(axis=1) > 0)[:, None]
            u = (m.paragraph - self.paragraph_mean_) * known
            u /= np.linalg.norm(u, axis=1, keepdims=True) + 1e-12
            plain_and_per_side(u, self.paragraph_weight, self.side_paragraph_weight)
        return blocks

    def _n_features(self) -> int:
        n = self.tfidf_.width + len(self.names_) + len(self.languages_)
        per_block = (self.narrative_weight > 0) + len(SIDES) * (self.side_narrative_weight > 0)
        n += len(self.narrative_labels_) * per_block
        if self.uses_paragraphs:
            per_block = (self.paragraph_weight > 0) + len(SIDES) * (self.side_paragraph_weight > 0)
            n += PARAGRAPH_WIDTH * per_block
        return n

    def _features(self, m: _Mentions) -> sp.csr_matrix:
        blocks = self.tfidf_.transform(m.texts) + self._dense_blocks(
            m, self.names_, self.languages_
        )
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def _stack_features(
        self,
        scores: np.ndarray,
        m: _Mentions,
        prior: np.ndarray,
        counts: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> np.ndarray:
        """Stage-2 inputs: scores, language, name prior (+ log count), same-name mean and
        the document context (``weights``: how much each mention counts as context)."""
        lang = language_block(m.languages, self.languages_, 1.0)
        blocks = [scores, lang, prior, np.log1p(counts)[:, None], _mean_of_others(scores, m.group)]
        if self.document_context > 0:
            ctx = document_context(scores, m.doc, m.group, m.side, weights)
            blocks.append(ctx * self.document_context)
        return np.hstack(blocks)

    def _lookup_prior(
        self, keys: Sequence[str], names: list[str], counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Smoothed role frequencies of each key's name (zeros when unseen) and its count."""
        index = {k: j for j, k in enumerate(names)}
        prior = np.zeros((len(keys), counts.shape[1]))
        total = np.zeros(len(keys))
        for r, key in enumerate(keys):
            j = index.get(key)
            if j is not None:
                row = counts[j]
                total[r] = row[:3].sum()
                prior[r] = row / (total[r] + self.prior_smoothing)
        return prior, total

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        mentions: Sequence[Sequence[Span]],
        main_roles: Sequence[Sequence[str]],
        fine_roles: Sequence[Sequence[Sequence[str]]],
        *,
        negatives: Sequence[Sequence[Span]] | None = None,
        narratives: Narratives | None = None,
        paragraph_vectors: np.ndarray | None = None,
        negative_paragraph_vectors: np.ndarray | None = None,
    ) -> EntityRoleClassifier:
        """Fit on documents, their mention spans and each mention's gold roles.

        ``mentions[i]`` are ``(start, end_exclusive)`` character offsets in ``texts[i]``;
        ``main_roles[i][j]`` / ``fine_roles[i][j]`` are the roles of mention ``j``.
        ``negatives``: spans of entities mentioned but not framed (learns ``framed``).
        ``narratives``: each document's narrative probabilities (label -> probability)
        from a narrative model that did not see it (``training.entities``).
        ``paragraph_vectors`` / ``negative_paragraph_vectors``: each span's paragraph
        vector (:func:`mention_paragraph_vectors`); None: encoded with
        ``SentenceEncoder.shared()``.
        """
        if not (len(texts) == len(languages) == len(mentions) == len(main_roles)):
            raise ValueError("texts, languages, mentions and roles must have the same length")
        flat_main = [r for roles in main_roles for r in roles]
        flat_fine = [f for roles in fine_roles for f in roles]
        if len(flat_main) != sum(len(s) for s in mentions) or len(flat_fine) != len(flat_main):
            raise ValueError("every mention needs one main role and a list of fine roles")
        if len(flat_main) < 4:
            raise ValueError("need at least four mentions to fit")
        if self.uses_narratives and (narratives is None or all(p is None for p in narratives)):
            raise ValueError("this configuration needs the documents' narratives")
        self._set_labels(sorted({f for fs in flat_fine for f in fs}))
        y = self._targets(flat_main, flat_fine)
        self.narrative_labels_: list[str] = []
        self.narrative_mean_: np.ndarray | None = None
        if narratives is not None and self.uses_narratives:
            self.narrative_labels_ = sorted({lab for p in narratives if p for lab in p})
            self.narrative_mean_ = np.zeros(len(self.narrative_labels_), np.float32)
            given = self._narrative_rows(narratives, len(texts))
            known = [i for i, p in enumerate(narratives) if p is not None]
            self.narrative_mean_ = given[known].mean(axis=0)
        m = self._mentions(texts, languages, mentions, narratives, paragraph_vectors)
        self.paragraph_mean_: np.ndarray | None = None
        if m.paragraph is not None:  # centre on the training mentions that have a vector
            rows = m.paragraph[np.abs(m.paragraph).sum(axis=1) > 0]
            self.paragraph_mean_ = (
                rows.mean(axis=0) if len(rows) else np.zeros(PARAGRAPH_WIDTH, np.float32)
            )
        self.languages_ = sorted({la for la in m.languages if la})
        # Stage 1: TF-IDF views, n-gram columns pruned to what matters, dual ridge.
        self.tfidf_ = TfidfViews(self._views(), max_df=self.max_df)
        raw = self.tfidf_.fit_raw(m.texts)
        names = sorted(set(m.keys))
        dense = self._dense_blocks(m, names, self.languages_)
        x = sp.hstack(self.tfidf_.weighted(raw) + dense, format="csr", dtype=np.float32)
        n_text = self.tfidf_.width
        if self.keep_features and n_text > self.keep_features:
            keep = columns_to_keep(x, y, n_text, self.keep_features, self.alpha)
            raw = self.tfidf_.prune(raw, keep)
            x = sp.hstack(self.tfidf_.weighted(raw) + dense, format="csr", dtype=np.float32)
        k = kernel(x)
        a, mu = dual_solve(k, y, self.alpha)
        self.coef_ = Int8Matrix.from_dense(np.asarray(x.T @ a, dtype=np.float32))
        self.intercept_ = mu.astype(np.float32)
        # Internal out-of-fold stage-1 scores and in-fold name priors train the stacker.
        folds = group_folds(m.doc, m.languages, n_folds=self.calibration_folds, seed=self.seed)
        oof = out_of_fold_scores(k, y, folds, self.alpha)
        prior, counts = np.zeros_like(y), np.zeros(len(y))
        for tr, te in folds:
            table, cnt = _name_table([m.keys[r] for r in tr], y[tr])
            prior[te], counts[te] = self._lookup_prior([m.keys[r] for r in te], table, cnt)
        self.stack_main_, self.stack_fine_ = self._fit_stackers(
            self._stack_features(oof, m, prior, counts), y
        )
        self.names_, cnt = _name_table(m.keys, y)
        self.prior_ = cnt.astype(np.float16)  # role counts per name (what ships)
        self.framed_: np.ndarray | None = None
        if negatives is not None and any(negatives):
            m_neg = self._mentions(
                texts, languages, negatives, narratives, negative_paragraph_vectors
            )
            self.framed_ = self._fit_framed(texts, x, m, m_neg)
        self.meta = {
            "n_train_docs": len(texts),
            "n_train_mentions": len(y),
            "n_negatives": 0 if negatives is None else sum(len(s) for s in negatives),
            "languages": self.languages_,
        }
        return self

    def _fit_stackers(self, feats: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights (last row = intercept) of the main (3-way) and fine-role logistic
        stackers; a mention with k fine roles is k rows of weight 1/k."""
        from sklearn.linear_model import LogisticRegression

        rows, cls = np.nonzero(y[:, 3:])
        stack_main = LogisticRegression(C=self.stack_c, max_iter=5000)
        stack_fine = LogisticRegression(C=self.stack_c, max_iter=5000)
        stack_main.fit(feats, y[:, :3].argmax(axis=1))
        stack_fine.fit(feats[rows], cls, sample_weight=y[rows, 3 + cls])
        return _weights_of(stack_main, 3), _weights_of(stack_fine, len(self.fine_labels_))

    def _fit_framed(
        self, texts: Sequence[str], x_pos: sp.csr_matrix, m_pos: _Mentions, m_neg: _Mentions
    ) -> np.ndarray:
        """Logistic regression, framed (gold) vs merely mentioned (negatives), in primal form.

        Detected negatives outnumber gold mentions ~6:1, so the dual kernel of the role
        model (n x n) would not fit in memory; the primal fit over the same features plus
        a few document-level cues is seconds. Platt-calibrated on out-of-fold scores
        (grouped by document) because the in-sample fit is over-confident. Returns
        ``[coef (features + cues), intercept, platt a, platt b]``.
        """
        from sklearn.linear_model import LogisticRegression

        x = sp.vstack(
            [
                sp.hstack([x_pos, _framed_cues(texts, m_pos)]),
                sp.hstack([self._features(m_neg), _framed_cues(texts, m_neg)]),
            ],
            format="csr",
        )
        y = np.r_[np.ones(x_pos.shape[0]), np.zeros(len(m_neg.keys))]

        def fit(rows: np.ndarray) -> Any:
            return LogisticRegression(C=self.framed_c, max_iter=3000).fit(x[rows], y[rows])

        oof = np.zeros(len(y))
        folds = group_folds(
            np.r_[m_pos.doc, m_neg.doc],
            m_pos.languages + m_neg.languages,
            n_folds=self.framed_folds,
            seed=self.seed,
        )
        for tr, te in folds:
            oof[te] = fit(tr).decision_function(x[te])
        model = fit(np.arange(len(y)))
        pa, pb = platt(oof, y)
        return np.r_[model.coef_.ravel(), model.intercept_[0], pa, pb].astype(np.float32)

    # ----------------------------------------------------------------- predict
    def predict_proba(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        mentions: Sequence[Sequence[Span]],
        narratives: Narratives | None = None,
        *,
        paragraph_vectors: np.ndarray | None = None,
        given: bool = False,
    ) -> RoleScores:
        """Calibrated role probabilities of every mention (flattened, see RoleScores).

        ``narratives``: per document, the narrative stage's probabilities (label ->
        probability) or ``None``; models that use them fall back to the training mean.
        ``paragraph_vectors``: as in :meth:`fit` (None: encoded with the shared encoder).
        ``given``: the mentions are the framed ones (as in the shared task), so each
        counts fully as document context; otherwise (detected mentions) each counts as
        much as its framed probability, since the model learned context from framed
        mentions only.
        """
        self._check_fitted()
        if not (len(texts) == len(languages) == len(mentions)):
            raise ValueError("texts, languages and mentions must have the same length")
        if not any(mentions):
            n_fine = len(self.fine_labels_)
            empty = np.zeros((0, 3), np.float32), np.zeros((0, n_fine), np.float32)
            framed = np.zeros(0, np.float32) if self.framed_ is not None else None
            return RoleScores(*empty, framed, np.zeros(0, dtype=int))
        m = self._mentions(texts, languages, mentions, narratives, paragraph_vectors)
        cues = _framed_cues(texts, m) if self.framed_ is not None else None
        # The feature rows of a mention depend on it alone: built a chunk at a time, so
        # their memory stays bounded however many mentions a long text has.
        parts = []
        for lo in range(0, len(m.keys), FEATURE_ROWS):
            x = self._features(_mention_rows(m, lo, lo + FEATURE_ROWS))
            z = None
            if cues is not None:
                w = self.framed_
                xz = sp.hstack([x, cues[lo : lo + FEATURE_ROWS]], format="csr")
                z = np.asarray(xz @ w[:-3]).ravel() + w[-3]
            parts.append((np.asarray(x @ self.coef_.dense) + self.intercept_, z))
        scores = np.vstack([p for p, _ in parts])
        framed = None
        if cues is not None:
            w = self.framed_
            z = np.concatenate([z for _, z in parts])
            framed = sigmoid(w[-2] * z + w[-1]).astype(np.float32)
        prior, counts = self._lookup_prior(m.keys, self.names_, self.prior_.astype(np.float32))
        feats = self._stack_features(scores, m, prior, counts, None if given else framed)
        main, fine = self._stacked(feats)
        return RoleScores(main.astype(np.float32), fine.astype(np.float32), framed, m.doc)

    def _stacked(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(main, fine) probabilities: the main stacker mixed with its children's sum."""
        feats = np.hstack([feats, np.ones((len(feats), 1))])
        fine = _softmax(feats @ self.stack_fine_)
        fine_sum = np.zeros((len(fine), 3))
        np.add.at(fine_sum.T, self.parent_, fine.T)
        share = self.main_from_fine
        return (1.0 - share) * _softmax(feats @ self.stack_main_) + share * fine_sum, fine

    def decide(self, scores: RoleScores) -> list[tuple[str, list[str]]]:
        """(main role, fine roles) per mention, respecting the role hierarchy.

        The main role is the most probable one; fine roles are chosen among its children
        only: the most probable, plus the second when its probability reaches
        ``second_threshold`` (most mentions have one fine role; EMR punishes extras).
        """
        return decide_roles(
            scores.main, scores.fine, self.fine_labels_, self.parent_, self.second_threshold
        )

    def predict(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        mentions: Sequence[Sequence[Span]],
        narratives: Narratives | None = None,
        *,
        paragraph_vectors: np.ndarray | None = None,
        given: bool = True,
    ) -> list[list[tuple[str, list[str]]]]:
        """Per document, (main role, fine roles) of each of its mentions (``given``: see
        :meth:`predict_proba`; the mentions one asks roles for are usually the framed ones)."""
        scores = self.predict_proba(
            texts, languages, mentions, narratives, paragraph_vectors=paragraph_vectors, given=given
        )
        flat = iter(self.decide(scores))
        return [[next(flat) for _ in spans] for spans in mentions]

    # ------------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        state = {key: getattr(self, f"{key}_") for key in _STATE}
        state = {key: value for key, value in state.items() if value is not None}
        return {**state, **self.tfidf_.get_state()}

    def _set_state(self, state: dict[str, Any]) -> None:
        for key in _STATE:  # (the optional arrays are absent when unused)
            setattr(self, f"{key}_", state.get(key))
        self._set_labels(self.fine_labels_)
        self.tfidf_ = TfidfViews(self._views(), max_df=self.max_df)
        self.tfidf_.set_state(state)
        n = self._n_features()
        check_rows("coef", self.coef_, n)
        check_rows("prior", self.prior_, len(self.names_))
        mean = self.narrative_mean_
        if self.uses_narratives and (mean is None or len(mean) != len(self.narrative_labels_)):
            raise ValueError("narrative labels and their mean do not match")
        if self.uses_paragraphs and self.paragraph_mean_ is None:
            raise ValueError("paragraph features without their mean")
        if self.framed_ is not None:
            check_rows("framed", self.framed_, n + N_CUES + 3)


# learned state saved as is (the TF-IDF views add their vocabularies and idf weights)
_STATE = (
    "fine_labels",  # sorted; parent_ is derived
    "languages",
    "names",  # the name indicator's vocabulary and the prior's rows ("<lang>|<name>")
    "narrative_labels",
    "coef",  # Int8Matrix, (features, 3 + fine roles): the stage-1 ridge
    "intercept",
    "prior",  # float16 role counts of each name in training
    "stack_main",  # (stacker inputs + 1, 3), last row = intercept
    "stack_fine",
    "narrative_mean",  # training mean of the narrative probabilities (when used)
    "paragraph_mean",  # training mean of the paragraph vectors (when used)
    "framed",  # the framed head (when fitted with negatives), see _fit_framed
)


def _weights_of(model: Any, n_classes: int) -> np.ndarray:
    """A fitted LogisticRegression as ``(features + 1, n_classes)`` float32 weights, last
    row the intercept; a class never seen as a training target gets ~0 probability."""
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # binary LogisticRegression has one coef row
        coef, intercept = np.vstack([-coef, coef]) / 2, np.r_[-intercept, intercept] / 2
    w = np.zeros((coef.shape[1] + 1, n_classes))
    w[-1, :] = -30.0
    w[:-1, model.classes_] = coef.T
    w[-1, model.classes_] = intercept
    return w.astype(np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _mean_of_others(scores: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per row, the mean score of the other rows of its group (its own when alone)."""
    sums, counts = _group_sums(scores, group, np.ones(len(group)))
    others = (counts[group] - 1)[:, None]
    return np.where(others > 0, (sums[group] - scores) / np.maximum(others, 1), scores)


def _group_sums(
    scores: np.ndarray, group: np.ndarray, weights: np.ndarray, size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the weighted sum of its rows' scores and the sum of their weights."""
    size = int(group.max()) + 1 if size is None else size
    total = np.zeros((size, scores.shape[1]))
    np.add.at(total, group, scores * weights[:, None])
    return total, np.bincount(group, weights=weights, minlength=size)


def _framed_cues(texts: Sequence[str], m: _Mentions) -> sp.csr_matrix:
    """Document-level cues of framing the n-grams miss: how often the name occurs in the
    text (log), where it first occurs (share of the text) and whether that is the title."""
    names: dict[int, list[str]] = {}
    for d, name in zip(m.doc.tolist(), m.texts["name"], strict=True):
        names.setdefault(d, []).append(name)
    cues: dict[tuple[int, str], tuple[float, float, float]] = {}
    for d, found in names.items():
        text = texts[d].lower()
        line_end = text.find("\n")
        for name, (first, count) in find_and_count(text, found).items():
            first = first if first >= 0 else len(text)
            title = 0.0 <= first < (line_end if line_end >= 0 else 0)
            cues[d, name] = (np.log1p(count), first / max(len(text), 1), float(title))
    rows = [cues[d, name] for d, name in zip(m.doc.tolist(), m.texts["name"], strict=True)]
    return sp.csr_matrix(np.asarray(rows, dtype=np.float32).reshape(-1, N_CUES))


_HASHED = 8  # characters hashed at every position of a text (find_and_count)


def find_and_count(text: str, names: Iterable[str]) -> dict[str, tuple[int, int]]:
    """``(text.find(name), text.count(name))`` of every distinct name, in one pass per
    name length over the text instead of one scan of the text per name (a 1 MB text
    names ~4,000 entities: 12 s that way). Every position's next ``min(len(name), 8)``
    characters are hashed at once (numpy); positions whose hash is a name's are checked
    with ``startswith`` and counted without overlap, as ``str.count`` does."""
    out: dict[str, tuple[int, int]] = {}
    by_length: dict[int, list[str]] = {}
    for name in dict.fromkeys(names):
        if name:
            by_length.setdefault(min(len(name), _HASHED), []).append(name)
        else:
            out[name] = (text.find(name), text.count(name))
    codes = _code_points(text)
    for k, group in by_length.items():
        if k > len(codes):
            out.update(dict.fromkeys(group, (-1, 0)))
            continue
        hashes = _window_hashes(codes, k)
        wanted = [int(_window_hashes(_code_points(name[:k]), k)[0]) for name in group]
        table = np.unique(np.asarray(wanted, dtype=np.uint64))
        at = np.searchsorted(table, hashes).clip(max=len(table) - 1)
        hits = np.flatnonzero(table[at] == hashes)
        positions: dict[int, list[int]] = {}
        for i, h in zip(hits.tolist(), hashes[hits].tolist(), strict=True):
            positions.setdefault(h, []).append(i)
        for name, h in zip(group, wanted, strict=True):
            first, count, free = -1, 0, 0
            for i in positions.get(h, ()):
                if i >= free and text.startswith(name, i):
                    first = i if first < 0 else first
                    count += 1
                    free = i + len(name)
            out[name] = (first, count)
    return out


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(
        np.uint64
    )


def _window_hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """A hash of ``codes[i : i + k]`` for every ``i`` (polynomial, wrapping in 64 bits)."""
    n = len(codes) - k + 1
    out = np.zeros(n, dtype=np.uint64)
    for j in range(k):
        out *= np.uint64(1_000_003)
        out += codes[j : j + n]
    return out


def _name_table(keys: Sequence[str], y: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Distinct keys and the summed targets (role counts) of each."""
    names = sorted(set(keys))
    index = {k: j for j, k in enumerate(names)}
    counts = np.zeros((len(names), y.shape[1]))
    np.add.at(counts, [index[k] for k in keys], y)
    return names, counts


# ------------------------------------------------------------- paragraph vectors
def mention_paragraph_vectors(
    docs: Sequence[Document | str],
    mentions: Sequence[Sequence[Span]],
    paragraph_languages: Sequence[str],
    *,
    languages: Sequence[str | None] | None = None,
    encoder: SentenceEncoder | None = None,
) -> np.ndarray:
    """``(n mentions, 512)``: the USE vector of the paragraph (non-blank line) each mention
    starts in; zero rows for documents outside ``paragraph_languages``.

    ``docs`` are Documents (the stage), whose ``doc.tensor`` holds what
    :func:`encode_paragraphs` encodes (only paragraphs up to a document's last mention,
    and only those no stage encoded yet), or plain texts with their ``languages``
    (training, direct model use). ``encoder`` defaults to ``SentenceEncoder.shared()``.
    """
    from narrascope.doc import Document
    from narrascope.models.encoder import SentenceEncoder, encode_paragraphs

    if languages is not None:
        docs = [Document(text=t, language=la) for t, la in zip(docs, languages, strict=True)]
    documents = [d for d in docs if isinstance(d, Document)]
    if len(documents) != len(docs):
        raise ValueError("plain texts need their languages")
    where: list[tuple[int, int, int]] = []  # (row, document, paragraph) of the rows to fill
    upto = [0] * len(documents)
    n = 0
    for i, (doc, spans) in enumerate(zip(documents, mentions, strict=True)):
        if spans and doc.language in paragraph_languages:
            starts = [p.start for p in segment(doc).paragraphs]
            for r, (start, _) in enumerate(spans, n):
                k = bisect_right(starts, start) - 1
                if k >= 0:
                    where.append((r, i, k))
                    upto[i] = max(upto[i], k + 1)
        n += len(spans)
    out = np.zeros((n, PARAGRAPH_WIDTH), np.float32)
    if where:
        encode_paragraphs(encoder or SentenceEncoder.shared(), documents, upto)
        for r, i, k in where:
            out[r] = documents[i].tensor[k]  # type: ignore[index]  (filled just above)
    return out
