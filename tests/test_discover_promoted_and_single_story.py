"""``narrascope discover`` after review: a promoted cluster is explained at once (its
documents scored with the stored custom narratives, no re-analysis), a custom narrative
stored as a sub-narrative explains its document, and a corpus that is mostly one story
yields that story. Every text is our own (tests/discover_texts.py and the posts below)."""

from __future__ import annotations

from pathlib import Path

import pytest

from discover_texts import INJECTED
from narrascope.cli.discover import format_summary
from narrascope.corpus.discover import cluster_examples, discover_run
from narrascope.doc import Annotation, Document
from narrascope.models.custom_narratives import add_custom_narrative
from narrascope.store import open_store
from narrascope.store.discover import cluster_documents
from test_discover import SMALL, _by_topic, _corpus, _docs

PARENT = "URW: Discrediting Ukraine"
# one rumour told by a handful of channels, in three languages (written for this test)
HERONS = [
    ("en", "Grey herons fitted with enemy cameras now patrol the river crossing, a channel says."),
    ("en", "Locals swear the herons at the reservoir carry tiny transmitters for foreign spies."),
    ("en", "Heron spotted over the bridge again: bloggers say it photographs our checkpoints."),
    ("en", "The heron with a metal tag near the dam is an enemy scout, the post claims."),
    ("en", "Fishermen told a channel the herons film our boats and send the pictures abroad."),
    (
        "en",
        "Do not trust the herons on the riverbank, warns a viral post: foreign intelligence "
        "trained them.",
    ),
    ("en", "A blogger says enemy handlers release herons at dawn to map our river defences."),
    ("ru", "Серые цапли с вражескими камерами патрулируют переправу, пишет канал."),
    ("ru", "Жители уверены, что цапли у водохранилища носят передатчики иностранной разведки."),
    ("ru", "Блогер утверждает, что цапли фотографируют наши блокпосты у моста."),
    ("ru", "Рыбаки рассказали каналу, что цапли снимают наши лодки и отправляют кадры врагу."),
    ("pt", "Garças com câmaras inimigas patrulham a travessia do rio, diz um canal."),
    (
        "pt",
        "Os moradores juram que as garças do reservatório levam transmissores de espiões "
        "estrangeiros.",
    ),
    ("pt", "Um blogueiro afirma que as garças fotografam os nossos postos de controlo na ponte."),
    (
        "pt",
        "Pescadores dizem que as garças filmam os nossos barcos e enviam as imagens ao inimigo.",
    ),
]
# everything else such a corpus holds: unrelated, one text each
ASIDES = [
    ("en", "The library extends its opening hours during the exam period."),
    ("ru", "В субботу на центральной площади пройдёт ярмарка мёда."),
    ("pt", "A câmara municipal vai repavimentar a avenida principal em maio."),
]
# unrelated texts only: no story at all
MISCELLANY = [
    ("en", "The library extends its opening hours during the exam period."),
    ("en", "A new bakery opened on the corner of Elm Street, selling rye bread."),
    ("en", "The regional orchestra will play Dvořák at the spring concert."),
    ("en", "Road works will close the northern bypass for two weekends."),
    ("en", "The school chess club won the county championship on Saturday."),
    ("ru", "В субботу на центральной площади пройдёт ярмарка мёда."),
    ("ru", "Новая линия трамвая откроется до конца года."),
    ("ru", "Местная футбольная команда сыграла вничью с лидером лиги."),
    ("ru", "В музее открылась выставка старинных часов."),
    ("pt", "A câmara municipal vai repavimentar a avenida principal em maio."),
    ("pt", "O festival de cinema recebeu filmes de vinte países."),
    ("pt", "A previsão indica chuva forte para o fim de semana no litoral."),
    ("uk", "У місті відкрили новий басейн для дітей."),
    ("uk", "Фермери зібрали рекордний урожай гречки."),
    ("bg", "Общината ще засади двеста нови дървета в парка."),
]


def _save(path: Path, items: list[tuple[str, str]], prefix: str) -> None:
    docs = [
        Document(text, id=f"{prefix}{i:02d}", language=lang, meta={"date": f"2025-04-{1 + i:02d}"})
        for i, (lang, text) in enumerate(items)
    ]
    with open_store(path) as store:
        store.save(docs)


def test_a_promoted_cluster_is_explained_without_analysing_again(tmp_path: Path) -> None:
    path = _corpus(tmp_path / "c.db")
    first = discover_run(path, **SMALL)
    topics = _by_topic(first.clusters)
    water = next(c for c in first.clusters if topics[c.id] == {"water"})
    others = {next(iter(t)): cid for cid, t in topics.items() if cid != water.id}
    examples = cluster_examples(path, water.id)
    assert len(examples) >= 10
    assert set(cluster_documents(path, water.id)) == set(water.doc_ids)
    add_custom_narrative(path, "Water plant hack", examples, source=f"cluster {water.id}")

    after = discover_run(path, **SMALL)  # the stored records were not touched
    assert water.id not in {c.id for c in after.clusters}
    assert not any(d.startswith("water") for c in after.clusters for d in c.doc_ids)
    assert after.custom >= len(water.doc_ids)
    assert after.candidates == first.candidates - after.custom
    assert "more explained by a custom narrative" in format_summary(after)
    kept = {next(iter(t)): cid for cid, t in _by_topic(after.clusters).items()}
    assert {k: kept.get(k) for k in others} == others
    # the vectors the narratives were scored on are kept: a rerun encodes nothing
    assert discover_run(path, **SMALL).encoded == 0


def test_a_custom_sub_narrative_explains_its_document(tmp_path: Path) -> None:
    """``taxonomy add --parent`` puts the narrative under ``subnarratives``: the
    document is explained all the same (no custom tables here: the record decides)."""
    path = tmp_path / "c.db"
    docs = _docs(INJECTED[:14], "water", label=PARENT)
    for doc in docs[:8]:
        doc.groups["subnarratives"] = [Annotation("Custom: Water plant hack", 0.8, parent=PARENT)]
    with open_store(path) as store:
        store.save(docs)
    report = discover_run(path, **SMALL)
    assert report.candidates == len(docs) - 8
    assert not any(d in {x.id for x in docs[:8]} for c in report.clusters for d in c.doc_ids)


def test_a_corpus_that_is_mostly_one_story_yields_it(tmp_path: Path) -> None:
    """HDBSCAN's leaf run finds no cluster when the story is the whole tree; the one-story
    run finds it, with the default settings."""
    path = tmp_path / "c.db"
    _save(path, HERONS, "heron")
    _save(path, ASIDES, "aside")
    report = discover_run(path)
    assert len(report.clusters) == 1
    (story,) = report.clusters
    assert all(d.startswith("heron") for d in story.doc_ids)
    assert story.documents >= 8 and story.cohesion >= 0.6


@pytest.mark.parametrize("size", [8, 10])
def test_unrelated_texts_make_no_story(tmp_path: Path, size: int) -> None:
    """The one-story run does not make a catch-all of a few unrelated texts (its root
    is refused as not cohesive; at a minimum size of 5 it finds 5 texts on concerts,
    fairs and games, at cohesion 0.62, as a leaf run would in a larger corpus)."""
    path = tmp_path / "c.db"
    _save(path, MISCELLANY, "misc")
    report = discover_run(path, min_cluster_size=size)
    assert report.clusters == []
    assert "no cluster found" in format_summary(report)
