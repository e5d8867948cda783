"""The official subtask-2 metric: per-document F1 between label sets, averaged over documents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def set_f1(gold: Iterable[str], pred: Iterable[str]) -> float:
    """F1 of one document (sklearn ``average='samples'``: two empty sets score 0)."""
    g, p = set(gold), set(pred)
    if not g and not p:
        return 0.0
    tp = len(g & p)
    return 2.0 * tp / (len(g) + len(p))


def samples_f1(gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]]) -> float:
    """Mean per-document F1 (what the official scorer prints as F1@coarse / F1@fine)."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents, predictions {len(pred)}")
    if not gold:
        return 0.0
    return float(np.mean([set_f1(g, p) for g, p in zip(gold, pred, strict=True)]))


def per_language_scores(
    languages: Sequence[str],
    gold_coarse: Sequence[Iterable[str]],
    gold_fine: Sequence[Iterable[str]],
    pred_coarse: Sequence[Iterable[str]],
    pred_fine: Sequence[Iterable[str]],
) -> dict[str, dict[str, float]]:
    """Coarse/fine samples-F1 per language plus ``mean`` (unweighted over languages, as the
    leaderboard averages languages) and ``all`` (pooled over documents)."""
    langs = sorted(set(languages))
    table: dict[str, dict[str, float]] = {}
    for lang in langs:
        idx = [i for i, la in enumerate(languages) if la == lang]
        table[lang] = {
            "coarse": samples_f1([gold_coarse[i] for i in idx], [pred_coarse[i] for i in idx]),
            "fine": samples_f1([gold_fine[i] for i in idx], [pred_fine[i] for i in idx]),
            "n": float(len(idx)),
        }
    table["mean"] = {
        "coarse": float(np.mean([table[la]["coarse"] for la in langs])),
        "fine": float(np.mean([table[la]["fine"] for la in langs])),
        "n": float(len(languages)),
    }
    table["all"] = {
        "coarse": samples_f1(gold_coarse, pred_coarse),
        "fine": samples_f1(gold_fine, pred_fine),
        "n": float(len(languages)),
    }
    return table


# --- subtask 1: entity framing -------------------------------------------------------------


def main_role_accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Share of mentions whose predicted main role is the gold one (official subtask-1)."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} mentions, predictions {len(pred)}")
    return float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])) if gold else 0.0


def exact_match_ratio(gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]]) -> float:
    """Share of mentions whose predicted fine-role set equals the gold set (official EMR)."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} mentions, predictions {len(pred)}")
    if not gold:
        return 0.0
    return float(np.mean([set(g) == set(p) for g, p in zip(gold, pred, strict=True)]))


def micro_f1(gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]]) -> float:
    """Micro-averaged F1 of fine roles over all mentions (the official scorer's third number)."""
    tp = n_gold = n_pred = 0
    for g, p in zip(gold, pred, strict=True):
        g, p = set(g), set(p)
        tp += len(g & p)
        n_gold += len(g)
        n_pred += len(p)
    return 2.0 * tp / (n_gold + n_pred) if n_gold + n_pred else 0.0


def entity_scores(
    languages: Sequence[str],
    gold_main: Sequence[str],
    gold_fine: Sequence[Iterable[str]],
    pred_main: Sequence[str],
    pred_fine: Sequence[Iterable[str]],
) -> dict[str, dict[str, float]]:
    """Main-role accuracy, EMR and fine micro-F1 per language, ``mean`` (unweighted over
    languages) and ``all`` (pooled over mentions, what the issue's bar averages)."""
    gold_fine, pred_fine = [set(g) for g in gold_fine], [set(p) for p in pred_fine]

    def row(idx: Sequence[int]) -> dict[str, float]:
        return {
            "main_acc": main_role_accuracy(
                [gold_main[i] for i in idx], [pred_main[i] for i in idx]
            ),
            "emr": exact_match_ratio([gold_fine[i] for i in idx], [pred_fine[i] for i in idx]),
            "fine_f1": micro_f1([gold_fine[i] for i in idx], [pred_fine[i] for i in idx]),
            "n": float(len(idx)),
        }

    langs = sorted(set(languages))
    table = {la: row([i for i, x in enumerate(languages) if x == la]) for la in langs}
    table["mean"] = {
        k: float(np.mean([table[la][k] for la in langs])) for k in ("main_acc", "emr", "fine_f1")
    }
    table["mean"]["n"] = float(len(languages))
    table["all"] = row(range(len(languages)))
    return table


# --- SemEval-2023 Task 3 subtask 3: persuasion techniques ------------------------------------


def technique_f1(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]], classes: Sequence[str]
) -> dict[str, float]:
    """Official subtask-3 scores over (paragraph, technique) pairs: micro-F1 (the ranking
    metric) and macro-F1 over ``classes`` (scikit-learn semantics with zero_division=0: a
    technique never gold nor predicted scores 0, which makes macro-F1 conservative)."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} paragraphs, predictions {len(pred)}")
    index = {c: j for j, c in enumerate(classes)}
    tp = np.zeros(len(classes))
    n_gold = np.zeros(len(classes))
    n_pred = np.zeros(len(classes))
    for g, p in zip(gold, pred, strict=True):
        g, p = set(g), set(p)
        for lab in g:
            n_gold[index[lab]] += 1
        for lab in p:
            n_pred[index[lab]] += 1
        for lab in g & p:
            tp[index[lab]] += 1
    denom = n_gold + n_pred
    per_class = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    micro = 2 * tp.sum() / denom.sum() if denom.sum() else 0.0
    return {
        "micro_f1": float(micro),
        "macro_f1": float(per_class.mean()) if len(classes) else 0.0,
        "n_gold": float(n_gold.sum()),
        "n_pred": float(n_pred.sum()),
    }


def span_f1(
    gold: Sequence[Iterable[tuple[int, int, str]]],
    pred: Sequence[Iterable[tuple[int, int, str]]],
) -> dict[str, float]:
    """Span F1 with partial-overlap credit (SemEval-2020 Task 11 / SemEval-2021 Task 6 /
    SemEval-2023 span scoring), over documents given as lists of ``(start, end, label)``.

    Precision = sum over predicted spans of |overlap with same-label gold| / |predicted span|,
    divided by the number of predicted spans; recall symmetrically over gold spans. Overlap is
    taken against the *union* of the other side's same-label spans, so two overlapping
    predictions cannot both claim the same gold characters twice within one span.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents, predictions {len(pred)}")

    def credit(spans: list[tuple[int, int, str]], other: list[tuple[int, int, str]]) -> float:
        total = 0.0
        for s, e, lab in spans:
            if e <= s:
                continue
            covered = np.zeros(e - s, dtype=bool)
            for os_, oe, olab in other:
                if olab == lab and os_ < e and oe > s:
                    covered[max(os_, s) - s : min(oe, e) - s] = True
            total += covered.mean()
        return total

    p_sum = r_sum = 0.0
    n_pred = n_gold = 0
    for g, p in zip(gold, pred, strict=True):
        g, p = [t for t in g if t[1] > t[0]], [t for t in p if t[1] > t[0]]
        p_sum += credit(p, g)
        r_sum += credit(g, p)
        n_pred += len(p)
        n_gold += len(g)
    precision = p_sum / n_pred if n_pred else 0.0
    recall = r_sum / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_gold": n_gold, "n_pred": n_pred}
