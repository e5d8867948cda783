"""TF-IDF with a fixed vocabulary, computed without importing scikit-learn.

Training fits scikit-learn's ``TfidfVectorizer``; at inference we only need its
``transform``, and importing scikit-learn costs about 1.5 s of a 3 s start-up budget.
This reproduces the same analyzers (lower-casing, ``(?u)\\b\\w\\w+\\b`` word tokens and
word n-grams; ``char_wb`` n-grams padded with one space per word), sublinear tf, the idf
weights and the L2 row norm. ``tests/test_tfidf.py`` checks it against scikit-learn.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import scipy.sparse as sp

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default
# Python's ``\w`` excludes combining vowel signs and viramas, so the default pattern cuts
# Devanagari words apart and drops short ones entirely ("रूस" Russia -> nothing). This one
# keeps Devanagari marks inside the word; elsewhere it tokenises like the default.
TOKEN_PATTERN_INDIC = r"(?u)[\w\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963]{2,}"
_TOKEN = re.compile(TOKEN_PATTERN)
_WORD_CACHE_LIMIT = 200_000


def _char_wb_ngrams(word: str, lo: int, hi: int) -> Iterator[str]:
    """scikit-learn's char_wb n-grams of one lower-cased word, padded with one space."""
    padded = f" {word} "
    size = len(padded)
    for n in range(lo, hi + 1):
        offset = 0
        yield padded[offset : offset + n]
        while offset + n < size:
            offset += 1
            yield padded[offset : offset + n]
        if offset == 0:  # a word shorter than n is counted once
            break


class FixedTfidf:
    """``transform`` of a fitted TfidfVectorizer(sublinear_tf=True, norm='l2').

    Whole batches are counted at once with sparse products, since a Python loop per text
    and n-gram was half of the entity stage's time (many overlapping mention windows).
    """

    def __init__(
        self,
        analyzer: str,
        ngram_range: tuple[int, int],
        vocabulary: Sequence[str],
        idf,
        token_pattern: str = TOKEN_PATTERN,
    ) -> None:
        if analyzer not in ("word", "char_wb"):
            raise ValueError(f"analyzer must be 'word' or 'char_wb', not {analyzer!r}")
        self._token = _TOKEN if token_pattern == TOKEN_PATTERN else re.compile(token_pattern)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.vocabulary_ = {term: i for i, term in enumerate(vocabulary)}
        self.idf_ = np.asarray(idf, dtype=np.float64)
        self._char_wb = analyzer == "char_wb"
        # char_wb n-grams depend on the word alone, and words repeat (overlapping mention
        # windows, common words): remember each word's known n-gram columns.
        self._word_columns: dict[str, tuple[int, ...]] = {}

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        counts = self._char_counts(texts) if self._char_wb else self._word_counts(texts)
        tf = 1.0 + np.log(counts.data)
        tf *= self.idf_[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(rows, weights=tf * tf, minlength=counts.shape[0]))
        tf /= np.where(norms > 0, norms, 1.0)[rows]
        out = sp.csr_matrix(
            (tf.astype(np.float32), counts.indices, counts.indptr),
            shape=counts.shape,
            dtype=np.float32,
        )
        out.sort_indices()
        return out

    def _word_counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Texts x vocabulary counts of the known word n-grams."""
        lo, hi = self.ngram_range
        grams: list[str] = []
        lengths: list[int] = []
        for text in texts:
            tokens = self._token.findall(text.lower())
            before = len(grams)
            for n in range(lo, hi + 1):
                if n == 1:
                    grams.extend(tokens)
                else:
                    grams.extend(map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False)))
            lengths.append(len(grams) - before)
        cols = np.fromiter(
            map(self.vocabulary_.get, grams, repeat(-1)), dtype=np.int64, count=len(grams)
        )
        rows = np.repeat(np.arange(len(texts)), lengths)
        known = cols >= 0
        return sp.csr_matrix(  # duplicates are summed: n-gram counts
            (np.ones(int(known.sum())), (rows[known], cols[known])),
            shape=(len(texts), len(self.vocabulary_)),
        )

    def _char_counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """(texts x distinct words) @ (distinct words x vocabulary): char_wb n-grams never
        cross a word boundary, so each distinct word is analysed once."""
        lo, hi = self.ngram_range
        words = [text.lower().split() for text in texts]
        flat = [w for ws in words for w in ws]
        index = dict.fromkeys(flat)
        for i, word in enumerate(index):
            index[word] = i
        occurrences = sp.csr_matrix(
            (
                np.ones(len(flat)),
                (
                    np.repeat(np.arange(len(texts)), [len(ws) for ws in words]),
                    np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=len(flat)),
                ),
            ),
            shape=(len(texts), len(index)),
        )
        cache = self._word_columns
        if len(cache) > _WORD_CACHE_LIMIT:
            cache.clear()
        vocab = self.vocabulary_
        cols: list[int] = []
        lengths: list[int] = []
        for word in index:
            known = cache.get(word)
            if known is None:
                known = tuple(
                    j for g in _char_wb_ngrams(word, lo, hi) if (j := vocab.get(g)) is not None
                )
                cache[word] = known
            cols.extend(known)
            lengths.append(len(known))
        ngrams = sp.csr_matrix(
            (np.ones(len(cols)), np.asarray(cols, dtype=np.int64), np.cumsum([0, *lengths])),
            shape=(len(index), len(vocab)),
        )
        return occurrences @ ngrams

    def subset(self, columns: np.ndarray) -> FixedTfidf:
        """The same vectorizer restricted to some vocabulary columns (pruning): rows are
        L2-normalised over the kept columns only, as the pruned model was fitted."""
        terms = list(self.vocabulary_)
        return FixedTfidf(
            "char_wb" if self._char_wb else "word",
            self.ngram_range,
            [terms[j] for j in columns],
            self.idf_[columns],
            self._token.pattern,
        )


@dataclass(frozen=True)
class View:
    """One TF-IDF block: which text of a row it reads (``source``), how it tokenises, and
    its weight once L2-normalised."""

    analyzer: str  # "word" or "char_wb"
    ngrams: tuple[int, int]
    min_df: int = 2
    max_features: int = 30_000
    token_pattern: str = TOKEN_PATTERN
    weight: float = 1.0
    source: str = "text"


# The word + char n-gram recipe the narrative and technique models and the technique
# student share; ``word_char_views`` overrides any of these per model.
WORD_CHAR = {
    "word_ngrams": (1, 2),
    "char_ngrams": (2, 5),
    "min_df_word": 2,
    "min_df_char": 3,
    "max_features_word": 30_000,
    "max_features_char": 60_000,
    "token_pattern": TOKEN_PATTERN,
}


def word_char_views(overrides: Mapping[str, Any] | None = None) -> dict[str, View]:
    """Word n-grams and ``char_wb`` n-grams of the same text, weighted 1/sqrt(2) each so
    that the two blocks together have unit norm (they carry across languages and survive
    transliteration; docs/narratives-research.md)."""
    unknown = set(overrides or {}) - set(WORD_CHAR)
    if unknown:
        raise ValueError(f"unknown tfidf settings {sorted(unknown)}; known: {sorted(WORD_CHAR)}")
    s = {**WORD_CHAR, **(overrides or {})}
    scale = np.float32(1.0 / np.sqrt(2.0))
    return {
        name: View(
            analyzer,
            tuple(s[f"{name}_ngrams"]),
            s[f"min_df_{name}"],
            s[f"max_features_{name}"],
            s["token_pattern"] if analyzer == "word" else TOKEN_PATTERN,
            scale,
        )
        for name, analyzer in (("word", "word"), ("char", "char_wb"))
    }


class TfidfViews:
    """Named TF-IDF views side by side: the featuriser every linear model here shares.

    ``fit_raw`` fits scikit-learn's vectorizer per view (training only) and returns the
    un-normalised tf-idf, so a model can prune columns and normalise what is left, which
    is exactly what :class:`FixedTfidf` computes at inference without scikit-learn.
    """

    def __init__(self, views: Mapping[str, View], *, max_df: float = 0.9) -> None:
        self.views = dict(views)
        self.max_df = max_df
        self.fixed_: dict[str, FixedTfidf] = {}
        self._fitted: dict[str, Any] = {}

    @property
    def width(self) -> int:
        return sum(len(f.vocabulary_) for f in self.fixed_.values())

    def fit_raw(self, texts: Mapping[str, Sequence[str]]) -> dict[str, sp.csc_matrix]:
        """Fit every view on ``texts[view.source]``; un-normalised tf-idf per view.
        Tiny corpora (tests) keep every term that occurs at all."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        raw = {}
        for name, v in self.views.items():
            rows = texts[v.source]
            tiny = len(rows) < 20 * v.min_df
            vec = TfidfVectorizer(
                analyzer=v.analyzer,
                norm=None,
                ngram_range=tuple(v.ngrams),
                min_df=1 if tiny else v.min_df,
                max_df=1.0 if tiny else self.max_df,
                max_features=v.max_features,
                sublinear_tf=True,
                dtype=np.float32,
                token_pattern=v.token_pattern,
            )
            raw[name] = vec.fit_transform(rows).tocsc()
            self._fitted[name] = vec
            self.fixed_[name] = FixedTfidf(
                v.analyzer,
                v.ngrams,
                vec.get_feature_names_out().tolist(),
                vec.idf_.astype(np.float32),
                v.token_pattern,
            )
        return raw

    def transform_raw(self, texts: Mapping[str, Sequence[str]]) -> dict[str, sp.csc_matrix]:
        """Un-normalised tf-idf of more rows with the vectorizers just fitted (training)."""
        return {
            n: self._fitted[n].transform(texts[self.views[n].source]).tocsc() for n in self.views
        }

    def prune(self, raw: dict[str, sp.csc_matrix], keep: np.ndarray) -> dict[str, sp.csc_matrix]:
        """Keep the columns ``keep`` (indices over all views, in view order); returns the
        raw matrices narrowed alike."""
        out = {}
        offset = 0
        for name, fixed in self.fixed_.items():
            size = len(fixed.vocabulary_)
            cols = keep[(keep >= offset) & (keep < offset + size)] - offset
            self.fixed_[name] = fixed.subset(cols)
            out[name] = raw[name][:, cols]
            offset += size
        self._fitted = {}
        return out

    def weighted(self, raw: Mapping[str, sp.spmatrix]) -> list[sp.csr_matrix]:
        """Each view's raw rows L2-normalised and weighted (what :meth:`transform` gives)."""
        from sklearn.preprocessing import normalize

        return [
            normalize(raw[n].tocsr()) * self.views[n].weight if raw[n].shape[1] else raw[n].tocsr()
            for n in self.views
        ]  # (a view can lose every column to pruning)

    def transform(self, texts: Mapping[str, Sequence[str]]) -> list[sp.csr_matrix]:
        """Each view's L2-normalised, weighted tf-idf of ``texts[view.source]``."""
        return [self.fixed_[n].transform(texts[v.source]) * v.weight for n, v in self.views.items()]

    def get_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, fixed in self.fixed_.items():
            out[f"vocab_{name}"] = list(fixed.vocabulary_)
            out[f"idf_{name}"] = fixed.idf_.astype(np.float32)
        return out

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.fixed_ = {}
        for name, v in self.views.items():
            vocab, idf = state[f"vocab_{name}"], state[f"idf_{name}"]
            if len(vocab) != len(idf):
                raise ValueError(f"view {name!r}: {len(vocab)} terms but {len(idf)} idf weights")
            self.fixed_[name] = FixedTfidf(v.analyzer, v.ngrams, vocab, idf, v.token_pattern)
