"""Multilingual narrative / sub-narrative classifier (SemEval-2025 Task 10, subtask 2).

Why this design (see docs/narratives-research.md for the measurements):

* Features are TF-IDF word 1-2-grams plus ``char_wb`` 2-5-grams (they carry across the
  five languages and survive transliteration), plus a language one-hot.
* The estimator is multi-output ridge regression solved in its *dual* form: with far more
  features than documents one ``n_docs x n_docs`` solve fits every label at once, which
  makes internal cross-validation (for calibration) almost free. The primal weights
  ``W = X^T A`` are what we keep, so prediction and per-sentence evidence are a sparse
  matrix product.
* The vocabulary is pruned to the features that matter most to some label, then the model
  is refitted on that vocabulary, so the artefact stays a few MB.
* Training can add the organisers' subtask-3 explanations of the training documents as
  extra, down-weighted examples (n-gram features only): +0.008 coarse / +0.002 fine in CV.
* Raw scores are Platt-calibrated per label on internal out-of-fold scores, so a score is
  a probability users can read, and the decision rule can maximise expected samples-F1.
* Decision: per document choose the top-k narratives maximising expected F1; sub-narratives
  are chosen the same way among the children of the chosen narratives; a narrative with no
  chosen child gets ``<narrative>: Other``; ``Other`` only when no narrative is chosen.

Artefacts are a directory of JSON and ``.npz`` files (no pickle).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from narrascope.errors import E_MODEL_MISSING, E_MODEL_VERSION, ModelError
from narrascope.models.artefact import read_artefact, write_artefact
from narrascope.models.encoder import require_encoder, use_document_embeddings
from narrascope.models.linear import (
    dequantise,
    fit_vectorizer,
    plain_kfold,
    platt,
    quantise,
    sigmoid,
    weighted_dual_solve,
)
from narrascope.models.tfidf import TOKEN_PATTERN, FixedTfidf

if TYPE_CHECKING:  # scikit-learn is imported only to train: it costs 1.5 s of start-up
    from sklearn.feature_extraction.text import TfidfVectorizer

log = logging.getLogger(__name__)

OTHER = "Other"
ARTEFACT_FORMAT = 1
LANGUAGES = ("bg", "en", "hi", "pt", "ru")


def coarse_of(fine_label: str, coarse_labels: Iterable[str]) -> str:
    """The narrative a ``Narrative: Sub`` label belongs to (longest matching prefix)."""
    best = ""
    for c in coarse_labels:
        if c != OTHER and fine_label.startswith(c + ": ") and len(c) > len(best):
            best = c
    if not best:
        raise ValueError(f"sub-narrative {fine_label!r} has no known parent narrative")
    return best


@dataclass
class NarrativeConfig:
    """Hyper-parameters; stored verbatim in the artefact's config.json."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df_word: int = 2
    min_df_char: int = 3
    max_df: float = 0.9
    max_features_word: int = 150_000
    max_features_char: int = 150_000
    language_weight: float = 0.3
    alpha: float = 0.3
    keep_features: int = 30_000
    prune_by: str = "weight"
    calibration_folds: int = 5
    decision: str = "expected_f1"
    threshold: float = 0.3
    max_labels: int = 8
    other_rule: str = "hedge"
    min_parent_prob: float = 0.1
    sentence_encoder: str | None = "use"
    encoder_weight: float = 0.5
    encoder_max_weight: float = 0.0
    explanation_weight: float = 0.3
    explanation_embedding: bool = False
    embedding_units: str = "paragraphs"
    calibration: str = "parent"
    calibration_c: float = 100.0
    calibration_min_pos: int = 5
    token_pattern: str = TOKEN_PATTERN
    seed: int = 0


def _fixed_vectorizer(
    analyzer: str,
    ngrams: tuple[int, int],
    vocabulary: Sequence[str],
    idf: np.ndarray,
    token_pattern: str = TOKEN_PATTERN,
) -> FixedTfidf:
    """Rebuild a fitted TF-IDF vectorizer from its vocabulary and idf (no pickle needed)."""
    return FixedTfidf(analyzer, ngrams, vocabulary, idf, token_pattern)


def _stack(
    w_raw: sp.spmatrix,
    c_raw: sp.spmatrix,
    lang_block: sp.csr_matrix,
    emb_block: np.ndarray | None = None,
) -> sp.csr_matrix:
    """L2-normalise each tf-idf block, weight both blocks equally, append the language
    block and (optionally) the sentence-embedding block."""
    from sklearn.preprocessing import normalize

    scale = np.float32(1.0 / np.sqrt(2.0))
    blocks = [normalize(w_raw.tocsr()) * scale, normalize(c_raw.tocsr()) * scale, lang_block]
    if emb_block is not None:
        blocks.append(sp.csr_matrix(emb_block.astype(np.float32)))
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def _emb_block(
    emb: np.ndarray, mean: np.ndarray, weight: float, max_weight: float = 0.0
) -> np.ndarray:
    """Centred, L2-normalised embedding block; with 1024 columns the mean-pooled and
    max-pooled halves are normalised separately and weighted ``weight`` / ``max_weight``."""
    centred = emb - mean
    if centred.shape[1] == 1024:
        return np.hstack(
            [
                _emb_block(emb[:, :512], mean[:512], weight),
                _emb_block(emb[:, 512:], mean[512:], max_weight),
            ]
        )
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return (weight * centred / np.maximum(norms, 1e-9)).astype(np.float32)


def expected_f1_topk(probs: np.ndarray, max_k: int) -> np.ndarray:
    """Per row, the top-k set maximising the plug-in expected F1 ``2 sum_top p / (k + sum p)``.

    Samples-F1 rewards getting each document's set right; a fixed threshold over-predicts
    on confident documents and under-predicts on vague ones, this rule adapts per document.
    """
    n, m = probs.shape
    out = np.zeros((n, m), dtype=bool)
    if m == 0:
        return out
    order = np.argsort(-probs, axis=1, kind="stable")
    top = np.take_along_axis(probs, order, axis=1)[:, : max(1, min(max_k, m))]
    ks = np.arange(1, top.shape[1] + 1)
    ef = 2.0 * np.cumsum(top, axis=1) / (ks[None, :] + probs.sum(axis=1, keepdims=True))
    k = ef.argmax(axis=1) + 1
    for i in range(n):
        out[i, order[i, : k[i]]] = True
    return out


@dataclass
class _Weights:
    word_vocab: list[str]
    word_idf: np.ndarray
    char_vocab: list[str]
    char_idf: np.ndarray
    languages: list[str]
    coef: np.ndarray  # (n_features, n_labels) float32
    intercept: np.ndarray  # (n_labels,)
    platt_a: np.ndarray
    platt_b: np.ndarray
    # weight of the parent narrative's raw score in a sub-narrative's calibration (0 for
    # narratives, rare labels and artefacts calibrated with plain Platt scaling)
    platt_c: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class NarrativeClassifier:
    """TF-IDF dual-ridge classifier over narratives (coarse) and sub-narratives (fine).

    ``labels_`` lists the coarse labels (``Other`` included) followed by the fine labels
    (``Narrative: Sub`` and ``Narrative: Other``; the plain fine ``Other`` is implied by the
    coarse one). ``predict_proba`` columns follow ``labels_``.
    """

    def __init__(
        self,
        *,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        min_df_word: int = 2,
        min_df_char: int = 3,
        max_df: float = 0.9,
        max_features_word: int = 150_000,
        max_features_char: int = 150_000,
        language_weight: float = 0.3,
        alpha: float = 0.3,
        keep_features: int = 30_000,
        prune_by: str = "weight",
        calibration_folds: int = 5,
        decision: str = "expected_f1",
        threshold: float = 0.3,
        max_labels: int = 8,
        other_rule: str = "hedge",
        min_parent_prob: float = 0.1,
        sentence_encoder: str | None = "use",
        encoder_weight: float = 0.5,
        encoder_max_weight: float = 0.0,
        explanation_weight: float = 0.3,
        explanation_embedding: bool = False,
        embedding_units: str = "paragraphs",
        calibration: str = "parent",
        calibration_c: float = 100.0,
        calibration_min_pos: int = 5,
        token_pattern: str = TOKEN_PATTERN,
        seed: int = 0,
    ) -> None:
        self.config = NarrativeConfig(
            word_ngrams=tuple(word_ngrams),
            char_ngrams=tuple(char_ngrams),
            min_df_word=min_df_word,
            min_df_char=min_df_char,
            max_df=max_df,
            max_features_word=max_features_word,
            max_features_char=max_features_char,
            language_weight=language_weight,
            alpha=alpha,
            keep_features=keep_features,
            prune_by=prune_by,
            calibration_folds=calibration_folds,
            decision=decision,
            threshold=threshold,
            max_labels=max_labels,
            other_rule=other_rule,
            min_parent_prob=min_parent_prob,
            sentence_encoder=sentence_encoder,
            encoder_weight=encoder_weight,
            encoder_max_weight=encoder_max_weight,
            explanation_weight=explanation_weight,
            explanation_embedding=explanation_embedding,
            embedding_units=embedding_units,
            calibration=calibration,
            calibration_c=calibration_c,
            calibration_min_pos=calibration_min_pos,
            token_pattern=token_pattern,
            seed=seed,
        )
        if other_rule not in ("hedge", "exclusive"):
            raise ValueError(f"other_rule must be 'hedge' or 'exclusive', not {other_rule!r}")
        if sentence_encoder not in (None, "use"):
            raise ValueError(f"sentence_encoder must be None or 'use', not {sentence_encoder!r}")
        if embedding_units not in ("paragraphs", "sentences"):
            msg = f"embedding_units must be 'paragraphs' or 'sentences', not {embedding_units!r}"
            raise ValueError(msg)
        if calibration not in ("platt", "parent"):
            raise ValueError(f"calibration must be 'platt' or 'parent', not {calibration!r}")
        if decision not in ("expected_f1", "threshold"):
            raise ValueError(f"decision must be 'expected_f1' or 'threshold', not {decision!r}")
        self.meta: dict[str, Any] = {}
        self._w: _Weights | None = None

    # ------------------------------------------------------------------ labels
    @staticmethod
    def label_space(
        label_sets: Sequence[tuple[Iterable[str], Iterable[str]]],
    ) -> list[str]:
        """The ``labels_`` a model fitted on these gold sets would have (coarse, then fine)."""
        coarse, fine = _label_lists(label_sets)
        return coarse + fine

    def _set_labels(self, label_sets: Sequence[tuple[Iterable[str], Iterable[str]]]) -> None:
        self._set_label_lists(*_label_lists(label_sets))

    def _set_label_lists(self, coarse: list[str], fine: list[str]) -> None:
        self.coarse_labels_ = list(coarse)
        self.fine_labels_ = list(fine)
        self.labels_ = self.coarse_labels_ + self.fine_labels_
        self.n_coarse_ = len(coarse)
        self._other = self.coarse_labels_.index(OTHER)
        self._parent = np.array([self.coarse_labels_.index(coarse_of(f, coarse)) for f in fine])
        self._coarse_other_child = np.full(len(coarse), -1)
        for j, f in enumerate(fine):
            if f.endswith(": " + OTHER) and f == coarse[self._parent[j]] + ": " + OTHER:
                self._coarse_other_child[self._parent[j]] = j

    def _targets(self, label_sets: Sequence[tuple[Iterable[str], Iterable[str]]]) -> np.ndarray:
        index = {lab: i for i, lab in enumerate(self.labels_)}
        y = np.zeros((len(label_sets), len(self.labels_)), dtype=np.float64)
        for i, (narr, sub) in enumerate(label_sets):
            narr = set(narr) or {OTHER}
            for lab in narr:
                y[i, index[lab]] = 1.0
            for lab in set(sub) - {OTHER}:
                y[i, index[lab]] = 1.0
        return y

    # ---------------------------------------------------------------- features
    def _lang_block(self, languages: Sequence[str | None], langs: list[str]) -> sp.csr_matrix:
        rows = np.zeros((len(languages), len(langs)), dtype=np.float32)
        for i, lang in enumerate(languages):
            if lang in langs:
                rows[i, langs.index(lang)] = self.config.language_weight
        return sp.csr_matrix(rows)

    def _features(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        word: FixedTfidf | TfidfVectorizer,
        char: FixedTfidf | TfidfVectorizer,
        langs: list[str],
        *,
        with_embeddings: bool = True,
    ) -> sp.csr_matrix:
        scale = np.float32(1.0 / np.sqrt(2.0))
        blocks = [
            word.transform(texts) * scale,
            char.transform(texts) * scale,
            self._lang_block(languages, langs),
        ]
        w = self._w
        if with_embeddings and w is not None and "emb_mean" in w.extra:
            mean = w.extra["emb_mean"]
            emb = use_document_embeddings(
                texts, with_max=len(mean) == 1024, units=self.config.embedding_units
            )
            c = self.config
            blocks.append(
                sp.csr_matrix(_emb_block(emb, mean, c.encoder_weight, c.encoder_max_weight))
            )
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def _vectorizers(self) -> tuple[FixedTfidf, FixedTfidf]:
        w = self._require()
        c = self.config
        return (
            _fixed_vectorizer("word", c.word_ngrams, w.word_vocab, w.word_idf, c.token_pattern),
            _fixed_vectorizer("char_wb", c.char_ngrams, w.char_vocab, w.char_idf),
        )

    # --------------------------------------------------------------------- fit
    def _dual_ridge(
        self, x: sp.csr_matrix, y: np.ndarray, sw: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (dual coefficients, intercept, kernel) of multi-output ridge.

        ``sw`` are per-row sample weights (weighted least squares); the returned dual
        coefficients already include them, so the primal weights are ``x.T @ a``.
        """
        k = (x @ x.T).toarray().astype(np.float64)
        a, mu = weighted_dual_solve(k, y, sw, self.config.alpha)
        return a, mu, k

    def _internal_oof(
        self,
        k: np.ndarray,
        y: np.ndarray,
        languages: Sequence[str],
        sw: np.ndarray | None = None,
        aux_of: np.ndarray | None = None,
    ) -> np.ndarray:
        """Out-of-fold ridge scores from the precomputed kernel (for calibration).

        Rows ``len(languages):`` of ``k``/``y`` are auxiliary examples (explanations);
        ``aux_of`` gives the document each belongs to. They train only in the folds
        where their document trains and are never scored, so calibration sees no leak.
        """
        from sklearn.model_selection import StratifiedKFold

        n = len(languages)
        aux_of = np.zeros(0, dtype=int) if aux_of is None else np.asarray(aux_of, dtype=int)
        oof = np.zeros((n, y.shape[1]))
        folds = max(2, min(self.config.calibration_folds, n))
        strat = np.asarray([lang or "" for lang in languages])
        _, counts = np.unique(strat, return_counts=True)
        splitter = (
            StratifiedKFold(folds, shuffle=True, random_state=self.config.seed).split(
                np.zeros(n), strat
            )
            if counts.min() >= folds
            else plain_kfold(n, folds, self.config.seed)
        )
        for tr, te in splitter:
            in_tr = np.zeros(n, dtype=bool)
            in_tr[tr] = True
            rows = np.concatenate([tr, n + np.flatnonzero(in_tr[aux_of])]).astype(int)
            w = None if sw is None else sw[rows]
            a, mu = weighted_dual_solve(k[np.ix_(rows, rows)], y[rows], w, self.config.alpha)
            oof[te] = k[np.ix_(te, rows)] @ a + mu
        return oof

    def fit(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        label_sets: Sequence[tuple[Iterable[str], Iterable[str]]],
        *,
        explanations: Sequence[Sequence[tuple[str, str, str]]] | None = None,
    ) -> NarrativeClassifier:
        """Fit on documents, their languages and (narratives, sub-narratives) gold sets.

        ``explanations`` (optional, aligned with ``texts``): per document, the organisers'
        subtask-3 ``(dominant narrative, dominant sub-narrative or 'none', explanation)``
        triples. With ``explanation_weight > 0`` each explanation becomes an extra
        training example (that weight, labelled with its dominant labels) of the same
        document; it is never used to calibrate or score its own document.
        """
        if not (len(texts) == len(languages) == len(label_sets)):
            raise ValueError("texts, languages and label_sets must have the same length")
        if explanations is not None and len(explanations) != len(texts):
            raise ValueError("explanations must be aligned with texts")
        if len(texts) < 2:
            raise ValueError("need at least two documents to fit")
        c = self.config
        self._set_labels(label_sets)
        y = self._targets(label_sets)
        langs = sorted({lang for lang in languages if lang})
        # Stage 1: full vocabulary, to find the features that matter.
        wv = fit_vectorizer("word", c.word_ngrams, c.min_df_word, c.max_df, c.max_features_word)
        wv.set_params(token_pattern=c.token_pattern)
        cv = fit_vectorizer("char_wb", c.char_ngrams, c.min_df_char, c.max_df, c.max_features_char)
        if len(texts) < 2 * max(c.min_df_word, c.min_df_char):  # tiny corpora (tests)
            wv.set_params(min_df=1, max_df=1.0)
            cv.set_params(min_df=1, max_df=1.0)
        # Un-normalised tf-idf once; pruning = column subset + re-normalisation, which is
        # exactly what the rebuilt fixed-vocabulary vectorizer computes at inference.
        w_raw = wv.fit_transform(texts).tocsc()
        c_raw = cv.fit_transform(texts).tocsc()
        word_vocab = wv.get_feature_names_out().tolist()
        char_vocab = cv.get_feature_names_out().tolist()
        word_idf, char_idf = wv.idf_.astype(np.float32), cv.idf_.astype(np.float32)
        n_doc = len(texts)
        aux_t, aux_l, aux_y, aux_of = self._explanation_rows(explanations, label_sets, languages)
        sw = None
        all_langs = list(languages)
        if aux_t:  # vocabulary and idf come from the documents; explanations only add rows
            w_raw = sp.vstack([w_raw, wv.transform(aux_t)], format="csc")
            c_raw = sp.vstack([c_raw, cv.transform(aux_t)], format="csc")
            y = np.vstack([y, aux_y])
            sw = np.concatenate([np.ones(n_doc), np.full(len(aux_t), c.explanation_weight)])
            all_langs += aux_l
        lang_block = self._lang_block(all_langs, langs)
        emb_block = emb_mean = None
        if c.sentence_encoder == "use":
            with_max = c.encoder_max_weight > 0
            emb = use_document_embeddings(
                list(texts) + (aux_t if c.explanation_embedding else []),
                with_max=with_max,
                units=c.embedding_units,
            )
            emb_mean = emb[:n_doc].mean(axis=0)
            emb_block = _emb_block(emb, emb_mean, c.encoder_weight, c.encoder_max_weight)
            if len(emb_block) < len(y):  # explanations enter through their n-grams only
                pad = np.zeros((len(y) - len(emb_block), emb_block.shape[1]), np.float32)
                emb_block = np.vstack([emb_block, pad])
        n_text = len(word_vocab) + len(char_vocab)
        if c.keep_features and n_text > c.keep_features:
            x = _stack(w_raw, c_raw, lang_block, emb_block)
            a, _, _ = self._dual_ridge(x, y, sw)
            coef = np.asarray(x[:, :n_text].T @ a)
            coef /= np.linalg.norm(coef, axis=0, keepdims=True) + 1e-12
            importance = np.sqrt((coef**2).sum(axis=1))
            if c.prune_by == "contribution":  # weight x how much of the feature docs carry
                importance *= np.asarray(x[:, :n_text].mean(axis=0)).ravel()
            keep = np.sort(np.argsort(-importance, kind="stable")[: c.keep_features])
            kw = keep[keep < len(word_vocab)]
            kc = keep[keep >= len(word_vocab)] - len(word_vocab)
            word_vocab = [word_vocab[i] for i in kw]
            char_vocab = [char_vocab[i] for i in kc]
            word_idf, char_idf = word_idf[kw], char_idf[kc]
            w_raw, c_raw = w_raw[:, kw], c_raw[:, kc]
        # Stage 2: refit on the kept vocabulary (norms now match what inference computes).
        wv = _fixed_vectorizer("word", c.word_ngrams, word_vocab, word_idf, c.token_pattern)
        cv = _fixed_vectorizer("char_wb", c.char_ngrams, char_vocab, char_idf)
        x = _stack(w_raw, c_raw, lang_block, emb_block)
        a, mu, k = self._dual_ridge(x, y, sw)
        # Quantised exactly as saved, so CV measures the model that ships.
        coef = dequantise(quantise(np.asarray(x.T @ a, dtype=np.float32)))
        oof = self._internal_oof(k, y, languages, sw, aux_of)
        pa, pb, pc = self._calibrate(oof, y[:n_doc])
        self._w = _Weights(
            word_vocab=word_vocab,
            word_idf=word_idf,
            char_vocab=char_vocab,
            char_idf=char_idf,
            languages=langs,
            coef=coef,
            intercept=mu.astype(np.float32),
            platt_a=pa.astype(np.float32),
            platt_b=pb.astype(np.float32),
            platt_c=pc.astype(np.float32),
            extra={} if emb_mean is None else {"emb_mean": emb_mean.astype(np.float32)},
        )
        self._vec_cache = (wv, cv)
        self.meta = {"n_train_docs": n_doc, "n_explanations": len(aux_t), "languages": langs}
        return self

    def _parent_columns(self) -> np.ndarray:
        """Column of each label's parent narrative in ``labels_`` (-1 for narratives)."""
        return np.concatenate([np.full(self.n_coarse_, -1), self._parent]).astype(int)

    def _calibrate(
        self, oof: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-label calibration ``p = sigmoid(a*s + c*s_parent + b)`` on out-of-fold scores.

        A sub-narrative is only plausible when its narrative is, so the parent's raw
        score enters its calibration (+0.014 fine F1 in CV over Platt scaling alone,
        docs/benchmarks.md). Labels with fewer than ``calibration_min_pos`` positives keep
        one-feature Platt scaling (its smoothed targets keep tiny classes sane).
        """
        from sklearn.linear_model import LogisticRegression

        c = self.config
        m = y.shape[1]
        pa, pb, pc = np.zeros(m), np.zeros(m), np.zeros(m)
        parent = self._parent_columns()
        for j in range(m):
            pa[j], pb[j] = platt(oof[:, j], y[:, j])
            if c.calibration != "parent" or y[:, j].sum() < c.calibration_min_pos:
                continue
            if y[:, j].sum() == len(y):
                continue
            cols = [oof[:, j]] + ([oof[:, parent[j]]] if parent[j] >= 0 else [])
            lr = LogisticRegression(C=c.calibration_c, max_iter=200)
            lr.fit(np.stack(cols, axis=1), y[:, j])
            coef = lr.coef_.ravel()
            pa[j], pb[j] = coef[0], lr.intercept_[0]
            pc[j] = coef[1] if len(coef) > 1 else 0.0
        return pa, pb, pc

    def _calibrated(self, s: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Probabilities of raw scores ``s`` (all label columns) for the columns ``idx``."""
        w = self._require()
        idx = np.arange(s.shape[1]) if idx is None else idx
        z = s[:, idx] * w.platt_a[idx] + w.platt_b[idx]
        if w.platt_c is not None:
            parent = self._parent_columns()[idx]
            has = parent >= 0
            z[:, has] += s[:, parent[has]] * w.platt_c[idx][has]
        return sigmoid(z).astype(np.float32)

    def _explanation_rows(
        self,
        explanations: Sequence[Sequence[tuple[str, str, str]]] | None,
        label_sets: Sequence[tuple[Iterable[str], Iterable[str]]],
        languages: Sequence[str | None],
    ) -> tuple[list[str], list[str | None], np.ndarray, np.ndarray]:
        """Explanation texts, languages, targets and owning document index."""
        texts: list[str] = []
        langs: list[str | None] = []
        rows: list[np.ndarray] = []
        owner: list[int] = []
        if explanations is None or self.config.explanation_weight <= 0:
            return texts, langs, np.zeros((0, len(self.labels_))), np.zeros(0, dtype=int)
        index = {lab: i for i, lab in enumerate(self.labels_)}
        for i, items in enumerate(explanations):
            gold_fine = set(label_sets[i][1])
            for narrative, sub, text in items:
                if narrative not in index or not text.strip():
                    continue
                row = np.zeros(len(self.labels_))
                row[index[narrative]] = 1.0
                if sub in index:
                    row[index[sub]] = 1.0
                elif f"{narrative}: {OTHER}" in index and f"{narrative}: {OTHER}" in gold_fine:
                    row[index[f"{narrative}: {OTHER}"]] = 1.0
                texts.append(text)
                langs.append(languages[i])
                rows.append(row)
                owner.append(i)
        y = np.stack(rows) if rows else np.zeros((0, len(self.labels_)))
        return texts, langs, y, np.asarray(owner, dtype=int)

    # ----------------------------------------------------------------- predict
    def _require(self) -> _Weights:
        if self._w is None:
            msg = "NarrativeClassifier is not fitted; call fit() or load()"
            raise ModelError(E_MODEL_MISSING, msg)
        return self._w

    def _vecs(self) -> tuple[FixedTfidf, FixedTfidf]:
        cache = getattr(self, "_vec_cache", None)
        if cache is None:
            cache = self._vectorizers()
            self._vec_cache = cache
        return cache

    def decision_function(
        self, texts: Sequence[str], languages: Sequence[str | None]
    ) -> np.ndarray:
        """Raw ridge scores, one column per label in ``labels_``."""
        w = self._require()
        if len(texts) != len(languages):
            raise ValueError("texts and languages must have the same length")
        if not texts:
            return np.zeros((0, len(self.labels_)), dtype=np.float32)
        wv, cv = self._vecs()
        x = self._features(texts, languages, wv, cv, w.languages)
        return np.asarray(x @ w.coef.astype(np.float32)) + w.intercept

    def predict_proba(self, texts: Sequence[str], languages: Sequence[str | None]) -> np.ndarray:
        """Calibrated per-label probabilities, shape ``(n_docs, len(labels_))``."""
        return self._calibrated(self.decision_function(texts, languages))

    def decide(self, probs: np.ndarray) -> list[tuple[list[str], list[str]]]:
        """Turn probabilities into (narratives, sub-narratives) sets.

        Narratives and sub-narratives are each chosen by the expected-F1 top-k rule (the
        plain fine ``Other`` takes the coarse ``Other`` probability); every chosen
        sub-narrative then adds its parent narrative, unless that narrative's probability
        is under ``min_parent_prob`` (then the sub-narrative is dropped). Measured in CV:
        restricting sub-narratives to chosen narratives, adding ``X: Other`` to narratives
        without a chosen child, or forbidding ``Other`` next to a narrative all *lower*
        samples-F1, so ``Other`` may appear beside a narrative when the model hedges; its
        score says how much. Kept apart from ``predict`` so CV can re-use probabilities.
        """
        c = self.config
        nc = self.n_coarse_
        pc = probs[:, :nc]
        pf = np.concatenate([probs[:, nc:], pc[:, [self._other]]], axis=1)
        parent = np.append(self._parent, self._other)
        fine_names = [*self.fine_labels_, OTHER]
        if c.decision == "expected_f1":
            dc = expected_f1_topk(pc, c.max_labels)
            df = expected_f1_topk(pf, c.max_labels)
        else:
            dc = pc >= c.threshold
            df = pf >= c.threshold
        out: list[tuple[list[str], list[str]]] = []
        for i in range(len(probs)):
            fine = np.flatnonzero(df[i])
            # A sub-narrative whose narrative is improbable is noise from a rare label's
            # calibration (a war report tagged "CC: ...: Other"): drop it rather than let
            # it pull in its narrative. +0.004 / +0.004 in CV (research notes).
            fine = fine[pc[i, parent[fine]] >= c.min_parent_prob]
            coarse = set(np.flatnonzero(dc[i])) | set(parent[fine])
            if c.other_rule == "exclusive":
                # "Other" alone when it is the most probable label, otherwise never.
                if pc[i].argmax() == self._other:
                    out.append(([OTHER], [OTHER]))
                    continue
                coarse.discard(self._other)
                fine = fine[fine != len(fine_names) - 1]
            if not coarse:
                coarse = {self._other}
            if self._other in coarse and not len(fine):
                fine = np.array([len(fine_names) - 1])
            if not len(fine):  # no sub-narrative cleared the bar: say which narrative
                fine = np.array([_child_other(self, j) for j in coarse if j != self._other])
            out.append(
                (
                    sorted(self.coarse_labels_[j] for j in coarse),
                    sorted({fine_names[j] for j in fine if j >= 0}),
                )
            )
        return out

    def predict(
        self, texts: Sequence[str], languages: Sequence[str | None]
    ) -> list[tuple[list[str], list[str]]]:
        """(narratives, sub-narratives) per document."""
        return self.decide(self.predict_proba(texts, languages))

    def sentence_scores(
        self, sentences: Sequence[str], language: str | None, label_indices: Sequence[int]
    ) -> np.ndarray:
        """How strongly each sentence, on its own, points to each label (for evidence).

        A sentence is scored with the label's linear model as if it were a document,
        so this is one sparse product; shape ``(len(sentences), len(label_indices))``,
        values in (0, 1) through the label's calibration (comparable within a label).
        """
        w = self._require()
        idx = np.asarray(list(label_indices), dtype=int)
        if not len(sentences) or not len(idx):
            return np.zeros((len(sentences), len(idx)), dtype=np.float32)
        wv, cv = self._vecs()
        x = self._features(
            list(sentences), [language] * len(sentences), wv, cv, w.languages, with_embeddings=False
        )
        # every column: a sub-narrative's calibration also reads its narrative's score
        s = np.asarray(x @ w.coef[: x.shape[1]]) + w.intercept
        return self._calibrated(s, idx)

    # ------------------------------------------------------------- save / load
    def save(self, path: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
        """Write config.json, meta.json, vocab.json and weights.npz into directory ``path``."""
        w = self._require()
        config = {
            "format": ARTEFACT_FORMAT,
            "class": "NarrativeClassifier",
            "settings": asdict(self.config),
            "coarse_labels": self.coarse_labels_,
            "fine_labels": self.fine_labels_,
            "languages": w.languages,
        }
        arrays = {
            "word_idf": w.word_idf.astype(np.float32),
            "char_idf": w.char_idf.astype(np.float32),
            **quantise(w.coef),
            "intercept": w.intercept.astype(np.float32),
            "platt_a": w.platt_a.astype(np.float32),
            "platt_b": w.platt_b.astype(np.float32),
            **({} if w.platt_c is None else {"platt_c": w.platt_c.astype(np.float32)}),
            **w.extra,
        }
        vocab = {"word": w.word_vocab, "char": w.char_vocab}
        return write_artefact(path, config, {**self.meta, **(meta or {})}, vocab, arrays)

    @classmethod
    def load(cls, path: str | Path) -> NarrativeClassifier:
        """Rebuild a classifier from a directory written by :meth:`save`."""
        root = Path(path)
        config, meta, vocab, arrays = read_artefact(
            root,
            class_name=cls.__name__,
            format_version=ARTEFACT_FORMAT,
            what="narrative model",
            train_hint="train one with `narrascope train narratives`",
        )
        settings = dict(config["settings"])
        settings["word_ngrams"] = tuple(settings["word_ngrams"])
        settings["char_ngrams"] = tuple(settings["char_ngrams"])
        settings.setdefault("embedding_units", "sentences")  # artefacts before 2026-12
        model = cls(**settings)
        model._set_label_lists(config["coarse_labels"], config["fine_labels"])
        coef = dequantise(arrays)
        extra = {"emb_mean": arrays["emb_mean"]} if "emb_mean" in arrays else {}
        if extra:
            require_encoder()
        n_feat = len(vocab["word"]) + len(vocab["char"]) + len(config["languages"])
        n_feat += len(extra["emb_mean"]) if extra else 0
        if coef.shape != (n_feat, len(model.labels_)):
            msg = f"artefact at {root}: weights do not match vocabulary/labels"
            raise ModelError(E_MODEL_VERSION, msg)
        model._w = _Weights(
            word_vocab=vocab["word"],
            word_idf=arrays["word_idf"],
            char_vocab=vocab["char"],
            char_idf=arrays["char_idf"],
            languages=list(config["languages"]),
            coef=coef,
            intercept=arrays["intercept"],
            platt_a=arrays["platt_a"],
            platt_b=arrays["platt_b"],
            platt_c=arrays.get("platt_c"),
            extra=extra,
        )
        model.meta = meta
        return model


def load_taxonomy() -> dict[str, Any]:
    """The bundled narrative taxonomy: ``narratives`` (list) and ``subnarratives``
    (narrative -> its ``Narrative: Sub`` labels; ``Narrative: Other`` included)."""
    from importlib import resources

    path = resources.files("narrascope").joinpath("resources", "taxonomy", "narratives.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _child_other(model: NarrativeClassifier, coarse_index: int) -> int:
    """Index of ``<narrative>: Other`` among the fine labels, or -1 when it does not exist."""
    return int(model._coarse_other_child[coarse_index])


def _label_lists(
    label_sets: Sequence[tuple[Iterable[str], Iterable[str]]],
) -> tuple[list[str], list[str]]:
    coarse = sorted({c for narr, _ in label_sets for c in narr} | {OTHER})
    fine = sorted({f for _, sub in label_sets for f in sub if f != OTHER})
    for f in fine:
        coarse_of(f, coarse)  # validates every fine label has its parent
    return coarse, fine
