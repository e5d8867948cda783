"""TF-IDF with a fixed vocabulary, computed without importing scikit-learn.

Training fits scikit-learn's ``TfidfVectorizer``; at inference we only need its
``transform``, and importing scikit-learn costs about 1.5 s of a 3 s start-up budget.
This reproduces the same analyzers (lower-casing, ``(?u)\\b\\w\\w+\\b`` word tokens and
word n-grams; ``char_wb`` n-grams padded with one space per word), sublinear tf, the idf
weights and the L2 row norm. ``tests/test_tfidf.py`` checks it against scikit-learn.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import repeat

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
