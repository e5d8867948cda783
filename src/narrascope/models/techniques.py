"""Paragraph-level persuasion techniques (SemEval-2023 Task 3 subtask 3) and their spans.

Why this design (measurements in docs/techniques-research.md):

* Two one-vs-rest logistic regressions whose probabilities are averaged: one over TF-IDF word
  1-2-grams + ``char_wb`` 2-5-grams + a language one-hot (lexical cues: "traitor", "!!"),
  one over the multilingual-USE vector of the whole paragraph (meaning that carries
  across languages, including pt; uk/bg/hi rely on char n-grams). Each alone is clearly
  weaker than the average.
* The official metric is micro-F1 over (paragraph, technique) pairs, whose optimal rule on
  calibrated probabilities is a threshold. The threshold is chosen on cross-validated
  probabilities per language, shrunk toward the global one (``shrinkage`` paragraphs of
  pseudo-evidence), because small languages would otherwise overfit it.
* A language without training data that USE covers (pt, es...) leans on the USE model
  (``unseen_share``): the n-gram model barely transfers to a language it never saw.
* Spans: a detected technique is localised from the n-gram model's per-word weights
  (``models/spans.py``); that works for every language.
* Training data of other corpora (issue 22) comes with two fit options: a per-(paragraph,
  technique) ``sample_weight`` (0 for a technique the corpus never annotated: unknown, not
  absent) and ``corpora``, training-only columns that absorb a corpus's own label rates
  (sentences, posts) and are dropped, so the artefact's shape does not change.
* A language with no technique data that neither half can read (Hindi: no USE, no
  Devanagari n-grams) has a *student* in the artefact's ``students/`` folder, an n-gram
  model distilled from an e5 teacher (``models/technique_student.py``); its paragraphs get
  the student's probabilities, threshold and spans instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from narrascope.models.artefact import Estimator, Int8Matrix, check_rows
from narrascope.models.encoder import ENCODER_LANGUAGES, WIDTH, SentenceEncoder
from narrascope.models.linear import language_block, sigmoid
from narrascope.models.spans import NgramWords, locate
from narrascope.models.technique_student import TechniqueStudent
from narrascope.models.tfidf import TfidfViews, word_char_views
from narrascope.taxonomy import TECHNIQUES

# thresholds key of the one chosen for languages without training data (see unseen_share)
UNSEEN = "?"
# sub-folder of the artefact holding per-language students (models/technique_student.py)
STUDENTS = "students"


class TechniqueClassifier(Estimator):
    """Multi-label classifier over the 23 techniques; columns follow :data:`TECHNIQUES`.

    Parameters: ``tfidf`` overrides the shared word + char recipe; ``language_weight`` is
    the value of the language one-hot columns; ``c_tfidf`` / ``c_encoder`` the inverse
    penalties of the two halves; ``encoder_share`` the USE model's weight in the average,
    ``unseen_share`` its weight for a language without training data that USE covers;
    ``threshold`` the decision threshold until :meth:`set_thresholds`; ``shrinkage``
    (used by training) pulls each language's threshold toward the global one; the
    ``span_*``/``max_*``/``trim_ratio`` settings shape spans (``models/spans.py``).
    """

    artefact_what = "technique model"
    train_hint = "train one with `narrascope train techniques`"
    artefact_parts = (STUDENTS,)

    def __init__(
        self,
        *,
        tfidf: dict[str, Any] | None = None,
        language_weight: float = 0.3,
        c_tfidf: float = 4.0,
        c_encoder: float = 1.0,
        encoder_share: float = 0.5,
        unseen_share: float = 0.85,
        threshold: float = 0.2,
        shrinkage: float = 2000.0,
        span_min_ratio: float = 0.8,  # extra spans must score this share of the best one
        max_window_words: int = 12,  # techniques with longer typical spans: by sentence
        max_windows: int = 3,  # word windows per short technique and paragraph
        trim_ratio: float = 0.25,  # window edge words carrying less of it are dropped
        max_span_words: int = 40,  # a longer sentence span is narrowed to its best window
        seed: int = 0,
    ) -> None:
        self._set_params(locals())
        self._words: NgramWords | None = None

    # ---------------------------------------------------------------- features
    def _x(self, blocks: list[sp.csr_matrix], languages: Sequence[str | None]) -> sp.csr_matrix:
        langs = language_block(languages, self.languages_, self.language_weight)
        return sp.hstack([*blocks, sp.csr_matrix(langs)], format="csr", dtype=np.float32)

    def _enc_x(self, emb: np.ndarray, languages: Sequence[str | None]) -> np.ndarray:
        centred = emb - self.enc_mean_
        centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
        langs = language_block(languages, self.languages_, self.language_weight)
        return np.hstack([centred, langs]).astype(np.float32)

    @staticmethod
    def _embeddings(paragraphs: Sequence[str], embeddings: np.ndarray | None) -> np.ndarray:
        if embeddings is not None:
            return embeddings
        return SentenceEncoder.shared().encode([p.strip() for p in paragraphs])

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        paragraphs: Sequence[str],
        languages: Sequence[str],
        labels: Sequence[Sequence[str]],
        *,
        embeddings: np.ndarray | None = None,
        thresholds: dict[str, float] | None = None,
        span_words: dict[str, float] | None = None,
        sample_weight: np.ndarray | None = None,
        corpora: Sequence[str | None] | None = None,
    ) -> TechniqueClassifier:
        """Fit both halves. ``embeddings``: the USE vectors of the paragraphs, shape
        ``(len(paragraphs), 512)`` (None: encoded with ``SentenceEncoder.shared()``);
        ``thresholds``: see :meth:`set_thresholds`; ``span_words`` (technique -> typical
        span length in words, from span gold) lets :meth:`spans` mark short techniques
        by word window instead of whole sentences. ``sample_weight``: per paragraph
        ``(n,)`` or per paragraph and technique ``(n, 23)``; a 0 leaves the pair out of
        that technique's fit (a technique its corpus never annotated is unknown there,
        not absent), while every paragraph still shapes the vocabulary. ``corpora``: per
        paragraph, None or the name of a corpus whose unit or annotation differs from the
        product's (sentences, posts): each name gets a one-hot column in both halves, fitted
        with the rest and dropped afterwards, so it absorbs that corpus's own label rates
        and predictions are those of a paragraph of the reference corpora (columns of 0)."""
        from sklearn.linear_model import LogisticRegression

        y = targets(labels)
        if not len(paragraphs) == len(languages) == len(y):
            raise ValueError("paragraphs, languages and labels must have the same length")
        weight = _technique_weights(sample_weight, len(y))
        self.languages_ = sorted(set(languages))
        self.tfidf_ = TfidfViews(word_char_views(self.tfidf))
        x = self._x(self.tfidf_.weighted(self.tfidf_.fit_raw({"text": paragraphs})), languages)
        emb = self._embeddings(paragraphs, embeddings)
        self.enc_mean_ = emb.mean(axis=0).astype(np.float32)
        xe = self._enc_x(emb, languages)
        width, enc_width = x.shape[1], xe.shape[1]  # the columns that are kept
        names = sorted({c for c in corpora or () if c is not None})
        if names:
            if len(corpora or ()) != len(y):
                raise ValueError("corpora must have one entry per paragraph")
            block = language_block(list(corpora or ()), names, self.language_weight)
            x = sp.hstack([x, sp.csr_matrix(block)], format="csr", dtype=np.float32)
            xe = np.hstack([xe, block])
        coef = np.zeros((x.shape[1], len(TECHNIQUES)), dtype=np.float32)
        enc_coef = np.zeros((xe.shape[1], len(TECHNIQUES)), dtype=np.float32)
        intercept = np.full(len(TECHNIQUES), -10.0, dtype=np.float32)
        enc_intercept = intercept.copy()
        for j in range(len(TECHNIQUES)):
            # all weights 1: no weights at all (bit-identical to the unweighted recipe)
            w = None if weight is None or np.all(weight[:, j] == 1) else weight[:, j]
            seen = y[:, j] if w is None else y[:, j][w > 0]
            if seen.sum() < 2 or seen.min() == 1:  # a technique never seen: predict it never
                continue
            m = LogisticRegression(
                C=self.c_tfidf, solver="liblinear", dual=True, tol=1e-3, random_state=self.seed
            ).fit(x, y[:, j], sample_weight=w)
            coef[:, j], intercept[j] = m.coef_[0], m.intercept_[0]
            m = LogisticRegression(C=self.c_encoder, max_iter=300).fit(xe, y[:, j], sample_weight=w)
            enc_coef[:, j], enc_intercept[j] = m.coef_[0], m.intercept_[0]
        self.coef_ = Int8Matrix.from_dense(coef[:width])  # CV measures the model that ships
        self.intercept_ = intercept
        self.enc_coef_, self.enc_intercept_ = enc_coef[:enc_width], enc_intercept
        self.set_thresholds(thresholds or {"*": self.threshold})
        self.span_words_ = np.array(
            [round((span_words or {}).get(t, 0)) for t in TECHNIQUES], dtype=np.int16
        )
        self.students_: dict[str, TechniqueStudent] = {}
        self._words = None
        self.meta = {"n_train_paragraphs": len(paragraphs), "languages": self.languages_}
        return self

    def set_thresholds(self, thresholds: dict[str, float]) -> TechniqueClassifier:
        """Decision thresholds: language -> threshold, ``"*"`` the global one (required),
        :data:`UNSEEN` the one for a language without training data that USE covers.
        Chosen by training on cross-validated probabilities."""
        if "*" not in thresholds:
            raise ValueError("thresholds need a global one under '*'")
        self.thresholds_ = {k: float(v) for k, v in thresholds.items()}
        return self

    # ----------------------------------------------------------------- predict
    def tfidf_proba(self, texts: Sequence[str], languages: Sequence[str | None]) -> np.ndarray:
        """Probabilities of the n-gram model alone."""
        self._check_fitted()
        if not len(texts):
            return np.zeros((0, len(TECHNIQUES)), dtype=np.float32)
        x = self._x(self.tfidf_.transform({"text": texts}), languages)
        return sigmoid(np.asarray(x @ self.coef_.dense) + self.intercept_).astype(np.float32)

    def predict_proba(
        self,
        paragraphs: Sequence[str],
        languages: Sequence[str | None],
        *,
        embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Probabilities, shape ``(len(paragraphs), 23)``, columns in :data:`TECHNIQUES`.

        ``embeddings``: the USE vectors of the paragraphs, ``(len(paragraphs), 512)``, as
        the pipeline keeps them on ``doc.tensor``; None: the paragraphs (stripped) are
        encoded with ``SentenceEncoder.shared()``. Rows in a language with a student
        (:attr:`students_`) get the student's probabilities and need no vector.
        """
        self._check_fitted()
        if len(paragraphs) != len(languages):
            raise ValueError("paragraphs and languages must have the same length")
        out = np.zeros((len(paragraphs), len(TECHNIQUES)), dtype=np.float32)
        rest = np.ones(len(paragraphs), dtype=bool)
        for lang, student in self.students_.items():
            rows = np.flatnonzero([x == lang for x in languages])
            if len(rows):
                out[rows] = student.predict_proba([paragraphs[i] for i in rows])
                rest[rows] = False
        if rest.all():  # no student language in the batch: no copying
            return self._mixed_proba(paragraphs, languages, embeddings)
        rows = np.flatnonzero(rest)
        if len(rows):
            out[rows] = self._mixed_proba(
                [paragraphs[i] for i in rows],
                [languages[i] for i in rows],
                None if embeddings is None else embeddings[rows],
            )
        return out

    def _mixed_proba(
        self,
        paragraphs: Sequence[str],
        languages: Sequence[str | None],
        embeddings: np.ndarray | None,
    ) -> np.ndarray:
        """The main model: n-gram and USE probabilities averaged at each row's share."""
        p = self.tfidf_proba(paragraphs, languages)
        if not len(paragraphs):
            return p
        xe = self._enc_x(self._embeddings(paragraphs, embeddings), languages)
        pe = sigmoid(xe @ self.enc_coef_ + self.enc_intercept_)
        share = self.encoder_shares(languages)[:, None]
        return ((1 - share) * p + share * pe).astype(np.float32)

    def _unseen(self, languages: Sequence[str | None]) -> np.ndarray:
        """Rows in a language without training data that the encoder covers."""
        known = set(self.languages_)
        return np.array([x not in known and x in ENCODER_LANGUAGES for x in languages], bool)

    def encoder_shares(self, languages: Sequence[str | None]) -> np.ndarray:
        """The USE model's weight in each row's probability (``unseen_share`` for
        :meth:`_unseen` rows)."""
        share = np.full(len(languages), self.encoder_share, np.float32)
        share[self._unseen(languages)] = self.unseen_share
        return share

    def thresholds_for(self, languages: Sequence[str | None]) -> np.ndarray:
        """The decision threshold of each row's language: its own when trained on it, the
        one chosen for :meth:`_unseen` rows (``UNSEEN``), its student's when it has one,
        else the global one."""
        self._check_fitted()
        t = self.thresholds_
        out = np.array([t.get(lang or "", t["*"]) for lang in languages], dtype=np.float32)
        out[self._unseen(languages) & (UNSEEN in t)] = t.get(UNSEEN, 0.0)
        for lang, student in self.students_.items():
            out[[x == lang for x in languages]] = student.threshold_
        return out

    def decide(self, probs: np.ndarray, languages: Sequence[str | None]) -> list[list[str]]:
        """Techniques whose probability reaches the paragraph language's threshold."""
        chosen = probs >= self.thresholds_for(languages)[:, None]
        return [[TECHNIQUES[j] for j in np.flatnonzero(row)] for row in chosen]

    def predict(
        self,
        paragraphs: Sequence[str],
        languages: Sequence[str | None],
        *,
        embeddings: np.ndarray | None = None,
    ) -> list[list[str]]:
        probs = self.predict_proba(paragraphs, languages, embeddings=embeddings)
        return self.decide(probs, languages)

    # ------------------------------------------------------------------- spans
    def spans(
        self, paragraph: str, language: str | None, techniques: Sequence[tuple[str, float]]
    ) -> list[tuple[int, int, str, float]]:
        """``(start, end, technique, score)`` of each (technique, paragraph probability)
        inside the paragraph (offsets relative to it), sorted, each starting and ending
        on a content word of ``language``; see ``models/spans.py``."""
        if not techniques:
            return []
        found = locate(
            paragraph,
            [(TECHNIQUES.index(t), p) for t, p in techniques],
            self.words_for(language),
            self.span_words_,
            span_min_ratio=self.span_min_ratio,
            max_window_words=self.max_window_words,
            max_windows=self.max_windows,
            trim_ratio=self.trim_ratio,
            max_span_words=self.max_span_words,
            language=language,
        )
        return sorted((s, e, TECHNIQUES[j], score) for s, e, j, score in found)

    def words_for(self, language: str | None) -> NgramWords:
        """The per-word n-gram weights that localise a technique in ``language``: its
        student's when it has one, else the main n-gram model's."""
        self._check_fitted()
        student = self.students_.get(language or "")
        if student is not None:
            return student.words
        if self._words is None:
            self._words = NgramWords.of(self.tfidf_, self.coef_.dense)
        return self._words

    # ------------------------------------------------------------- save / load
    def _get_state(self) -> dict[str, Any]:
        return {
            "labels": list(TECHNIQUES),
            "languages": self.languages_,
            "thresholds": self.thresholds_,
            **self.tfidf_.get_state(),
            "coef": self.coef_,
            "intercept": self.intercept_,
            "enc_coef": self.enc_coef_,
            "enc_intercept": self.enc_intercept_,
            "enc_mean": self.enc_mean_,
            "span_words": self.span_words_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        if state["labels"] != list(TECHNIQUES):
            raise ValueError("unexpected technique list")
        self.languages_ = list(state["languages"])
        self.tfidf_ = TfidfViews(word_char_views(self.tfidf))
        self.tfidf_.set_state(state)
        check_rows("coef", state["coef"], self.tfidf_.width + len(self.languages_))
        check_rows("enc_coef", state["enc_coef"], WIDTH + len(self.languages_))
        self.coef_, self.intercept_ = state["coef"], state["intercept"]
        self.enc_coef_, self.enc_intercept_ = state["enc_coef"], state["enc_intercept"]
        self.enc_mean_ = state["enc_mean"]
        self.span_words_ = state["span_words"]
        self.set_thresholds(state["thresholds"])
        self.students_ = {}
        self._words = None

    def _save_parts(self, out: Path) -> None:
        """Each student in ``students/<language>``; only this model's (see ``save``)."""
        for lang, student in self.students_.items():
            student.save(out / STUDENTS / lang)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        model = super().load(path)
        for folder in sorted((Path(path) / STUDENTS).glob("*/config.json")):
            if folder.parent.name.startswith("."):  # what a stopped save left behind
                continue
            student = TechniqueStudent.load(folder.parent)
            model.students_[student.language] = student
        return model


def _technique_weights(sample_weight: np.ndarray | None, n: int) -> np.ndarray | None:
    """``sample_weight`` as an ``(n, 23)`` matrix (None stays None)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 1:
        w = np.repeat(w[:, None], len(TECHNIQUES), axis=1)
    if w.shape != (n, len(TECHNIQUES)):
        raise ValueError(f"sample_weight must have shape ({n},) or ({n}, {len(TECHNIQUES)})")
    if (w < 0).any():
        raise ValueError("sample_weight must be >= 0")
    return w


def targets(labels: Sequence[Sequence[str]]) -> np.ndarray:
    """0/1 matrix (paragraphs x 23); unknown technique names are an error, not noise."""
    index = {t: j for j, t in enumerate(TECHNIQUES)}
    y = np.zeros((len(labels), len(TECHNIQUES)), dtype=np.int8)
    for i, labs in enumerate(labels):
        for lab in labs:
            if lab not in index:
                raise ValueError(f"unknown technique {lab!r}")
            y[i, index[lab]] = 1
    return y
