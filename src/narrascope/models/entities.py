"""Entity-role classifier (SemEval-2025 Task 10, subtask 1: entity framing).

Given a document and the character span of one entity mention, predict the main role
(Protagonist / Antagonist / Innocent) and the fine roles (22, each under one main role).
Why this design (measurements in docs/entities-research.md):

* Stage 1 is one multi-output dual ridge over TF-IDF "views" of the mention: char 2-5-grams
  and word 1-2-grams of a +-200 character window with the mention masked, the same for
  the mention's sentence, char 2-4-grams of the mention string (who it is matters as much
  as the words around it), a per-language entity-name indicator and a language one-hot.
  With ~5k mentions the dual form is one ``n x n`` solve for all 25 outputs, and internal
  cross-validation (grouped by document) reuses the same kernel. Dense blocks join the
  n-grams: the document's narrative probabilities and, for languages USE reads, the USE
  vector of the mention's paragraph, each once more per side of the war, the only views
  that carry what one language's texts teach to another.
* Stage 2 ("stacker") is a small multinomial logistic regression over the stage-1
  out-of-fold scores, the language, an entity-name prior (role frequencies of that name in
  the training data of the language) and the mean stage-1 scores of the *other* mentions
  of the same name in the document. It turns scores into calibrated probabilities.
* Decisions follow the hierarchy: the main role is the arg-max, fine roles are chosen
  among its children only (top-1, plus a second one above ``second_threshold``).
* Optionally ``fit`` takes unannotated candidate spans (negatives) and learns a
  "framed" probability, so automatically detected entities that are merely mentioned
  can be left without a role.

Only numbers and n-gram / name vocabularies are stored (JSON + ``.npz``, no pickle).
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import regex
import scipy.sparse as sp

from narrascope.errors import E_MODEL_MISSING, E_MODEL_VERSION, ModelError
from narrascope.models.artefact import read_artefact, write_artefact
from narrascope.models.linear import (
    dequantise,
    fit_vectorizer,
    plain_kfold,
    platt,
    quantise,
    sigmoid,
)
from narrascope.models.tfidf import TOKEN_PATTERN, FixedTfidf
from narrascope.text.segment import split_paragraphs, split_sentences
from narrascope.text.sides import SIDES, entity_side

log = logging.getLogger(__name__)

ARTEFACT_FORMAT = 1
MAIN_ROLES = ("Protagonist", "Antagonist", "Innocent")
# The SemEval-2025 Task 10 subtask-1 taxonomy: fine role -> main role.
FINE_ROLES: dict[str, str] = {
    **dict.fromkeys(
        ("Guardian", "Martyr", "Peacemaker", "Rebel", "Underdog", "Virtuous"), "Protagonist"
    ),
    **dict.fromkeys(
        (
            "Instigator",
            "Conspirator",
            "Tyrant",
            "Foreign Adversary",
            "Traitor",
            "Spy",
            "Saboteur",
            "Corrupt",
            "Incompetent",
            "Terrorist",
            "Deceiver",
            "Bigot",
        ),
        "Antagonist",
    ),
    **dict.fromkeys(("Forgotten", "Exploited", "Victim", "Scapegoat"), "Innocent"),
}
MASK = " ENTX "  # replaces the mention in its context views (lower-cased: "entx")
_NAME_STRIP = " \t\r\n\"'«»“”„‘’().,;:!?"
_SPACES = re.compile(r"\s+")

Span = tuple[int, int]


def normalise_name(text: str) -> str:
    """Lower-cased mention string without surrounding quotes/punctuation (the prior's key)."""
    return _SPACES.sub(" ", text.strip(_NAME_STRIP).lower())


@dataclass
class EntityConfig:
    """Hyper-parameters; stored verbatim in the artefact's config.json."""

    window: int = 200
    # The "edge" view: the tokens next to the mention, tagged by position (edge_text):
    # the words that govern it or that it governs, "by X", "X attacked", Hindi "X ने"
    # (agent) and "X पर" (target), which the window views blur and, for Hindi, drop.
    # With edge_sides, each token once more tagged with the side of the mention's name
    # ("russia|r1:ने"), so what a side does is learned over all its names. CV: the view
    # +0.010 main acc / +0.007 EMR, its side tags +0.007 / +0.001 more; 1 or 3 tokens a
    # side, weight 0.5 / 1.5 / 2 and the clause's last words measured worse
    # (docs/entities-research.md). Artefacts saved before it existed have no edge view.
    edge_width: int = 2
    edge_sides: bool = True
    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    # scikit-learn's default. TOKEN_PATTERN_INDIC keeps Devanagari words whole, but in
    # this recipe it *lowered* hi main acc by 0.025 in CV (0.676 -> 0.651), so it is off.
    token_pattern: str = TOKEN_PATTERN
    name_ngrams: tuple[int, int] = (2, 4)
    min_df: int = 2
    max_df: float = 0.9
    max_features: int = 200_000
    view_weights: dict[str, float] = field(
        default_factory=lambda: {
            "win_char": 1.0,
            "win_word": 1.0,
            "sent_char": 1.0,
            "sent_word": 1.0,
            "name_char": 1.0,
            "name_id": 1.0,
            "edge": 1.0,
        }
    )
    language_weight: float = 1.0
    alpha: float = 1.0
    keep_features: int = 60_000
    calibration_folds: int = 5
    stack_c: float = 1.0
    prior_smoothing: float = 2.0
    second_threshold: float = 0.5
    # main-role probability = this share of the fine roles' summed probabilities plus the
    # rest of the main-role stacker's: the 22-way fine stacker carries more signal
    # (+0.007 main acc / +0.005 EMR in CV at 0.5)
    main_from_fine: float = 0.5
    # framed head (only when fit gets negatives): logistic C, internal folds for Platt,
    # and the entity-level threshold the stage uses, chosen in CV (docs/entities-research.md)
    framed_c: float = 0.3
    framed_folds: int = 3
    min_framed: float = 0.5
    # per-language thresholds chosen in the same CV (framed entities are ~50% of the
    # candidates in Hindi, 8-12% elsewhere, so one pooled threshold under-serves most
    # languages); languages not listed use ``min_framed``
    min_framed_by_language: dict[str, float] = field(default_factory=dict)
    # Document-level framing context (0 = off). ``narrative_weight``: the narrative
    # model's per-label probabilities of the document, row-normalised, as a dense block.
    # ``name_context_weight``: explicit name x context features, one token per (mention
    # name, word of its sentence); ``name_narrative_weight``: one per (name, narrative
    # label whose probability reaches ``name_narrative_min``). Both are TF-IDF views,
    # pruned with the n-grams, so the model stays linear (docs/entities-research.md).
    # Artefacts saved before these settings existed load with all three off.
    # Shipped: the narratives alone (+0.005 main acc / +0.005 EMR in CV). All three at
    # weight 1 measured +0.010 / +0.006 but called the "innocent civilians" of a plain
    # war-crime sentence Antagonist (0.57 vs Innocent 0.31; cause not analysed), so the
    # interactions stay off until that is understood (docs/entities-research.md).
    narrative_weight: float = 1.0
    name_context_weight: float = 0.0
    name_narrative_weight: float = 0.0
    name_narrative_min: float = 0.3
    # Side x narratives: the document's narrative probabilities (as above) once per side
    # of the war the mention's name belongs to (``text.sides``: Russia, Ukraine, the West),
    # zero for names of no side. One weight per (side, narrative) is learned from all the
    # names of a side together, so "Praise of Russia" can turn Russia's side Protagonist
    # and the West's Antagonist, which the name priors alone never do (CV in
    # docs/entities-research.md: +0.010 main acc / +0.009 EMR). Artefacts saved before it
    # existed load with it off.
    side_narrative_weight: float = 1.0
    # Document context in stage 2: the mean stage-1 scores of the document's other
    # mentions (other names; other names of the mention's side; names of the opposing
    # side), times this weight (0 = off). Within a document, other names of a side share
    # the mention's main role 82-86% of the time (Hindi 69%) and a side whose enemies are
    # heroes or victims is the villain 80-100% of the time, so pooling the other mentions'
    # local evidence corrects a mention read in isolation (CV: docs/entities-research.md).
    # Artefacts saved before it existed load with it off.
    document_context: float = 1.0
    # Cross-lingual context: the multilingual-USE vector of the mention's paragraph, once
    # as is (``paragraph_weight``) and once per side of the mention's name
    # (``side_paragraph_weight``), so what a paragraph that speaks for or against a side
    # sounds like is learned from every language USE reads and reaches English from the
    # Portuguese and Russian texts. The narrative stage has already encoded the paragraphs
    # (the document's first 60), so at inference this costs almost no encoding. Only for
    # ``paragraph_languages`` (those USE was trained on); other mentions get a zero vector,
    # since for Bulgarian and Hindi it lowered accuracy. CV: +0.005 main acc / +0.006 EMR
    # (seed 0), +0.004 / +0.008 (seed 1); docs/entities-research.md. Artefacts saved
    # before it existed load with it off.
    paragraph_weight: float = 1.0
    side_paragraph_weight: float = 1.0
    paragraph_languages: tuple[str, ...] = ("en", "pt", "ru")
    seed: int = 0


TEXT_VIEWS = ("win_char", "win_word", "sent_char", "sent_word", "name_char", "edge")
# interaction views: whitespace-separated "<name>§<context>" tokens (see EntityConfig)
PAIR_VIEWS = ("name_ctx", "name_narr")
_PAIR_TOKEN = r"\S+"
_WORD = re.compile(TOKEN_PATTERN)
# words with their combining marks (Hindi postpositions such as "ने" are a letter and a
# vowel sign, which TOKEN_PATTERN drops), or one punctuation character
_EDGE_TOKEN = regex.compile(r"[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]")
_EDGE_REACH = 40  # characters looked at on each side of the mention

# Per-document narrative probabilities, label -> probability (None: unknown)
Narratives = Sequence[Mapping[str, float] | None]


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

    views: dict[str, list[str]]
    keys: list[str]  # "<lang>|<normalised name>"
    languages: list[str]
    doc: np.ndarray
    group: np.ndarray  # rows with the same (document, name) share a group id
    narr: np.ndarray | None = None  # (n, n_narrative_labels) document probabilities
    side: np.ndarray | None = None  # 1 + index in SIDES of the name's side, 0 for none
    paragraph: np.ndarray | None = None  # (n, 512) USE vector of each mention's paragraph


def mention_texts(
    texts: Sequence[str],
    languages: Sequence[str | None],
    mentions: Sequence[Sequence[Span]],
    window: int,
    edge_width: int = 2,
) -> _Mentions:
    """The text of every view for every mention (pure Python, no model needed)."""
    views: dict[str, list[str]] = {"win": [], "sent": [], "name": [], "edge": []}
    keys: list[str] = []
    langs: list[str] = []
    doc: list[int] = []
    group: list[int] = []
    groups: dict[tuple[int, str], int] = {}
    for i, (text, lang, spans) in enumerate(zip(texts, languages, mentions, strict=True)):
        lang = lang or ""
        sentences = split_sentences(text) if spans else []
        starts = [s for s, _ in sentences]
        for start, end in spans:
            if not 0 <= start < end <= len(text):
                raise ValueError(f"mention span {(start, end)} outside document {i}")
            views["win"].append(
                text[max(0, start - window) : start] + MASK + text[end : end + window]
            )
            k = bisect_right(starts, start) - 1
            a, b = sentences[k] if k >= 0 else (start, end)
            a, b = min(a, start), max(b, end)
            views["sent"].append(text[a:start] + MASK + text[end:b])
            views["edge"].append(edge_text(text, start, end, edge_width))
            name = normalise_name(text[start:end])
            views["name"].append(name)
            keys.append(f"{lang}|{name}")
            langs.append(lang)
            doc.append(i)
            group.append(groups.setdefault((i, name), len(groups)))
    return _Mentions(
        {
            "win_char": views["win"],
            "win_word": views["win"],
            "sent_char": views["sent"],
            "sent_word": views["sent"],
            "name_char": views["name"],
            "edge": views["edge"],
        },
        keys,
        langs,
        np.asarray(doc, dtype=int),
        np.asarray(group, dtype=int),
    )


def _analyzer(view: str) -> str:
    return "word" if view.endswith("_word") or view in (*PAIR_VIEWS, "edge") else "char_wb"


def _token_pattern(view: str, default: str) -> str:
    return _PAIR_TOKEN if view in (*PAIR_VIEWS, "edge") else default


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


def pair_texts(m: _Mentions, narr: np.ndarray | None, min_p: float) -> dict[str, list[str]]:
    """The interaction views' texts: per mention, its name joined to each distinct word of
    its sentence (``name_ctx``) and to each narrative label (column index) of its document
    with probability >= ``min_p`` (``name_narr``)."""
    ctx, nar = [], []
    for r, name in enumerate(m.views["name_char"]):
        key = name.replace(" ", "_") or "_"
        words = dict.fromkeys(_WORD.findall(m.views["sent_word"][r].lower()))
        words.pop(MASK.strip().lower(), None)
        ctx.append(" ".join(f"{key}§{w}" for w in words))
        if narr is not None:
            nar.append(" ".join(f"{key}§n{j}" for j in np.flatnonzero(narr[r] >= min_p)))
        else:
            nar.append("")
    return {"name_ctx": ctx, "name_narr": nar}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _group_mean_of_others(scores: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per row, the mean score of the other rows of its group (its own when alone)."""
    n_groups = int(group.max()) + 1 if len(group) else 0
    sums = np.zeros((n_groups, scores.shape[1]))
    np.add.at(sums, group, scores)
    counts = np.bincount(group, minlength=n_groups).astype(float)
    others = counts[group] - 1
    out = scores.copy()
    many = others > 0
    out[many] = (sums[group[many]] - scores[many]) / others[many, None]
    return out


# which sides oppose which (indices are 1 + position in SIDES, as in _Mentions.side)
_OPPOSED = {
    1 + j: [1 + k for k, o in enumerate(SIDES) if (s == "russia") != (o == "russia")]
    for j, s in enumerate(SIDES)
}


def _sides_of(m: _Mentions) -> np.ndarray:
    if m.side is None:
        index = {s: j + 1 for j, s in enumerate(SIDES)}
        m.side = np.array([index.get(entity_side(n) or "", 0) for n in m.views["name_char"]])
    return m.side


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
    ws = scores * w[:, None]
    n_sides = len(SIDES) + 1

    def sums(index: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        total = np.zeros((size, d))
        np.add.at(total, index, ws)
        return total, np.bincount(index, weights=w, minlength=size)

    n_docs = int(doc.max()) + 1
    name_s, name_w = sums(group, int(group.max()) + 1)
    doc_s, doc_w = sums(doc, n_docs)
    cell = doc * n_sides + side
    side_s, side_w = sums(cell, n_docs * n_sides)
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


def document_folds(
    doc: np.ndarray, languages: Sequence[str], folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Row-index folds where no document is split, stratified by language when possible."""
    n_docs = int(doc.max()) + 1 if len(doc) else 0
    doc_lang = [""] * n_docs
    for r, d in enumerate(doc):
        doc_lang[d] = languages[r]
    folds = max(2, min(folds, n_docs))
    _, counts = np.unique(doc_lang, return_counts=True)
    if counts.min() >= folds:
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        parts = [te for _, te in splitter.split(np.zeros(n_docs), doc_lang)]
    else:
        parts = [te for _, te in plain_kfold(n_docs, folds, seed)]
    out = []
    for te_docs in parts:
        test = np.isin(doc, te_docs)
        out.append((np.flatnonzero(~test), np.flatnonzero(test)))
    return out


@dataclass
class _Weights:
    vocab: dict[str, list[str]]  # per text view
    idf: dict[str, np.ndarray]
    names: list[str]  # name-indicator vocabulary ("<lang>|<name>")
    languages: list[str]
    coef: np.ndarray  # (n_features, n_outputs) stage-1 ridge
    intercept: np.ndarray
    prior: np.ndarray  # (len(names), n_outputs) role counts of each name in training
    stack_main: np.ndarray  # (n_stack_features + 1, 3), last row = intercept
    stack_fine: np.ndarray  # (n_stack_features + 1, n_fine)
    framed: np.ndarray | None = None  # (n_features + 3,): coef, intercept, platt a, b


class EntityRoleClassifier:
    """Two-stage (TF-IDF dual ridge -> logistic stacker) entity-role classifier.

    ``fine_labels_`` lists the fine roles seen in training (sorted); ``parent_`` gives the
    index in ``MAIN_ROLES`` of each one's main role.
    """

    def __init__(self, **settings: Any) -> None:
        self.config = EntityConfig(**settings)
        c = self.config
        c.char_ngrams, c.word_ngrams = tuple(c.char_ngrams), tuple(c.word_ngrams)
        c.name_ngrams = tuple(c.name_ngrams)
        c.paragraph_languages = tuple(c.paragraph_languages)
        unknown = set(c.view_weights) - {*TEXT_VIEWS, "name_id"}
        if unknown:
            raise ValueError(f"unknown views {sorted(unknown)}; known: {TEXT_VIEWS} + name_id")
        self.meta: dict[str, Any] = {}
        self._w: _Weights | None = None
        self._vec_cache: dict[str, FixedTfidf] | None = None
        self.narrative_labels_: list[str] = []
        self._narrative_mean: np.ndarray | None = None
        self._paragraph_mean: np.ndarray | None = None

    # ------------------------------------------------------------------ labels
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
    def _views_weighted(self) -> list[str]:
        return [v for v in (*TEXT_VIEWS, *PAIR_VIEWS) if self._view_weight(v) > 0]

    def _view_weight(self, view: str) -> float:
        c = self.config
        if view == "name_ctx":
            return c.name_context_weight
        if view == "name_narr":
            return c.name_narrative_weight
        return c.view_weights.get(view, 0.0)

    def _uses_paragraphs(self) -> bool:
        c = self.config
        return c.paragraph_weight > 0 or c.side_paragraph_weight > 0

    def _paragraph_block(self, m: _Mentions) -> list[Any]:
        """The paragraph vectors, centred on the training mean and L2-normalised (rows of
        other languages stay zero), as is and once per side."""
        c = self.config
        if m.paragraph is None or self._paragraph_mean is None:
            return []
        known = (np.abs(m.paragraph).sum(axis=1) > 0)[:, None]
        u = (m.paragraph - self._paragraph_mean) * known
        u /= np.linalg.norm(u, axis=1, keepdims=True) + 1e-12
        return _plain_and_per_side(u, _sides_of(m), c.paragraph_weight, c.side_paragraph_weight)

    def _uses_narratives(self) -> bool:
        c = self.config
        return c.narrative_weight > 0 or c.name_narrative_weight > 0 or c.side_narrative_weight > 0

    def _narrative_rows(self, narratives: Narratives | None, n_docs: int) -> np.ndarray | None:
        """Per document, the probabilities in ``narrative_labels_`` order; documents
        without any (``None``, or no ``narratives`` at all) get the training mean."""
        if not self._uses_narratives():
            return None
        labels = self.narrative_labels_
        mean = getattr(self, "_narrative_mean", None)
        out = np.tile(
            mean if mean is not None else np.zeros(len(labels), np.float32), (n_docs, 1)
        ).astype(np.float32)
        if narratives is None:
            return out
        if len(narratives) != n_docs:
            raise ValueError("narratives must have one entry (or None) per document")
        index = {lab: j for j, lab in enumerate(labels)}
        for i, probs in enumerate(narratives):
            if probs is None:
                continue
            row = np.zeros(len(labels), np.float32)
            for lab, p in probs.items():
                j = index.get(lab)
                if j is not None:
                    row[j] = float(p)
            out[i] = row
        return out

    def _mentions(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        mentions: Sequence[Sequence[Span]],
        narratives: Narratives | None,
    ) -> _Mentions:
        """mention_texts plus what the configured context features need."""
        c = self.config
        m = mention_texts(texts, languages, mentions, c.window, c.edge_width)
        narr = self._narrative_rows(narratives, len(texts))
        if narr is not None:
            m.narr = narr[m.doc]
        if c.name_context_weight > 0 or c.name_narrative_weight > 0:
            m.views.update(pair_texts(m, m.narr, c.name_narrative_min))
        if self._uses_paragraphs():
            m.paragraph = paragraph_rows(texts, languages, mentions, c.paragraph_languages)
        if c.edge_sides:
            names = ("", *SIDES)
            m.views["edge"] = [
                edge + "".join(f" {names[j]}|{t}" for t in edge.split()) if j else edge
                for edge, j in zip(m.views["edge"], _sides_of(m), strict=True)
            ]
        return m

    def _ngrams(self, view: str) -> tuple[int, int]:
        c = self.config
        if view == "name_char":
            return c.name_ngrams
        if view in (*PAIR_VIEWS, "edge"):
            return (1, 1)
        return c.word_ngrams if view.endswith("_word") else c.char_ngrams

    def _fixed(self) -> dict[str, FixedTfidf]:
        if self._vec_cache is None:
            w = self._require()
            self._vec_cache = {
                v: FixedTfidf(
                    _analyzer(v),
                    self._ngrams(v),
                    w.vocab[v],
                    w.idf[v],
                    token_pattern=_token_pattern(v, self.config.token_pattern),
                )
                for v in w.vocab
            }
        return self._vec_cache

    def _side_blocks(self, m: _Mentions, names: list[str], langs: list[str]) -> list[Any]:
        """Name-indicator and language one-hot blocks."""
        c = self.config
        name_index = {k: j for j, k in enumerate(names)}
        rows = [r for r, k in enumerate(m.keys) if k in name_index]
        cols = [name_index[m.keys[r]] for r in rows]
        wid = c.view_weights.get("name_id", 0.0)
        name_block = sp.csr_matrix(
            (np.full(len(rows), wid, np.float32), (rows, cols)), shape=(len(m.keys), len(names))
        )
        lang_rows = [r for r, la in enumerate(m.languages) if la in langs]
        lang_cols = [langs.index(m.languages[r]) for r in lang_rows]
        lang_block = sp.csr_matrix(
            (np.full(len(lang_rows), c.language_weight, np.float32), (lang_rows, lang_cols)),
            shape=(len(m.keys), len(langs)),
        )
        blocks = [name_block, lang_block]
        narr = m.narr if m.narr is not None else np.zeros((len(m.keys), 0))
        narr = narr / (np.linalg.norm(narr, axis=1, keepdims=True) + 1e-12)
        side = _sides_of(m)
        blocks += _plain_and_per_side(narr, side, c.narrative_weight, c.side_narrative_weight)
        return blocks + self._paragraph_block(m)

    def _features(self, m: _Mentions) -> sp.csr_matrix:
        w = self._require()
        vecs = self._fixed()
        blocks = [vecs[v].transform(m.views[v]) * self._view_weight(v) for v in w.vocab]
        blocks += self._side_blocks(m, w.names, w.languages)
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
        w_langs = self._require().languages if self._w is not None else self._langs
        lang = np.zeros((len(scores), len(w_langs)))
        for r, la in enumerate(m.languages):
            if la in w_langs:
                lang[r, w_langs.index(la)] = 1.0
        others = _group_mean_of_others(scores, m.group)
        blocks = [scores, lang, prior, np.log1p(counts)[:, None], others]
        if self.config.document_context > 0:
            ctx = document_context(scores, m.doc, m.group, _sides_of(m), weights)
            blocks.append(ctx * self.config.document_context)
        return np.hstack(blocks)

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
    ) -> EntityRoleClassifier:
        """Fit on documents, their mention spans and each mention's gold roles.

        ``mentions[i]`` are ``(start, end_exclusive)`` character offsets in ``texts[i]``;
        ``main_roles[i][j]`` / ``fine_roles[i][j]`` are the roles of mention ``j``.
        ``negatives`` (optional, aligned with ``texts``) are spans of entities that are
        mentioned but not framed; with them the model also learns ``RoleScores.framed``.
        ``narratives`` (aligned with ``texts``): each document's narrative probabilities
        (label -> probability), needed when the config uses them; for training they must
        come from a narrative model that did not see the document
        (``training.entities.narrative_features``), as at inference.
        """
        if not (len(texts) == len(languages) == len(mentions) == len(main_roles)):
            raise ValueError("texts, languages, mentions and roles must have the same length")
        c = self.config
        flat_main = [r for roles in main_roles for r in roles]
        flat_fine = [f for roles in fine_roles for f in roles]
        if len(flat_main) != sum(len(s) for s in mentions) or len(flat_fine) != len(flat_main):
            raise ValueError("every mention needs one main role and a list of fine roles")
        if len(flat_main) < 4:
            raise ValueError("need at least four mentions to fit")
        self._set_labels(sorted({f for fs in flat_fine for f in fs}))
        y = self._targets(flat_main, flat_fine)
        self.narrative_labels_: list[str] = []
        self._narrative_mean = None
        if self._uses_narratives():
            if narratives is None or not any(p is not None for p in narratives):
                raise ValueError("this configuration needs the documents' narratives")
            self.narrative_labels_ = sorted({lab for p in narratives if p for lab in p})
            given = self._narrative_rows(narratives, len(texts))
            known = [i for i, p in enumerate(narratives) if p is not None]
            self._narrative_mean = given[known].mean(axis=0)
        m = self._mentions(texts, languages, mentions, narratives)
        self._paragraph_mean = None
        if m.paragraph is not None:  # centre on the training mentions that have a vector
            rows = m.paragraph[np.abs(m.paragraph).sum(axis=1) > 0]
            width = m.paragraph.shape[1]
            self._paragraph_mean = rows.mean(axis=0) if len(rows) else np.zeros(width)
        self._langs = sorted({la for la in m.languages if la})
        n = len(y)
        # Stage 1: TF-IDF views, vocabulary pruned to what matters, dual ridge.
        raw, vocab, idf = {}, {}, {}
        for v in self._views_weighted():
            vec = fit_vectorizer(_analyzer(v), self._ngrams(v), c.min_df, c.max_df, c.max_features)
            if _analyzer(v) == "word":
                vec.set_params(token_pattern=_token_pattern(v, c.token_pattern))
            if n < 20 * c.min_df:  # tiny corpora (tests)
                vec.set_params(min_df=1, max_df=1.0)
            raw[v] = vec.fit_transform(m.views[v]).tocsc()
            vocab[v] = vec.get_feature_names_out().tolist()
            idf[v] = vec.idf_.astype(np.float32)
        names = sorted(set(m.keys))
        side = self._side_blocks(m, names, self._langs)
        x = self._stack_raw(raw, side)
        n_text = sum(len(vocab[v]) for v in raw)
        if c.keep_features and n_text > c.keep_features:
            k = (x @ x.T).toarray().astype(np.float64)
            a = np.linalg.solve(k + c.alpha * np.eye(n), y - y.mean(axis=0))
            coef = np.asarray(x[:, :n_text].T @ a)
            coef /= np.linalg.norm(coef, axis=0, keepdims=True) + 1e-12
            importance = np.sqrt((coef**2).sum(axis=1))
            keep = np.sort(np.argsort(-importance, kind="stable")[: c.keep_features])
            offset = 0
            for v in raw:
                size = len(vocab[v])
                kv = keep[(keep >= offset) & (keep < offset + size)] - offset
                vocab[v] = [vocab[v][j] for j in kv]
                idf[v] = idf[v][kv]
                raw[v] = raw[v][:, kv]
                offset += size
            x = self._stack_raw(raw, side)
        k = (x @ x.T).toarray().astype(np.float64)
        mu = y.mean(axis=0)
        a = np.linalg.solve(k + c.alpha * np.eye(n), y - mu)
        coef = dequantise(quantise(np.asarray(x.T @ a, dtype=np.float32)))
        # Internal out-of-fold stage-1 scores and in-fold name priors train the stacker.
        folds = document_folds(m.doc, m.languages, c.calibration_folds, c.seed)
        oof = np.zeros_like(y)
        prior = np.zeros_like(y)
        counts = np.zeros(n)
        for tr, te in folds:
            a_f = np.linalg.solve(
                k[np.ix_(tr, tr)] + c.alpha * np.eye(len(tr)), y[tr] - y[tr].mean(0)
            )
            oof[te] = k[np.ix_(te, tr)] @ a_f + y[tr].mean(0)
            table, cnt = _name_table([m.keys[r] for r in tr], y[tr])
            prior[te], counts[te] = self._lookup_prior([m.keys[r] for r in te], table, cnt)
        feats = self._stack_features(oof, m, prior, counts)
        main_w, fine_w = self._fit_stackers(feats, y)
        table, cnt = _name_table(m.keys, y)
        self._w = _Weights(
            vocab=vocab,
            idf=idf,
            names=table,
            languages=self._langs,
            coef=coef,
            intercept=mu.astype(np.float32),
            prior=cnt.astype(np.float32),
            stack_main=main_w.astype(np.float32),
            stack_fine=fine_w.astype(np.float32),
        )
        self._vec_cache = None
        if negatives is not None and any(negatives):
            self._w.framed = self._fit_framed(texts, languages, negatives, x, m, narratives)
        self.meta = {
            "n_train_docs": len(texts),
            "n_train_mentions": n,
            "n_negatives": 0 if negatives is None else sum(len(s) for s in negatives),
            "languages": self._langs,
        }
        return self

    def _fit_stackers(self, feats: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights (last row = intercept) of the main (3-way) and fine-role logistic
        stackers; a mention with k fine roles is k rows of weight 1/k."""
        from sklearn.linear_model import LogisticRegression

        c = self.config
        n = len(y)
        main_idx = y[:, :3].argmax(axis=1)
        stack_main = LogisticRegression(C=c.stack_c, max_iter=5000).fit(feats, main_idx)
        rows = [r for r in range(n) for j in np.flatnonzero(y[r, 3:])]
        cls = [j for r in range(n) for j in np.flatnonzero(y[r, 3:])]
        sw = [y[r, 3 + j] for r, j in zip(rows, cls, strict=True)]
        stack_fine = LogisticRegression(C=c.stack_c, max_iter=5000).fit(
            feats[rows], cls, sample_weight=sw
        )
        fine_w = np.zeros((feats.shape[1] + 1, len(self.fine_labels_)))
        fine_w[-1, :] = -30.0  # a role never seen as a training target gets ~0 probability
        fine_w[:-1, stack_fine.classes_] = stack_fine.coef_.T
        fine_w[-1, stack_fine.classes_] = stack_fine.intercept_
        main_w = np.zeros((feats.shape[1] + 1, 3))
        main_w[:-1, stack_main.classes_] = stack_main.coef_.T
        main_w[-1, :] = -30.0
        main_w[-1, stack_main.classes_] = stack_main.intercept_
        if len(stack_main.classes_) == 2:  # binary LogisticRegression has one coef row
            main_w[:-1, stack_main.classes_] = np.c_[-stack_main.coef_[0], stack_main.coef_[0]] / 2
            b = stack_main.intercept_[0] / 2
            main_w[-1, stack_main.classes_] = [-b, b]
        return main_w, fine_w

    def _stacked(
        self, feats: np.ndarray, main_w: np.ndarray, fine_w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(main, fine) probabilities: the main stacker mixed with its children's sum."""
        feats = np.hstack([feats, np.ones((len(feats), 1))])
        fine = _softmax(feats @ fine_w)
        fine_sum = np.zeros((len(fine), 3))
        np.add.at(fine_sum.T, self.parent_, fine.T)
        share = self.config.main_from_fine
        return (1.0 - share) * _softmax(feats @ main_w) + share * fine_sum, fine

    def _stack_raw(self, raw: dict[str, sp.spmatrix], side: list[Any]) -> sp.csr_matrix:
        """Row-normalised, view-weighted TF-IDF blocks plus the side blocks."""
        from sklearn.preprocessing import normalize

        blocks = [
            normalize(raw[v].tocsr()) * self._view_weight(v) if raw[v].shape[1] else raw[v]
            for v in raw
        ]  # (a view can lose every column to pruning)
        return sp.hstack(blocks + side, format="csr", dtype=np.float32)

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
                prior[r] = row / (total[r] + self.config.prior_smoothing)
        return prior, total

    def _fit_framed(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        negatives: Sequence[Sequence[Span]],
        x_pos: sp.csr_matrix,
        m_pos: _Mentions,
        narratives: Narratives | None = None,
    ) -> np.ndarray:
        """Logistic regression, framed (gold) vs merely mentioned (negatives), in primal form.

        Detected negatives outnumber gold mentions ~6:1, so the dual kernel of the role
        model (n x n) would not fit in memory; the primal fit over the same features plus
        a few document-level cues is seconds. Platt-calibrated on out-of-fold scores
        (grouped by document) because the in-sample fit is over-confident.
        """
        from sklearn.linear_model import LogisticRegression

        c = self.config
        m_neg = self._mentions(texts, languages, negatives, narratives)
        x = sp.vstack(
            [
                sp.hstack([x_pos, _framed_cues(texts, m_pos)]),
                sp.hstack([self._features(m_neg), _framed_cues(texts, m_neg)]),
            ],
            format="csr",
        )
        y = np.r_[np.ones(x_pos.shape[0]), np.zeros(len(m_neg.keys))]
        doc = np.r_[m_pos.doc, m_neg.doc]

        def fit(rows: np.ndarray) -> Any:
            return LogisticRegression(C=c.framed_c, max_iter=3000).fit(x[rows], y[rows])

        oof = np.zeros(len(y))
        folds = document_folds(doc, m_pos.languages + m_neg.languages, c.framed_folds, c.seed)
        for tr, te in folds:
            oof[te] = fit(tr).decision_function(x[te])
        model = fit(np.arange(len(y)))
        pa, pb = platt(oof, y)
        return np.r_[model.coef_.ravel(), model.intercept_[0], pa, pb].astype(np.float32)

    # ----------------------------------------------------------------- predict
    def _require(self) -> _Weights:
        if self._w is None:
            msg = "EntityRoleClassifier is not fitted; call fit() or load()"
            raise ModelError(E_MODEL_MISSING, msg)
        return self._w

    def predict_proba(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        mentions: Sequence[Sequence[Span]],
        narratives: Narratives | None = None,
        *,
        given: bool = False,
    ) -> RoleScores:
        """Calibrated role probabilities of every mention (flattened, see RoleScores).

        ``narratives``: per document, the narrative stage's probabilities (label ->
        probability) or ``None``; models that use them fall back to the training mean.
        ``given``: the mentions are the framed ones (as in the shared task), so each
        counts fully as document context; otherwise (detected mentions) each counts as
        much as its framed probability, since the model learned context from framed
        mentions only.
        """
        w = self._require()
        if not (len(texts) == len(languages) == len(mentions)):
            raise ValueError("texts, languages and mentions must have the same length")
        m = self._mentions(texts, languages, mentions, narratives)
        n_fine = len(self.fine_labels_)
        if not m.keys:
            empty = np.zeros((0, 3), np.float32), np.zeros((0, n_fine), np.float32)
            framed = np.zeros(0, np.float32) if w.framed is not None else None
            return RoleScores(*empty, framed, np.zeros(0, dtype=int))
        x = self._features(m)
        framed = None
        if w.framed is not None:
            cues = _framed_cues(texts, m)
            z = np.asarray(sp.hstack([x, cues], format="csr") @ w.framed[:-3]).ravel()
            z += w.framed[-3]
            framed = sigmoid(w.framed[-2] * z + w.framed[-1]).astype(np.float32)
        scores = np.asarray(x @ w.coef) + w.intercept
        prior, counts = self._lookup_prior(m.keys, w.names, w.prior)
        weights = None if given else framed
        feats = self._stack_features(scores, m, prior, counts, weights)
        main, fine = self._stacked(feats, w.stack_main, w.stack_fine)
        return RoleScores(main.astype(np.float32), fine.astype(np.float32), framed, m.doc)

    def decide(self, scores: RoleScores) -> list[tuple[str, list[str]]]:
        """(main role, fine roles) per mention, respecting the role hierarchy.

        The main role is the most probable one; fine roles are chosen among its children
        only: the most probable, plus the second when its probability reaches
        ``second_threshold`` (most mentions have one fine role; EMR punishes extras).
        """
        out: list[tuple[str, list[str]]] = []
        th = self.config.second_threshold
        for pm, pf in zip(scores.main, scores.fine, strict=True):
            main = int(pm.argmax())
            p = np.where(self.parent_ == main, pf, -1.0)
            order = np.argsort(-p, kind="stable")
            chosen = [order[0]]
            if len(order) > 1 and p[order[1]] >= th:
                chosen.append(order[1])
            out.append((MAIN_ROLES[main], [self.fine_labels_[j] for j in chosen if p[j] >= 0]))
        return out

    def predict(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        mentions: Sequence[Sequence[Span]],
        narratives: Narratives | None = None,
        *,
        given: bool = True,
    ) -> list[list[tuple[str, list[str]]]]:
        """Per document, (main role, fine roles) of each of its mentions (``given``: see
        :meth:`predict_proba`; the mentions one asks roles for are usually the framed ones)."""
        scores = self.predict_proba(texts, languages, mentions, narratives, given=given)
        flat = iter(self.decide(scores))
        return [[next(flat) for _ in spans] for spans in mentions]

    # ------------------------------------------------------------- save / load
    def save(self, path: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
        """Write config.json, meta.json, vocab.json and weights.npz into directory ``path``."""
        w = self._require()
        config = {
            "format": ARTEFACT_FORMAT,
            "class": type(self).__name__,
            "settings": asdict(self.config),
            "main_roles": list(MAIN_ROLES),
            "fine_labels": self.fine_labels_,
            "languages": w.languages,
            "views": list(w.vocab),
        }
        vocab = {**w.vocab, "names": w.names, "narrative_labels": self.narrative_labels_}
        arrays: dict[str, np.ndarray] = {f"idf_{v}": w.idf[v].astype(np.float32) for v in w.vocab}
        arrays.update(quantise(w.coef))
        arrays.update(
            intercept=w.intercept.astype(np.float32),
            prior=w.prior.astype(np.float16),
            stack_main=w.stack_main.astype(np.float32),
            stack_fine=w.stack_fine.astype(np.float32),
        )
        if w.framed is not None:
            arrays["framed"] = w.framed.astype(np.float32)
        if self._narrative_mean is not None:
            arrays["narrative_mean"] = np.asarray(self._narrative_mean, np.float32)
        if self._paragraph_mean is not None:
            arrays["paragraph_mean"] = np.asarray(self._paragraph_mean, np.float32)
        return write_artefact(path, config, {**self.meta, **(meta or {})}, vocab, arrays)

    @classmethod
    def load(cls, path: str | Path) -> EntityRoleClassifier:
        """Rebuild a classifier from a directory written by :meth:`save`."""
        root = Path(path)
        config, meta, vocab, arrays = read_artefact(
            root,
            class_name=cls.__name__,
            format_version=ARTEFACT_FORMAT,
            what="entity-role model",
            train_hint="train one with `narrascope train entities`",
        )
        settings = dict(config["settings"])
        for key in _CONTEXT_SETTINGS:  # artefacts from before these features: off
            settings.setdefault(key, 0.0)
        model = cls(**settings)
        model._set_labels(config["fine_labels"])
        views = list(config["views"])
        coef = dequantise(arrays)
        n_feat = sum(len(vocab[v]) for v in views) + len(vocab["names"])
        n_feat += len(config["languages"])
        model.narrative_labels_ = list(vocab.get("narrative_labels", []))
        model._narrative_mean = arrays.get("narrative_mean", None)
        if model.config.narrative_weight > 0:
            n_feat += len(model.narrative_labels_)
        if model.config.side_narrative_weight > 0:
            n_feat += len(SIDES) * len(model.narrative_labels_)
        model._paragraph_mean = arrays.get("paragraph_mean", None)
        if model._uses_paragraphs():
            if model._paragraph_mean is None:
                msg = f"artefact at {root}: paragraph features without their mean"
                raise ModelError(E_MODEL_VERSION, msg)
            width = len(model._paragraph_mean)
            n_feat += width * (model.config.paragraph_weight > 0)
            n_feat += width * len(SIDES) * (model.config.side_paragraph_weight > 0)
        if model._uses_narratives() and (
            model._narrative_mean is None
            or len(model._narrative_mean) != len(model.narrative_labels_)
        ):
            msg = f"artefact at {root}: narrative labels and their mean do not match"
            raise ModelError(E_MODEL_VERSION, msg)
        if coef.shape != (n_feat, 3 + len(model.fine_labels_)):
            msg = f"artefact at {root}: weights do not match vocabulary/labels"
            raise ModelError(E_MODEL_VERSION, msg)
        model._w = _Weights(
            vocab={v: vocab[v] for v in views},
            idf={v: arrays[f"idf_{v}"] for v in views},
            names=list(vocab["names"]),
            languages=list(config["languages"]),
            coef=coef,
            intercept=arrays["intercept"],
            prior=arrays["prior"].astype(np.float32),
            stack_main=arrays["stack_main"],
            stack_fine=arrays["stack_fine"],
            framed=arrays.get("framed", None),
        )
        model.meta = meta
        return model


N_CUES = 3
_CONTEXT_SETTINGS = (
    "narrative_weight",
    "name_context_weight",
    "name_narrative_weight",
    "side_narrative_weight",
    "document_context",
    "edge_sides",
    "paragraph_weight",
    "side_paragraph_weight",
)


def _plain_and_per_side(
    rows: np.ndarray, side: np.ndarray, weight: float, side_weight: float
) -> list[sp.csr_matrix]:
    """``rows`` as a dense block, and once more per side of the war (zero outside the
    mention's own side), so a weight is learned per (side, column); a block is left out
    when its weight is 0."""
    blocks = []
    if weight > 0:
        blocks.append(sp.csr_matrix((rows * weight).astype(np.float32)))
    if side_weight > 0:
        per_side = [(side == j + 1)[:, None] * rows for j in range(len(SIDES))]
        blocks.append(sp.csr_matrix((np.hstack(per_side) * side_weight).astype(np.float32)))
    return blocks


def paragraph_rows(
    texts: Sequence[str],
    languages: Sequence[str | None],
    mentions: Sequence[Sequence[Span]],
    paragraph_languages: Sequence[str],
) -> np.ndarray:
    """The USE vector of the paragraph (non-blank line) each mention starts in; zero for
    documents outside ``paragraph_languages``. Paragraphs the narrative stage encoded are
    reused (``encode_paragraphs``), so only those past a document's 60th are encoded."""
    from narrascope.models.encoder import encode_paragraphs

    where: list[tuple[int, str]] = []  # (row, paragraph text) of the rows to fill
    n = 0
    for text, lang, spans in zip(texts, languages, mentions, strict=True):
        if spans and lang in paragraph_languages:
            paragraphs = split_paragraphs(text)
            starts = [a for _, a, _ in paragraphs]
            for r, (start, _) in enumerate(spans, n):
                k = bisect_right(starts, start) - 1
                if k >= 0:
                    _, a, b = paragraphs[k]
                    where.append((r, text[a:b].strip()))
        n += len(spans)
    out = np.zeros((n, 512), np.float32)
    if where:
        distinct = list(dict.fromkeys(p for _, p in where))
        vectors = encode_paragraphs(distinct)
        index = {p: j for j, p in enumerate(distinct)}
        out[[r for r, _ in where]] = vectors[[index[p] for _, p in where]]
    return out


def _framed_cues(texts: Sequence[str], m: _Mentions) -> sp.csr_matrix:
    """Document-level cues of framing the n-grams miss: how often the name occurs in the
    text (log), where it first occurs (share of the text) and whether that is the title."""
    rows = []
    lowered: dict[int, str] = {}
    for d, name in zip(m.doc.tolist(), m.views["name_char"], strict=True):
        text = lowered.setdefault(d, texts[d].lower())
        first = text.find(name) if name else -1
        first = first if first >= 0 else len(text)
        count = text.count(name) if name else 0
        line_end = text.find("\n")
        title = 0.0 <= first < (line_end if line_end >= 0 else 0)
        rows.append((np.log1p(count), first / max(len(text), 1), float(title)))
    return sp.csr_matrix(np.asarray(rows, dtype=np.float32).reshape(-1, N_CUES))


def _name_table(keys: Sequence[str], y: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Distinct keys and the summed targets (role counts) of each."""
    names = sorted(set(keys))
    index = {k: j for j, k in enumerate(names)}
    counts = np.zeros((len(names), y.shape[1]))
    np.add.at(counts, [index[k] for k in keys], y)
    return names, counts
