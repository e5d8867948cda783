"""Multilingual narrative / sub-narrative classifier (SemEval-2025 Task 10, subtask 2).

Why this design (see docs/narratives-research.md for the measurements):

* Features are TF-IDF word 1-2-grams plus ``char_wb`` 2-5-grams (they carry across the
  five languages and survive transliteration), a language one-hot, and the document's
  multilingual-USE vector (centred on the training mean, weight 0.5).
* The estimator is multi-output ridge regression solved in its dual form
  (:mod:`narrascope.models.ridge`): one ``n_docs x n_docs`` solve fits every label, and
  the same kernel gives internal out-of-fold scores for calibration almost free. The
  vocabulary is pruned to the 30k n-grams that matter most to some label, then refitted,
  so the artefact stays a few MB and a sentence's evidence score is one sparse product.
* Training adds the organisers' subtask-3 explanations of the training documents as
  extra, down-weighted examples (n-gram features only).
* Raw scores are calibrated per label on internal out-of-fold scores, a sub-narrative's
  together with its narrative's score, so a score is a probability users can read and
  the decision can maximise expected samples-F1.
* Decision: per document the top-k narratives maximising expected F1; sub-narratives the
  same way; when no sub-narrative is chosen at all, each chosen narrative gets
  ``<narrative>: Other``. A narrative may otherwise stand without a child: adding
  ``<narrative>: Other`` to every such narrative cost 0.016 fine F1 in CV
  (docs/benchmarks.md, "What each idea contributed").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from narrascope.models.artefact import Estimator, Int8Matrix, check_rows
from narrascope.models.encoder import WIDTH, SentenceEncoder, text_vectors
from narrascope.models.folds import group_folds
from narrascope.models.linear import language_block, platt, sigmoid
from narrascope.models.ridge import columns_to_keep, dual_solve, kernel, out_of_fold_scores
from narrascope.models.tfidf import TfidfViews, word_char_views
from narrascope.taxonomy import OTHER, coarse_of

log = logging.getLogger(__name__)

# The narrative recipe's TF-IDF: a larger vocabulary than the shared default before
# pruning (the ridge weights pick the 30k columns that are kept).
TFIDF = {"max_features_word": 150_000, "max_features_char": 150_000}

LabelSets = Sequence[tuple[Iterable[str], Iterable[str]]]
Explanations = Sequence[Sequence[tuple[str, str, str]]]


def _warn_on_prior_labels(
    labels: Sequence[str], slopes: np.ndarray, y: np.ndarray, folds: int
) -> None:
    """Say which labels the text cannot move: their calibration fell back to the prior
    (too few documents for out-of-fold scores that rise with the label)."""
    flat = [lab for lab, a, col in zip(labels, slopes, y.T, strict=True) if a == 0 and col.any()]
    if flat:
        log.warning(
            "%d of %d labels get their prior probability whatever the text (%s%s): their "
            "out-of-fold scores do not rise with the label; give each label at least %d "
            "documents, and documents without it",
            len(flat),
            len(labels),
            ", ".join(flat[:3]),
            ", ..." if len(flat) > 3 else "",
            folds,
        )


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


def _embedding_block(emb: np.ndarray, mean: np.ndarray, weight: float) -> np.ndarray:
    """Document vectors centred on the training mean, L2-normalised, times ``weight``."""
    centred = emb - mean
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return (weight * centred / np.maximum(norms, 1e-9)).astype(np.float32)


class NarrativeClassifier(Estimator):
    """TF-IDF + USE dual-ridge classifier over narratives (coarse) and sub-narratives (fine).

    ``labels_`` lists the coarse labels (``Other`` included) followed by the fine labels
    (``Narrative: Sub`` and ``Narrative: Other``; the plain fine ``Other`` is implied by the
    coarse one). ``predict_proba`` columns follow ``labels_``.

    ``embeddings`` (``fit``, ``predict_proba``, ``predict``) are the documents' vectors as
    :func:`~narrascope.models.encoder.document_vectors` gives them, shape ``(n, 512)``;
    when ``None`` they are computed from the texts with ``SentenceEncoder.shared()``.
    """

    artefact_what = "narrative model"
    train_hint = "train one with `narrascope train narratives`"

    def __init__(
        self,
        *,
        alpha: float = 0.3,
        keep_features: int = 30_000,
        language_weight: float = 0.3,
        encoder_weight: float = 0.5,
        explanation_weight: float = 0.3,
        calibration_folds: int = 5,
        calibration_c: float = 100.0,
        calibration_min_pos: int = 5,
        max_labels: int = 8,
        min_parent_prob: float = 0.1,
        seed: int = 0,
        tfidf: dict[str, Any] | None = None,
    ) -> None:
        self._set_params(locals())

    # ------------------------------------------------------------------ labels
    @staticmethod
    def label_space(label_sets: LabelSets) -> list[str]:
        """The ``labels_`` a model fitted on these gold sets would have (coarse, then fine)."""
        coarse, fine = _label_lists(label_sets)
        return coarse + fine

    def _set_label_lists(self, coarse: Sequence[str], fine: Sequence[str]) -> None:
        self.coarse_labels_ = list(coarse)
        self.fine_labels_ = list(fine)
        self.labels_ = self.coarse_labels_ + self.fine_labels_
        self.n_coarse_ = len(coarse)
        self._other = self.coarse_labels_.index(OTHER)
        self._parent = np.array(
            [self.coarse_labels_.index(coarse_of(f, coarse)) for f in fine], dtype=int
        )
        # column (among the fine labels) of each narrative's "<narrative>: Other", or -1
        self._other_child = np.full(len(coarse), -1)
        for j, f in enumerate(fine):
            if f == coarse[self._parent[j]] + ": " + OTHER:
                self._other_child[self._parent[j]] = j

    def _targets(self, label_sets: LabelSets) -> np.ndarray:
        index = {lab: i for i, lab in enumerate(self.labels_)}
        y = np.zeros((len(label_sets), len(self.labels_)), dtype=np.float64)
        for i, (narr, sub) in enumerate(label_sets):
            for lab in set(narr) or {OTHER}:
                y[i, index[lab]] = 1.0
            for lab in set(sub) - {OTHER}:
                y[i, index[lab]] = 1.0
        return y

    def _explanation_rows(
        self,
        explanations: Explanations | None,
        label_sets: LabelSets,
        languages: Sequence[str | None],
    ) -> tuple[list[str], list[str | None], np.ndarray, np.ndarray]:
        """Explanation texts, languages, targets and owning document index."""
        texts: list[str] = []
        langs: list[str | None] = []
        rows: list[np.ndarray] = []
        owner: list[int] = []
        if explanations is None or self.explanation_weight <= 0:
            return texts, langs, np.zeros((0, len(self.labels_))), np.zeros(0, dtype=int)
        index = {lab: i for i, lab in enumerate(self.labels_)}
        for i, items in enumerate(explanations):
            gold_fine = set(label_sets[i][1])
            for narrative, sub, text in items:
                if narrative not in index or not text.strip():
                    continue
                row = np.zeros(len(self.labels_))
                row[index[narrative]] = 1.0
                child_other = f"{narrative}: {OTHER}"
                if sub in index:
                    row[index[sub]] = 1.0
                elif child_other in index and child_other in gold_fine:
                    row[index[child_other]] = 1.0
                texts.append(text)
                langs.append(languages[i])
                rows.append(row)
                owner.append(i)
        y = np.stack(rows) if rows else np.zeros((0, len(self.labels_)))
        return texts, langs, y, np.asarray(owner, dtype=int)

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        label_sets: LabelSets,
        *,
        explanations: Explanations | None = None,
        embeddings: np.ndarray | None = None,
    ) -> NarrativeClassifier:
        """Fit on documents, their languages and (narratives, sub-narratives) gold sets.

        ``explanations`` (optional, aligned with ``texts``): per document, the organisers'
        subtask-3 ``(dominant narrative, dominant sub-narrative or 'none', explanation)``
        triples. With ``explanation_weight > 0`` each becomes an extra training row of
        that weight (n-gram features only, labelled with its dominant labels) of the same
        document; it never calibrates or scores its own document.
        """
        if not (len(texts) == len(languages) == len(label_sets)):
            raise ValueError("texts, languages and label_sets must have the same length")
        if explanations is not None and len(explanations) != len(texts):
            raise ValueError("explanations must be aligned with texts")
        if len(texts) < 2:
            raise ValueError("need at least two documents to fit")
        emb = self._embeddings(texts, embeddings)
        self._set_label_lists(*_label_lists(label_sets))
        y = self._targets(label_sets)
        n_doc = len(texts)
        self.languages_ = sorted({lang for lang in languages if lang})
        self.tfidf_ = TfidfViews(word_char_views({**TFIDF, **(self.tfidf or {})}))
        # Vocabulary and idf come from the documents; explanations only add rows.
        raw = self.tfidf_.fit_raw({"text": list(texts)})
        aux_t, aux_l, aux_y, aux_of = self._explanation_rows(explanations, label_sets, languages)
        sw = None
        if aux_t:
            extra = self.tfidf_.transform_raw({"text": aux_t})
            raw = {name: sp.vstack([raw[name], extra[name]], format="csc") for name in raw}
            y = np.vstack([y, aux_y])
            sw = np.concatenate([np.ones(n_doc), np.full(len(aux_t), self.explanation_weight)])
        self.embedding_mean_ = emb.mean(axis=0)
        lang = language_block([*languages, *aux_l], self.languages_, self.language_weight)
        vec = _embedding_block(emb, self.embedding_mean_, self.encoder_weight)
        # explanations enter through their n-grams only (a zero document vector)
        vec = np.vstack([vec, np.zeros((len(aux_t), WIDTH), np.float32)])
        fixed = sp.csr_matrix(np.hstack([lang, vec]))

        def stack(raw: dict[str, sp.csc_matrix]) -> sp.csr_matrix:
            return sp.hstack([*self.tfidf_.weighted(raw), fixed], format="csr", dtype=np.float32)

        n_text = self.tfidf_.width
        if self.keep_features and n_text > self.keep_features:
            keep = columns_to_keep(stack(raw), y, n_text, self.keep_features, self.alpha, sw)
            # refit on the kept vocabulary: row norms now match what inference computes
            raw = self.tfidf_.prune(raw, keep)
        x = stack(raw)
        k = kernel(x)
        a, mu = dual_solve(k, y, self.alpha, sw)
        # quantised exactly as saved, so CV measures the model that ships
        self.coef_ = Int8Matrix.from_dense(np.asarray(x.T @ a, dtype=np.float32))
        self.intercept_ = mu.astype(np.float32)
        folds = group_folds(
            range(n_doc),
            [lang or "" for lang in languages],
            n_folds=self.calibration_folds,
            seed=self.seed,
        )
        oof = out_of_fold_scores(k, y, folds, self.alpha, sample_weight=sw, aux_of=aux_of)
        pa, pb, pc = self._calibrate(oof, y[:n_doc])
        _warn_on_prior_labels(self.labels_, pa, y[:n_doc], self.calibration_folds)
        self.platt_a_ = pa.astype(np.float32)
        self.platt_b_ = pb.astype(np.float32)
        self.platt_c_ = pc.astype(np.float32)
        self.meta = {
            "n_train_docs": n_doc,
            "n_explanations": len(aux_t),
            "languages": self.languages_,
        }
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
        docs/narratives-research.md). Labels with fewer than ``calibration_min_pos``
        positives keep one-feature Platt scaling (its smoothed targets keep tiny classes
        sane), as do labels that every document has and labels whose own score would get
        a negative weight: a higher score never means a lower probability (see
        :func:`~narrascope.models.linear.platt`, which keeps its slope at 0 or above).
        """
        from sklearn.linear_model import LogisticRegression

        m = y.shape[1]
        pa, pb, pc = np.zeros(m), np.zeros(m), np.zeros(m)
        parent = self._parent_columns()
        for j in range(m):
            pa[j], pb[j] = platt(oof[:, j], y[:, j])
            if y[:, j].sum() < self.calibration_min_pos or y[:, j].sum() == len(y):
                continue
            cols = [oof[:, j]] + ([oof[:, parent[j]]] if parent[j] >= 0 else [])
            lr = LogisticRegression(C=self.calibration_c, max_iter=200)
            lr.fit(np.stack(cols, axis=1), y[:, j])
            coef = lr.coef_.ravel()
            if coef[0] < 0:
                continue
            pa[j], pb[j] = coef[0], lr.intercept_[0]
            pc[j] = coef[1] if len(coef) > 1 else 0.0
        return pa, pb, pc

    def _calibrated(self, s: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Probabilities of raw scores ``s`` (all label columns) for the columns ``idx``."""
        idx = np.arange(s.shape[1]) if idx is None else idx
        z = s[:, idx] * self.platt_a_[idx] + self.platt_b_[idx]
        parent = self._parent_columns()[idx]
        has = parent >= 0
        z[:, has] += s[:, parent[has]] * self.platt_c_[idx][has]
        return sigmoid(z).astype(np.float32)

    # ----------------------------------------------------------------- predict
    @staticmethod
    def _embeddings(texts: Sequence[str], embeddings: np.ndarray | None) -> np.ndarray:
        if embeddings is None:
            return text_vectors(SentenceEncoder.shared(), texts)
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.shape != (len(texts), WIDTH):
            raise ValueError(f"embeddings must have shape ({len(texts)}, {WIDTH}), not {emb.shape}")
        return emb

    def _ngram_features(
        self, texts: Sequence[str], languages: Sequence[str | None]
    ) -> list[sp.spmatrix]:
        lang = language_block(languages, self.languages_, self.language_weight)
        return [*self.tfidf_.transform({"text": texts}), sp.csr_matrix(lang)]

    def decision_function(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        *,
        embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Raw ridge scores, one column per label in ``labels_``."""
        self._check_fitted()
        if len(texts) != len(languages):
            raise ValueError("texts and languages must have the same length")
        if not len(texts):
            return np.zeros((0, len(self.labels_)), dtype=np.float32)
        emb = _embedding_block(
            self._embeddings(texts, embeddings), self.embedding_mean_, self.encoder_weight
        )
        x = sp.hstack(
            [*self._ngram_features(texts, languages), sp.csr_matrix(emb)],
            format="csr",
            dtype=np.float32,
        )
        return np.asarray(x @ self.coef_.dense) + self.intercept_

    def predict_proba(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        *,
        embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Calibrated per-label probabilities, shape ``(n_docs, len(labels_))``."""
        return self._calibrated(self.decision_function(texts, languages, embeddings=embeddings))

    def decide(self, probs: np.ndarray) -> list[tuple[list[str], list[str]]]:
        """Turn probabilities into (narratives, sub-narratives) sets.

        Narratives and sub-narratives are each chosen by the expected-F1 top-k rule (the
        plain fine ``Other`` takes the coarse ``Other`` probability); every chosen
        sub-narrative then adds its parent narrative, unless that narrative's probability
        is under ``min_parent_prob`` (then the sub-narrative is dropped). ``Other`` may
        appear beside a narrative when the model hedges (stricter rules score lower in
        CV, docs/narratives-research.md). Kept apart from ``predict`` so CV can re-use
        probabilities.
        """
        nc = self.n_coarse_
        other = self._other
        pc = probs[:, :nc]
        pf = np.concatenate([probs[:, nc:], pc[:, [other]]], axis=1)
        parent = np.append(self._parent, other)
        fine_names = [*self.fine_labels_, OTHER]
        dc = expected_f1_topk(pc, self.max_labels)
        df = expected_f1_topk(pf, self.max_labels)
        out: list[tuple[list[str], list[str]]] = []
        for i in range(len(probs)):
            fine = np.flatnonzero(df[i])
            # A sub-narrative whose narrative is improbable is noise from a rare label's
            # calibration: drop it rather than let it pull in its narrative.
            fine = fine[pc[i, parent[fine]] >= self.min_parent_prob]
            coarse = set(np.flatnonzero(dc[i])) | set(parent[fine])
            if not coarse:
                coarse = {other}
            if other in coarse and not len(fine):
                fine = np.array([len(fine_names) - 1])
            if not len(fine):  # no sub-narrative cleared the bar: say which narrative
                fine = np.array([self._other_child[j] for j in coarse if j != other])
            out.append(
                (
                    sorted(self.coarse_labels_[j] for j in coarse),
                    sorted({fine_names[j] for j in fine if j >= 0}),
                )
            )
        return out

    def predict(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None],
        *,
        embeddings: np.ndarray | None = None,
    ) -> list[tuple[list[str], list[str]]]:
        """(narratives, sub-narratives) per document."""
        return self.decide(self.predict_proba(texts, languages, embeddings=embeddings))

    def sentence_scores(
        self, sentences: Sequence[str], language: str | None, label_indices: Sequence[int]
    ) -> np.ndarray:
        """How strongly each sentence, on its own, points to each label (for evidence).

        A sentence is scored with the label's linear model as if it were a document
        without a document vector, so this is one sparse product and needs no encoder;
        shape ``(len(sentences), len(label_indices))``, values in (0, 1) through the
        label's calibration (comparable within a label).
        """
        self._check_fitted()
        idx = np.asarray(list(label_indices), dtype=int)
        if not len(sentences) or not len(idx):
            return np.zeros((len(sentences), len(idx)), dtype=np.float32)
        x = sp.hstack(
            self._ngram_features(list(sentences), [language] * len(sentences)),
            format="csr",
            dtype=np.float32,
        )
        # every column: a sub-narrative's calibration also reads its narrative's score
        s = np.asarray(x @ self.coef_.dense[: x.shape[1]]) + self.intercept_
        return self._calibrated(s, idx)

    # ------------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        return {
            "coarse_labels": self.coarse_labels_,
            "fine_labels": self.fine_labels_,
            "languages": self.languages_,
            **self.tfidf_.get_state(),
            "coef": self.coef_,
            "intercept": self.intercept_,
            "platt_a": self.platt_a_,
            "platt_b": self.platt_b_,
            "platt_c": self.platt_c_,
            "embedding_mean": self.embedding_mean_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self._set_label_lists(state["coarse_labels"], state["fine_labels"])
        self.languages_ = list(state["languages"])
        self.tfidf_ = TfidfViews(word_char_views({**TFIDF, **(self.tfidf or {})}))
        self.tfidf_.set_state(state)
        self.coef_ = state["coef"]
        check_rows("coef", self.coef_, self.tfidf_.width + len(self.languages_) + WIDTH)
        for name in ("intercept", "platt_a", "platt_b", "platt_c"):
            if state[name].shape != (len(self.labels_),):
                raise ValueError(f"{name} does not have one value per label")
        if self.coef_.shape[1] != len(self.labels_):
            raise ValueError("coef does not have one column per label")
        self.intercept_ = state["intercept"]
        self.platt_a_ = state["platt_a"]
        self.platt_b_ = state["platt_b"]
        self.platt_c_ = state["platt_c"]
        self.embedding_mean_ = state["embedding_mean"]


def _label_lists(label_sets: LabelSets) -> tuple[list[str], list[str]]:
    coarse = sorted({c for narr, _ in label_sets for c in narr} | {OTHER})
    fine = sorted({f for _, sub in label_sets for f in sub if f != OTHER})
    for f in fine:
        coarse_of(f, coarse)  # validates every fine label has its parent
    return coarse, fine
