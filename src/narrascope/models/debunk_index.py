"""The debunk database held in memory for matching: BM25 postings and USE vectors.

Why not ask SQLite for each query: FTS5 answers one query at a time and spent 8 ms per
query unit at 100k debunks, and reading the words' document frequencies from its vocab
table another 8 (docs/debunks-research.md, "Speed"). Held as arrays, a unit's BM25 is one
``bincount`` over the posting lists of its words (well under a millisecond), and every
number is FTS5's own (same formula, k1 = 1.2, b = 0.75, same word selection), so the
trained scorer reads the features it was trained on.

The vector channel shortlists by cosine on a PCA-128 copy of the 512-wide USE vectors,
then orders the best 50 by their exact cosine. Reading the 128-wide copy of every row
streams 51 MB per document at 100k debunks (10-13 ms on this machine), so past
``CODES_MIN`` rows a pass over the *sign bits* of that copy comes first (16 bytes a row,
the Hamming distance as a cosine proxy, as binary quantisation does in vector databases):
the ``CODES_SHORTLIST`` nearest rows go on to the 128-wide pass. On the 100k synthetic
benchmark this found every planted restatement the full pass found. Below ``CODES_MIN``
(the CheckThat! archive, 14k) every row is read.

The index is rebuilt when the database's generation moved, and kept in the database
(``DebunkStore.save_index``) so a new process loads it in a fraction of a second instead of
rebuilding it (about 10 s at 100k).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from narrascope.store.debunks import COMMON_MIN, COMMON_SHARE, MAX_QUERY_WORDS, DebunkStore
from narrascope.text.dates import exact_day

K1, B = 1.2, 0.75  # FTS5's bm25() constants
PCA_WIDTH = 128
CODES_MIN = 30_000  # below this many vectors the first pass reads every row
CODES_SHORTLIST = 2_000  # rows the sign bits pass on to the first pass
# 3: the debunks' days read again (month names in our other languages: text.dates), so an
# index kept by an earlier narrascope is rebuilt rather than read without those days
INDEX_VERSION = 3


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[Any]:
    """BLAS on one thread for the products of a match: they are small, and OpenBLAS's
    threads made them 5-10x slower on two busy cores (35 ms against 3 ms for a query's
    vector pass at 100k debunks)."""
    return _blas().limit(limits=1, user_api="blas")


@dataclass
class LexicalIndex:
    """BM25 postings (column-compressed: one slice of rows per word)."""

    keys: np.ndarray  # int64 row keys, sorted
    vocab: dict[str, int]
    df: np.ndarray  # int32 documents per word
    indptr: np.ndarray  # int64 [len(vocab) + 1]
    rows: np.ndarray  # int32 row positions, grouped by word
    weights: np.ndarray  # float32 tf * (k1 + 1) / (tf + k1 * (1 - b + b * D / avgdl))
    row_indptr: np.ndarray  # int64 [rows + 1]: the words of row r are
    row_terms: np.ndarray  # row_terms[row_indptr[r]:row_indptr[r + 1]] (overlap features)

    @classmethod
    def build(cls, keyed_tokens: Sequence[tuple[int, str]]) -> LexicalIndex:
        keys = np.fromiter((k for k, _ in keyed_tokens), np.int64, len(keyed_tokens))
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        row_of: list[int] = []
        lengths = np.zeros(len(keyed_tokens), np.float64)
        for row, (_, text) in enumerate(keyed_tokens):
            tokens = text.split()
            lengths[row] = len(tokens)
            for token in tokens:
                term_ids.append(vocab.setdefault(token, len(vocab)))
                row_of.append(row)
        terms = np.asarray(term_ids, np.int64)
        rows = np.asarray(row_of, np.int64)
        # tf per (word, row): sort by word then row and count the runs
        pair = terms * max(1, len(keyed_tokens)) + rows
        unique, tf = np.unique(pair, return_counts=True)
        term_of = unique // max(1, len(keyed_tokens))
        row_at = (unique % max(1, len(keyed_tokens))).astype(np.int32)
        avgdl = lengths.mean() if len(lengths) else 1.0
        norm = K1 * (1 - B + B * lengths[row_at] / max(avgdl, 1e-9))
        weights = (tf * (K1 + 1) / (tf + norm)).astype(np.float32)
        df = np.bincount(term_of, minlength=len(vocab)).astype(np.int32)
        indptr = np.zeros(len(vocab) + 1, np.int64)
        np.cumsum(df, out=indptr[1:])
        by_row = np.lexsort((term_of, row_at))
        row_indptr = np.zeros(len(keyed_tokens) + 1, np.int64)
        np.cumsum(np.bincount(row_at, minlength=len(keyed_tokens)), out=row_indptr[1:])
        if len(keys) > 1 and bool((np.diff(keys) <= 0).any()):
            raise ValueError("keys must come sorted")
        return cls(
            keys, vocab, df, indptr, row_at, weights, row_indptr, term_of[by_row].astype(np.int32)
        )

    def informative(self, tokens: Sequence[str]) -> list[int]:
        """The word ids worth a scan, as ``DebunkStore.bm25`` picks them: known, in at most
        ``COMMON_SHARE`` of the rows (or ``COMMON_MIN``), rarest first, at most
        ``MAX_QUERY_WORDS``."""
        cap = max(COMMON_MIN, COMMON_SHARE * len(self.keys))
        ids = {self.vocab[t] for t in tokens if t in self.vocab}
        kept = [i for i in ids if 0 < self.df[i] <= cap]
        kept.sort(key=lambda i: (self.df[i], i))
        return kept[:MAX_QUERY_WORDS]

    def bm25(self, tokens: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """(row position, BM25) of the best ``limit`` rows sharing a word, best first."""
        words = self.informative(tokens)
        if not words:
            return []
        n = len(self.keys)
        idf = np.log((n - self.df[words] + 0.5) / (self.df[words] + 0.5))
        idf = np.where(idf <= 0, 1e-6, idf)
        slices = [slice(self.indptr[w], self.indptr[w + 1]) for w in words]
        rows = np.concatenate([self.rows[s] for s in slices])
        weights = np.concatenate(
            [self.weights[s] * np.float32(f) for s, f in zip(slices, idf, strict=True)]
        )
        found, inverse = np.unique(rows, return_inverse=True)
        scores = np.bincount(inverse, weights=weights.astype(np.float64))
        if len(found) > limit:
            pick = np.argpartition(-scores, limit - 1)[:limit]
        else:
            pick = np.arange(len(found))
        pick = pick[np.lexsort((found[pick], -scores[pick]))]
        return [(int(found[i]), float(scores[i])) for i in pick]

    def rows_of(self, keys: Sequence[int]) -> np.ndarray:
        """The row position of each debunk key (-1 for one without indexed words)."""
        if not len(self.keys):
            return np.full(len(keys), -1, np.int64)
        wanted = np.asarray(keys, np.int64)
        pos = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        return np.where(self.keys[pos] == wanted, pos, -1)

    def word_ids(self, tokens: Sequence[str]) -> set[int]:
        return {self.vocab[t] for t in tokens if t in self.vocab}


@dataclass
class VectorIndex:
    """USE vectors: full (exact cosine), PCA-reduced (first pass) and, for a large
    database, the sign bits of the reduced vectors (the pass before the first)."""

    keys: np.ndarray  # int64 keys of the rows with a vector, sorted
    full: np.ndarray  # [n, 512] float16 unit vectors (half the memory; exact enough)
    mean: np.ndarray
    basis: np.ndarray  # [512, width]
    reduced: np.ndarray  # [n, width] float32
    codes: np.ndarray  # [width // 64, n] uint64 sign bits (empty: every row is read)

    @classmethod
    def build(cls, keys: np.ndarray, full: np.ndarray) -> VectorIndex:
        n = len(full)
        width = min(PCA_WIDTH, full.shape[1]) if n else PCA_WIDTH
        if n > 4 * width:
            sample = full[np.linspace(0, n - 1, min(n, 8000)).astype(int)].astype(np.float32)
            mean = sample.mean(0)
            _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
            basis = np.ascontiguousarray(vt[:width].T.astype(np.float32))
            reduced = np.empty((n, width), np.float32)
            for start in range(0, n, 20_000):
                chunk = full[start : start + 20_000].astype(np.float32)
                reduced[start : start + 20_000] = (chunk - mean) @ basis
        else:  # too few rows for a basis: the first pass is the exact one
            mean = np.zeros(full.shape[1], np.float32)
            basis = np.eye(full.shape[1], dtype=np.float32)
            reduced = np.ascontiguousarray(full, dtype=np.float32)
        codes = np.zeros((0, n), np.uint64)
        if n >= CODES_MIN and reduced.shape[1] % 64 == 0:
            codes = _sign_bits(reduced)
        return cls(keys, full, mean.astype(np.float32), basis, reduced, codes)

    def nearest(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per query row: (row indices, exact cosines) of about the ``k`` nearest, best
        first."""
        n = len(self.keys)
        if n == 0 or not len(queries):
            return np.zeros((len(queries), 0), int), np.zeros((len(queries), 0), np.float32)
        first = min(n, max(k, 50))
        projected = (queries - self.mean) @ self.basis
        if not len(self.codes):  # one product for every query: the matrix is read once
            approx = projected @ self.reduced.T
            if first < n:
                pick = np.argpartition(-approx, first - 1, axis=1)[:, :first]
            else:
                pick = np.tile(np.arange(n), (len(queries), 1))
        else:
            bits = _sign_bits(projected)
            pick = np.stack(
                [self._first_pass(q, bits[:, i], first) for i, q in enumerate(projected)]
            )
        exact = np.einsum("qd,qkd->qk", queries, self.full[pick].astype(np.float32))
        ranked = np.argsort(-exact, axis=1)[:, :k]
        return np.take_along_axis(pick, ranked, 1), np.take_along_axis(exact, ranked, 1)

    def _first_pass(self, projected: np.ndarray, bits: np.ndarray, first: int) -> np.ndarray:
        """The ``first`` best rows on the reduced vectors, among the ``CODES_SHORTLIST``
        nearest in Hamming distance of the sign bits (every row at that distance)."""
        distance = np.bitwise_count(self.codes[0] ^ bits[0])
        for word in range(1, len(self.codes)):
            distance += np.bitwise_count(self.codes[word] ^ bits[word])
        counts = np.cumsum(np.bincount(distance, minlength=65 * len(self.codes)))
        cut = int(np.searchsorted(counts, min(CODES_SHORTLIST, len(distance))))
        rows = np.flatnonzero(distance <= cut)
        approx = self.reduced[rows] @ projected
        return rows[np.argpartition(-approx, first - 1)[:first]]


def _sign_bits(x: np.ndarray) -> np.ndarray:
    """[width // 64, n] uint64: bit j of row i is whether x[i, j] > 0 (one array per
    64 bits, so a distance is two passes over contiguous memory)."""
    packed = np.packbits(x > 0, axis=1)  # [n, width // 8]
    return np.ascontiguousarray(packed.view(np.uint64).T)


@dataclass
class DebunkIndex:
    """What the matcher reads per query, for one generation of the database."""

    generation: int
    lexical: LexicalIndex
    vectors: VectorIndex
    languages: dict[int, str | None]
    claims: dict[int, str]  # every row's claim, by key (24 MB at 100k)
    day_keys: np.ndarray  # int64 keys of the dated rows, sorted...
    days: np.ndarray  # ...and their days (``text.dates.exact_day``), float64

    @property
    def keys(self) -> np.ndarray:
        """The keys of the rows with a vector (the vector channel's rows)."""
        return self.vectors.keys

    @property
    def size(self) -> int:
        """How many debunks the index holds (with words or a vector)."""
        return max(len(self.lexical.keys), len(self.vectors.keys))

    @classmethod
    def build(cls, store: DebunkStore) -> DebunkIndex:
        generation = store.generation()
        keys, full = store.vectors(np.float16)
        with one_blas_thread():
            return cls(
                generation,
                LexicalIndex.build(store.all_tokens()),
                VectorIndex.build(keys, full),
                store.languages(),
                store.claims_by_key(),
                *_days(store),
            )

    @classmethod
    def load(cls, store: DebunkStore) -> DebunkIndex:
        """The index kept in the database when it is of the current generation, else a
        fresh one (kept for the next process)."""
        generation = store.generation()
        blob = store.load_index(generation, INDEX_VERSION)
        if blob is not None:
            try:
                return cls._from_bytes(blob, generation, store)
            except (ValueError, KeyError, OSError):
                pass  # damaged or from another version: rebuilt below
        index = cls.build(store)
        store.save_index(index.generation, INDEX_VERSION, index.to_bytes())
        return index

    def days_of(self, keys: np.ndarray) -> np.ndarray:
        """The day of each debunk key (NaN: undated, or a date that names no day)."""
        if not len(self.day_keys):
            return np.full(len(keys), np.nan)
        pos = np.minimum(np.searchsorted(self.day_keys, keys), len(self.day_keys) - 1)
        return np.where(self.day_keys[pos] == keys, self.days[pos], np.nan)

    def bm25(self, tokens: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """(key, BM25) of the best ``limit`` debunks sharing a word with ``tokens``."""
        return [(int(self.lexical.keys[r]), s) for r, s in self.lexical.bm25(tokens, limit)]

    def to_bytes(self) -> bytes:
        lex, vec = self.lexical, self.vectors
        words = np.array(sorted(lex.vocab, key=lex.vocab.__getitem__), dtype=object)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            lex_keys=lex.keys,
            lex_words=np.array("\n".join(words), dtype=np.str_),
            lex_df=lex.df,
            lex_indptr=lex.indptr,
            lex_rows=lex.rows,
            lex_weights=lex.weights,
            lex_row_indptr=lex.row_indptr,
            lex_row_terms=lex.row_terms,
            vec_keys=vec.keys,
            vec_mean=vec.mean,
            vec_basis=vec.basis,
            vec_reduced=vec.reduced,
            vec_codes=vec.codes,
        )
        return buffer.getvalue()

    @classmethod
    def _from_bytes(cls, blob: bytes, generation: int, store: DebunkStore) -> DebunkIndex:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            text = str(z["lex_words"])
            words = text.split("\n") if text else []
            lexical = LexicalIndex(
                z["lex_keys"],
                {w: i for i, w in enumerate(words)},
                z["lex_df"],
                z["lex_indptr"],
                z["lex_rows"],
                z["lex_weights"],
                z["lex_row_indptr"],
                z["lex_row_terms"],
            )
            keys, full = store.vectors(np.float16)
            if not np.array_equal(keys, z["vec_keys"]):
                raise ValueError("the stored index is not of these vectors")
            vectors = VectorIndex(
                keys,
                full,
                z["vec_mean"],
                z["vec_basis"],
                z["vec_reduced"],
                z["vec_codes"],
            )
        if len(lexical.vocab) != len(lexical.df):
            raise ValueError("the stored vocabulary does not fit its postings")
        return cls(
            generation, lexical, vectors, store.languages(), store.claims_by_key(), *_days(store)
        )


def _days(store: DebunkStore) -> tuple[np.ndarray, np.ndarray]:
    """(keys, days) of the rows whose date pins a day, by key: "March 2022" is no day
    (read as the 1st, a debunk of the 31st would count as a month before the text)."""
    found = sorted(
        (key, day) for key, date in store.dates_by_key().items() if (day := _exact_day(date))
    )
    keys = np.array([k for k, _ in found], np.int64)
    return keys, np.array([d for _, d in found], np.float64)


def _exact_day(date: str) -> int | None:
    """``exact_day``, None for a date it cannot read (an imported date is free text)."""
    try:
        return exact_day(date)
    except (ValueError, OverflowError):
        return None
