"""Train and evaluate mention detection on the SemEval-2025 subtask-1 spans.

The annotated spans are the *framed* entity mentions only, and an entity is often annotated
once while the document names it five times. Training therefore also labels the other
occurrences of an annotated string in the same document ("propagation"); scoring reports
precision against the annotations (a lower bound) and against annotations plus those
repeats. Nothing written to the artefact contains document text beyond entity names.
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import regex

from narrascope.models.folds import group_folds
from narrascope.text.mentions import (
    CRF_FILE,
    PACKAGED,
    Gazetteer,
    MentionDetector,
    MentionTagger,
    sequence_features,
    sequences,
    tokenize,
)
from narrascope.training.corpus import EntityDocument, load_entity_corpus

Span = tuple[int, int]


@dataclass(frozen=True)
class TaggerSettings:
    """CRF hyper-parameters; stored verbatim in meta.json."""

    c1: float = 0.05
    c2: float = 0.01
    max_iterations: int = 100
    min_freq: int = 2  # features seen fewer times are dropped: a smaller, faster model
    propagate: bool = True  # label unannotated repeats of annotated strings too
    # also label what spaCy (en) and natasha (ru) find: exhaustive "silver" names teach the
    # CRF what a name looks like, where the framed-only annotations leave most names O
    silver: bool = True
    threshold: float = 0.35  # marginal P(entity) a token needs at inference (CV: +recall)
    gazetteer_min_docs: int = 2


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(text[s:e].lower() for s, e in tokenize(text))


def _gold_spans(doc: EntityDocument, propagate: bool) -> list[Span]:
    """Annotated spans, plus (with ``propagate``) other whole-word occurrences of them."""
    gold = sorted({(m.start, m.end) for m in doc.aligned_mentions()})
    if not propagate:
        return gold
    taken = list(gold)
    for name in sorted({m.text for m in doc.aligned_mentions()}, key=len, reverse=True):
        pattern = r"(?<![\p{L}\p{M}\p{N}])" + regex.escape(name) + r"(?![\p{L}\p{M}\p{N}])"
        for m in regex.finditer(pattern, doc.text):
            s, e = m.span()
            if all(e <= a or s >= b for a, b in taken):
                taken.append((s, e))
    return sorted(taken)


def _union_spans(primary: Sequence[Span], extra: Sequence[Span]) -> list[Span]:
    kept = list(primary)
    kept += [x for x in extra if all(x[1] <= s or x[0] >= e for s, e in primary)]
    return sorted(kept)


def _bio(tokens: Sequence[Span], spans: Sequence[Span]) -> list[str]:
    """BIO labels; a span that does not start and end on token edges covers the tokens it
    touches (the release has a few mid-word spans, e.g. a name glued to punctuation)."""
    labels = ["O"] * len(tokens)
    for s, e in spans:
        inside = [i for i, (a, b) in enumerate(tokens) if a < e and b > s]
        for k, i in enumerate(inside):
            labels[i] = "B" if k == 0 else "I"
    return labels


def build_gazetteer(docs: Sequence[EntityDocument], min_docs: int) -> Gazetteer:
    """Annotated names → number of documents they are annotated in."""
    counts: Counter[tuple[str, ...]] = Counter()
    for doc in docs:
        counts.update({_phrase(m.text) for m in doc.aligned_mentions()} - {()})
    return Gazetteer(dict(counts), min_docs)


# Which packaged model gives silver names for a training language: natasha reads Bulgarian
# and spaCy's English model Portuguese well enough (overlap recall ≈ 0.8 on the SemEval
# spans, against ≈ 0.3-0.5 for a CRF trained on the spans alone). Hindi has none.
SILVER = {**PACKAGED, "bg": "natasha", "pt": "spacy"}


def silver_spans(docs: Sequence[EntityDocument]) -> list[list[Span]]:
    """Spans the packaged models find in each document ([] for languages without one)."""
    detector = MentionDetector(SILVER)
    out: list[list[Span]] = [[] for _ in docs]
    for lang in SILVER:
        idx = [i for i, d in enumerate(docs) if d.language == lang]
        found = detector.detect_many([docs[i].text for i in idx], [lang] * len(idx))
        for i, mentions in zip(idx, found, strict=True):
            out[i] = [(m.start, m.end) for m in mentions]
    return out


def _doc_items(
    doc: EntityDocument, gazetteer: Gazetteer, propagate: bool, silver: Sequence[Span] = ()
) -> list[tuple[list[dict[str, Any]], list[str]]]:
    tokens = tokenize(doc.text)
    labels = _bio(tokens, _union_spans(_gold_spans(doc, propagate), silver))
    own = frozenset({_phrase(m.text) for m in doc.aligned_mentions()})
    out = []
    for seq in sequences(doc.text, tokens):
        spans = [tokens[i] for i in seq]
        out.append((sequence_features(doc.text, spans, gazetteer, own), [labels[i] for i in seq]))
    return out


def fit_tagger(
    docs: Sequence[EntityDocument],
    out_dir: str | Path,
    settings: TaggerSettings,
    silver: Sequence[Sequence[Span]] | None = None,
) -> MentionTagger:
    """Train the CRF on ``docs`` into ``out_dir`` (tagger.crfsuite + meta.json) and open it.

    ``silver`` gives extra spans per document (see :func:`silver_spans`); computed here
    when ``settings.silver`` asks for them and they are not given.
    """
    import pycrfsuite

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gazetteer = build_gazetteer(docs, settings.gazetteer_min_docs)
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    if silver is None:
        silver = silver_spans(docs) if settings.silver else [[] for _ in docs]
    for doc, extra in zip(docs, silver, strict=True):
        for feats, labels in _doc_items(doc, gazetteer, settings.propagate, extra):
            trainer.append(feats, labels)
    trainer.set_params(
        {
            "c1": settings.c1,
            "c2": settings.c2,
            "max_iterations": settings.max_iterations,
            "feature.minfreq": settings.min_freq,
            "feature.possible_transitions": True,
        }
    )
    trainer.train(str(out / CRF_FILE))
    kept = Gazetteer(
        {p: c for p, c in gazetteer.counts.items() if c >= settings.gazetteer_min_docs},
        settings.gazetteer_min_docs,
    )
    MentionTagger.save_meta(out, kept, {"settings": asdict(settings)})
    return MentionTagger.load(out)


# --- scoring ------------------------------------------------------------------------------


def _counts(doc: EntityDocument, predicted: Sequence[Span]) -> Counter[str]:
    """Exact and overlap matches of one document's predictions against its annotations."""
    gold = {(m.start, m.end) for m in doc.aligned_mentions()}
    pred = set(predicted)
    repeats = set(_gold_spans(doc, True))

    def hits(a: Span, spans: set[Span]) -> bool:
        return any(a[0] < e and a[1] > s for s, e in spans)

    return Counter(
        gold=len(gold),
        pred=len(pred),
        exact=len(gold & pred),
        pred_overlap=sum(hits(p, gold) for p in pred),
        gold_overlap=sum(hits(g, pred) for g in gold),
        pred_repeat=len(pred & repeats),
    )


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _scores(c: Counter[str]) -> dict[str, float]:
    p = c["exact"] / c["pred"] if c["pred"] else 0.0
    r = c["exact"] / c["gold"] if c["gold"] else 0.0
    po = c["pred_overlap"] / c["pred"] if c["pred"] else 0.0
    ro = c["gold_overlap"] / c["gold"] if c["gold"] else 0.0
    return {
        "p": round(p, 4),
        "r": round(r, 4),
        "f1": round(_f1(p, r), 4),
        "p_overlap": round(po, 4),
        "r_overlap": round(ro, 4),
        "f1_overlap": round(_f1(po, ro), 4),
        # predictions that are an annotated span or a repeat of an annotated string
        "p_repeats": round(c["pred_repeat"] / c["pred"] if c["pred"] else 0.0, 4),
        "gold": c["gold"],
        "pred": c["pred"],
    }


def score_table(
    docs: Sequence[EntityDocument], predictions: Sequence[Sequence[Span]]
) -> dict[str, dict[str, float]]:
    """Per-language and pooled scores of span predictions (one list per document)."""
    per: dict[str, Counter[str]] = {}
    for doc, pred in zip(docs, predictions, strict=True):
        per.setdefault(doc.language, Counter()).update(_counts(doc, pred))
    table = {lang: _scores(c) for lang, c in sorted(per.items())}
    table["all"] = _scores(sum(per.values(), Counter()))
    return table


def _cv_spans(
    docs: Sequence[EntityDocument],
    settings: TaggerSettings,
    folds: int,
    seed: int,
    progress: Callable[[str], None] | None,
    silver: Sequence[Sequence[Span]],
) -> list[list[Span]]:
    """Out-of-fold CRF predictions: each document tagged by a model that never saw it."""
    out: list[list[Span]] = [[] for _ in docs]
    splits = group_folds(range(len(docs)), [d.language for d in docs], n_folds=folds, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        for k, (tr, te) in enumerate(splits):
            train = [docs[i] for i in tr]
            tagger = fit_tagger(train, Path(tmp) / f"fold{k}", settings, [silver[i] for i in tr])
            for i in te:
                out[i] = tagger.spans(docs[i].text)
            if progress:
                progress(f"fold {k + 1}/{folds}")
    return out


def evaluate_mentions(
    data_dir: str | Path,
    folds: int = 5,
    *,
    seed: int = 0,
    settings: TaggerSettings | None = None,
    packaged: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Grouped K-fold CV (by document) of the CRF, and the packaged models as they are.

    Returns ``{"crf": table, "spacy": table, "natasha": table, "spacy+crf": ...,
    "natasha+crf": ..., "folds", "seed", "settings", "seconds"}``; each table maps a
    language (and "all") to exact and overlap precision/recall/F1.
    """
    settings = settings or TaggerSettings()
    start = time.perf_counter()
    docs = load_entity_corpus(data_dir)
    # for en and ru the silver spans are exactly what the packaged models detect
    silver = silver_spans(docs) if settings.silver or packaged else [[] for _ in docs]
    no_silver = [[] for _ in docs]
    crf = _cv_spans(docs, settings, folds, seed, progress, silver if settings.silver else no_silver)
    result: dict[str, Any] = {"crf": score_table(docs, crf)}
    if packaged:
        for lang, name in PACKAGED.items():
            idx = [i for i, d in enumerate(docs) if d.language == lang]
            if not idx:
                continue
            sub = [docs[i] for i in idx]
            spans = [silver[i] for i in idx]
            result[name] = score_table(sub, spans)
            both = [_union_spans(s, crf[i]) for s, i in zip(spans, idx, strict=True)]
            result[f"{name}+crf"] = score_table(sub, both)
    result.update(
        folds=folds,
        seed=seed,
        settings=asdict(settings),
        seconds=round(time.perf_counter() - start, 1),
    )
    return result


def format_mention_table(result: dict[str, Any]) -> str:
    """Plain-text table: one row per (system, language)."""
    head = (
        f"{'system':<12}{'lang':<6}{'gold':>6}{'pred':>7}{'P':>7}{'R':>7}{'F1':>7}"
        f"{'P~':>7}{'R~':>7}{'F1~':>7}{'P+rep':>7}"
    )
    lines = [head]
    for system, table in result.items():
        if not isinstance(table, dict) or "all" not in table:
            continue
        for lang, row in table.items():
            lines.append(
                f"{system:<12}{lang:<6}{row['gold']:>6}{row['pred']:>7}"
                + "".join(
                    f"{row[k]:>7.3f}"
                    for k in ("p", "r", "f1", "p_overlap", "r_overlap", "f1_overlap", "p_repeats")
                )
            )
    lines.append("P/R/F1: exact spans; ~: any overlap; P+rep: exact, repeats of annotated names")
    return "\n".join(lines)


def train_mention_tagger(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    settings: TaggerSettings | None = None,
    cv: dict[str, Any] | None = None,
) -> Path:
    """Train the shipped CRF on every annotated document; write the artefact and manifest.

    Deterministic (L-BFGS, sorted corpus). ``cv`` (an :func:`evaluate_mentions` result)
    is stored in the manifest when given.
    """
    import pycrfsuite

    settings = settings or TaggerSettings()
    docs = load_entity_corpus(data_dir)
    start = time.perf_counter()
    out = Path(out_dir)
    tagger = fit_tagger(docs, out, settings)
    seconds = round(time.perf_counter() - start, 1)
    meta = {
        "settings": asdict(settings),
        "task": "SemEval-2025 Task 10 subtask 1 mention spans (BIO CRF, languages pooled)",
        "trained": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "training_seconds": seconds,
        "data": {
            "source": "SemEval-2025 Task 10 subtask 1 train split (research licence, not shipped)",
            "data_dir_name": Path(data_dir).name,
            "documents_per_language": dict(sorted(Counter(d.language for d in docs).items())),
            "mentions_per_language": dict(
                sorted(Counter(d.language for d in docs for _ in d.aligned_mentions()).items())
            ),
        },
        "cv": {k: v for k, v in (cv or {}).items() if k != "settings"},
        "versions": {
            "python": platform.python_version(),
            "python-crfsuite": getattr(pycrfsuite, "__version__", "unknown"),
        },
    }
    MentionTagger.save_meta(out, tagger.gazetteer, meta)
    return out
