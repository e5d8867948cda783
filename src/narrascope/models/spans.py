"""Where in a paragraph a technique is: spans from the per-word weights of a linear n-gram model.

Shared by the technique model and its per-language students (any linear TF-IDF model over
word + ``char_wb`` n-grams can localise its labels this way), so neither imports the other.

Techniques whose gold spans are short (loaded language, name calling: 2-3 words) are
marked on the window of their typical length whose words carry the most n-gram weight
for the technique; long ones (doubt, appeal to authority) on the best sentence, plus any
sentence scoring ``span_min_ratio`` of the best. Sentences are scored by the summed word
contributions over the square root of their length: a cheap stand-in for re-vectorising
each sentence, which doubled the cost of a paragraph. A span starts and ends on a content
word: the function words of the paragraph's language (``text.function_words``) at its
edges are left out, and a window of nothing else is never chosen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from narrascope.models.tfidf import FixedTfidf, TfidfViews
from narrascope.text.function_words import WORD, function_words, is_function_word
from narrascope.text.segment import split_sentences

Words = tuple[list[tuple[int, int]], np.ndarray]  # word offsets, (n_words, n_labels) weights

_TOKEN_CACHE_SIZE = 50_000  # words; ~5 MB of float32 vectors at most
# (text.function_words.WORD: a word with its Devanagari vowel signs, so a Hindi word is
# never cut into pieces and a span never starts or ends inside one)
_WORD = WORD
_BREAK = re.compile(r"[.!?;:…()\[\]\"“”«»„\n]")


class NgramWords:
    """Which words of a paragraph drive each label in a linear TF-IDF model: each word's
    summed n-gram weight per label (its unigram plus its own ``char_wb`` n-grams, each
    times its idf). ``coef`` rows are the word then the char vocabulary (further rows,
    such as a language block, are ignored).

    A word's vector depends on the word alone, so it is memoised (bounded): news text
    repeats its vocabulary and the lookups dominated the cost of spans.
    """

    def __init__(self, word: FixedTfidf, char: FixedTfidf, coef: np.ndarray) -> None:
        self.word, self.char, self.coef = word, char, coef
        self.cache: dict[str, np.ndarray] = {}

    @classmethod
    def of(cls, views: TfidfViews, coef: np.ndarray) -> NgramWords:
        """The words of a model over the word + char views of :func:`word_char_views`."""
        return cls(views.fixed_["word"], views.fixed_["char"], coef)

    def contributions(self, paragraph: str) -> Words:
        """Word offsets in ``paragraph`` and their contributions, ``(n_words, n_labels)``."""
        offsets = [(m.start(), m.end()) for m in _WORD.finditer(paragraph)]
        contrib = np.zeros((len(offsets), self.coef.shape[1]), dtype=np.float32)
        cache = self.cache
        for k, (s, e) in enumerate(offsets):
            token = paragraph[s:e].lower()
            vec = cache.get(token)
            if vec is None:
                vec = self._vector(token)
                if len(cache) >= _TOKEN_CACHE_SIZE:
                    cache.clear()
                cache[token] = vec
            contrib[k] = vec
        return offsets, contrib

    def _vector(self, token: str) -> np.ndarray:
        idx: list[int] = []
        wt: list[float] = []
        j = self.word.vocabulary_.get(token)
        if j is not None:
            idx.append(j)
            wt.append(float(self.word.idf_[j]))
        n_word = len(self.word.vocabulary_)
        lo, hi = self.char.ngram_range
        padded = f" {token} "
        for n in range(lo, hi + 1):
            for i in range(max(1, len(padded) - n + 1)):
                c = self.char.vocabulary_.get(padded[i : i + n])
                if c is not None:
                    idx.append(n_word + c)
                    wt.append(float(self.char.idf_[c]))
        if not idx:
            return np.zeros(self.coef.shape[1], dtype=np.float32)
        return (np.asarray(wt, dtype=np.float32) @ self.coef[idx]).astype(np.float32)


def locate(
    paragraph: str,
    techniques: Sequence[tuple[int, float]],
    words: NgramWords,
    span_words: np.ndarray,
    *,
    span_min_ratio: float,
    max_window_words: int,
    max_windows: int,
    trim_ratio: float,
    max_span_words: int,
    language: str | None = None,
) -> list[tuple[int, int, int, float]]:
    """Spans ``(start, end, label column, score)`` of each ``(label column, paragraph
    probability)`` in ``paragraph`` (offsets relative to it), unsorted. ``span_words``: the
    typical gold span length in words per column (0: unknown, marked by sentence). The
    score is the paragraph probability times the span's share of the best one. Spans
    start and end on a word that is not a function word of ``language``."""
    out: list[tuple[int, int, int, float]] = []
    by_sentence = []
    found_words = None
    content = None
    for j, p in techniques:
        length = int(span_words[j])
        if 0 < length <= max_window_words:
            if found_words is None:
                found_words = words.contributions(paragraph)
                content = content_words(paragraph, found_words[0], language)
            found = best_windows(
                found_words,
                j,
                length,
                span_min_ratio,
                max_windows,
                breaks=phrase_breaks(paragraph, found_words[0]),
                trim=trim_ratio,
                content=content,
            )
            if found:
                out.extend((s, e, j, float(p) * share) for s, e, share in found)
                continue
        by_sentence.append((j, p))
    if by_sentence:
        if found_words is None:
            found_words = words.contributions(paragraph)
            content = content_words(paragraph, found_words[0], language)
        out += sentence_spans(
            paragraph, by_sentence, found_words, span_min_ratio, max_span_words, content=content
        )
    return out


def content_words(
    paragraph: str, offsets: list[tuple[int, int]], language: str | None
) -> np.ndarray:
    """True for each word that is not a function word of ``language``."""
    stop = function_words(language)
    return np.array([not is_function_word(paragraph[s:e], stop) for s, e in offsets], dtype=bool)


def sentence_spans(
    paragraph: str,
    techniques: Sequence[tuple[int, float]],
    words: Words,
    min_ratio: float,
    max_span_words: int,
    *,
    content: np.ndarray | None = None,
) -> list[tuple[int, int, int, float]]:
    """Best sentence(s) per label column. A sentence of more than ``max_span_words``
    words (a comment line without punctuation) is narrowed to its best window of that
    many words: a highlight must point at something. With ``content`` (per word: not a
    function word), a sentence is marked from its first content word to its last, and
    one without any is never marked."""
    sentences = split_sentences(paragraph) or [(0, len(paragraph))]
    offsets, contrib = words
    if content is None:
        content = np.ones(len(offsets), dtype=bool)
    starts = np.array([o[0] for o in offsets], dtype=np.int64)
    # each sentence's words are a run of them: (first, one past the last), by bisection
    bounds = np.array(sentences, dtype=np.int64).reshape(-1, 2)
    inside = np.stack(
        [np.searchsorted(starts, bounds[:, 0]), np.searchsorted(starts, bounds[:, 1])], axis=1
    ).tolist()
    scores = np.zeros((len(sentences), contrib.shape[1]), dtype=np.float32)
    for k, (lo, hi) in enumerate(inside):
        if hi > lo:
            scores[k] = contrib[lo:hi].sum(axis=0) / np.sqrt(hi - lo)
    # the first and last content word of each sentence (-1: none)
    marked = []
    for lo, hi in inside:
        rows = np.flatnonzero(content[lo:hi])
        marked.append((lo + int(rows[0]), lo + int(rows[-1])) if len(rows) else (-1, -1))
    out = []
    for j, p in techniques:
        col = scores[:, j]
        order = [k for k in np.argsort(-col, kind="stable") if marked[k][0] >= 0]
        if not order:
            continue
        best = float(col[order[0]])
        for k in order:
            ratio = float(col[k]) / best if best > 0 else (1.0 if k == order[0] else 0.0)
            if k == order[0] or ratio >= min_ratio:
                lo, hi = inside[k]
                first, last = marked[k]
                s, e = offsets[first][0], offsets[last][1]
                if hi - lo > max_span_words:
                    sub = (offsets[lo:hi], contrib[lo:hi])
                    window = best_windows(sub, j, max_span_words, 1.0, 1, content=content[lo:hi])
                    if window:  # (else: the sentence's content words, however many)
                        s, e = window[0][:2]
                out.append((s, e, j, float(p) * min(1.0, ratio)))
    return out


def phrase_breaks(paragraph: str, offsets: list[tuple[int, int]]) -> np.ndarray:
    """True between two words separated by sentence or clause punctuation: a phrase
    marked for loaded language or a slogan never runs across "word. Next"."""
    gaps = [paragraph[a[1] : b[0]] for a, b in pairwise(offsets)]
    return np.array([bool(_BREAK.search(g)) for g in gaps], dtype=bool)


def best_windows(
    words: Words,
    j: int,
    length: int,
    ratio: float,
    top: int,
    *,
    breaks: np.ndarray | None = None,
    trim: float = 0.0,
    content: np.ndarray | None = None,
) -> list[tuple[int, int, float]]:
    """Up to ``top`` non-overlapping windows of up to ``length`` words with the largest
    summed contribution to label ``j``; windows after the first must reach ``ratio`` of
    the best. A window stops at a ``breaks`` position (it does not cross punctuation),
    and loses edge words contributing under ``trim`` times its strongest word, then the
    edge words that are not ``content`` (function words); a window of function words
    only is passed over (the best is then the first window kept). Returns ``(start, end,
    share of the best)`` character spans."""
    offsets, contrib = words
    n = len(offsets)
    if not n:
        return []
    col = contrib[:, j]
    cum = np.concatenate([[0.0], np.cumsum(col, dtype=np.float64)])
    ends = np.minimum(np.arange(n) + length, n)
    if breaks is not None and breaks.any():
        segment = np.concatenate([[0], np.cumsum(breaks)])
        seg_end = np.searchsorted(segment, segment, side="right")  # one past its last word
        ends = np.minimum(ends, seg_end)
    sums = cum[ends] - cum[np.arange(n)]
    best = 0.0  # the first window kept: the best one that has a content word
    out: list[tuple[int, int, float]] = []
    taken = np.zeros(n, dtype=bool)
    for k in np.argsort(-sums, kind="stable"):
        if len(out) >= top or (out and (best <= 0 or sums[k] < ratio * best)):
            break
        lo, hi = int(k), int(ends[k])
        if taken[lo:hi].any():
            continue
        if trim > 0 and hi - lo > 1:
            floor = trim * float(col[lo:hi].max())
            while hi - lo > 1 and col[lo] < floor:
                lo += 1
            while hi - lo > 1 and col[hi - 1] < floor:
                hi -= 1
        if content is not None:
            while lo < hi and not content[lo]:
                lo += 1
            while hi > lo and not content[hi - 1]:
                hi -= 1
            if lo == hi:
                continue
        taken[lo:hi] = True
        if not out:
            best = float(sums[k])
        share = float(sums[k] / best) if best > 0 else 1.0
        out.append((offsets[lo][0], offsets[hi - 1][1], share))
    return out
