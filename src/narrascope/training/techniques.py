"""Read, cross-validate and train the persuasion-technique model (SemEval-2023 Task 3 st. 3).

The corpus is research-licensed: it is read by path and only numbers (weights, vocabulary,
scores, counts) reach the artefact. Paragraphs are numbered exactly as the official format
numbers them (see :func:`narrascope.text.segment.split_paragraphs`).

Extra corpora (issue 22, item 5; :mod:`narrascope.training.persuasion_corpora`): CheckThat!
2024, slavic-persuasion, UNLP 2025 and SemEval-2021 Task 6 (meme texts) articles are trained
on next to SemEval-2023 at a weight per corpus (:data:`EXTRA_WEIGHTS`), found next to the
SemEval-2023 release unless told otherwise. The CV keeps SemEval-2023's folds as they were
(its table stays comparable) and deals the other corpora's articles to the same folds; each
is scored on its own. A technique an article's corpus never annotated
(``TechniqueArticle.unknown``: 16 of the 23 for UNLP, 3 for SemEval-2021) gets weight 0 for
that article's paragraphs: no negative in that technique's fit, no false positive in its
threshold choice or score.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_BAD_RECORD, E_INPUT, E_NOT_FOUND, NarrascopeError
from narrascope.models.artefact import bundled_path
from narrascope.models.encoder import SentenceEncoder
from narrascope.models.folds import fold_of_rows, group_folds
from narrascope.models.technique_student import TechniqueStudent
from narrascope.models.techniques import STUDENTS, UNSEEN, TechniqueClassifier, targets
from narrascope.taxonomy import TECHNIQUES
from narrascope.text.segment import split_paragraphs
from narrascope.training.corpus import (
    SEMEVAL2023,
    TechniqueArticle,
    TechniqueParagraph,
    read_document_text,
    read_label_text,
)
from narrascope.training.metrics import span_f1, technique_f1

# Folder names of the organisers' release -> ISO 639-1 codes used everywhere else.
FOLDER_LANGUAGES = {"en": "en", "fr": "fr", "ge": "de", "it": "it", "po": "pl", "ru": "ru"}
# PTC (SemEval-2020 Task 11, 14 classes) -> the 23 SemEval-2023 techniques. Merged PTC classes
# map to their most frequent 2023 member; Thought-terminating cliches became Conversation_Killer.
PTC_TO_2023 = {
    "Appeal_to_Authority": "Appeal_to_Authority",
    "Appeal_to_fear-prejudice": "Appeal_to_Fear-Prejudice",
    "Bandwagon,Reductio_ad_hitlerum": "Guilt_by_Association",
    "Black-and-White_Fallacy": "False_Dilemma-No_Choice",
    "Causal_Oversimplification": "Causal_Oversimplification",
    "Doubt": "Doubt",
    "Exaggeration,Minimisation": "Exaggeration-Minimisation",
    "Flag-Waving": "Flag_Waving",
    "Loaded_Language": "Loaded_Language",
    "Name_Calling,Labeling": "Name_Calling-Labeling",
    "Repetition": "Repetition",
    "Slogans": "Slogans",
    "Thought-terminating_Cliches": "Conversation_Killer",
    "Whataboutism,Straw_Men,Red_Herring": "Whataboutism",
}


def read_paragraph_labels(path: str | Path) -> dict[str, dict[int, frozenset[str]]]:
    """``<id>\\t<line>\\t<techniques>`` -> {article id: {line: labels}}."""
    out: dict[str, dict[int, frozenset[str]]] = {}
    for lineno, line in enumerate(read_label_text(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise NarrascopeError(E_BAD_RECORD, f"{path}:{lineno}: expected 3 tab-separated fields")
        labels = frozenset(t.strip() for t in (parts[2] if len(parts) > 2 else "").split(","))
        labels -= {""}
        unknown = sorted(labels - set(TECHNIQUES))
        if unknown:
            raise NarrascopeError(E_BAD_RECORD, f"{path}:{lineno}: unknown technique {unknown}")
        paragraph = _whole_number(parts[1], path, lineno, "paragraph line")
        out.setdefault(parts[0].strip(), {})[paragraph] = labels
    return out


def _whole_number(value: str, path: str | Path, lineno: int, what: str) -> int:
    """``int(value)``, or the loaders' error naming the file and line."""
    try:
        return int(value)
    except ValueError:
        raise NarrascopeError(
            E_BAD_RECORD, f"{path}:{lineno}: {what} is not a number: {value!r}"
        ) from None


def read_span_labels(folder: str | Path) -> dict[str, list[tuple[int, int, str]]]:
    """Per-article span files (``<id>\\t<technique>\\t<start>\\t<end>``) of a folder."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    for path in sorted(Path(folder).glob("*.txt")) + sorted(Path(folder).glob("*.labels")):
        for lineno, line in enumerate(read_label_text(path).splitlines(), 1):
            parts = line.split("\t")
            if len(parts) >= 4:
                start = _whole_number(parts[2], path, lineno, "span start")
                end = _whole_number(parts[3], path, lineno, "span end")
                out.setdefault(parts[0].strip(), []).append((start, end, parts[1].strip()))
    return out


def load_technique_corpus(
    data_dir: str | Path, *, languages: Sequence[str] | None = None, split: str = "train"
) -> list[TechniqueArticle]:
    """Every gold article of ``data_dir/<folder>/`` (``data_dir`` is the release's ``data``
    folder), sorted by language then id. English gets its (reliable) span gold; other
    languages' span offsets do not match the text (see PROVENANCE) and are ignored."""
    root = Path(data_dir)
    if (root / "data").is_dir():
        root = root / "data"
    if not root.is_dir():
        raise NarrascopeError(E_NOT_FOUND, f"corpus directory not found: {root}")
    articles: list[TechniqueArticle] = []
    for folder, lang in sorted(FOLDER_LANGUAGES.items(), key=lambda kv: kv[1]):
        if languages is not None and lang not in languages:
            continue
        label_file = root / folder / f"{split}-labels-subtask-3.txt"
        if not label_file.is_file():
            continue
        gold = read_paragraph_labels(label_file)
        spans = (
            read_span_labels(root / folder / f"{split}-labels-subtask-3-spans")
            if lang == "en"
            else {}
        )
        for art_id in sorted(gold):
            path = root / folder / f"{split}-articles-subtask-3/article{art_id}.txt"
            if not path.is_file():
                raise NarrascopeError(
                    E_NOT_FOUND, f"{label_file}: article {art_id}: {path} not found"
                )
            text = read_document_text(path)
            paragraphs = []
            for line, start, end in split_paragraphs(text):
                if line not in gold[art_id]:
                    raise NarrascopeError(
                        E_BAD_RECORD, f"{lang} article {art_id}: line {line} has no gold row"
                    )
                paragraphs.append(TechniqueParagraph(line, start, end, gold[art_id][line]))
            if len(paragraphs) != len(gold[art_id]):
                raise NarrascopeError(
                    E_BAD_RECORD, f"{lang} article {art_id}: gold rows for empty lines"
                )
            articles.append(
                TechniqueArticle(
                    art_id, lang, text, tuple(paragraphs), tuple(sorted(spans.get(art_id, [])))
                )
            )
    if not articles:
        raise NarrascopeError(
            E_NOT_FOUND,
            f"no {split}-labels-subtask-3.txt under {root}/{{en,fr,ge,it,po,ru}}: pass the "
            "SemEval-2023 Task 3 release's data folder",
        )
    return articles


def load_ptc_corpus(ptc_dir: str | Path) -> list[TechniqueArticle]:
    """PTC train articles with their spans mapped onto the 23 techniques (English only).

    PTC articles have one sentence per line, so "paragraphs" here are sentences; only the
    spans are used (the same articles, re-segmented, are in the 2023 English train set).
    """
    root = Path(ptc_dir)
    if not (root / "train-articles").is_dir():
        raise NarrascopeError(E_NOT_FOUND, f"PTC folder not found (no train-articles/): {root}")
    spans = read_span_labels(root / "train-labels-task2-technique-classification")
    out = []
    for art_id in sorted(spans):
        path = root / "train-articles" / f"article{art_id}.txt"
        if not path.is_file():
            continue
        text = read_document_text(path)
        mapped = sorted((s, e, PTC_TO_2023[t]) for s, e, t in spans[art_id] if t in PTC_TO_2023)
        paragraphs = tuple(
            TechniqueParagraph(line, s, e, frozenset()) for line, s, e in split_paragraphs(text)
        )
        out.append(TechniqueArticle(art_id, "en", text, paragraphs, tuple(mapped)))
    return out


# Training weight of each extra corpus's paragraphs (SemEval-2023's are 1; 0 = scored by the
# CV, never trained on). Measured in docs/techniques-research.md (issue 22, item 5).
EXTRA_WEIGHTS: dict[str, float] = {"ct24": 1.0, "slavic": 1.0, "unlp": 1.0, "sem21": 1.0}
# Corpora whose unit or annotation differs from SemEval-2023's news paragraphs (sentences,
# Telegram posts, meme texts): each gets a training-only column absorbing its own label rates
# (TechniqueClassifier.fit's ``corpora``). CheckThat! 2024 is the same task on news.
CORPUS_COLUMNS: frozenset[str] = frozenset({"slavic", "unlp", "sem21"})

# The 23 techniques -> PTC's 14 classes, for scoring spans against PTC gold in PTC's own space.
TECHNIQUE_TO_PTC = {
    **{v: k for k, v in PTC_TO_2023.items()},
    "Straw_Man": "Whataboutism,Straw_Men,Red_Herring",
    "Red_Herring": "Whataboutism,Straw_Men,Red_Herring",
    "Appeal_to_Popularity": "Bandwagon,Reductio_ad_hitlerum",
}


def choose_thresholds(
    probs: np.ndarray,
    y: np.ndarray,
    languages: Sequence[str],
    *,
    shrinkage: float = 2000.0,
    grid: np.ndarray | None = None,
    known: np.ndarray | None = None,
) -> dict[str, float]:
    """Global micro-F1-optimal threshold, and per language the one maximising that
    language's micro-F1 plus a pull toward the global optimum worth ``shrinkage`` paragraphs.

    Implemented as maximising ``n_lang * F1_lang(t) + shrinkage * F1_all(t)`` over a grid:
    a large language follows its own evidence, a small one stays near the global choice
    (so a language with a few hundred paragraphs gets a threshold of its own only as far
    as they show it). ``known`` (bool, like ``y``): the (paragraph, technique) pairs with
    gold; a prediction on any other pair (a technique its corpus never annotated) is
    neither right nor wrong.
    """
    grid = np.arange(0.05, 0.6, 0.01) if grid is None else grid
    langs = np.asarray(languages)

    def f1_curve(mask: np.ndarray) -> np.ndarray:
        yy = y[mask].astype(bool)
        pp = probs[mask]
        kk = None if known is None else known[mask].astype(bool)
        out = []
        for t in grid:
            pred = pp >= t
            if kk is not None:
                pred &= kk
            tp = (pred & yy).sum()
            out.append(2 * tp / max(1, pred.sum() + yy.sum()))
        return np.asarray(out)

    overall = f1_curve(np.ones(len(langs), dtype=bool))
    result = {"*": float(round(grid[int(overall.argmax())], 3))}
    for lang in sorted(set(languages)):
        mask = langs == lang
        score = mask.sum() * f1_curve(mask) + shrinkage * overall
        result[lang] = float(round(grid[int(score.argmax())], 3))
    return result


def paragraph_vectors(texts: Sequence[str]) -> np.ndarray:
    """USE vectors of a corpus's paragraphs, computed once and sliced per fold (a
    paragraph is encoded without surrounding whitespace, as the stage encodes it)."""
    return SentenceEncoder.shared().encode([t.strip() for t in texts])


@dataclass
class _Flat:
    """The corpus flattened to paragraphs (what the model sees) with back-references."""

    texts: list[str]
    languages: list[str]
    labels: list[frozenset[str]]
    groups: list[str]
    article: list[int]
    offsets: list[tuple[int, int]]
    sources: list[str] = field(default_factory=list)
    unknown: list[frozenset[str]] = field(default_factory=list)


def _flatten(articles: Sequence[TechniqueArticle]) -> _Flat:
    flat = _Flat([], [], [], [], [], [])
    for a_idx, art in enumerate(articles):
        source = art.source
        for p in art.paragraphs:
            flat.texts.append(art.text[p.start : p.end])
            flat.languages.append(art.language)
            flat.labels.append(p.labels)
            flat.groups.append(art.group)
            flat.article.append(a_idx)
            flat.offsets.append((p.start, p.end))
            flat.sources.append(source)
            flat.unknown.append(art.unknown)
    return flat


def _pair_weights(flat: _Flat, corpus_weights: Mapping[str, float] | None) -> np.ndarray:
    """Training weight of each (paragraph, technique) pair, shape ``(n, 23)``: its corpus's
    weight (:func:`corpus_weights_of`), 0 where the technique is unknown for its article."""
    weights = corpus_weights_of(corpus_weights)
    w = np.array([weights.get(src, 1.0) for src in flat.sources], dtype=np.float32)
    out = np.repeat(w[:, None], len(TECHNIQUES), axis=1)
    index = {t: j for j, t in enumerate(TECHNIQUES)}
    for i, unknown in enumerate(flat.unknown):
        if unknown:
            out[i, [index[t] for t in unknown]] = 0.0
    return out


def corpus_weights_of(corpus_weights: Mapping[str, float] | None) -> dict[str, float]:
    """Every source's training weight: SemEval-2023 1, the extra corpora
    :data:`EXTRA_WEIGHTS`, overridden by ``corpus_weights``."""
    weights = {SEMEVAL2023: 1.0, **EXTRA_WEIGHTS, **(corpus_weights or {})}
    if any(v < 0 for v in weights.values()):
        raise ValueError(f"corpus weights must be >= 0: {weights}")
    return weights


def _corpus_column_of(flat: _Flat, corpus_columns: Collection[str] | None) -> list[str | None]:
    """Each row's training-only corpus column (None: the reference corpora)."""
    named = CORPUS_COLUMNS if corpus_columns is None else frozenset(corpus_columns)
    return [src if src in named else None for src in flat.sources]


def _fold_of_rows(flat: _Flat, n_main: int, folds: int, seed: int) -> np.ndarray:
    """The test fold of each row. The first ``n_main`` rows (SemEval-2023) are dealt exactly
    as without extra corpora (so their CV is comparable); the extra corpora's articles are
    dealt on their own, stratified by corpus and language."""
    if n_main == 0:
        raise ValueError("cross-validation needs SemEval-2023 articles")
    main = group_folds(flat.groups[:n_main], flat.languages[:n_main], n_folds=folds, seed=seed)
    fold = fold_of_rows(main, n_main)
    rest = flat.groups[n_main:]
    if not rest:
        return fold
    if len(set(rest)) < 2:
        return np.concatenate([fold, np.zeros(len(rest), dtype=int)])
    strata = [
        f"{s}:{la}" for s, la in zip(flat.sources[n_main:], flat.languages[n_main:], strict=True)
    ]
    split = group_folds(rest, strata, n_folds=len(main), seed=seed)
    return np.concatenate([fold, fold_of_rows(split, len(rest))])


def _predicted_spans(
    model: TechniqueClassifier,
    text: str,
    language: str,
    paragraphs: Sequence[tuple[int, int]],
    probs: np.ndarray,
    decided: Sequence[Sequence[str]],
) -> list[tuple[int, int, str]]:
    out = []
    for (start, end), row, chosen in zip(paragraphs, probs, decided, strict=True):
        labels = [(t, float(row[TECHNIQUES.index(t)])) for t in chosen]
        out.extend(
            (start + s, start + e, t)
            for s, e, t, _ in model.spans(text[start:end], language, labels)
        )
    return out


def cross_validate_techniques(
    articles: Sequence[TechniqueArticle],
    *,
    folds: int = 5,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    ptc: Sequence[TechniqueArticle] = (),
    extra: Sequence[TechniqueArticle] = (),
    corpus_weights: Mapping[str, float] | None = None,
    corpus_columns: Collection[str] | None = None,
    embeddings: np.ndarray | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Grouped K-fold CV (no article in two folds) of the whole recipe.

    ``articles``: SemEval-2023 (the ``table``, dealt to folds as always); ``extra``: articles
    of the other corpora (``persuasion_corpora``), dealt to the same K folds on their own,
    trained on at their corpus's weight (:func:`corpus_weights_of`; 0: never trained on,
    only scored by the fold models, which is how a recipe without them fares there) and
    scored per corpus and language in ``sources``. Techniques an article's corpus never
    annotated (``TechniqueArticle.unknown``) are neither trained on nor scored there.
    ``corpus_columns`` (default :data:`CORPUS_COLUMNS`): corpora fitted with a column of
    their own (see ``TechniqueClassifier.fit``).
    ``embeddings``: the paragraphs' USE vectors in :func:`_flatten` order of
    ``[*articles, *extra]`` (None: encoded here).

    Thresholds are cross-fitted: fold k is decided with thresholds chosen on the other
    folds' out-of-fold probabilities, so threshold tuning never sees the paragraphs it is
    scored on. Returns the tables, the out-of-fold probabilities and the thresholds.
    """
    started = time.perf_counter()
    kwargs = {"seed": seed, **(settings or {})}
    recipe = TechniqueClassifier(**kwargs)
    everything = [*articles, *extra]
    flat = _flatten(everything)
    n_main = sum(len(a.paragraphs) for a in articles)
    y = np.stack([targets_row(lab) for lab in flat.labels]) if flat.texts else np.zeros((0, 23))
    weight = _pair_weights(flat, corpus_weights)
    trained = weight.any(axis=1)
    columns = _corpus_column_of(flat, corpus_columns)
    fold = _fold_of_rows(flat, n_main, folds, seed)
    n_folds = int(fold.max()) + 1
    emb = paragraph_vectors(flat.texts) if embeddings is None else embeddings
    if len(emb) != len(flat.texts):
        raise ValueError(f"{len(emb)} embeddings for {len(flat.texts)} paragraphs")
    if progress:
        print(f"  embedded {len(flat.texts)} paragraphs ({time.perf_counter() - started:.0f}s)")
    oof = np.zeros((len(flat.texts), len(TECHNIQUES)), dtype=np.float32)
    oof_ngram = np.zeros_like(oof)  # the n-gram model alone (for the research notes)
    models: list[TechniqueClassifier] = []
    for k in range(n_folds):
        tr = np.flatnonzero((fold != k) & trained)
        te = np.flatnonzero(fold == k)
        train_groups = {flat.groups[i] for i in tr}
        w = weight[tr]
        model = TechniqueClassifier(**kwargs).fit(
            [flat.texts[i] for i in tr],
            [flat.languages[i] for i in tr],
            [sorted(flat.labels[i]) for i in tr],
            embeddings=emb[tr],
            span_words=typical_span_words([a for a in articles if a.group in train_groups]),
            sample_weight=None if np.all(w == 1) else w,
            corpora=[columns[i] for i in tr],
        )
        te_texts, te_langs = [flat.texts[i] for i in te], [flat.languages[i] for i in te]
        oof[te] = model.predict_proba(te_texts, te_langs, embeddings=emb[te])
        oof_ngram[te] = model.tfidf_proba(te_texts, te_langs)
        models.append(model)
        if progress:
            print(f"  fold {k + 1}/{n_folds} ({time.perf_counter() - started:.0f}s)", flush=True)
    decided: list[list[str]] = [[] for _ in flat.texts]
    fold_thresholds = []
    for k, model in enumerate(models):
        te = np.flatnonzero(fold == k)
        other = np.flatnonzero((fold != k) & trained)
        other_langs = [flat.languages[i] for i in other]
        known = weight[other] > 0
        th = _thresholds(recipe, oof[other], oof_ngram[other], y[other], known, other_langs)
        fold_thresholds.append(th)
        model.set_thresholds(th)
        for i, labs in zip(te, model.decide(oof[te], [flat.languages[i] for i in te]), strict=True):
            decided[i] = labs
    main_rows = np.flatnonzero(np.asarray(flat.sources) == SEMEVAL2023)
    table = _score_table(flat, decided, main_rows)
    sources = {
        src: _score_table(flat, decided, np.flatnonzero(np.asarray(flat.sources) == src))
        for src in sorted(set(flat.sources) - {SEMEVAL2023})
    }
    # Spans: English 2023 gold and PTC, each article scored by the fold model that never saw it.
    span_rows: dict[str, dict[str, float]] = {}
    rows_of: dict[int, list[int]] = {}
    for i, a_idx in enumerate(flat.article):
        rows_of.setdefault(a_idx, []).append(i)
    gold_spans, pred_spans = [], []
    for a_idx, art in enumerate(articles):
        rows = rows_of.get(a_idx, [])
        if art.language != "en" or art.source != SEMEVAL2023 or not rows:
            continue
        model = models[fold[rows[0]]]
        pred_spans.append(
            _predicted_spans(
                model,
                art.text,
                "en",
                [flat.offsets[i] for i in rows],
                oof[rows],
                [decided[i] for i in rows],
            )
        )
        gold_spans.append(list(art.spans))
    if gold_spans:
        span_rows["en2023"] = span_f1(gold_spans, pred_spans)
    if ptc:
        fold_of_group = dict(zip(flat.groups[:n_main], fold[:n_main], strict=True))
        scored = [art for art in ptc if art.group in fold_of_group]
        ptc_texts = [art.text[p.start : p.end] for art in scored for p in art.paragraphs]
        ptc_emb = paragraph_vectors(ptc_texts)
        gold_spans, pred_spans = [], []
        row = 0
        for art in scored:
            model = models[fold_of_group[art.group]]
            paras = [(p.start, p.end) for p in art.paragraphs]
            texts = [art.text[s:e] for s, e in paras]
            vectors = ptc_emb[row : row + len(texts)]
            row += len(texts)
            probs = model.predict_proba(texts, ["en"] * len(texts), embeddings=vectors)
            pred = _predicted_spans(
                model, art.text, "en", paras, probs, model.decide(probs, ["en"] * len(texts))
            )
            pred_spans.append(
                [(s, e, TECHNIQUE_TO_PTC[t]) for s, e, t in pred if t in TECHNIQUE_TO_PTC]
            )
            gold_spans.append([(s, e, TECHNIQUE_TO_PTC[t]) for s, e, t in art.spans])
        if gold_spans:
            span_rows["ptc"] = span_f1(gold_spans, pred_spans)
    return {
        "table": table,
        "sources": sources,
        "spans": span_rows,
        "folds": n_folds,  # as clamped by group_folds, not as asked
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
        "thresholds": fold_thresholds,
        "oof_proba": oof,
        "oof_ngram": oof_ngram,
        "embeddings": emb,
        "models": models,
        "fold": fold,
        "y": y,
        "weight": weight,
        "languages": flat.languages,
        "corpus_weights": {
            src: w
            for src, w in corpus_weights_of(corpus_weights).items()
            if src in set(flat.sources)
        },
        "corpus_columns": sorted({c for c in columns if c is not None}),
        "settings": kwargs,
    }


def _thresholds(
    recipe: TechniqueClassifier,
    mix: np.ndarray,
    ngram: np.ndarray,
    y: np.ndarray,
    known: np.ndarray,
    languages: Sequence[str],
) -> dict[str, float]:
    """Per-language thresholds (shrunk toward the global one) chosen on out-of-fold
    probabilities, plus the :data:`UNSEEN` one when the recipe mixes in USE."""
    th = choose_thresholds(mix, y, languages, shrinkage=recipe.shrinkage, known=known)
    if recipe.encoder_share > 0:
        th[UNSEEN] = _unseen_threshold(
            mix, ngram, y, languages, recipe.encoder_share, recipe.unseen_share, known
        )
    return th


def typical_span_words(articles: Sequence[TechniqueArticle]) -> dict[str, float]:
    """Median gold span length in words per technique (English 2023 span gold)."""
    lengths: dict[str, list[int]] = {}
    for art in articles:
        for s, e, t in art.spans:
            lengths.setdefault(t, []).append(max(1, len(art.text[s:e].split())))
    return {t: float(np.median(v)) for t, v in lengths.items() if len(v) >= 5}


def targets_row(labels: frozenset[str]) -> np.ndarray:
    return targets([sorted(labels)])[0]


def _score_table(
    flat: _Flat, decided: Sequence[Sequence[str]], rows: Sequence[int] | None = None
) -> dict[str, dict[str, float]]:
    """Micro/macro-F1 per language of ``rows`` (default all) and their mean. A technique
    unknown for a paragraph's article is left out of its predictions (its gold never has
    it), and out of the language's macro-F1 classes when unknown for all its paragraphs."""
    rows = range(len(flat.texts)) if rows is None else rows
    by_lang: dict[str, list[int]] = {}
    for i in rows:
        by_lang.setdefault(flat.languages[i], []).append(i)
    table: dict[str, dict[str, float]] = {}
    langs = sorted(by_lang)
    for lang in langs:
        idx = by_lang[lang]
        pred = [[t for t in decided[i] if t not in flat.unknown[i]] for i in idx]
        never = frozenset.intersection(*(flat.unknown[i] for i in idx))
        classes = [t for t in TECHNIQUES if t not in never]
        row = technique_f1([flat.labels[i] for i in idx], pred, classes)
        table[lang] = {"micro_f1": row["micro_f1"], "macro_f1": row["macro_f1"], "n": len(idx)}
    table["mean"] = {
        m: float(np.mean([table[la][m] for la in langs])) for m in ("micro_f1", "macro_f1")
    }
    table["mean"]["n"] = sum(len(v) for v in by_lang.values())
    return table


def format_technique_table(result: dict[str, Any]) -> str:
    """Plain-text table: one row per language, the language mean, the other corpora's
    rows (``corpus:language``), then span F1 rows."""
    table = result.get("table", result)
    lines = [f"{'language':<18}{'paragraphs':>11}{'micro-F1':>10}{'macro-F1':>10}"]
    named = [("", table)] + [(f"{src}:", tab) for src, tab in result.get("sources", {}).items()]
    for prefix, tab in named:
        for lang, row in tab.items():
            name = prefix + ("mean(lang)" if lang == "mean" else lang)
            lines.append(
                f"{name:<18}{int(row['n']):>11}{row['micro_f1']:>10.3f}{row['macro_f1']:>10.3f}"
            )
    for name, row in result.get("spans", {}).items():
        lines.append(
            f"span F1 {name}: P={row['precision']:.3f} R={row['recall']:.3f} F1={row['f1']:.3f}"
            f" ({int(row['n_gold'])} gold, {int(row['n_pred'])} predicted spans)"
        )
    return "\n".join(lines)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON-safe part of a CV result (no probabilities)."""

    def rnd(row: dict[str, float]) -> dict[str, float]:
        return {
            k: round(float(v), 4) if k not in ("n", "n_gold", "n_pred") else int(v)
            for k, v in row.items()
        }

    return {
        "table": {k: rnd(v) for k, v in result["table"].items()},
        "sources": {
            src: {k: rnd(v) for k, v in tab.items()}
            for src, tab in result.get("sources", {}).items()
        },
        "corpus_weights": result.get("corpus_weights", {}),
        "corpus_columns": result.get("corpus_columns", []),
        "spans": {k: rnd(v) for k, v in result["spans"].items()},
        "folds": result["folds"],
        "seed": result["seed"],
        "seconds": result["seconds"],
        "thresholds_per_fold": result["thresholds"],
    }


def evaluate_techniques(
    data_dir: str | Path,
    *,
    folds: int = 5,
    seed: int = 0,
    ptc_dir: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    extra: bool = True,
    extra_dir: str | Path | None = None,
    corpus_weights: Mapping[str, float] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """K-fold grouped CV: per-language micro/macro-F1, their mean, and English span F1
    (2023 spans; PTC too when ``ptc_dir`` is given or sits next to ``data_dir``). With
    ``extra``, the extra corpora (:func:`extra_corpora`: ``extra_dir``, else next to
    ``data_dir``) are trained on and scored per corpus too."""
    articles = load_technique_corpus(data_dir)
    ptc = _span_corpus(data_dir, ptc_dir)
    more, info = extra_corpora(data_dir, extra_dir) if extra else ([], {})
    if progress and info:
        print(f"  extra corpora: {_describe(info)}", flush=True)
    result = cross_validate_techniques(
        articles,
        folds=folds,
        seed=seed,
        settings=settings,
        ptc=ptc,
        extra=more,
        corpus_weights=corpus_weights,
        progress=progress,
    )
    return {**_summary(result), "extra_corpora": info}


def extra_corpora(
    data_dir: str | Path, extra_dir: str | Path | None = None
) -> tuple[list[TechniqueArticle], dict[str, Any]]:
    """The extra corpora's articles (``persuasion_corpora``: CheckThat! 2024, slavic
    persuasion, UNLP 2025, SemEval-2021 Task 6) read from ``extra_dir`` (the folder holding
    them), else from the folder holding the SemEval-2023 release, if any is there (none: no
    articles).
    Also returns what was read: ``{"root", "read": {source: articles}, "skipped":
    {source: why}}`` (UNLP is skipped without pyarrow)."""
    from narrascope.training.persuasion_corpora import find_extra_corpora, load_extra_corpora

    if extra_dir is None:
        root = Path(data_dir).resolve()
        bases = [b for b in (root.parent, root.parent.parent) if find_extra_corpora(b)]
        if not bases:
            return [], {}
        extra_dir = bases[0]
    skipped: dict[str, str] = {}
    corpora = load_extra_corpora(extra_dir, skipped=skipped)
    articles = [a for src in sorted(corpora) for a in corpora[src]]
    info = {
        "root": str(extra_dir),
        "read": {src: len(arts) for src, arts in sorted(corpora.items())},
        "skipped": skipped,
    }
    return articles, info


def _describe(info: dict[str, Any]) -> str:
    read = ", ".join(f"{src} {n} articles" for src, n in info.get("read", {}).items())
    skipped = "; ".join(f"{src} skipped: {why}" for src, why in info.get("skipped", {}).items())
    return f"{info.get('root')}: {read or 'none'}" + (f" ({skipped})" if skipped else "")


def leave_one_language_out(
    articles: Sequence[TechniqueArticle],
    *,
    shares: Sequence[float] = (0.0, 0.3, 0.5, 0.7, 0.85, 1.0),
    folds: int = 5,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The cross-lingual proxy: train on five languages, score the sixth as a language the
    model never saw (no language feature), for each USE share of the probability mix.

    A held-out language's threshold is the global one chosen on the usual K-fold
    out-of-fold probabilities of the *other* languages, re-mixed at the same share, which
    is how the product decides a language it has no threshold for. Returns
    ``{"table": {share: {lang: micro_f1, "mean": ...}}, "seconds": ...}``.
    """
    started = time.perf_counter()
    kwargs = {"seed": seed, **(settings or {})}
    flat = _flatten(articles)
    y = np.stack([targets_row(lab) for lab in flat.labels])
    langs = np.asarray(flat.languages)
    if not 0 < TechniqueClassifier(**kwargs).encoder_share < 1:
        raise ValueError("leave_one_language_out needs 0 < encoder_share < 1")
    emb = paragraph_vectors(flat.texts)

    def halves(tr: np.ndarray, te: np.ndarray, hide: bool) -> tuple[np.ndarray, np.ndarray]:
        model = TechniqueClassifier(**kwargs).fit(
            [flat.texts[i] for i in tr],
            [flat.languages[i] for i in tr],
            [sorted(flat.labels[i]) for i in tr],
            embeddings=emb[tr],
        )
        te_langs = [None if hide else flat.languages[i] for i in te]
        texts = [flat.texts[i] for i in te]
        ngram = model.tfidf_proba(texts, te_langs)
        mix = model.predict_proba(texts, te_langs, embeddings=emb[te])
        share = model.encoder_share
        return ngram, (mix - (1 - share) * ngram) / share

    oof_ngram, oof_use = np.zeros(y.shape, np.float32), np.zeros(y.shape, np.float32)
    for tr, te in group_folds(flat.groups, flat.languages, n_folds=folds, seed=seed):
        oof_ngram[te], oof_use[te] = halves(tr, te, hide=False)
    out_ngram, out_use = np.zeros_like(oof_ngram), np.zeros_like(oof_use)
    for lang in sorted(set(flat.languages)):
        tr, te = np.flatnonzero(langs != lang), np.flatnonzero(langs == lang)
        out_ngram[te], out_use[te] = halves(tr, te, hide=True)
        if progress:
            print(f"  held out {lang} ({time.perf_counter() - started:.0f}s)", flush=True)
    table: dict[float, dict[str, float]] = {}
    for share in shares:
        row: dict[str, float] = {}
        for lang in sorted(set(flat.languages)):
            other, te = langs != lang, np.flatnonzero(langs == lang)
            mixed = (1 - share) * oof_ngram[other] + share * oof_use[other]
            th = choose_thresholds(mixed, y[other], list(langs[other]))["*"]
            probs = (1 - share) * out_ngram[te] + share * out_use[te]
            pred = [[TECHNIQUES[j] for j in np.flatnonzero(r >= th)] for r in probs]
            gold = [flat.labels[i] for i in te]
            row[lang] = technique_f1(gold, pred, TECHNIQUES)["micro_f1"]
        row["mean"] = float(np.mean(list(row.values())))
        table[float(share)] = row
    return {"table": table, "seconds": round(time.perf_counter() - started, 1)}


def _span_corpus(data_dir: str | Path, ptc_dir: str | Path | None) -> list[TechniqueArticle]:
    """PTC articles for span scoring: ``ptc_dir`` if given, else a sibling of the release."""
    return load_ptc_corpus(ptc_dir) if ptc_dir is not None else _sibling_ptc(data_dir)


def _sibling_ptc(data_dir: str | Path) -> list[TechniqueArticle]:
    root = Path(data_dir).resolve()
    for base in (root.parent, root.parent.parent):
        candidate = base / "ptc-semeval2020-task11"
        if (candidate / "train-articles").is_dir():
            return load_ptc_corpus(candidate)
    return []


def train_techniques(
    data_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    ptc_dir: str | Path | None = None,
    extra: bool = True,
    extra_dir: str | Path | None = None,
    corpus_weights: Mapping[str, float] | None = None,
    progress: bool = True,
) -> Path:
    """Cross-validate (the manifest's scores), choose per-language thresholds on the
    out-of-fold probabilities, fit on all paragraphs and write the artefact (deterministic:
    fixed folds and seeds, liblinear/lbfgs are deterministic). Spans are also scored on
    PTC when ``ptc_dir`` is given or sits next to ``data_dir``; with ``extra``, the extra
    corpora (:func:`extra_corpora`) are trained on at ``corpus_weights``."""
    if folds < 2:  # checked before the (slow) loading; the CLI shows it as a usage error
        raise NarrascopeError(
            E_INPUT, f"train techniques needs folds >= 2, got {folds}: its thresholds come from CV"
        )
    started = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else bundled_path("techniques")
    articles = load_technique_corpus(data_dir)
    more, info = extra_corpora(data_dir, extra_dir) if extra else ([], {})
    if progress and info:
        print(f"  extra corpora: {_describe(info)}", flush=True)
    kwargs = {"seed": seed, **(settings or {})}
    result = cross_validate_techniques(
        articles,
        folds=folds,
        seed=seed,
        settings=kwargs,
        ptc=_span_corpus(data_dir, ptc_dir),
        extra=more,
        corpus_weights=corpus_weights,
        progress=progress,
    )
    if progress:
        print(format_technique_table(result), flush=True)
    return fit_final_model(
        articles,
        result,
        out,
        kwargs,
        started=started,
        progress=progress,
        extra=more,
        corpus_weights=corpus_weights,
        extra_info=info,
    )


def unseen_threshold(result: dict[str, Any], share: float, unseen_share: float) -> float:
    """The global threshold for paragraphs of a language without training data: chosen,
    like the others, on the CV's out-of-fold probabilities, re-mixed at ``unseen_share``
    (the USE model's probability is recovered from the mix and the n-gram model's). Only
    trained (paragraph, technique) pairs count when ``result`` has their ``weight``."""
    weight = result.get("weight")
    rows = np.arange(len(result["y"])) if weight is None else np.flatnonzero(weight.any(axis=1))
    return _unseen_threshold(
        result["oof_proba"][rows],
        result["oof_ngram"][rows],
        result["y"][rows],
        [result["languages"][i] for i in rows],
        share,
        unseen_share,
        None if weight is None else weight[rows] > 0,
    )


def _unseen_threshold(
    mix: np.ndarray,
    ngram: np.ndarray,
    y: np.ndarray,
    languages: Sequence[str],
    share: float,
    unseen_share: float,
    known: np.ndarray | None = None,
) -> float:
    use = (mix - (1 - share) * ngram) / share
    remixed = (1 - unseen_share) * ngram + unseen_share * use
    return choose_thresholds(remixed, y, languages, known=known)["*"]


def fit_final_model(
    articles: Sequence[TechniqueArticle],
    result: dict[str, Any],
    out: Path,
    kwargs: dict[str, Any],
    *,
    started: float | None = None,
    progress: bool = True,
    embeddings: np.ndarray | None = None,
    extra: Sequence[TechniqueArticle] = (),
    corpus_weights: Mapping[str, float] | None = None,
    corpus_columns: Collection[str] | None = None,
    extra_info: dict[str, Any] | None = None,
) -> Path:
    """Choose thresholds on the CV out-of-fold probabilities, fit on every paragraph and
    write the artefact with its manifest (split from :func:`train_techniques` so that a CV
    already run, and its paragraph embeddings, can be reused). ``extra`` and
    ``corpus_weights`` (and ``corpus_columns``) must be those the CV ``result`` was run with."""
    started = time.perf_counter() if started is None else started
    recipe = TechniqueClassifier(**kwargs)
    flat = _flatten([*articles, *extra])
    if len(flat.texts) != len(result["languages"]):
        raise ValueError("the CV result was run on other articles")
    weight = _pair_weights(flat, corpus_weights)
    trained = np.flatnonzero(weight.any(axis=1))
    thresholds = _thresholds(
        recipe,
        result["oof_proba"][trained],
        result["oof_ngram"][trained],
        result["y"][trained],
        weight[trained] > 0,
        [flat.languages[i] for i in trained],
    )
    emb = embeddings if embeddings is not None else result.get("embeddings")
    w = weight[trained]
    fit_start = time.perf_counter()
    model = TechniqueClassifier(**kwargs).fit(
        [flat.texts[i] for i in trained],
        [flat.languages[i] for i in trained],
        [sorted(flat.labels[i]) for i in trained],
        thresholds=thresholds,
        span_words=typical_span_words(articles),
        embeddings=None if emb is None else emb[trained],
        sample_weight=None if np.all(w == 1) else w,
        corpora=[_corpus_column_of(flat, corpus_columns)[i] for i in trained],
    )
    fit_seconds = round(time.perf_counter() - fit_start, 1)
    main = [a for a in articles if a.source == SEMEVAL2023]
    source = (
        "SemEval-2023 Task 3 subtask 3 train split, 6 languages (research licence, not "
        "shipped); PTC (SemEval-2020 Task 11) only to score spans"
    )
    data: dict[str, Any] = {
        "source": source,
        "articles_per_language": dict(sorted(Counter(a.language for a in main).items())),
        "paragraphs_per_language": dict(
            sorted(Counter(a.language for a in main for _ in a.paragraphs).items())
        ),
    }
    if extra:
        weights = corpus_weights_of(corpus_weights)
        data["source"] = source + (
            "; extra corpora (research licences, not shipped): CheckThat! 2024 Task 3 "
            "(test-gold-part: the train-able part), slavic-persuasion train+valid, UNLP 2025 "
            "train (7 of the 23 techniques annotated: the other 16 masked, not negatives), "
            "SemEval-2021 Task 6 meme texts, training split (20 of the 23)"
        )
        data["extra_corpora"] = {
            src: {
                "weight": weights.get(src, 1.0),
                "articles_per_language": dict(
                    sorted(Counter(a.language for a in extra if a.source == src).items())
                ),
                "paragraphs_per_language": dict(
                    sorted(
                        Counter(
                            a.language for a in extra if a.source == src for _ in a.paragraphs
                        ).items()
                    )
                ),
            }
            for src in sorted({a.source for a in extra})
        }
        if extra_info and extra_info.get("skipped"):
            data["extra_corpora_skipped"] = extra_info["skipped"]
    data["paragraphs_trained_per_language"] = dict(
        sorted(Counter(flat.languages[i] for i in trained).items())
    )
    data["technique_counts"] = dict(
        sorted(Counter(t for i in trained for t in flat.labels[i]).items())
    )
    manifest = {
        "task": "SemEval-2023 Task 3 subtask 3 (persuasion techniques, paragraph level)",
        "trained": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "training_seconds": fit_seconds,
        "total_seconds": round(time.perf_counter() - started, 1),
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "data": data,
        "cv": _summary(result),
        "thresholds": thresholds,
        "settings": kwargs,
    }
    _keep_students(model, out)
    model.save(out, meta=manifest)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    meta_path = out / "meta.json"
    stored = json.loads(meta_path.read_text())
    stored["artefact_bytes"] = size
    meta_path.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
    if progress:
        print(f"wrote {out} ({size / 1e6:.2f} MB); final fit {fit_seconds}s", flush=True)
    return out


def _keep_students(model: TechniqueClassifier, out: Path) -> None:
    """Carry over the students already saved in ``out``: a student is trained on its own
    (``train technique-student``, an e5 teacher), and saving replaces the whole folder,
    so retraining the main model would otherwise drop the shipped Hindi one."""
    for config in sorted((out / STUDENTS).glob("*/config.json")):
        if not config.parent.name.startswith("."):  # what a stopped save left behind
            student = TechniqueStudent.load(config.parent)
            model.students_.setdefault(student.language, student)
