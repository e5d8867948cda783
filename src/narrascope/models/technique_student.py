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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from narrascope.errors import E_MODEL_MISSING, E_MODEL_VERSION, ModelError
from narrascope.models.artefact import read_artefact, write_artefact
from narrascope.models.linear import dequantise, fit_vectorizer, quantise
from narrascope.models.tfidf import TOKEN_PATTERN, TOKEN_PATTERN_INDIC, FixedTfidf

if TYPE_CHECKING:
    from narrascope.models.techniques import NgramWords

ARTEFACT_FORMAT = 1


@dataclass
class StudentConfig:
    """Hyper-parameters; stored verbatim in the artefact's config.json."""

    language: str = "hi"
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df_word: int = 2
    min_df_char: int = 3
    max_df: float = 0.9
    max_features_word: int = 30_000
    max_features_char: int = 60_000
    # Devanagari-aware word tokens: the default pattern cuts Hindi words at vowel signs
    indic_tokens: bool = True
    # ridge penalty; leave-one-language-out proxy (student micro-F1, mean of 6):
    # 0.1 -> 0.305, 0.3 -> 0.304, 1 -> 0.298, 3 -> 0.285 (raw teacher)
    alpha: float = 0.3


class TechniqueStudent:
    """Ridge regression from a language's TF-IDF n-grams to a teacher's 23 technique
    probabilities; columns follow :data:`narrascope.models.techniques.TECHNIQUES`."""

    def __init__(self, **settings: Any) -> None:
        for key in ("word_ngrams", "char_ngrams"):
            if key in settings:
                settings[key] = tuple(settings[key])
        self.config = StudentConfig(**settings)
        self.threshold = 0.5
        self.meta: dict[str, Any] = {}
        self._vecs: tuple[FixedTfidf, FixedTfidf] | None = None
        self._coef: np.ndarray | None = None
        self._intercept: np.ndarray | None = None
        self._words: NgramWords | None = None

    @property
    def token_pattern(self) -> str:
        return TOKEN_PATTERN_INDIC if self.config.indic_tokens else TOKEN_PATTERN

    def fit(
        self, paragraphs: Sequence[str], soft_targets: np.ndarray, *, threshold: float = 0.5
    ) -> TechniqueStudent:
        """Fit on the teacher's probabilities ``soft_targets`` (paragraphs x 23)."""
        from sklearn.linear_model import Ridge

        c = self.config
        targets = np.asarray(soft_targets, dtype=np.float64)
        if targets.shape[0] != len(paragraphs):
            raise ValueError("paragraphs and soft_targets must have the same length")
        wv = fit_vectorizer("word", c.word_ngrams, c.min_df_word, c.max_df, c.max_features_word)
        cv = fit_vectorizer("char_wb", c.char_ngrams, c.min_df_char, c.max_df, c.max_features_char)
        wv.token_pattern = self.token_pattern
        wv.norm = cv.norm = "l2"  # normalised after pruning, as FixedTfidf does
        wv.fit(paragraphs)
        cv.fit(paragraphs)
        self._vecs = (
            FixedTfidf(
                "word",
                c.word_ngrams,
                wv.get_feature_names_out().tolist(),
                wv.idf_,
                token_pattern=self.token_pattern,
            ),
            FixedTfidf("char_wb", c.char_ngrams, cv.get_feature_names_out().tolist(), cv.idf_),
        )
        x = self._x(paragraphs)
        ridge = Ridge(alpha=c.alpha, solver="sparse_cg", tol=1e-4).fit(x, targets)
        # what ships is int8: fit and measure that
        self._coef = dequantise(quantise(np.asarray(ridge.coef_.T, dtype=np.float32)))
        self._intercept = np.asarray(ridge.intercept_, dtype=np.float32)
        self._words = None
        self.threshold = float(threshold)
        self.meta = {"n_train_paragraphs": len(paragraphs)}
        return self

    def _x(self, paragraphs: Sequence[str]) -> Any:
        import scipy.sparse as sp

        w, c = self._require()
        scale = np.float32(1.0 / np.sqrt(2.0))
        return sp.hstack(
            [w.transform(paragraphs) * scale, c.transform(paragraphs) * scale],
            format="csr",
            dtype=np.float32,
        )

    def _require(self) -> tuple[FixedTfidf, FixedTfidf]:
        if self._vecs is None:
            raise ModelError(E_MODEL_MISSING, "TechniqueStudent is not fitted; fit() or load()")
        return self._vecs

    def predict_proba(self, paragraphs: Sequence[str]) -> np.ndarray:
        """The teacher's probabilities as the student estimates them, clipped to [0, 1]."""
        self._require()
        n = self._coef.shape[1] if self._coef is not None else 0
        if not len(paragraphs):
            return np.zeros((0, n), dtype=np.float32)
        scores = np.asarray(self._x(paragraphs) @ self._coef) + self._intercept
        return np.clip(scores, 0.0, 1.0).astype(np.float32)

    @property
    def words(self) -> NgramWords:
        """Per-word weights, to localise a technique's span in a paragraph."""
        from narrascope.models.techniques import NgramWords

        if self._words is None:
            self._words = NgramWords(*self._require(), self._coef)
        return self._words

    # ------------------------------------------------------------- save / load
    def save(self, path: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
        w, c = self._require()
        config = {
            "format": ARTEFACT_FORMAT,
            "class": type(self).__name__,
            "settings": asdict(self.config),
            "threshold": self.threshold,
        }
        arrays = {
            "word_idf": w.idf_.astype(np.float32),
            "char_idf": c.idf_.astype(np.float32),
            **quantise(self._coef),
            "intercept": self._intercept.astype(np.float32),
        }
        vocab = {"word": list(w.vocabulary_), "char": list(c.vocabulary_)}
        return write_artefact(path, config, {**self.meta, **(meta or {})}, vocab, arrays)

    @classmethod
    def load(cls, path: str | Path) -> TechniqueStudent:
        root = Path(path)
        config, meta, vocab, arrays = read_artefact(
            root,
            class_name=cls.__name__,
            format_version=ARTEFACT_FORMAT,
            what="technique student",
            train_hint="train one with `narrascope train technique-student`",
        )
        model = cls(**config["settings"])
        coef = dequantise(arrays)
        if coef.shape[0] != len(vocab["word"]) + len(vocab["char"]):
            raise ModelError(E_MODEL_VERSION, f"artefact at {root}: weights do not match vocab")
        c = model.config
        model._vecs = (
            FixedTfidf(
                "word",
                c.word_ngrams,
                vocab["word"],
                arrays["word_idf"],
                token_pattern=model.token_pattern,
            ),
            FixedTfidf("char_wb", c.char_ngrams, vocab["char"], arrays["char_idf"]),
        )
        model._coef = coef
        model._intercept = arrays["intercept"]
        model.threshold = float(config["threshold"])
        model.meta = meta
        return model


def rate_matched_threshold(scores: np.ndarray, rate: float) -> float:
    """The threshold at which ``scores`` mark a share ``rate`` of their entries: the
    teacher's label rate reproduced without any gold label."""
    if rate <= 0:
        return 1.0
    return float(np.quantile(np.asarray(scores, dtype=np.float64), 1.0 - rate))
