"""Train and measure the check-worthy claim model (issue 25, item 1).

The corpora are research-licensed and read by path only; the artefact keeps numbers
(head weights, n-gram vocabulary, thresholds, scores, counts), never a text.

* CheckThat! 2022 task 1A (``checkthat2022-task1``): COVID-19 tweets labelled
  check-worthy 1/0 in ar bg nl en es tr, train and dev (``*_dev_test.tsv`` is held back
  and never read).
* CheckThat! 2022 task 1B's tweets that make no claim (``read_ct22_non_claims``): 1A
  holds only tweets that make one, and a model that never saw a greeting or an opinion
  lists many of the held-out 1B dev non-claims (``evaluate_non_claims``: 12-33% by
  language for the shipped one, 18-42% before the war-news refit). Training on the train
  files' (``load_rows(..., non_claims=True)``) cut that to 3-11% but Bulgarian 5-fold CV
  from 0.535 to 0.506 F1 (AUC 0.817 to 0.797), too near the issue's 0.50: measured, not
  the shipped recipe (docs/claims-research.md).
* CheckThat! 2024 task 1 (``checkthat2024-task1``): English political-debate sentences
  (train, dev, dev-test; the test gold is held back) and ar/nl tweets (train, dev,
  dev-test), es dev and dev-test only. Yes/No.
* CT22 ar/nl tweet ids reappear in CT24 (the PROVENANCE says so): rows are keyed by tweet
  id (CT24 English by sentence id) and by normalised text, a key seen twice is kept once
  (CT24's label wins), and a row whose key or text is in an evaluation split never
  trains the model that is scored on it.

* Our own labels on war news (``data/war_claims.tsv``, :func:`read_war_labels`): 984
  sentences of SemEval-2025 task 10 training articles, labelled check-worthy or not by
  one annotator. The file keeps offsets and a short hash, never a sentence; the text is
  read from ``semeval2025-task10``. Set A (500) trains only the head's linear layer
  (``head_C``); set B (484) is held out and scored (``war-test``).

The e5 vectors of every corpus text are computed once and cached under
``$NARRASCOPE_CLAIMS_CACHE`` (default ``~/.cache/narrascope/claims``), outside the repo.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_EMPTY, E_NOT_FOUND, NarrascopeError

CT22 = "checkthat2022-task1"
CT24 = "checkthat2024-task1"
CT22_LANGUAGES = {
    "arabic": "ar",
    "bulgarian": "bg",
    "dutch": "nl",
    "english": "en",
    "spanish": "es",
    "turkish": "tr",
}
CT24_LANGUAGES = {"arabic": "ar", "dutch": "nl", "english": "en", "spanish": "es"}
CT24_SPLITS = ("train", "dev", "dev-test")
CT22_SPLITS = ("train", "dev")  # dev_test is held back: never read
SEMEVAL25 = "semeval2025-task10"
WAR_LABELS = Path(__file__).parent / "data" / "war_claims.tsv"
WAR_LANGUAGES = {"EN": "en", "RU": "ru", "BG": "bg", "PT": "pt", "HI": "hi"}


@dataclass(frozen=True)
class ClaimRow:
    """One labelled sentence or tweet: ``label`` 1 = check-worthy."""

    text: str
    label: int
    language: str
    source: str  # "ct22" | "ct24"
    split: str  # "train" | "dev" | "dev-test"
    key: str  # tweet id / sentence id, to find the same item across corpora

    @property
    def part(self) -> str:
        """The evaluation unit this row belongs to, e.g. ``ct24-en-dev-test``."""
        return f"{self.source}-{self.language}-{self.split}"


_NORM = re.compile(r"@\w+|https?://\S+|[^\w]+")


def text_key(text: str) -> str:
    """Text without handles, links, punctuation and case: the same tweet re-posted."""
    return _NORM.sub(" ", text.lower()).strip()


def _read_tsv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(10**7)
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def read_ct22(root: Path) -> list[ClaimRow]:
    """CheckThat! 2022 1A (check-worthy), train and dev, every language present."""
    rows: list[ClaimRow] = []
    for folder, lang in CT22_LANGUAGES.items():
        for split in CT22_SPLITS:
            path = root / CT22 / folder / f"CT22_{folder}_1A_checkworthy_{split}.tsv"
            if not path.is_file():
                continue
            for r in _read_tsv(path):
                rows.append(
                    ClaimRow(
                        text=r["tweet_text"],
                        label=int(r["class_label"].strip() in ("1", "Yes")),
                        language=lang,
                        source="ct22",
                        split=split,
                        key=f"tw{r['tweet_id'].strip()}",
                    )
                )
    return rows


def read_ct22_non_claims(root: Path, split: str = "train") -> list[ClaimRow]:
    """CheckThat! 2022 1B tweets (of ``split``) labelled *not a claim*, as check-worthy 0.

    Why: 1A's annotators judged check-worthiness only of tweets that make a factual
    claim, so 1A holds few tweets that claim nothing (greetings, opinions, jokes), the
    bulk of what an article or a comment thread also holds. A tweet that claims nothing
    is, by that scheme, not check-worthy. Every 1B tweet that is not also a 1A tweet is
    a non-claim (the claims went on to 1A). Source ``ct22b``, so its rows form parts of
    their own (``ct22b-bg-train``): never in a CV fold. The model trains on the train
    files' (:func:`load_rows`); the dev files' measure how many non-claims it lists
    (:func:`evaluate_non_claims`).
    """
    rows: list[ClaimRow] = []
    for folder, lang in CT22_LANGUAGES.items():
        path = root / CT22 / folder / f"CT22_{folder}_1B_claim_{split}.tsv"
        if not path.is_file():
            continue
        for r in _read_tsv(path):
            if r["class_label"].strip() not in ("0", "No"):
                continue
            rows.append(
                ClaimRow(
                    text=r["tweet_text"],
                    label=0,
                    language=lang,
                    source="ct22b",
                    split=split,
                    key=f"tw{r['tweet_id'].strip()}",
                )
            )
    return rows


def read_war_labels(data_dir: Path | str) -> list[ClaimRow]:
    """Our labelled war-news sentences (:data:`WAR_LABELS`), read from the SemEval-2025
    task 10 training articles under ``data_dir``; none when that corpus is absent.

    Why: CheckThat! is COVID tweets and US debates; on war news its model ranked
    "The town was captured on 17 February, the ministry said" below "the stakes have
    never been higher". The labels follow one rule (docs/claims-research.md): 1 when the
    sentence states something specific that could be checked (an event, a figure, an
    action or a threat attributed to a named actor, a causal claim); 0 for opinions,
    predictions, questions, slogans, bylines and statements of a stance. Set A is
    split ``train``, set B ``test``. A row whose text no longer hashes as labelled (the
    corpus changed) is dropped, with a warning."""
    import warnings

    root = Path(data_dir) / SEMEVAL25 / "train"
    if not root.is_dir():
        return []
    texts: dict[Path, str | None] = {}
    rows: list[ClaimRow] = []
    dropped = 0
    for line in WAR_LABELS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        folder, doc, start, end, label, labelled_set, digest = line.split("\t")
        path = root / folder / "raw-documents" / doc
        if path not in texts:
            texts[path] = path.read_bytes().decode("utf-8") if path.is_file() else None
        text = texts[path]
        unit = text[int(start) : int(end)] if text is not None else ""
        if hashlib.sha1(unit.encode()).hexdigest()[:10] != digest:
            dropped += 1
            continue
        rows.append(
            ClaimRow(
                text=unit,
                label=int(label),
                language=WAR_LANGUAGES[folder],
                source="war",
                split="train" if labelled_set == "A" else "test",
                key=f"war:{doc}:{start}",
            )
        )
    if dropped:
        warnings.warn(f"{dropped} labelled war-news sentences not found in {root}", stacklevel=2)
    return rows


def read_ct24(root: Path) -> list[ClaimRow]:
    """CheckThat! 2024 task 1: every split present (the English test gold is not)."""
    rows: list[ClaimRow] = []
    for folder, lang in CT24_LANGUAGES.items():
        for split in CT24_SPLITS:
            path = root / CT24 / f"CT24_checkworthy_{folder}_{split}.tsv"
            if not path.is_file():
                continue
            for r in _read_tsv(path):
                if "Text" in r:  # English debates: sentence ids
                    text, key = r["Text"], f"en{r['Sentence_id'].strip()}"
                else:
                    tid = r["tweet_id"].strip()
                    text, key = r["tweet_text"], f"tw{tid}"
                rows.append(
                    ClaimRow(
                        text=text,
                        label=int(r["class_label"].strip() in ("1", "Yes")),
                        language=lang,
                        source="ct24",
                        split=split,
                        key=key,
                    )
                )
    return rows


def check_data(data_dir: Path | str) -> None:
    """Raise E101 unless ``data_dir`` holds a CheckThat! folder to read.

    Why: the readers skip a missing file (a language may be absent), so a wrong
    ``--data`` gave an evaluation table without a row, exit 0, or a training that
    failed on "0 check-worthy and 0 other".
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise NarrascopeError(E_NOT_FOUND, f"corpus directory not found: {root}")
    if not any((root / name).is_dir() for name in (CT22, CT24)):
        raise NarrascopeError(
            E_NOT_FOUND,
            f"{root}: no {CT22} or {CT24} folder; --data is the folder holding them, "
            "e.g. ../shared/datasets",
        )


def load_rows(data_dir: Path | str, *, non_claims: bool = False) -> list[ClaimRow]:
    """Both corpora, de-duplicated: a tweet id or normalised text seen twice is kept once,
    CT24's row winning over CT22's (CT24 re-labelled the tweets it re-used), a 1A row over
    a 1B one (``non_claims``: :func:`read_ct22_non_claims`). No row at all is an error
    (E101, E105), never an empty table."""
    check_data(data_dir)
    root = Path(data_dir)
    extra = read_ct22_non_claims(root) if non_claims else []
    rows = [r for r in read_ct24(root) + read_ct22(root) + extra if r.text.strip()]
    if not rows:
        raise NarrascopeError(
            E_EMPTY,
            f"{root}: no labelled row in {CT22} or {CT24} (expected files such as "
            f"{CT24}/CT24_checkworthy_english_train.tsv or "
            f"{CT22}/english/CT22_english_1A_checkworthy_train.tsv)",
        )
    seen_keys: set[str] = set()
    seen_texts: set[tuple[str, str]] = set()
    out: list[ClaimRow] = []
    for r in rows:  # CT24 first, 1B last
        tk = (r.language, text_key(r.text))
        if r.key in seen_keys or tk in seen_texts:
            continue
        seen_keys.add(r.key)
        seen_texts.add(tk)
        out.append(r)
    return out


def describe(rows: list[ClaimRow]) -> dict[str, Any]:
    """Counts per part and label: safe to store in the artefact."""
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        c = counts.setdefault(r.part, {"rows": 0, "positive": 0})
        c["rows"] += 1
        c["positive"] += r.label
    return dict(sorted(counts.items()))


# ----------------------------------------------------------------------------- cache
def cache_dir() -> Path:
    default = Path.home() / ".cache" / "narrascope" / "claims"
    return Path(os.environ.get("NARRASCOPE_CLAIMS_CACHE", default))


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def cached_vectors(
    texts: list[str], *, progress: bool = False, layers: int | None = None
) -> np.ndarray:
    """e5 vectors of ``texts`` (after ``layers`` layers; None: all) from the cache where
    known; the rest encoded in chunks and added (an interrupted run resumes)."""
    from narrascope.models.claims import e5_vectors

    root = cache_dir() / f"layers-{layers}" if layers else cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    keys = [_key(t) for t in texts]
    known: dict[str, np.ndarray] = {}
    for part in sorted(root.glob("part-*.npz")):
        with np.load(part) as z:
            known.update(zip(z["keys"].tolist(), z["vectors"], strict=True))
    todo = list({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    started = time.perf_counter()
    for a in range(0, len(todo), 500):
        chunk = todo[a : a + 500]
        vecs = e5_vectors([t for _, t in chunk], layers)
        np.savez(
            root / f"part-{time.time_ns()}.npz",
            keys=np.array([k for k, _ in chunk]),
            vectors=vecs,
        )
        known.update(zip([k for k, _ in chunk], vecs, strict=True))
        if progress:
            done = a + len(chunk)
            rate = done / (time.perf_counter() - started)
            print(f"encoded {done}/{len(todo)} ({rate:.1f} texts/s)", file=sys.stderr, flush=True)
    if not texts:
        return np.zeros((0, 384), np.float32)
    return np.stack([known[k] for k in keys]).astype(np.float32)


# Encoding budget (two shared cores, 20-50 texts/s): the e5 head trains on the first rows
# of the biggest parts only (the cheap tier reads all of them); evaluation parts are whole.
E5_CAPS = {
    "ct24-en-train": 8500,
    "ct24-ar-train": 2500,
    "ct24-ar-dev": 500,
    "ct24-ar-dev-test": 0,
    "ct24-nl-dev-test": 0,
    "ct24-es-dev": 0,
    "ct24-es-dev-test": 0,
    "ct22-es-train": 0,
    "ct22-es-dev": 0,
    "ct22-tr-train": 1090,
    "ct22-tr-dev": 0,
}


def encoding_subset(rows: list[ClaimRow]) -> list[ClaimRow]:
    """The rows whose e5 vectors are computed: each part's first ``E5_CAPS`` rows."""
    seen: Counter[str] = Counter()
    out = []
    for r in rows:
        if seen[r.part] < E5_CAPS.get(r.part, 10**9):
            out.append(r)
        seen[r.part] += 1
    return out


def main_encode(data_dir: str) -> None:
    """Fill the cache (``python -m narrascope.training.claims DATA_DIR``)."""
    rows = load_rows(data_dir)
    order = {"ct24-en": 0, "ct22-bg": 1, "ct22-en": 2, "ct24-nl": 3, "ct24-ar": 4, "ct22-tr": 5}
    rows.sort(key=lambda r: order.get(f"{r.source}-{r.language}", 6))
    rows = encoding_subset(rows)
    print(json.dumps(Counter(r.part for r in rows)), file=sys.stderr)
    cached_vectors([r.text for r in rows], progress=True)


if __name__ == "__main__":
    main_encode(sys.argv[1])


# -------------------------------------------------------------------- train / evaluate
# Scored, never trained on: CT24 English dev (threshold choice, reported), CT24 English
# dev-test (the held-out English number), CT22 Bulgarian dev (threshold choice and the
# Bulgarian number). Every other dev-test part stays out too (never trained on).
EVAL_PARTS = ("ct24-en-dev", "ct24-en-dev-test", "ct22-bg-dev")
THRESHOLD_PARTS = ("ct24-en-dev", "ct22-bg-dev")


def is_training_row(row: ClaimRow, exclude_languages: tuple[str, ...] = ()) -> bool:
    """Whether ``row`` may train the shipped model (not an evaluation part, not a
    dev-test, not a left-out language)."""
    return (
        row.part not in EVAL_PARTS
        and row.split != "dev-test"
        and row.language not in exclude_languages
    )


def _head_rows(rows: list[ClaimRow]) -> np.ndarray:
    """Indices of the rows the e5 head reads: the encoding subset's."""
    subset = {id(r) for r in encoding_subset(rows)}
    return np.array([i for i, r in enumerate(rows) if id(r) in subset], np.int64)


def f1_at(p: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Positive-class precision, recall and F1 (CheckThat!'s measure) at a threshold."""
    pred = p >= threshold
    tp = float((pred & (y == 1)).sum())
    precision = tp / max(float(pred.sum()), 1.0)
    recall = tp / max(float((y == 1).sum()), 1.0)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}


def choose_threshold(scored: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """The threshold that maximises the mean positive F1 over the ``THRESHOLD_PARTS``."""
    grid = np.round(np.arange(0.2, 0.86, 0.01), 2)
    means = [np.mean([f1_at(p, y, t)["f1"] for p, y in scored.values()]) for t in grid]
    return float(grid[int(np.argmax(means))])


# the shipped recipe: the head reads e5's first 6 layers (the claim stage's cost), the
# top 3 of them fine-tuned (training.claim_tuner), its linear layer then refitted with
# our war-news set A weighing 5 tweets a sentence (read_war_labels)
SHIPPED_PARAMS: dict[str, Any] = {
    "e5_layers": 6,
    "tuned_from": 3,
    "head_C": 0.1,
    "domain_weight": 5.0,
}


def fit_model(
    rows: list[ClaimRow],
    params: dict[str, Any] | None = None,
    *,
    progress: bool = False,
    domain: Sequence[ClaimRow] = (),
) -> Any:
    """A ClaimModel fitted on ``rows`` (the cheap tier on all, the e5 head on the
    encoding subset: base vectors from the cache, or fine-tuned when ``tuned_from``);
    ``domain`` rows (:func:`read_war_labels`' set A) refit the tuned head's linear layer
    when ``head_C`` is set."""
    from narrascope.models.claims import ClaimModel

    model = ClaimModel(**(SHIPPED_PARAMS if params is None else params))
    idx = _head_rows(rows)
    vectors = None
    if model.tuned_from is None:
        texts = [rows[i].text for i in idx]
        vectors = cached_vectors(texts, progress=progress, layers=model.e5_layers)
    return model.fit(
        [r.text for r in rows],
        [r.label for r in rows],
        languages=[r.language for r in rows],
        sources=[r.source for r in rows],
        vectors=vectors,
        head_rows=idx,
        domain_texts=[r.text for r in domain],
        domain_labels=[r.label for r in domain],
    )


def score_parts(model: Any, rows: list[ClaimRow], parts: tuple[str, ...]) -> dict[str, Any]:
    """Both-tier probabilities of each part's rows (what a one-sentence input gets)."""
    out = {}
    for part in parts:
        sel = [r for r in rows if r.part == part]
        if not sel:
            continue
        vectors = None  # the tuned head reads its own layers
        if not model.tuned:
            vectors = cached_vectors([r.text for r in sel], layers=model.e5_layers)
        p = model.predict_proba([r.text for r in sel], vectors=vectors)
        out[part] = (p, np.array([r.label for r in sel]))
    return out


def part_cv(
    rows: list[ClaimRow],
    part: str = "ct22-bg-train",
    *,
    threshold: float,
    folds: int = 5,
    params: dict[str, Any] | None = None,
    war: Sequence[ClaimRow] = (),
    log: Any = print,
) -> dict[str, Any]:
    """K-fold CV over one training part (e.g. the Bulgarian tweets, whose dev set has 36
    positives): each fold's model is trained on every other training row and scores the
    fold; F1 of the pooled out-of-fold probabilities at ``threshold`` (the shipped
    model's: a fold's model has no threshold of its own). ``war`` (:func:`read_war_labels`)
    gives the recipe its set A. Five full trainings: about an hour with the tuned head."""
    import random

    train = [r for r in rows if is_training_row(r)]
    mine = [r for r in train if r.part == part]
    domain = [r for r in war if r.split == "train"]
    order = list(range(len(mine)))
    random.Random(0).shuffle(order)
    fold_of = {id(mine[i]): k % folds for k, i in enumerate(order)}
    p_all, y_all, per_fold = [], [], []
    for f in range(folds):
        model = fit_model([r for r in train if fold_of.get(id(r), -1) != f], params, domain=domain)
        held = [r for r in mine if fold_of[id(r)] == f]
        p = model.predict_proba([r.text for r in held])
        y = np.array([r.label for r in held])
        p_all.append(p)
        y_all.append(y)
        per_fold.append(f1_at(p, y, threshold)["f1"])
        log(f"{part} fold {f}: F1 {per_fold[-1]:.3f}")
    p, y = np.concatenate(p_all), np.concatenate(y_all)
    return {**f1_at(p, y, threshold), "threshold": threshold, "folds": per_fold, "rows": len(y)}


def evaluate_claims(
    data_dir: Path | str, model_path: Path | str | None = None
) -> dict[str, dict[str, float]]:
    """Positive-class F1 of a trained model (default: the shipped one) on the parts it
    never trained on, at its threshold, and the share of held-out tweets that make no
    claim that it lists (:func:`evaluate_non_claims`)."""
    from narrascope.models.artefact import bundled_path
    from narrascope.models.claims import ClaimModel

    rows = load_rows(data_dir)  # a wrong --data fails before the model loads
    model = ClaimModel.load(model_path or bundled_path("claims"))
    scored = score_parts(model, rows, EVAL_PARTS)
    report: dict[str, dict[str, float]] = {
        part: {**f1_at(p, y, model.threshold), "rows": len(y), "positive": int(y.sum())}
        for part, (p, y) in scored.items()
    }
    report.update(evaluate_war(model, read_war_labels(data_dir)))
    return {**report, **evaluate_non_claims(data_dir, model, rows)}


def evaluate_war(model: Any, war: list[ClaimRow]) -> dict[str, dict[str, float]]:
    """F1 at the model's threshold and ROC AUC on the held-out war-news sentences
    (:func:`read_war_labels`' set B): how the CheckThat!-trained model reads war news."""
    from sklearn.metrics import roc_auc_score

    held = [r for r in war if r.split == "test"]
    if not held:
        return {}
    p = model.predict_proba([r.text for r in held])
    y = np.array([r.label for r in held])
    auc = round(float(roc_auc_score(y, p)), 4)
    return {
        "war-test": {
            **f1_at(p, y, model.threshold),
            "auc": auc,
            "rows": len(y),
            "positive": int(y.sum()),
        }
    }


def evaluate_non_claims(
    data_dir: Path | str, model: Any, rows: list[ClaimRow]
) -> dict[str, dict[str, float]]:
    """The share of the CT22 1B dev tweets that make no claim (and are none of ``rows``,
    the training rows and the scored ones) that ``model`` lists as check-worthy, per
    language: a one-line comment or a greeting listed as a claim is what a user sees."""
    keys = {r.key for r in rows}
    texts = {(r.language, text_key(r.text)) for r in rows}
    held: dict[str, list[str]] = {}
    for r in read_ct22_non_claims(Path(data_dir), "dev"):
        if r.key not in keys and (r.language, text_key(r.text)) not in texts:
            held.setdefault(r.language, []).append(r.text)
    out = {}
    for lang, mine in sorted(held.items()):
        listed = model.predict_proba(mine) >= model.threshold
        out[f"ct22b-{lang}-dev"] = {"listed": round(float(listed.mean()), 4), "rows": len(mine)}
    return out


def train_claims(
    data_dir: Path | str,
    out_dir: Path | str,
    *,
    params: dict[str, Any] | None = None,
    lolo: tuple[str, ...] = (),
    progress: bool = False,
    non_claims: bool = False,
) -> dict[str, Any]:
    """Train the shipped model on every training row, choose its threshold on the
    threshold parts, score the evaluation parts, run leave-one-language-out for
    ``lolo`` (train without the language, score its dev), save with a manifest."""
    started = time.perf_counter()
    rows = load_rows(data_dir, non_claims=non_claims)
    train = [r for r in rows if is_training_row(r)]
    war = read_war_labels(data_dir)
    war_train = [r for r in war if r.split == "train"]
    model = fit_model(train, params, progress=progress, domain=war_train)
    scored = score_parts(model, rows, EVAL_PARTS)
    model.threshold = choose_threshold({p: scored[p] for p in THRESHOLD_PARTS if p in scored})
    report: dict[str, Any] = {
        part: {**f1_at(p, y, model.threshold), "rows": len(y), "positive": int(y.sum())}
        for part, (p, y) in scored.items()
    }
    for part, (p, y) in scored.items():  # each tier alone, for the research note
        report[part]["f1_at_0.5"] = f1_at(p, y, 0.5)["f1"]
    report.update(evaluate_war(model, war))
    report.update(evaluate_non_claims(data_dir, model, rows))
    for lang in lolo:
        held = [r for r in rows if is_training_row(r, exclude_languages=(lang,))]
        other = fit_model(held, params, domain=war_train)
        other.threshold = model.threshold
        for part, (p, y) in score_parts(other, rows, EVAL_PARTS).items():
            if part.split("-")[1] == lang:
                report[f"lolo-{part}"] = {**f1_at(p, y, model.threshold), "rows": len(y)}
    manifest = {
        "task": "check-worthy claims (issue 25): positive F1 as CheckThat! scores it",
        "data": describe(train),
        "trained_on": "CT22 1A train+dev and CT24 train+dev, all languages, without the "
        "evaluation parts and every dev-test"
        + (
            ", and the CT22 1B train tweets that make no claim, as check-worthy 0"
            if non_claims
            else ""
        )
        + f"; e5 head on the encoding subset (E5_CAPS={E5_CAPS})"
        + (
            f"; its linear layer refitted with {len(war_train)} labelled war-news "
            "sentences (set A of training/data/war_claims.tsv)"
            if model.head_C is not None and war_train
            else ""
        ),
        "params": model.get_params(),
        "tuner": getattr(model, "tuned_history_", None),
        "command": "narrascope train claims --data ../shared/datasets (needs narrascope[train])",
        "threshold": model.threshold,
        "threshold_chosen_on": list(THRESHOLD_PARTS),
        "scores": report,
        "seconds": round(time.perf_counter() - started, 1),
    }
    model.save(out_dir, meta={**model.meta, **manifest})
    return manifest


def format_claim_table(report: dict[str, Any]) -> str:
    """A Markdown table of a scores report (``evaluate_claims`` or the manifest's)."""
    lines = ["| part | rows | F1 (positive) | precision | recall |", "|---|---|---|---|---|"]
    for part, s in report.items():
        if "f1" in s:
            name = f"{part} (ROC AUC {s['auc']:.3f})" if "auc" in s else part
            lines.append(
                f"| {name} | {s.get('rows', '')} | {s['f1']:.3f} | "
                f"{s.get('precision', 0):.3f} | {s.get('recall', 0):.3f} |"
            )
    listed = {part: s for part, s in report.items() if "listed" in s}
    if listed:
        lines += ["", "| tweets that make no claim (1B dev) | rows | listed |", "|---|---|---|"]
        lines += [f"| {part} | {s['rows']} | {s['listed']:.1%} |" for part, s in listed.items()]
    return "\n".join(lines)
