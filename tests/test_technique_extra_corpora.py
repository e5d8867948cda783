"""Training the technique model on SemEval-2023 plus the extra persuasion corpora (issue 22,
item 5): masking of UNLP's unannotated techniques, how the corpora combine in CV and the
final fit, and the CLI wiring. Tiny hand-written fixtures (our own text, no dataset text)
and stand-in USE vectors, so nothing here encodes; the last test reads ../shared when it
is there."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from narrascope.models.techniques import TechniqueClassifier
from narrascope.taxonomy import TECHNIQUES
from narrascope.training import persuasion_corpora
from narrascope.training.persuasion_corpora import (
    SEMEVAL2021_UNKNOWN,
    UNLP2025_COVERED,
    UNLP2025_UNKNOWN,
    load_extra_corpora,
    unlp2025_articles,
)
from narrascope.training.techniques import (
    SEMEVAL2023,
    TechniqueArticle,
    TechniqueParagraph,
    _flatten,
    _pair_weights,
    _score_table,
    choose_thresholds,
    cross_validate_techniques,
    extra_corpora,
    fit_final_model,
)

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

LOADED = "Loaded_Language"
NAME = "Name_Calling-Labeling"
DOUBT = "Doubt"
assert LOADED in UNLP2025_COVERED and DOUBT not in UNLP2025_COVERED

# Our own sentences: (text, labels). Doubt-like questions, name calling, neutral lines.
EN = [
    ("Can we really trust what the minister says about the budget?", [DOUBT]),
    ("Those corrupt traitors and liars are ruining the country!", [LOADED, NAME]),
    ("Is this report honest, or did nobody check the figures?", [DOUBT]),
    ("The council met on Tuesday to discuss the roads.", []),
    ("Why should anyone believe the agency this time?", [DOUBT]),
    ("Disgusting clowns run the ministry, shameless thugs all of them.", [LOADED, NAME]),
    ("Rain is expected in the north tomorrow.", []),
    ("Who checked these numbers before they were published?", [DOUBT]),
    ("The museum opens at nine on weekdays.", []),
    ("These monstrous crooks lie again and again!", [LOADED, NAME]),
    ("Can the official figures be trusted at all?", [DOUBT]),
    ("The library will be closed on Monday.", []),
]
# Doubt-like Ukrainian posts that UNLP would label only with its own 7 techniques.
UK = [
    ("Чи можна вірити тому, що кажуть у міністерстві?", []),
    ("Хто перевіряв ці цифри перед публікацією?", []),
    ("Ці мерзенні брехуни знову ганьблять країну!", [LOADED]),
    ("Чому хтось має довіряти агентству цього разу?", []),
    ("Огидні злодії знову брешуть людям!", [LOADED]),
    ("Чи справді ці дані чесні?", []),
]


def _article(art_id: str, lang: str, paras: list[tuple[str, list[str]]], **kw) -> TechniqueArticle:
    text, out = "", []
    for line, (para, labels) in enumerate(paras, 1):
        start = len(text)
        text += para + "\n"
        out.append(TechniqueParagraph(line, start, start + len(para), frozenset(labels)))
    return TechniqueArticle(art_id, lang, text, tuple(out), **kw)


def _semeval() -> list[TechniqueArticle]:
    return [_article(str(k), "en", EN[k : k + 2]) for k in range(0, len(EN), 2)]


def _unlp() -> list[TechniqueArticle]:
    rows = [
        {
            "id": f"p{k}",
            "content": text,
            "lang": "uk",
            "techniques": ["loaded_language"] * bool(lab),
        }
        for k, (text, lab) in enumerate(UK)
    ]
    return unlp2025_articles(rows)


def _ct24() -> list[TechniqueArticle]:
    return [
        _article("ct24:1", "bg", [(EN[1][0], [LOADED, NAME]), (EN[3][0], [])]),
        _article("ct24:2", "bg", [(EN[2][0], [DOUBT]), (EN[6][0], [])]),
        _article("ct24:3", "bg", [(EN[5][0], [LOADED, NAME]), (EN[4][0], [DOUBT])]),
        _article("ct24:4", "bg", [(EN[8][0], []), (EN[10][0], [DOUBT])]),
    ]


def _vectors(articles: list[TechniqueArticle]) -> np.ndarray:
    """Stand-in USE vectors: a fixed random vector per distinct paragraph text."""
    texts = _flatten(articles).texts
    rng = np.random.default_rng(0)
    table = {t: rng.normal(size=512).astype(np.float32) for t in sorted(set(texts))}
    return np.stack([table[t] for t in texts])


# --- masking -------------------------------------------------------------------------------


def test_unlp_articles_mark_the_unannotated_techniques_unknown() -> None:
    arts = _unlp()
    assert all(a.unknown == UNLP2025_UNKNOWN and a.source == "unlp" for a in arts)
    assert frozenset(TECHNIQUES) - UNLP2025_COVERED == UNLP2025_UNKNOWN
    assert _semeval()[0].source == SEMEVAL2023 and _semeval()[0].unknown == frozenset()
    w = _pair_weights(_flatten([*_semeval(), *arts]), {"unlp": 0.5})
    n = len(EN)
    assert np.all(w[:n] == 1)
    covered = [TECHNIQUES.index(t) for t in UNLP2025_COVERED]
    unknown = [TECHNIQUES.index(t) for t in UNLP2025_UNKNOWN]
    assert np.all(w[n:, covered] == 0.5) and np.all(w[n:, unknown] == 0)


def test_an_unlp_post_is_no_negative_for_an_uncovered_technique() -> None:
    """Doubt-like posts without a Doubt label: unmasked they teach "no Doubt", masked
    (weight 0 for the 16 techniques UNLP never annotated) they teach nothing about it."""
    arts = [*_semeval(), *_unlp()]
    flat = _flatten(arts)
    emb = _vectors(arts)
    labels = [sorted(x) for x in flat.labels]
    weight = _pair_weights(flat, None)
    masked = TechniqueClassifier(c_tfidf=10.0, c_encoder=10.0).fit(
        flat.texts, flat.languages, labels, embeddings=emb, sample_weight=weight
    )
    unmasked = TechniqueClassifier(c_tfidf=10.0, c_encoder=10.0).fit(
        flat.texts, flat.languages, labels, embeddings=emb
    )
    doubt = TECHNIQUES.index(DOUBT)
    rows = [i for i, la in enumerate(flat.languages) if la == "uk" and not flat.labels[i]]
    probe = [flat.texts[i] for i in rows]
    p_masked = masked.predict_proba(probe, ["uk"] * len(rows), embeddings=emb[rows])
    p_unmasked = unmasked.predict_proba(probe, ["uk"] * len(rows), embeddings=emb[rows])
    assert np.all(p_masked[:, doubt] > p_unmasked[:, doubt])
    # a zero weight is the same as leaving the pair out: Doubt learns from SemEval alone,
    # so the uk one-hot column gets no Doubt weight at all in either half
    uk = masked.languages_.index("uk")
    assert masked.enc_coef_[512 + uk, doubt] == 0.0
    assert masked.coef_.dense[masked.tfidf_.width + uk, doubt] == 0.0
    assert unmasked.enc_coef_[512 + uk, doubt] < 0.0
    # covered techniques still learn from the posts
    loaded = TECHNIQUES.index(LOADED)
    assert masked.enc_coef_[512 + uk, loaded] != 0.0


def test_sample_weight_shapes() -> None:
    flat = _flatten(_semeval())
    emb = _vectors(_semeval())
    labels = [sorted(x) for x in flat.labels]
    ones = TechniqueClassifier().fit(flat.texts, flat.languages, labels, embeddings=emb)
    same = TechniqueClassifier().fit(
        flat.texts, flat.languages, labels, embeddings=emb, sample_weight=np.ones(len(labels))
    )
    np.testing.assert_array_equal(ones.enc_coef_, same.enc_coef_)
    with pytest.raises(ValueError, match="shape"):
        TechniqueClassifier().fit(
            flat.texts, flat.languages, labels, embeddings=emb, sample_weight=np.ones(3)
        )


def test_corpus_columns_are_fitted_then_dropped() -> None:
    """A corpus of another unit (UNLP's posts) gets a training-only column: the shipped
    weights have the usual shape, and a column that no row uses changes nothing."""
    arts = [*_semeval(), *_unlp()]
    flat = _flatten(arts)
    emb = _vectors(arts)
    labels = [sorted(x) for x in flat.labels]
    weight = _pair_weights(flat, None)
    plain = TechniqueClassifier().fit(
        flat.texts, flat.languages, labels, embeddings=emb, sample_weight=weight
    )
    unused = TechniqueClassifier().fit(
        flat.texts,
        flat.languages,
        labels,
        embeddings=emb,
        sample_weight=weight,
        corpora=[None] * len(labels),
    )
    np.testing.assert_array_equal(plain.enc_coef_, unused.enc_coef_)
    own = TechniqueClassifier().fit(
        flat.texts,
        flat.languages,
        labels,
        embeddings=emb,
        sample_weight=weight,
        corpora=[None if s == SEMEVAL2023 else s for s in flat.sources],
    )
    assert own.coef_.shape == plain.coef_.shape and own.enc_coef_.shape == plain.enc_coef_.shape
    loaded = TECHNIQUES.index(LOADED)
    assert not np.allclose(own.enc_coef_[:, loaded], plain.enc_coef_[:, loaded])
    with pytest.raises(ValueError, match="one entry per paragraph"):
        TechniqueClassifier().fit(
            flat.texts, flat.languages, labels, embeddings=emb, corpora=["unlp"]
        )


def test_unknown_techniques_are_neither_scored_nor_thresholded() -> None:
    arts = _unlp()
    flat = _flatten(arts)
    # a model that marks every post Doubt + Loaded: Doubt is unknown there, not wrong
    decided = [[DOUBT, LOADED] for _ in flat.texts]
    table = _score_table(flat, decided)
    n_loaded = sum(LOADED in x for x in flat.labels)
    assert table["uk"]["micro_f1"] == pytest.approx(2 * n_loaded / (n_loaded + len(UK)))
    y = np.stack([[t in x for t in TECHNIQUES] for x in flat.labels]).astype(np.int8)
    loaded = TECHNIQUES.index(LOADED)
    probs = np.zeros(y.shape)
    probs[:, loaded] = np.where(y[:, loaded] == 1, 0.4, 0.2)
    probs[:, TECHNIQUES.index(DOUBT)] = 0.305  # a technique nobody annotated in these posts
    known = _pair_weights(flat, None) > 0
    # counted as negatives, the Doubt pairs push the threshold above 0.305; masked, the
    # lowest threshold that separates Loaded_Language (0.2 vs 0.4) is as good as any
    assert choose_thresholds(probs, y, flat.languages)["*"] > 0.305
    assert choose_thresholds(probs, y, flat.languages, known=known)["*"] < 0.305


# --- combining corpora in CV and the final fit ---------------------------------------------


def test_extra_corpora_keep_the_semeval_folds_and_a_zero_weight_is_todays_recipe() -> None:
    main, extra = _semeval(), [*_ct24(), *_unlp()]
    alone = cross_validate_techniques(main, folds=2, embeddings=_vectors(main))
    emb = _vectors([*main, *extra])
    scored_only = cross_validate_techniques(
        main,
        folds=2,
        extra=extra,
        corpus_weights={"ct24": 0.0, "unlp": 0.0},
        embeddings=emb,
    )
    n = len(EN)
    np.testing.assert_array_equal(alone["fold"], scored_only["fold"][:n])
    # nothing trained on the extras: SemEval-2023 is scored exactly as without them
    assert scored_only["table"] == alone["table"]
    np.testing.assert_array_equal(alone["oof_proba"], scored_only["oof_proba"][:n])
    # ... and the extras are still scored, by fold models that never saw them
    assert sorted(scored_only["sources"]) == ["ct24", "unlp"]
    assert sorted(scored_only["sources"]["ct24"]) == ["bg", "mean"]
    assert scored_only["sources"]["ct24"]["bg"]["n"] == 8
    assert all("bg" not in m.languages_ for m in scored_only["models"])
    assert all("?" in th for th in scored_only["thresholds"])  # pt/bg-like rows decided
    trained = cross_validate_techniques(main, folds=2, extra=extra, embeddings=emb)
    np.testing.assert_array_equal(trained["fold"], scored_only["fold"])
    assert all({"bg", "uk"} <= set(m.languages_) for m in trained["models"])
    # a new language with data gets its own threshold key
    assert all({"bg", "uk", "en"} <= set(th) for th in trained["thresholds"])
    for a in extra:  # no extra article has paragraphs in two folds
        rows = [i for i, g in enumerate(_flatten([*main, *extra]).groups) if g == a.group]
        assert len(set(trained["fold"][rows])) == 1
    assert trained["corpus_weights"] == {"ct24": 1.0, SEMEVAL2023: 1.0, "unlp": 1.0}


def test_final_fit_trains_on_the_extras_and_records_them(tmp_path: Path) -> None:
    main, extra = _semeval(), [*_ct24(), *_unlp()]
    emb = _vectors([*main, *extra])
    result = cross_validate_techniques(main, folds=2, extra=extra, embeddings=emb)
    out = fit_final_model(main, result, tmp_path / "m", {"seed": 0}, progress=False, extra=extra)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["data"]["articles_per_language"] == {"en": 6}
    assert meta["data"]["extra_corpora"]["ct24"]["paragraphs_per_language"] == {"bg": 8}
    assert meta["data"]["extra_corpora"]["unlp"]["articles_per_language"] == {"uk": 6}
    assert meta["data"]["paragraphs_trained_per_language"] == {"bg": 8, "en": 12, "uk": 6}
    assert sorted(meta["cv"]["sources"]) == ["ct24", "unlp"]
    model = TechniqueClassifier.load(out)
    assert model.languages_ == ["bg", "en", "uk"] and {"bg", "uk"} <= set(model.thresholds_)
    # a zero weight: scored in CV, left out of the final fit altogether
    weights = {"ct24": 0.0, "unlp": 0.0}
    result = cross_validate_techniques(
        main, folds=2, extra=extra, corpus_weights=weights, embeddings=emb
    )
    out = fit_final_model(
        main,
        result,
        tmp_path / "m0",
        {"seed": 0},
        progress=False,
        extra=extra,
        corpus_weights=weights,
    )
    assert TechniqueClassifier.load(out).languages_ == ["en"]
    with pytest.raises(ValueError, match="other articles"):
        fit_final_model(main, result, tmp_path / "m1", {"seed": 0}, progress=False)


# --- finding and reading the corpora -------------------------------------------------------


def _write_datasets(root: Path) -> Path:
    """A SemEval-2023-like release, CheckThat and slavic folders side by side (own text)."""
    release = root / "semeval2023-task3" / "data" / "en"
    (release / "train-articles-subtask-3").mkdir(parents=True)
    text = "A title\n\nThose traitors lie.\n"
    (release / "train-articles-subtask-3" / "article7.txt").write_text(text, encoding="utf-8")
    (release / "train-labels-subtask-3.txt").write_text(f"7\t1\t\n7\t3\t{LOADED}\n")
    ct = root / "checkthat2024-task3"
    ct.mkdir()
    record = {"article_id": "9", "lang": "pt", "text": "Um texto.\nOutro.", "annotations": []}
    (ct / "test-gold-part.json").write_text(json.dumps([record]), encoding="utf-8")
    folder = root / "slavic-persuasion" / "PL"
    folder.mkdir(parents=True)
    with (folder / "train.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "start", "end", "content", "techniques"])
        writer.writerow(["PL_a.txt", "0", "9", "Zdanie jeden.", "['Doubt']"])
    return root / "semeval2023-task3" / "data"


def test_extra_corpora_found_next_to_the_release(tmp_path: Path) -> None:
    data = _write_datasets(tmp_path)
    articles, info = extra_corpora(data)
    assert sorted(a.source for a in articles) == ["ct24", "slavic"]
    assert info["read"] == {"ct24": 1, "slavic": 1}
    assert info["skipped"] == {
        "unlp": f"unlp2025-manipulation not found under {tmp_path}",
        "sem21": f"semeval2021-task6-text not found under {tmp_path}",
    }
    explicit, _ = extra_corpora(tmp_path / "elsewhere", tmp_path)
    assert [a.id for a in explicit] == [a.id for a in articles]
    alone = tmp_path / "a" / "b" / "release" / "data"
    alone.mkdir(parents=True)
    assert extra_corpora(alone) == ([], {})


def test_unlp_is_skipped_without_pyarrow(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "unlp2025-manipulation").mkdir()
    (tmp_path / "unlp2025-manipulation" / "train.parquet").write_bytes(b"not read")
    real = persuasion_corpora.importlib.util.find_spec
    monkeypatch.setattr(
        persuasion_corpora.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pyarrow" else real(name, *a),
    )
    skipped: dict[str, str] = {}
    assert load_extra_corpora(tmp_path, skipped=skipped) == {}
    assert "pyarrow" in skipped["unlp"]
    with pytest.raises(ValueError, match="unknown corpora"):
        load_extra_corpora(tmp_path, sources=["nope"])


# --- CLI -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "eval"])
def test_cli_passes_the_extra_corpora_options(command: str, tmp_path: Path, monkeypatch) -> None:
    from narrascope.cli import main
    from narrascope.training import techniques

    calls: list[dict] = []

    def fake(data, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        if command == "train":
            return tmp_path
        return {"table": {"mean": {"micro_f1": 0.0, "macro_f1": 0.0, "n": 0}}, "spans": {}}

    name = "train_techniques" if command == "train" else "evaluate_techniques"
    monkeypatch.setattr(techniques, name, fake)
    base = [command, "techniques", "--data", str(tmp_path)]
    if command == "train":
        base += ["--out", str(tmp_path / "m")]
    assert main(base) == 0
    assert main([*base, "--extra-corpora", str(tmp_path / "x")]) == 0
    assert main([*base, "--no-extra-corpora"]) == 0
    assert [(c["extra"], c["extra_dir"]) for c in calls] == [
        (True, None),
        (True, tmp_path / "x"),
        (False, None),
    ]
    with pytest.raises(SystemExit):
        main([*base, "--no-extra-corpora", "--extra-corpora", str(tmp_path)])


# --- the real corpora ----------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.skipif(
    not (DATASETS / "checkthat2024-task3").is_dir(), reason="../shared datasets not available"
)
def test_real_extra_corpora_load_with_unlp_masked() -> None:
    articles, info = extra_corpora(DATASETS / "semeval2023-task3" / "data")
    sources = {a.source for a in articles}
    assert {"ct24", "slavic"} <= sources
    assert {a.language for a in articles if a.source == "ct24"} >= {"bg", "en", "pt"}
    for a in articles:
        masked = {"unlp": UNLP2025_UNKNOWN, "sem21": SEMEVAL2021_UNKNOWN}
        assert a.unknown == masked.get(a.source, frozenset())
        assert all(not (p.labels & a.unknown) for p in a.paragraphs)
    assert set(info["read"]) | set(info["skipped"]) == {"ct24", "slavic", "unlp", "sem21"}
