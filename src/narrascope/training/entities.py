"""Train and evaluate the entity-role classifier (subtask 1) on the organisers' layout.

The CLI calls these; they read the corpus by path and store only numbers, n-gram and
entity-name vocabularies in the artefact, never document text. Mentions whose release
offsets do not point at their text (a handful) are left out of training and scoring.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.doc import Document
from narrascope.models.artefact import user_cache_dir
from narrascope.models.entities import EntityRoleClassifier, Span, mention_paragraph_vectors
from narrascope.models.folds import fold_count, group_folds
from narrascope.taxonomy import MAIN_ROLES
from narrascope.text.aliases import clean_name
from narrascope.training.corpus import EntityDocument, load_entity_corpus
from narrascope.training.cv import cv_summary, record_artefact_size, training_manifest
from narrascope.training.metrics import entity_scores

MAIN_ROLES_INDEX = {r: j for j, r in enumerate(MAIN_ROLES)}
DEFAULT_ARTEFACT = Path(__file__).resolve().parents[1] / "resources" / "models" / "entities"
# per span set ("gold", "negatives", "candidates"), per document: each span's paragraph vector
ParagraphVectors = dict[str, list[np.ndarray]]


def default_narrative_cache() -> Path:
    """Where the out-of-fold narrative probabilities of the training documents are kept
    between runs (numbers only; recomputing them embeds every document with USE)."""
    return user_cache_dir() / "entity-narrative-features.npz"


def _fit_args(docs: Sequence[EntityDocument]) -> tuple[list, list, list, list, list]:
    """(texts, languages, spans, main roles, fine roles) of the aligned gold mentions."""
    mentions = [d.aligned_mentions() for d in docs]
    return (
        [d.text for d in docs],
        [d.language for d in docs],
        [[(m.start, m.end) for m in ms] for ms in mentions],
        [[m.main_role for m in ms] for ms in mentions],
        [[list(m.fine_roles) for m in ms] for ms in mentions],
    )


def detect_candidates(
    docs: Sequence[EntityDocument], *, cache: str | Path | None = None
) -> list[list[Span]]:
    """Spans the shipped fast detector (CRF, every language) finds in each document.

    The framed head must learn from the candidates the stage will meet, so negatives come
    from the same detector. ``cache`` (a JSON file, offsets only) is keyed by document id
    and reused only when the documents' texts and the detector artefact are unchanged.
    """
    from narrascope.models.artefact import bundled_path
    from narrascope.text.mentions import FAST, MentionDetector

    digest = hashlib.sha256()
    for d in docs:
        digest.update(f"{d.id}\0{len(d.text)}\0".encode())
        digest.update(d.text.encode("utf-8", "surrogatepass"))
    for part in sorted(bundled_path("mentions").iterdir()):
        if part.is_file():
            digest.update(part.read_bytes())
    key = digest.hexdigest()
    path = Path(cache) if cache is not None else None
    if path is not None and path.is_file():
        stored = json.loads(path.read_text())
        if stored.get("key") == key:
            return [[(s, e) for s, e in stored["spans"][d.id]] for d in docs]
    found = MentionDetector(backends=FAST).detect_many(
        [d.text for d in docs], [d.language for d in docs]
    )
    spans = [[(m.start, m.end) for m in ms] for ms in found]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"key": key, "spans": {d.id: s for d, s in zip(docs, spans, strict=True)}}
        path.write_text(json.dumps(payload))
    return spans


def narrative_features(
    data_dir: str | Path,
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    cache: str | Path | None = None,
    progress: bool = False,
) -> tuple[list[str], np.ndarray]:
    """Narrative probabilities of training documents that no narrative model saw them with.

    The entity model reads the narrative stage's per-label probabilities as document
    features; at inference they come from the shipped narrative model on unseen text, so
    for training each document's vector must come from a model that did not see it
    either. Documents of the narrative corpus under ``data_dir`` get their out-of-fold
    probabilities from a K-fold CV of the shipped narrative recipe (its artefact's
    settings; ``training.cv.cross_validate``); any other document is scored by the shipped
    narrative model itself. Returns ``(labels, probabilities)``, one row per text.
    ``cache`` (``.npz``, numbers only) is reused while the corpus, the texts and the
    narrative settings are unchanged.
    """
    from narrascope.models.artefact import bundled_path
    from narrascope.models.narratives import NarrativeClassifier
    from narrascope.training.corpus import load_narrative_corpus
    from narrascope.training.cv import cross_validate

    settings = NarrativeClassifier.load(bundled_path("narratives")).get_params()
    ndocs = load_narrative_corpus(data_dir)
    digest = hashlib.sha256(json.dumps([settings, folds, seed], sort_keys=True).encode())
    for t in [d.text for d in ndocs] + ["\0"] + list(texts):
        digest.update(hashlib.sha1(t.encode("utf-8", "surrogatepass")).digest())
    key = digest.hexdigest()
    path = Path(cache) if cache is not None else None
    if path is not None and path.is_file():
        stored = np.load(path)
        if str(stored["key"]) == key:
            return [str(x) for x in stored["labels"]], stored["proba"]
    result = cross_validate(
        ndocs,
        factory=lambda: NarrativeClassifier(**settings),
        folds=folds,
        seed=seed,
        progress=progress,
    )
    labels = list(result["labels"])
    row = {d.text: i for i, d in enumerate(ndocs)}
    proba = np.zeros((len(texts), len(labels)), np.float32)
    missing = [i for i, t in enumerate(texts) if t not in row]
    for i, t in enumerate(texts):
        if t in row:
            proba[i] = result["oof_proba"][row[t]]
    if missing:
        model = NarrativeClassifier.load(bundled_path("narratives"))
        got = model.predict_proba([texts[i] for i in missing], [languages[i] for i in missing])
        cols = [labels.index(lab) for lab in model.labels_ if lab in labels]
        own = [j for j, lab in enumerate(model.labels_) if lab in labels]
        proba[np.ix_(missing, cols)] = got[:, own]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, key=np.array(key), labels=np.array(labels), proba=proba)
    return labels, proba


def document_narratives(
    docs: Sequence[EntityDocument],
    data_dir: str | Path,
    settings: dict[str, Any] | None,
    *,
    cache: str | Path | None = None,
    progress: bool = False,
) -> list[dict[str, float]] | None:
    """Per document, out-of-fold narrative probabilities (label -> probability) when the
    entity configuration uses them, else ``None`` (see :func:`narrative_features`)."""
    if not EntityRoleClassifier(**(settings or {})).uses_narratives:
        return None
    if progress:
        print("narrative probabilities of the training documents (out of fold) ...", flush=True)
    labels, proba = narrative_features(
        data_dir,
        [d.text for d in docs],
        [d.language for d in docs],
        cache=default_narrative_cache() if cache is None else cache,
        progress=progress,
    )
    return [dict(zip(labels, row.tolist(), strict=True)) for row in proba]


def negative_spans(
    docs: Sequence[EntityDocument], candidates: Sequence[Sequence[Span]]
) -> list[list[Span]]:
    """Detected spans that are (probably) mentioned but not framed.

    Annotators mark only framed mentions, so a candidate is a negative when it overlaps no
    gold mention and its cleaned name is not a gold mention's name in the same document
    (an unannotated repeat of a framed entity is ambiguous, so it is left out).
    """
    out: list[list[Span]] = []
    for d, spans in zip(docs, candidates, strict=True):
        gold = d.aligned_mentions()
        names = {clean_name(m.text).lower() for m in gold}
        out.append(
            [
                (s, e)
                for s, e in spans
                if all(e <= g.start or s >= g.end for g in gold)
                and clean_name(d.text[s:e]).lower() not in names
            ]
        )
    return out


def paragraph_vectors(
    docs: Sequence[EntityDocument],
    span_sets: dict[str, Sequence[Sequence[Span]] | None],
    settings: dict[str, Any] | None,
    *,
    progress: bool = False,
) -> ParagraphVectors | None:
    """The USE vector of each span's paragraph, per span set and document, encoded once
    for the corpus (every paragraph once, whichever sets and folds read it); ``None``
    when the entity configuration reads no paragraph vectors."""
    model = EntityRoleClassifier(**(settings or {}))
    if not model.uses_paragraphs:
        return None
    if progress:
        print("paragraph vectors of the training documents ...", flush=True)
    pdocs = [Document(text=d.text, id=d.id, language=d.language) for d in docs]
    out: ParagraphVectors = {}
    for name, spans in span_sets.items():
        if spans is not None:
            flat = mention_paragraph_vectors(pdocs, spans, model.paragraph_languages)
            out[name] = np.split(flat, np.cumsum([len(s) for s in spans])[:-1])
    return out


def _rows(vectors: ParagraphVectors | None, name: str, docs: Sequence[int]) -> np.ndarray | None:
    """The paragraph vectors of ``docs``' spans of one set, flattened like the spans."""
    if vectors is None or name not in vectors:
        return None
    parts = [vectors[name][i] for i in docs]
    return np.concatenate(parts) if parts else np.zeros((0, 512), np.float32)


def cross_validate_entities(
    docs: Sequence[EntityDocument],
    *,
    folds: int = 5,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    progress: bool = False,
    candidates: Sequence[Sequence[Span]] | None = None,
    narratives: Sequence[dict[str, float] | None] | None = None,
    paragraphs: ParagraphVectors | None = None,
) -> dict[str, Any]:
    """K-fold CV grouped by document (stratified by language): the CV table plus the
    out-of-fold probabilities, so decision rules can be compared without refitting.

    With ``candidates`` (detected spans per document) each training fold also learns the
    framed head from the negatives of *its own* documents; the test documents' candidates
    are only scored (``oof_candidates``: per document, ``(main, framed)`` arrays).
    ``narratives``: each document's narrative probabilities (``document_narratives``),
    for configurations that use them; ``paragraphs``: :func:`paragraph_vectors` of the
    gold spans, negatives and candidates (computed here when not given).
    """
    texts, langs, spans, mains, fines = _fit_args(docs)
    negatives = negative_spans(docs, candidates) if candidates is not None else None
    if paragraphs is None:
        sets = {"gold": spans, "negatives": negatives, "candidates": candidates}
        paragraphs = paragraph_vectors(docs, sets, settings, progress=progress)
    doc_of = np.repeat(np.arange(len(docs)), [len(s) for s in spans])
    mention_lang = [langs[i] for i in doc_of]
    start = time.perf_counter()
    pred: list[tuple[str, list[str]]] = [("", [])] * len(doc_of)
    oof_main = np.zeros((len(doc_of), 3), np.float32)
    oof_framed = np.full(len(doc_of), np.nan, np.float32)
    # every fine role of the corpus (a fold may lack a rare one)
    fine_labels = sorted({f for fs in fines for roles in fs for f in roles})
    oof_fine = np.zeros((len(doc_of), len(fine_labels)), np.float32)
    oof_candidates: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(docs)
    row_of_doc = np.concatenate([[0], np.cumsum([len(s) for s in spans])])
    # group_folds clamps the count to the data: what ran is what is reported
    fold_list = group_folds(doc_of, mention_lang, n_folds=folds, seed=seed)
    for k, (_, te_rows) in enumerate(fold_list):
        te_docs = sorted(set(doc_of[te_rows].tolist()))
        tr_docs = [i for i in range(len(docs)) if i not in set(te_docs)]
        model = EntityRoleClassifier(**{"seed": seed, **(settings or {})}).fit(
            *([part[i] for i in tr_docs] for part in (texts, langs, spans, mains, fines)),
            negatives=None if negatives is None else [negatives[i] for i in tr_docs],
            narratives=None if narratives is None else [narratives[i] for i in tr_docs],
            paragraph_vectors=_rows(paragraphs, "gold", tr_docs),
            negative_paragraph_vectors=_rows(paragraphs, "negatives", tr_docs),
        )
        te_texts, te_langs = [texts[i] for i in te_docs], [langs[i] for i in te_docs]
        te_narr = None if narratives is None else [narratives[i] for i in te_docs]
        te_spans = [spans[i] for i in te_docs]
        scores = model.predict_proba(
            te_texts,
            te_langs,
            te_spans,
            te_narr,
            paragraph_vectors=_rows(paragraphs, "gold", te_docs),
            given=True,
        )
        rows = np.concatenate([np.arange(row_of_doc[i], row_of_doc[i + 1]) for i in te_docs])
        for r, decision in zip(rows, model.decide(scores), strict=True):
            pred[r] = decision
        oof_main[rows] = scores.main
        cols = [fine_labels.index(f) for f in model.fine_labels_]
        oof_fine[np.ix_(rows, cols)] = scores.fine
        if scores.framed is not None:
            oof_framed[rows] = scores.framed
        if candidates is not None:
            cand = model.predict_proba(
                te_texts,
                te_langs,
                [list(candidates[i]) for i in te_docs],
                te_narr,
                paragraph_vectors=_rows(paragraphs, "candidates", te_docs),
            )
            for j, i in enumerate(te_docs):
                own = cand.doc == j
                framed = cand.framed[own] if cand.framed is not None else np.ones(own.sum())
                oof_candidates[i] = (cand.main[own], framed)
        if progress:
            print(
                f"  fold {k + 1}/{len(fold_list)} done ({time.perf_counter() - start:.0f}s)",
                flush=True,
            )
    table = entity_scores(
        mention_lang,
        [r for ms in mains for r in ms],
        [f for fs in fines for f in fs],
        [p[0] for p in pred],
        [p[1] for p in pred],
    )
    return {
        "table": table,
        "folds": len(fold_list),
        "seed": seed,
        "seconds": round(time.perf_counter() - start, 1),
        "oof_main": oof_main,
        "oof_fine": oof_fine,
        "oof_framed": oof_framed,
        "oof_candidates": oof_candidates,
        "fine_labels": fine_labels,
        "predictions": pred,
    }


REPORT_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
SEARCH_THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(2, 19))


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Rank AUC (ties count half); nan when a side is empty."""
    if not len(pos) or not len(neg):
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(np.r_[pos, neg])
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / len(pos) / len(neg))


def _prf(tp: float, n_pred: float, n_true: float) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def framed_report(
    docs: Sequence[EntityDocument],
    candidates: Sequence[Sequence[Span]],
    result: dict[str, Any],
    thresholds: Sequence[float] = SEARCH_THRESHOLDS,
) -> dict[str, Any]:
    """How well the out-of-fold framed head separates framed from merely mentioned.

    * mention: gold mentions (framed) vs negatives (``negative_spans``): AUC, P/R.
    * entity: per document, gold + detected mentions (detected ones overlapping a gold
      mention dropped) grouped with ``group_mentions``; an entity is framed when the max
      of its mentions' probabilities reaches the threshold; truth = it has a gold mention.
    * end_to_end (what the stage shows): detected mentions only, grouped, role = mentions'
      main probabilities weighted by their framed probability; a gold mention counts when
      a detected mention overlapping it belongs to an entity judged framed with its role.
      ``recall_no_filter`` is the same with every entity cast (the old behaviour).
    """
    from narrascope.text.aliases import group_mentions
    from narrascope.text.mentions import Mention

    negatives = negative_spans(docs, candidates)
    row_of_doc = np.concatenate([[0], np.cumsum([len(d.aligned_mentions()) for d in docs])])
    langs = sorted({d.language for d in docs})
    acc: dict[str, dict[str, Any]] = {
        la: {"pos": [], "neg": [], "ent": [], "e2e": []} for la in [*langs, "all"]
    }
    for i, d in enumerate(docs):
        if result["oof_candidates"][i] is None:
            continue  # no aligned gold mention: the folds (over mentions) never test it
        gold = d.aligned_mentions()
        g_spans = [(m.start, m.end) for m in gold]
        g_framed = result["oof_framed"][row_of_doc[i] : row_of_doc[i + 1]]
        c_main, c_framed = result["oof_candidates"][i]
        c_spans = list(candidates[i])
        c_index = {s: j for j, s in enumerate(c_spans)}
        neg = [float(c_framed[c_index[s]]) for s in negatives[i]]
        # entity level: gold + non-overlapping detected mentions
        kept = [j for j, s in enumerate(c_spans) if not any(_overlaps(s, g) for g in g_spans)]
        items = [Mention(s, e, d.text[s:e], "", "gold") for s, e in g_spans]
        items += [Mention(*c_spans[j], d.text[slice(*c_spans[j])], "ENT", "crf") for j in kept]
        probs = np.r_[g_framed, c_framed[kept]]
        ents = [
            (float(probs[g].max()), any(k < len(g_spans) for k in g))
            for g in group_mentions(items, d.language)
        ]
        # end to end: detected mentions only
        det = [Mention(s, e, d.text[s:e], "ENT", "crf") for s, e in c_spans]
        e2e = []
        groups = group_mentions(det, d.language) if det else []
        for m in gold:
            best = (0.0, False)  # (entity framed prob, role right) of the best entity
            for g in groups:
                if not any(_overlaps(c_spans[j], (m.start, m.end)) for j in g):
                    continue
                w = c_framed[g] + 1e-6
                main = (c_main[g] * (w / w.sum())[:, None]).sum(axis=0)
                right = MAIN_ROLES_INDEX[m.main_role] == int(main.argmax())
                best = max(best, (float(c_framed[g].max()), right))
            e2e.append(best)
        for key in (d.language, "all"):
            acc[key]["pos"].extend(g_framed.tolist())
            acc[key]["neg"].extend(neg)
            acc[key]["ent"].extend(ents)
            acc[key]["e2e"].extend(e2e)
    report: dict[str, Any] = {"mention": {}, "entity": {}, "end_to_end": {}}
    for key, a in acc.items():
        pos, neg = np.asarray(a["pos"]), np.asarray(a["neg"])
        ent = np.asarray(a["ent"], dtype=float).reshape(-1, 2)
        e2e = np.asarray(a["e2e"], dtype=float).reshape(-1, 2)
        report["mention"][key] = {
            "n_pos": len(pos),
            "n_neg": len(neg),
            "auc": _auc(pos, neg),
            **{
                str(t): _prf((pos >= t).sum(), (pos >= t).sum() + (neg >= t).sum(), len(pos))
                for t in thresholds
            },
        }
        truth = ent[:, 1] > 0
        report["entity"][key] = {
            "n_entities": len(ent),
            "n_framed": int(truth.sum()),
            "auc": _auc(ent[truth, 0], ent[~truth, 0]),
            **{
                str(t): _prf((truth & (ent[:, 0] >= t)).sum(), (ent[:, 0] >= t).sum(), truth.sum())
                for t in thresholds
            },
        }
        report["end_to_end"][key] = {
            "n_gold": len(e2e),
            "recall_no_filter": float(e2e[:, 1].mean()) if len(e2e) else 0.0,
            **{
                str(t): float(((e2e[:, 0] >= t) & (e2e[:, 1] > 0)).mean()) if len(e2e) else 0.0
                for t in thresholds
            },
        }
    return report


def choose_min_framed(report: dict[str, Any]) -> float:
    """The threshold with the best pooled entity-level F1 (ties: the higher threshold).

    F1 because both errors cost: a role on a merely mentioned entity misleads the reader,
    a framed entity left without a role hides what the text does; and the gold side is
    itself incomplete (annotators mark ~4 entities per document), so precision is
    underestimated and optimising it alone would over-prune.
    """
    row = report["entity"]["all"]
    grid = [float(k) for k in row if k.replace(".", "", 1).isdigit()]
    return max(grid, key=lambda t: (round(row[str(t)]["f1"], 4), t))


def choose_min_framed_by_language(report: dict[str, Any]) -> dict[str, float]:
    """Per language, the threshold with the best entity-level F1 (the same rule as
    :func:`choose_min_framed`, applied to each language's own rows)."""
    out = {}
    for lang, row in report["entity"].items():
        if lang == "all" or not row.get("n_framed"):
            continue
        grid = [float(k) for k in row if k.replace(".", "", 1).isdigit()]
        out[lang] = max(grid, key=lambda t, row=row: (round(row[str(t)]["f1"], 4), t))
    return out


def _framed_summary(
    report: dict[str, Any], chosen: float, by_language: dict[str, float] | None = None
) -> dict[str, Any]:
    """The manifest's compact framed-head table (rounded; report thresholds + chosen)."""
    by_language = by_language or {}
    keep = sorted(
        {*map(str, REPORT_THRESHOLDS), str(chosen), *map(str, by_language.values())}, key=float
    )

    def rnd(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: rnd(x) for k, x in v.items()}
        return round(float(v), 4) if isinstance(v, float | np.floating) else v

    return {
        "min_framed": chosen,
        "min_framed_by_language": by_language,
        "rule": "max entity-level F1, thresholds 0.10-0.90 (step 0.05), pooled and per language",
        **{
            level: {
                la: rnd({k: v for k, v in row.items() if not k[0].isdigit() or k in keep})
                for la, row in rows.items()
            }
            for level, rows in report.items()
        },
    }


def format_entity_table(result: dict[str, Any]) -> str:
    """Plain-text table: one row per language, then the language mean and pooled score."""
    table = result.get("table", result)
    head = f"{'language':<11}{'mentions':>9}{'main acc':>10}{'EMR':>8}{'fine F1':>9}"
    lines = [head]
    for lang, row in table.items():
        name = {"mean": "mean(lang)", "all": "all"}.get(lang, lang)
        lines.append(
            f"{name:<11}{int(row['n']):>9}{row['main_acc']:>10.3f}{row['emr']:>8.3f}"
            f"{row['fine_f1']:>9.3f}"
        )
    return "\n".join(lines)


def format_framed_table(framed: dict[str, Any]) -> str:
    """Plain-text framed-head table: per language, mention AUC, entity P/R at the chosen
    threshold and the end-to-end share of gold mentions cast right (vs no filter)."""
    pooled = str(framed["min_framed"])
    by_language = framed.get("min_framed_by_language", {})
    lines = [
        f"framed head, min_framed={pooled} (per-language thresholds in 'thr')",
        f"{'language':<10}{'thr':>6}{'m.AUC':>7}{'e.AUC':>7}{'e.P':>7}{'e.R':>7}{'e.F1':>7}"
        f"{'e2e':>7}{'e2e(all)':>9}",
    ]
    for la, row in framed["entity"].items():
        m, e2e = framed["mention"][la], framed["end_to_end"][la]
        t = str(by_language.get(la, framed["min_framed"]))
        lines.append(
            f"{la:<10}{t:>6}{m['auc']:>7.3f}{row['auc']:>7.3f}{row[t]['p']:>7.3f}"
            f"{row[t]['r']:>7.3f}{row[t]['f1']:>7.3f}{e2e[t]:>7.3f}{e2e['recall_no_filter']:>9.3f}"
        )
    return "\n".join(lines)


def evaluate_entities(
    data_dir: str | Path,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool = False,
    settings: dict[str, Any] | None = None,
    negatives: bool = False,
    cache: str | Path | None = None,
    narrative_cache: str | Path | None = None,
) -> dict[str, Any]:
    """K-fold CV of the default classifier: per-language main-role accuracy, EMR, fine F1.

    Returns ``{"table": {lang | "mean" | "all": {"main_acc", "emr", "fine_f1", "n"}},
    "folds", "seed", "seconds", "settings"}``; ``format_entity_table`` prints it. With
    ``negatives`` the folds also learn the framed head from detected spans (``cache``:
    see ``detect_candidates``) and ``"framed"`` holds its mention/entity/end-to-end table.
    The role table does not change: the framed head is fitted apart from the role model.
    """
    docs = load_entity_corpus(data_dir)
    candidates = detect_candidates(docs, cache=cache) if negatives else None
    narratives = document_narratives(docs, data_dir, settings, cache=narrative_cache)
    result = cross_validate_entities(
        docs,
        folds=folds,
        seed=seed,
        settings=settings,
        progress=progress,
        candidates=candidates,
        narratives=narratives,
    )
    out = cv_summary(result)
    out["settings"] = {"seed": seed, "negatives": negatives, **(settings or {})}
    if candidates is not None:
        report = framed_report(docs, candidates, result)
        out["framed"] = _framed_summary(report, choose_min_framed(report))
    return out


def describe_entity_corpus(docs: Sequence[EntityDocument], data_dir: str | Path) -> dict[str, Any]:
    """Counts only (documents / mentions per language, role frequencies)."""
    mentions = [(d.language, m) for d in docs for m in d.aligned_mentions()]
    return {
        "source": "SemEval-2025 Task 10 subtask 1 train split (research licence, not shipped)",
        "data_dir_name": Path(data_dir).name,
        "documents": len(docs),
        "documents_per_language": dict(sorted(Counter(d.language for d in docs).items())),
        "mentions": len(mentions),
        "mentions_per_language": dict(sorted(Counter(la for la, _ in mentions).items())),
        "mentions_misaligned_skipped": sum(len(d.mentions) for d in docs) - len(mentions),
        "main_role_counts": dict(sorted(Counter(m.main_role for _, m in mentions).items())),
        "fine_role_counts": dict(
            sorted(Counter(f for _, m in mentions for f in m.fine_roles).items())
        ),
    }


def train_entities(
    data_dir: str | Path,
    out_dir: str | Path = DEFAULT_ARTEFACT,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool = True,
    settings: dict[str, Any] | None = None,
    negatives: bool = True,
    cache: str | Path | None = None,
    narrative_cache: str | Path | None = None,
) -> Path:
    """Cross-validate, fit on all languages jointly and write the artefact (deterministic).

    ``negatives`` (default): spans the shipped detector finds but annotators did not mark
    train the framed head, so the stage leaves merely mentioned entities without a role;
    its threshold (``min_framed``) is chosen in the CV (``choose_min_framed``) and stored
    in the config. ``folds=0`` skips the outer CV (faster, but the manifest then has no
    scores and ``min_framed`` keeps its default). Returns the artefact directory; its
    ``meta.json`` is the manifest.
    """
    started = time.perf_counter()
    docs = load_entity_corpus(data_dir)
    kwargs = {"seed": seed, **(settings or {})}
    candidates = detect_candidates(docs, cache=cache) if negatives else None
    narratives = document_narratives(
        docs, data_dir, kwargs, cache=narrative_cache, progress=progress
    )
    spans = _fit_args(docs)[2]
    unframed = negative_spans(docs, candidates) if candidates is not None else None
    sets = {"gold": spans, "negatives": unframed, "candidates": candidates}
    paragraphs = paragraph_vectors(docs, sets, kwargs, progress=progress)
    cv: dict[str, Any] | None = None
    if folds and folds > 1:
        if progress:
            used = fold_count(folds, sum(1 for s in spans if s))
            print(f"cross-validating ({used} folds) on {len(docs)} documents ...", flush=True)
        result = cross_validate_entities(
            docs,
            folds=folds,
            seed=seed,
            settings=settings,
            progress=progress,
            candidates=candidates,
            narratives=narratives,
            paragraphs=paragraphs,
        )
        cv = cv_summary(result)
        if progress:
            print(format_entity_table(result), flush=True)
        if candidates is not None:
            report = framed_report(docs, candidates, result)
            chosen = choose_min_framed(report)
            by_language = choose_min_framed_by_language(report)
            cv["framed"] = _framed_summary(report, chosen, by_language)
            kwargs.setdefault("min_framed", chosen)
            kwargs.setdefault("min_framed_by_language", by_language)
            if progress:
                print(format_framed_table(cv["framed"]), flush=True)
    if progress:
        print("fitting the final model on all documents ...", flush=True)
    start = time.perf_counter()
    every = range(len(docs))
    model = EntityRoleClassifier(**kwargs).fit(
        *_fit_args(docs),
        negatives=unframed,
        narratives=narratives,
        paragraph_vectors=_rows(paragraphs, "gold", every),
        negative_paragraph_vectors=_rows(paragraphs, "negatives", every),
    )
    train_seconds = round(time.perf_counter() - start, 1)
    manifest = training_manifest(
        "SemEval-2025 Task 10 subtask 1 (entity framing: main and fine roles)",
        data=describe_entity_corpus(docs, data_dir),
        cv=cv,
        settings=kwargs,
        train_seconds=train_seconds,
        started=started,
    )
    out = model.save(out_dir, meta=manifest)
    size = record_artefact_size(out)["artefact_bytes"]
    if progress:
        print(f"wrote {out} ({size / 1e6:.2f} MB) in {train_seconds}s of fitting", flush=True)
    return out
