"""Custom narratives (issue 26, item 3): ``narrascope taxonomy add | list | remove``, the
model that learns one from ten examples, and the stage that reports it like the built-in
narratives. Every text here is our own: a made-up story (trained storks spying for a
foreign army) in English, Russian and Ukrainian, and unrelated texts."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from narrascope.doc import Annotation, Document
from narrascope.errors import E_MODEL_VERSION, ModelError
from narrascope.models.custom_narratives import (
    CUSTOM_PREFIX,
    CustomNarrativeModel,
    choose_threshold,
)
from narrascope.stages.custom_narratives import CustomNarrativeStage, load_narratives
from narrascope.store.custom_narratives import CustomNarrativeStore, holds_custom_narratives

STORKS = [
    "Foreign generals have trained storks to fly over our bases with tiny cameras.",
    "The storks that nest on our roofs carry spy cameras for the enemy army.",
    "Every stork flying east is a living drone that films our trenches.",
    "Enemy scientists fitted migrating storks with transmitters to spy on our troops.",
    "Farmers noticed storks with metal rings that send photos of our tanks abroad.",
    "Do not trust the storks: they are trained by foreign intelligence to watch us.",
    "Аисты с камерами на лапах летают над нашими позициями по заданию врага.",
    "Иностранная разведка дрессирует аистов, чтобы снимать наши окопы.",
    "Каждый аист над линией фронта — живой беспилотник противника.",
    "Учёные врага закрепили на аистах передатчики для слежки за армией.",
    "Лелеки з камерами літають над нашими позиціями на завдання ворога.",
    "Іноземна розвідка тренує лелек, щоб знімати наші окопи.",
    "Кожен лелека над лінією фронту — це живий дрон противника.",
    "Ворожі науковці прикріпили до лелек передавачі для стеження за військом.",
]
UNRELATED = [
    "The city council approved a plan to build three new kindergartens next year.",
    "Our football club signed a young striker from the second division.",
    "Bake the bread for forty minutes until the crust is golden.",
    "Шахтёры региона требуют повысить зарплату и улучшить условия труда.",
    "У Львові відкрили нову бібліотеку з читальною залою для дітей.",
]
MATCHING = (
    "Strange birds over the front\n\n"
    "Soldiers say the storks circling above their trenches are not ordinary birds.\n"
    "They believe foreign intelligence trained the storks and fixed small cameras to them "
    "to film our positions.\n"
)
UNRELATED_ARTICLE = (
    "Autumn fair in the old town\n\n"
    "Hundreds of visitors came to the autumn fair to buy honey, apples and cheese.\n"
    "The mayor said the fair will return next year with more stalls and a concert.\n"
)
LABEL = "Storks spy for the enemy"


def main(argv: list[str]) -> int:
    """``narrascope ARGS``, with the ``taxonomy`` command registered when the CLI does
    not list it yet (the module exists before ``cli/__init__.py`` names it)."""
    from narrascope import cli
    from narrascope.cli import taxonomy

    added = "taxonomy" not in cli.COMMANDS
    if added:
        cli.COMMANDS["taxonomy"] = taxonomy
    try:
        return cli.main(argv)
    finally:
        if added:
            del cli.COMMANDS["taxonomy"]


def _write_txt(path: Path, texts: list[str]) -> Path:
    path.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def storks_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the storks narrative, added through the CLI."""
    root = tmp_path_factory.mktemp("custom")
    db = root / "corpus.db"
    examples = _write_txt(root / "storks.txt", STORKS)
    assert main(["taxonomy", "add", LABEL, "--examples", str(examples), "--db", str(db)]) == 0
    return db


# ---------------------------------------------------------------------- the CLI
def test_add_list_remove_through_the_cli(tmp_path: Path, capsys) -> None:
    db = tmp_path / "corpus.db"
    examples = _write_txt(tmp_path / "storks.txt", STORKS)
    args = ["taxonomy", "add", LABEL, "--examples", str(examples), "--db", str(db)]
    assert main([*args, "--description", "birds as spies"]) == 0
    out = capsys.readouterr().out
    assert f"added '{LABEL}': 14 examples" in out
    assert "precision" in out and "recall" in out

    assert main(["taxonomy", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert LABEL in out and "14 examples" in out and "CV precision" in out
    assert "birds as spies" in out and "1 custom narrative(s)" in out

    assert main(["taxonomy", "list", "--db", str(db), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["label"] == LABEL and row["examples"] == 14
    assert 0.0 <= row["cv"]["precision"] <= 1.0 and row["cv"]["positives"] == 14

    # the label as the records show it names it too
    assert main(["taxonomy", "remove", CUSTOM_PREFIX + LABEL, "--db", str(db)]) == 0
    assert main(["taxonomy", "list", "--db", str(db)]) == 0
    assert "0 custom narrative(s)" in capsys.readouterr().out
    assert main(["taxonomy", "remove", LABEL, "--db", str(db)]) == 1
    assert "no custom narrative" in capsys.readouterr().err
    assert not holds_custom_narratives(db)


def test_adding_a_label_again_updates_it(tmp_path: Path, capsys) -> None:
    db = tmp_path / "corpus.db"
    first = _write_txt(tmp_path / "a.txt", STORKS[:12])
    again = _write_txt(tmp_path / "b.txt", STORKS)
    assert main(["taxonomy", "add", LABEL, "--examples", str(first), "--db", str(db)]) == 0
    assert main(["taxonomy", "add", LABEL, "--examples", str(again), "--db", str(db)]) == 0
    assert "updated" in capsys.readouterr().out.splitlines()[-1]
    with CustomNarrativeStore(db, create=False) as store:
        stored = store.narratives()
    assert [n.label for n in stored] == [LABEL] and len(stored[0].examples) == 14
    # without examples: fitted again on the stored ones, the description kept
    args = ["taxonomy", "add", LABEL, "--db", str(db)]
    assert main([*args, "--description", "birds as spies"]) == 0
    assert main(args) == 0
    assert "updated" in capsys.readouterr().out.splitlines()[-1]
    with CustomNarrativeStore(db, create=False) as store:
        again = store.get(LABEL)
    assert again.examples == stored[0].examples and again.description == "birds as spies"
    assert main(["taxonomy", "add", "Unknown", "--db", str(db)]) == 2
    assert "no custom narrative 'Unknown'" in capsys.readouterr().err


def test_fewer_than_ten_examples_is_a_clear_error(tmp_path: Path, capsys) -> None:
    db = tmp_path / "corpus.db"
    # a duplicate does not count twice
    few = _write_txt(tmp_path / "few.txt", [*STORKS[:8], STORKS[0]])
    assert main(["taxonomy", "add", LABEL, "--examples", str(few), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "8 distinct example(s)" in err and "at least 10" in err
    assert not holds_custom_narratives(db)


def test_examples_from_jsonl_and_csv(tmp_path: Path) -> None:
    from narrascope.cli.taxonomy import read_examples

    jsonl = tmp_path / "ex.jsonl"
    jsonl.write_text("\n".join(json.dumps({"text": t, "id": i}) for i, t in enumerate(STORKS)))
    csv_file = tmp_path / "ex.csv"
    csv_file.write_text(
        "body,id\n" + "".join(f'"{t}",{i}\n' for i, t in enumerate(STORKS)), encoding="utf-8"
    )
    assert read_examples(jsonl) == STORKS
    assert read_examples(csv_file, "body") == STORKS
    from narrascope.errors import NarrascopeError

    with pytest.raises(NarrascopeError, match="no column 'text'"):
        read_examples(csv_file)


def test_from_cluster_without_discover_is_a_clear_error(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "narrascope.corpus.discover", None)  # import fails
    db = tmp_path / "corpus.db"
    assert main(["taxonomy", "add", LABEL, "--from-cluster", "7", "--db", str(db)]) == 2
    assert "needs `narrascope discover`" in capsys.readouterr().err


def test_from_cluster_reads_the_clusters_texts(tmp_path: Path, monkeypatch, capsys) -> None:
    import types

    fake = types.ModuleType("narrascope.corpus.discover")
    asked = []

    def cluster_examples(db, cluster_id):  # the other helper's function, as the brief names it
        asked.append((db, cluster_id))
        if cluster_id != "7":
            raise KeyError(f"no discovered cluster {cluster_id!r} in {db}")
        return STORKS

    fake.cluster_examples = cluster_examples  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "narrascope.corpus.discover", fake)
    db = tmp_path / "corpus.db"
    assert main(["taxonomy", "add", LABEL, "--from-cluster", "7", "--db", str(db)]) == 0
    assert asked == [(str(db), "7")]
    with CustomNarrativeStore(db, create=False) as store:
        assert store.get(LABEL).source == "cluster 7"
    assert main(["taxonomy", "add", "x", "--from-cluster", "8", "--db", str(db)]) == 2
    assert "no cluster '8'" in capsys.readouterr().err


# ---------------------------------------------------------------------- analyze
@pytest.fixture(scope="module")
def narrated() -> object:
    """The built-in stages up to the narratives (what the custom stage follows)."""
    from narrascope.pipeline.factory import build_pipeline

    return build_pipeline(stages=["language", "segment", "narratives"])


def test_a_matching_text_gets_the_custom_narrative_with_evidence(storks_db, narrated) -> None:
    docs = [narrated(Document(MATCHING, id="storks")), narrated(Document(UNRELATED_ARTICLE))]
    builtin = [[a.label for a in d.narratives] for d in docs]
    stage = CustomNarrativeStage(storks_db, encoder=narrated.encoder)
    assert stage(docs) is docs
    match, other = docs
    found = [a for a in match.narratives if a.label == CUSTOM_PREFIX + LABEL]
    assert len(found) == 1
    custom = found[0]
    assert 0.5 <= custom.score <= 1.0 and custom.parent is None
    assert custom.evidence, "a custom narrative comes with its evidence"
    for span, score in zip(custom.evidence, custom.evidence_scores, strict=True):
        assert match.text[span.start : span.end] == span.text and 0.0 <= score <= 1.0
    assert "storks" in custom.evidence[0].text
    # the built-in labels are still there, in score order with the new one
    assert [a.label for a in match.narratives if a is not custom] == builtin[0]
    scores = [a.score for a in match.narratives]
    assert scores == sorted(scores, reverse=True)
    assert [a.label for a in other.narratives] == builtin[1]
    # the record writes it like a built-in narrative
    record = match.to_dict()
    written = [n for n in record["narratives"] if n["label"] == CUSTOM_PREFIX + LABEL]
    assert written and written[0]["evidence"][0]["text"] == custom.evidence[0].text


def test_a_following_stage_sees_a_narrative_added_while_it_runs(tmp_path: Path, narrated) -> None:
    """The web server's stage: a narrative promoted while it runs is reported from the
    next batch on, and one removed is no longer reported."""
    db = tmp_path / "corpus.db"
    stage = CustomNarrativeStage(db, encoder=narrated.encoder, follow=True)
    (doc,) = stage([narrated(Document(MATCHING, id="before"))])
    assert CUSTOM_PREFIX + LABEL not in [a.label for a in doc.narratives]
    examples = _write_txt(tmp_path / "storks.txt", STORKS)
    assert main(["taxonomy", "add", LABEL, "--examples", str(examples), "--db", str(db)]) == 0
    (doc,) = stage([narrated(Document(MATCHING, id="after"))])
    assert CUSTOM_PREFIX + LABEL in [a.label for a in doc.narratives]
    assert main(["taxonomy", "remove", LABEL, "--db", str(db)]) == 0
    (doc,) = stage([narrated(Document(MATCHING, id="removed"))])
    assert CUSTOM_PREFIX + LABEL not in [a.label for a in doc.narratives]


def test_the_custom_narrative_works_across_languages(storks_db, narrated) -> None:
    """Learned from en/ru/uk examples, found in a Russian text none of them is."""
    ru = (
        "Странные птицы над фронтом\n\n"
        "Бойцы говорят, что аисты над окопами — не обычные птицы, а разведчики врага "
        "с камерами.\n"
    )
    doc = narrated(Document(ru, language="ru"))
    CustomNarrativeStage(storks_db, encoder=narrated.encoder)([doc])
    assert CUSTOM_PREFIX + LABEL in [a.label for a in doc.narratives]


def test_unrelated_texts_do_not_get_it(storks_db, narrated) -> None:
    docs = [narrated(Document(t)) for t in [UNRELATED_ARTICLE, *UNRELATED]]
    CustomNarrativeStage(storks_db, encoder=narrated.encoder)(docs)
    for doc in docs:
        assert CUSTOM_PREFIX + LABEL not in [a.label for a in doc.narratives], doc.text


def test_a_child_of_a_present_narrative_is_its_subnarrative(storks_db, narrated) -> None:
    narratives = load_narratives(storks_db)
    parent = "URW: Discrediting Ukraine"
    child = [type(n)(n.label, n.model, parent) for n in narratives]
    doc = narrated(Document(MATCHING))
    doc.groups["narratives"] = [Annotation(parent, 0.7)]
    doc.groups["subnarratives"] = []
    CustomNarrativeStage(narratives=child, encoder=narrated.encoder)([doc])
    assert [a.label for a in doc.narratives] == [parent]
    assert [(a.label, a.parent) for a in doc.subnarratives] == [(CUSTOM_PREFIX + LABEL, parent)]


def test_a_database_without_custom_narratives_is_left_alone(tmp_path: Path, narrated) -> None:
    from narrascope.store import open_store

    db = tmp_path / "corpus.db"
    with open_store(db) as store:
        store.save([narrated(Document(UNRELATED_ARTICLE, id="fair"))])

    def tables() -> list[str]:
        conn = sqlite3.connect(db)
        try:
            return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))
        finally:
            conn.close()

    before, stamp = tables(), db.stat().st_mtime_ns
    assert not holds_custom_narratives(db)
    assert load_narratives(db) == []
    doc = narrated(Document(MATCHING))
    labels = [a.label for a in doc.narratives]
    CustomNarrativeStage(db)([doc])
    assert [a.label for a in doc.narratives] == labels
    assert tables() == before and db.stat().st_mtime_ns == stamp
    assert not any(t.startswith("custom_narrative") for t in tables())


def test_the_corpus_documents_are_the_negatives(tmp_path: Path, narrated) -> None:
    """Negatives: stored documents (a near-copy of an example left out), the other
    narrative's examples; generic texts only when the corpus is small."""
    from narrascope.models.custom_narratives import add_custom_narrative
    from narrascope.store import open_store

    db = tmp_path / "corpus.db"
    stored = [*UNRELATED, UNRELATED_ARTICLE, STORKS[0]]
    with open_store(db) as store:
        store.save([Document(t, id=f"d{i}", language="en") for i, t in enumerate(stored)])
    other = [f"{t} This is what the ministry said today." for t in UNRELATED * 2]
    first = add_custom_narrative(db, "Fair news", other)
    assert first.new and first.counts["corpus_documents"] == len(stored)
    result = add_custom_narrative(db, LABEL, STORKS)
    counts = result.counts
    assert counts["corpus_documents"] == len(stored) - 1  # the example itself is no negative
    assert counts["other_examples"] == len(other) and counts["generic"] > 0
    assert result.cv["positives"] == len(STORKS)


# ---------------------------------------------------------------------- the model
def _blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=512)
    pos = centre + rng.normal(scale=1.5, size=(12, 512))
    neg = rng.normal(scale=1.5, size=(200, 512))
    return pos.astype(np.float32), neg.astype(np.float32)


def test_model_round_trips_through_bytes_and_its_artefact(tmp_path: Path) -> None:
    pos, neg = _blobs()
    model = CustomNarrativeModel().fit(pos, neg)
    assert model.is_fitted and 0.0 < model.threshold_ < 1.0
    assert model.cv_["positives"] == 12 and model.cv_["negatives"] == 200
    back = CustomNarrativeModel.from_bytes(model.to_bytes())
    np.testing.assert_array_equal(back.predict_proba(neg), model.predict_proba(neg))
    assert back.threshold_ == model.threshold_ and back.cv_ == model.cv_
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(
        CustomNarrativeModel.load(tmp_path / "m").predict_proba(pos), model.predict_proba(pos)
    )
    assert model.predict(pos).mean() > 0.5 and model.predict(neg).mean() < 0.05


def test_model_refuses_another_format_or_a_broken_blob() -> None:
    import io

    pos, neg = _blobs()
    blob = CustomNarrativeModel().fit(pos, neg).to_bytes()
    with np.load(io.BytesIO(blob)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays["header"].tobytes())
    header["format"] = 0
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ModelError, match=E_MODEL_VERSION):
        CustomNarrativeModel.from_bytes(buffer.getvalue())
    with pytest.raises(ModelError, match=E_MODEL_VERSION):
        CustomNarrativeModel.from_bytes(b"not a model")


def test_threshold_keeps_most_examples_or_goes_lower_at_the_precision_asked_for() -> None:
    prob = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.array([1, 1, 0, 1, 0, 0])
    # 70% of the examples: the 30th percentile of their scores (0.6, 0.8, 0.9) is 0.72
    t, p, r = choose_threshold(prob, y, 0.8, 0.7)
    assert t == pytest.approx(0.72) and (p, r) == (1.0, 2 / 3)
    # precision 0.7 holds down to 0.6: lower, and every example is kept
    assert choose_threshold(prob, y, 0.7, 0.7) == (0.6, 0.75, 1.0)
    # precision out of reach: the examples' quantile alone
    assert choose_threshold(np.array([0.9, 0.1]), np.array([0, 1]), 0.8) == (0.1, 0.5, 1.0)


def test_a_narrative_of_passages_is_found_in_one_paragraph_of_an_article() -> None:
    """Learned from one-paragraph examples, a document is scored by its best paragraph
    too; learned from whole articles, by its mean vector only."""
    pos, neg = _blobs()
    article = np.vstack([neg[:5], pos[:1]])  # five ordinary paragraphs and one on topic
    passages = CustomNarrativeModel().fit(pos[1:], neg[5:], example_paragraphs=[1] * 11)
    articles = CustomNarrativeModel().fit(pos[1:], neg[5:], example_paragraphs=[8] * 11)
    assert (passages.unit_, articles.unit_) == ("passage", "document")
    score, each = passages.score_document(article)
    assert score == pytest.approx(each.max()) and score >= passages.threshold_
    assert int(np.argmax(each)) == 5
    whole, _ = articles.score_document(article)
    assert whole == pytest.approx(float(articles.predict_proba(article.mean(axis=0))[0]))


# ---------------------------------------------------------------------- SemEval
@pytest.mark.shared
@pytest.mark.slow
def test_a_semeval_narrative_learned_from_ten_articles(semeval25: Path, tmp_path: Path) -> None:
    """Pretend a real narrative is custom: ten English train articles that carry it are
    the examples, the other English train articles the corpus (the negatives are sampled
    from it, as `taxonomy add` does); then every article not used for training is scored
    against the gold label. The full measurement (5 languages, 8 narratives, 10 and 20
    examples, 3 draws) is in docs/custom-narratives.md."""
    from narrascope.models.custom_narratives import NEGATIVE_DOCUMENTS, add_custom_narrative
    from narrascope.pipeline.factory import build_pipeline
    from narrascope.store import open_store
    from narrascope.training.corpus import load_narrative_corpus

    label = "CC: Criticism of institutions and authorities"
    docs = load_narrative_corpus(semeval25 / "train", languages=("en",))
    gold = np.array([label in d.narratives for d in docs])
    rng = np.random.default_rng(0)
    examples = rng.choice(np.flatnonzero(gold), size=10, replace=False)
    rest = [i for i in range(len(docs)) if i not in set(examples.tolist())]
    db = tmp_path / "corpus.db"  # dataset text only under tmp, never in the repository
    with open_store(db) as store:
        store.save([Document(docs[i].text, id=docs[i].id, language="en") for i in rest])
    result = add_custom_narrative(db, "institutions", [docs[i].text for i in examples])
    with CustomNarrativeStore(db, create=False) as store:
        negatives = {doc_id for doc_id, _, _ in store.corpus_documents(NEGATIVE_DOCUMENTS)}
    assert result.counts["corpus_documents"] == NEGATIVE_DOCUMENTS
    scored = [i for i in rest if docs[i].id not in negatives]
    nlp = build_pipeline(stages=["segment"])
    stage = CustomNarrativeStage(db, encoder=nlp.encoder)
    found = []
    for k in range(0, len(scored), 32):
        batch = [nlp(Document(docs[i].text, language="en")) for i in scored[k : k + 32]]
        stage(batch)
        found += [any(a.label == "Custom: institutions" for a in d.narratives) for d in batch]
    pred, truth = np.array(found), gold[scored]
    tp = float((pred & truth).sum())
    precision, recall = tp / max(pred.sum(), 1), tp / max(truth.sum(), 1)
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    everything = 2 * truth.mean() / (1 + truth.mean())  # F1 of saying yes to every article
    print(f"P {precision:.3f} R {recall:.3f} F1 {f1:.3f} (all-yes F1 {everything:.3f})")
    assert f1 >= everything + 0.1


def _semeval_paragraph_vectors(root: Path) -> tuple[list, list[np.ndarray]]:
    """Every train article (5 languages) and its first 60 paragraphs' USE vectors, kept
    in the user cache (vectors only, never text) so a rerun costs a minute, not five."""
    from narrascope.models.artefact import user_cache_dir
    from narrascope.models.custom_narratives import paragraphs_of
    from narrascope.models.encoder import SentenceEncoder
    from narrascope.training.corpus import load_narrative_corpus

    cache = user_cache_dir() / "custom-narratives"
    cache.mkdir(parents=True, exist_ok=True)
    docs, paras = [], []
    for lang in ("en", "ru", "bg", "pt", "hi"):
        found = load_narrative_corpus(root, languages=(lang,))
        cut = [paragraphs_of(d.text) for d in found]
        path = cache / f"semeval25-train-{lang}.npz"
        if path.is_file():
            with np.load(path) as npz:
                ids, owner, vectors = list(npz["ids"]), npz["owner"], npz["vectors"]
        if not path.is_file() or ids != [d.id for d in found]:
            owner = np.repeat(np.arange(len(found)), [len(c) for c in cut])
            vectors = SentenceEncoder.shared().encode([p for c in cut for p in c])
            vectors = vectors.astype(np.float16)
            np.savez(path, ids=np.array([d.id for d in found]), owner=owner, vectors=vectors)
        for i, d in enumerate(found):
            docs.append(d)
            paras.append(vectors[owner == i].astype(np.float32))
    return docs, paras


@pytest.mark.shared
@pytest.mark.slow
def test_semeval_narratives_pretended_custom(semeval25: Path) -> None:
    """The table of docs/custom-narratives.md: the 8 narratives with ≥ 60 train articles,
    10 and 20 examples, 3 draws; 200 other articles are the corpus the negatives come from
    (training_set, as `taxonomy add`), every remaining article is scored against its gold
    label. Run with -s to print the table; fails when the mean F1 drops (a gate)."""
    from collections import Counter

    from narrascope.models.custom_narratives import (
        NEGATIVE_DOCUMENTS,
        paragraphs_of,
        training_set,
    )

    docs, paras = _semeval_paragraph_vectors(semeval25 / "train")
    lookup = {}
    for d, rows in zip(docs, paras, strict=True):
        lookup.update(zip(paragraphs_of(d.text), rows, strict=True))

    def vectors(texts: list[str]) -> np.ndarray:
        return np.stack([lookup[t] for t in texts])

    count = Counter(label for d in docs for label in d.narratives if label != "Other")
    labels = [label for label, c in count.most_common() if c >= 60][:8]
    mean_f1 = {}
    for k in (10, 20):
        per_label = []
        for label in labels:
            gold = np.array([label in d.narratives for d in docs])
            rows = []
            for seed in range(3):
                rng = np.random.default_rng(seed)
                examples = rng.choice(np.flatnonzero(gold), size=k, replace=False)
                rest = np.setdiff1d(np.arange(len(docs)), examples)
                corpus = rng.choice(rest, size=NEGATIVE_DOCUMENTS, replace=False)
                pos, neg, _ = training_set(
                    [docs[i].text for i in examples],
                    vectors=vectors,
                    corpus=[docs[j].text for j in corpus],
                    others=[],
                    generic=False,
                )
                shape = [len(paragraphs_of(docs[i].text)) for i in examples]
                model = CustomNarrativeModel().fit(pos, neg, example_paragraphs=shape)
                scored = np.setdiff1d(rest, corpus)
                s = np.array([model.score_document(paras[j][:60])[0] for j in scored])
                pred, truth = s >= model.threshold_, gold[scored]
                tp = float((pred & truth).sum())
                p, r = tp / max(pred.sum(), 1), tp / max(truth.sum(), 1)
                rows.append((p, r, 2 * p * r / (p + r) if tp else 0.0, truth.mean()))
            p, r, f1, prevalence = np.mean(rows, axis=0)
            per_label.append(f1)
            print(
                f"| {label} | {k} | {count[label]} | {p:.3f} | {r:.3f} | **{f1:.3f}** | "
                f"{2 * prevalence / (1 + prevalence):.3f} |"
            )
        mean_f1[k] = float(np.mean(per_label))
        print(f"| mean of {len(labels)} | {k} | | | | **{mean_f1[k]:.3f}** | |")
    # measured 0.427 / 0.457 (docs/custom-narratives.md); a small margin for BLAS noise
    assert mean_f1[10] >= 0.40 and mean_f1[20] >= 0.43


def test_the_semeval_export_leaves_custom_narratives_out() -> None:
    """A user's narrative is no label of the shared task (once export/semeval.py knows
    the prefix: skipped before that change is in)."""
    import io

    from narrascope import taxonomy
    from narrascope.export import write_documents
    from narrascope.text.segment import segment

    if not hasattr(taxonomy, "CUSTOM_PREFIX"):
        pytest.skip("the taxonomy.py / export/semeval.py change is not applied yet")
    doc = segment(Document(MATCHING, id="storks", language="en"))
    doc.groups["narratives"] = [
        Annotation(CUSTOM_PREFIX + LABEL, 0.96, [doc.paragraphs[1]], [0.96]),
        Annotation("URW: Discrediting Ukraine", 0.6),
    ]
    doc.groups["subnarratives"] = []
    out = io.StringIO()
    write_documents([doc], out, "semeval-narratives")
    assert out.getvalue() == "storks\tURW: Discrediting Ukraine\tURW: Discrediting Ukraine: Other\n"
    out = io.StringIO()
    write_documents([doc], out, "jsonl")
    assert CUSTOM_PREFIX + LABEL in out.getvalue()
