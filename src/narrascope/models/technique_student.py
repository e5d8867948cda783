"""A per-language n-gram *student* of an encoder *teacher*, for persuasion techniques in a
language that has no technique annotations (Hindi).

Why: there is no Hindi technique data, multilingual USE was not trained on Hindi, and the
main model's n-grams were learnt on Latin and Cyrillic text, so the main model marks
almost nothing in Hindi. multilingual-e5-small covers Hindi but embeds about one article a
second, far beyond the speed budget. So e5 is used only at training time: a paragraph
model on e5 vectors, fitted on the six annotated languages (the teacher; each language's
vectors centred on its own mean, which transfers better), gives probabilities to
unannotated paragraphs of the language, and a ridge regression over that
language's own word and character n-grams (the student) learns to reproduce them. At
inference the student costs one sparse product per paragraph.

The student never sees a gold label of its language, so its threshold is the one that
reproduces, on paragraphs it was not fitted on, the share of (paragraph, technique) pairs
the teacher marks. How much of the teacher's quality survives was measured by holding
each annotated language out in turn (the manifest's ``proxy``, and
docs/techniques-research.md). Training: ``narrascope train technique-student``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from narrascope.models.artefact import Estimator, Int8Matrix, check_rows
from narrascope.models.spans import NgramWords
from narrascope.models.tfidf import TOKEN_PATTERN_INDIC, TfidfViews, word_char_views


class TechniqueStudent(Estimator):
    """Ridge regression from a language's TF-IDF n-grams to a teacher's technique
    probabilities; columns follow :data:`narrascope.taxonomy.TECHNIQUES`.

    ``tfidf`` overrides the shared word + char recipe (``models.tfidf.WORD_CHAR``);
    ``indic_tokens`` keeps Devanagari vowel signs inside word tokens (the default pattern
    cuts Hindi words apart); ``alpha`` is the ridge penalty.
    """

    artefact_what = "technique student"
    train_hint = "train one with `narrascope train technique-student`"

    def __init__(
        self,
        *,
        language: str = "hi",
        tfidf: dict[str, Any] | None = None,
        indic_tokens: bool = True,
        alpha: float = 0.3,
    ) -> None:
        self._set_params(locals())
        self._words: NgramWords | None = None

    def _views(self) -> TfidfViews:
        overrides = dict(self.tfidf or {})
        if self.indic_tokens:
            overrides["token_pattern"] = TOKEN_PATTERN_INDIC
        return TfidfViews(word_char_views(overrides))

    def fit(
        self, paragraphs: Sequence[str], soft_targets: np.ndarray, *, threshold: float = 0.5
    ) -> TechniqueStudent:
        """Fit on the teacher's probabilities ``soft_targets`` (paragraphs x 23); a
        paragraph is marked from ``threshold`` on."""
        from sklearn.linear_model import Ridge

        targets = np.asarray(soft_targets, dtype=np.float64)
        if targets.shape[0] != len(paragraphs):
            raise ValueError("paragraphs and soft_targets must have the same length")
        self.tfidf_ = self._views()
        x = sp.hstack(
            self.tfidf_.weighted(self.tfidf_.fit_raw({"text": paragraphs})),
            format="csr",
            dtype=np.float32,
        )
        ridge = Ridge(alpha=self.alpha, solver="sparse_cg", tol=1e-4).fit(x, targets)
        # what ships is int8: predict with that
        self.coef_ = Int8Matrix.from_dense(np.asarray(ridge.coef_.T, dtype=np.float32))
        self.intercept_ = np.asarray(ridge.intercept_, dtype=np.float32)
        self.threshold_ = float(threshold)
        self._words = None
        self.meta = {"n_train_paragraphs": len(paragraphs)}
        return self

    def predict_proba(self, paragraphs: Sequence[str]) -> np.ndarray:
        """The teacher's probabilities as the student estimates them, clipped to [0, 1]."""
        self._check_fitted()
        if not len(paragraphs):
            return np.zeros((0, self.coef_.shape[1]), dtype=np.float32)
        x = sp.hstack(self.tfidf_.transform({"text": paragraphs}), format="csr", dtype=np.float32)
        scores = np.asarray(x @ self.coef_.dense) + self.intercept_
        return np.clip(scores, 0.0, 1.0).astype(np.float32)

    @property
    def words(self) -> NgramWords:
        """Per-word weights, to localise a technique's span in a paragraph."""
        self._check_fitted()
        if self._words is None:
            self._words = NgramWords.of(self.tfidf_, self.coef_.dense)
        return self._words

    def _get_state(self) -> dict[str, Any]:
        return {
            **self.tfidf_.get_state(),
            "coef": self.coef_,
            "intercept": self.intercept_,
            "threshold": self.threshold_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.tfidf_ = self._views()
        self.tfidf_.set_state(state)
        check_rows("coef", state["coef"], self.tfidf_.width)
        self.coef_, self.intercept_ = state["coef"], state["intercept"]
        self.threshold_ = float(state["threshold"])
        self._words = None


def rate_matched_threshold(scores: np.ndarray, rate: float) -> float:
    """The threshold at which ``scores`` mark a share ``rate`` of their entries: the
    teacher's label rate reproduced without any gold label."""
    if rate <= 0:
        return 1.0
    return float(np.quantile(np.asarray(scores, dtype=np.float64), 1.0 - rate))
