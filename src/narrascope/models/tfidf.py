"""TF-IDF with a fixed vocabulary, computed without importing scikit-learn.

Training fits scikit-learn's ``TfidfVectorizer``; at inference we only need its
``transform``, and importing scikit-learn costs about 1.5 s of a 3 s start-up budget.
This reproduces the same analyzers (lower-casing, ``(?u)\\b\\w\\w+\\b`` word tokens and
word n-grams; ``char_wb`` n-grams padded with one space per word), sublinear tf, the idf
weights and the L2 row norm. ``tests/test_tfidf.py`` checks it against scikit-learn.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence

import numpy as np
import scipy.sparse as sp

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default
# Python's ``\w`` excludes combining vowel signs and viramas, so the default pattern cuts
# Devanagari words apart and drops short ones entirely ("रूस" Russia -> nothing). This one
# keeps Devanagari marks inside the word; elsewhere it tokenises like the default.
TOKEN_PATTERN_INDIC = r"(?u)[\w\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963]{2,}"
_TOKEN = re.compile(TOKEN_PATTERN)
_WHITE_SPACES = re.compile(r"\s\s+")
_WORD_CACHE_LIMIT = 200_000


def _word_ngrams(text: str, lo: int, hi: int, token: re.Pattern[str] = _TOKEN) -> Iterator[str]:
    tokens = token.findall(text.lower())
    for n in range(lo, hi + 1):
        for i in range(len(tokens) - n + 1):
            yield tokens[i] if n == 1 else " ".join(tokens[i : i + n])


def _char_wb_ngrams(text: str, lo: int, hi: int) -> Iterator[str]:
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
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
    """``transform`` of a fitted TfidfVectorizer(sublinear_tf=True, norm='l2')."""

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
        if analyzer == "word":
            token = _TOKEN if token_pattern == TOKEN_PATTERN else re.compile(token_pattern)
            self._ngrams = lambda text, lo, hi: _word_ngrams(text, lo, hi, token)
        else:
            self._ngrams = _char_wb_ngrams
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.vocabulary_ = {term: i for i, term in enumerate(vocabulary)}
        self.idf_ = np.asarray(idf, dtype=np.float64)
        self._char_wb = analyzer == "char_wb"
        # char_wb n-grams depend on the word alone, and words repeat (overlapping mention
        # windows, common words): remember each word's known n-gram columns.
        self._word_columns: dict[str, tuple[int, ...]] = {}

    def _columns(self, text: str) -> list[int]:
        lo, hi = self.ngram_range
        vocab = self.vocabulary_
        if not self._char_wb:
            return [j for g in self._ngrams(text, lo, hi) if (j := vocab.get(g)) is not None]
        cache = self._word_columns
        if len(cache) > _WORD_CACHE_LIMIT:
            cache.clear()
        out: list[int] = []
        for word in _WHITE_SPACES.sub(" ", text.lower()).split():
            cols = cache.get(word)
            if cols is None:
                cols = tuple(
                    j for g in _char_wb_ngrams(word, lo, hi) if (j := vocab.get(g)) is not None
                )
                cache[word] = cols
            out.extend(cols)
        return out

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        vocab = self.vocabulary_
        indptr, indices, values = [0], [], []
        for text in texts:
            counts = Counter(self._columns(text))
            cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            weights = tf * self.idf_[cols]
            norm = np.sqrt(np.dot(weights, weights))
            if norm > 0:
                weights /= norm
            order = np.argsort(cols)
            indices.append(cols[order])
            values.append(weights[order])
            indptr.append(indptr[-1] + len(cols))
        return sp.csr_matrix(
            (
                np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32),
                np.concatenate(indices) if indices else np.zeros(0, np.int64),
                np.asarray(indptr),
            ),
            shape=(len(texts), len(vocab)),
            dtype=np.float32,
        )
