"""The entities stage with the bundled models, on short news-like texts written for these
tests: detection, grouping, roles, evidence, the given-mentions mode and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

import narrascope
from narrascope.cli import main
from narrascope.doc import Document, Entity, Span

EN = (
    "Vladimir Putin ordered the brutal invasion and lied to the whole world about it. "
    "Russian missiles destroyed a maternity hospital in Mariupol, killing innocent "
    "civilians. Putin's propaganda blames everyone but himself."
)
RU = (
    "Киевский режим продолжает обстреливать мирных жителей Донбасса. "
    "Мирные жители Донбасса страдают от обстрелов уже много лет. "
    "Российские военные эвакуировали детей и спасли сотни жизней."
)


@pytest.fixture(scope="module")
def nlp() -> narrascope.Pipeline:
    return narrascope.load(stages=["language", "segment", "entities"])


def at(text: str, mention: str, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = text.index(mention, start + 1)
    return Span.of(text, start, start + len(mention))


def test_detected_mentions_are_grouped_and_cast_with_evidence(nlp) -> None:
    doc = nlp(Document(EN, id="en-1"))
    by_name = {e.name: e for e in doc.entities}
    assert "Vladimir Putin" in by_name, [e.name for e in doc.entities]
    putin = by_name["Vladimir Putin"]
    # "Vladimir Putin" and "Putin's" are one entity
    assert {m.text for m in putin.mentions} >= {"Vladimir Putin", "Putin"}
    assert all(doc.text[m.start : m.end] == m.text for m in putin.mentions)
    assert putin.main_role == "Antagonist" and 0.0 < putin.score <= 1.0
    assert putin.fine_roles and all(a.parent == "Antagonist" for a in putin.fine_roles)
    # evidence is a sentence of the document that contains one of the mentions
    best = putin.evidence[0]
    assert doc.text[best.start : best.end] == best.text
    assert any(best.start <= m.start and m.end <= best.end for m in putin.mentions)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (  # his mentions are not hers (natasha lemmatises Зеленская as Зеленский)
            "Елена Зеленская выступила в ООН. Зеленский в это время находился в Вашингтоне, "
            "где Зеленский встретился с канцлером.",
            {"Елена Зеленская": {"Елена Зеленская"}, "Зеленский": {"Зеленский"}},
        ),
        (  # a capitalised article at a sentence start does not make another entity
            "The US will send more tanks, officials said. The United States has already "
            "given more than any other country.",
            {"United States": {"US", "The United States"}},
        ),
    ],
)
def test_detected_mentions_group_into_the_right_people(nlp, text: str, names) -> None:
    doc = nlp(Document(text, id="group"))
    found = {e.name: {m.text for m in e.mentions} for e in doc.entities}
    for name, mentions in names.items():
        assert found.get(name) == mentions, found


def test_given_mentions_get_roles_one_by_one(nlp) -> None:
    from narrascope.stages.entities import EntityStage

    stage = EntityStage(nlp.get_stage("entities").model, mode="given")
    doc = Document(RU, id="ru-1", language="ru")
    regime, people = at(RU, "Киевский режим"), at(RU, "мирных жителей Донбасса")
    doc.entities = [Entity(regime.text, [regime]), Entity(people.text, [people])]
    stage([doc])
    roles = {e.name: e.main_role for e in doc.entities}
    assert roles == {"Киевский режим": "Antagonist", "мирных жителей Донбасса": "Innocent"}
    assert [e.mentions for e in doc.entities] == [[regime], [people]]  # offsets untouched


NEUTRAL = (
    "The city council approved the budget for 2025 on Tuesday. The mayor of Lyon said "
    "the new library will open in spring. Tickets for the museum cost five euros.",
    "The National Museum in Sofia opened a new exhibition of Thracian gold on Friday. "
    "Visitors from Plovdiv and Varna can buy tickets online; the director Maria Petrova "
    "said the collection will stay until March.",
)


@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral_text_frames_nobody_strongly(nlp, text: str) -> None:
    """Entities a text merely mentions get no role: at most one weak, framed entity."""
    doc = nlp(Document(text, id="neutral"))
    assert doc.entities, "the mentions are still detected"
    framed = [(e.name, e.main_role, round(e.score, 3)) for e in doc.entities if e.framed]
    assert len(framed) <= 1 and all(score < 0.5 for _, _, score in framed), framed


def test_cli_mentions_mode_writes_exact_subtask1_lines(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    # CRLF kept: offsets in the mentions file count both characters
    text = EN.replace(". ", ".\r\n")
    (folder / "EN_T_1.txt").write_bytes(text.encode("utf-8"))
    mention = at(text, "Putin", 1)
    civilians = at(text, "civilians")
    mentions = tmp_path / "subtask-1-entity-mentions.txt"
    mentions.write_text(
        f"EN_T_1.txt\tPutin\t{mention.start}\t{mention.end - 1}\n"
        f"EN_T_1.txt\tcivilians\t{civilians.start}\t{civilians.end - 1}\n",
        encoding="utf-8",
    )
    out = tmp_path / "pred.txt"
    code = main(
        [
            *("analyze", str(folder), "--mentions", str(mentions)),
            *("--format", "semeval-entities", "--out", str(out), "--no-progress"),
        ]
    )
    assert code == 0
    lines = [ln.split("\t") for ln in out.read_text(encoding="utf-8").splitlines()]
    # one line per given mention, in text order
    assert [ln[:4] for ln in lines] == [
        ["EN_T_1.txt", "civilians", str(civilians.start), str(civilians.end - 1)],
        ["EN_T_1.txt", "Putin", str(mention.start), str(mention.end - 1)],
    ]
    assert lines[0][4] == "Innocent" and lines[1][4] == "Antagonist"
    assert all(len(ln) >= 6 for ln in lines)  # at least one fine role each


def test_framed_threshold_is_chosen_per_language(nlp) -> None:
    from narrascope.stages.entities import EntityStage

    model = nlp.get_stage("entities").model
    saved = dict(model.min_framed_by_language)
    try:
        # nothing in an English text is framed at 0.999; Russian keeps its own threshold
        model.min_framed_by_language = {**saved, "en": 0.999}
        stage = EntityStage(model)
        assert stage.min_framed_for("en") == 0.999
        assert stage.min_framed_for("uk") == model.min_framed  # no own threshold
        docs = [Document(EN, id="en-t", language="en"), Document(RU, id="ru-t", language="ru")]
        stage(docs)
        assert docs[0].entities and not any(e.framed for e in docs[0].entities)
        assert any(e.framed for e in docs[1].entities)
        # an explicit threshold applies to every language
        assert EntityStage(model, min_framed=0.3).min_framed_for("en") == 0.3
    finally:
        model.min_framed_by_language = saved


def test_stage_is_configured_by_plain_values(nlp) -> None:
    from narrascope.errors import NarrascopeError
    from narrascope.stages.entities import EntityStage

    model = nlp.get_stage("entities").model
    stage = EntityStage(model, detector="packaged", mode="given")
    assert (stage.detector, stage.mode) == ("packaged", "given")
    with pytest.raises(NarrascopeError, match="detector must be one of"):
        EntityStage(model, detector="spacy")
    with pytest.raises(NarrascopeError, match="mode must be one of"):
        EntityStage(model, mode="given_only")
    with pytest.raises(NarrascopeError, match="given_only"):
        narrascope.load(stages=["entities"], config={"entities": {"given_only": True}})


def test_stage_reads_paragraph_vectors_from_the_document(nlp, encoder_calls) -> None:
    """What the narrative stage encoded (``doc.tensor``) is not encoded again."""
    from narrascope.models.encoder import document_vectors
    from narrascope.stages.entities import EntityStage
    from narrascope.text.segment import segment

    stage = EntityStage(nlp.get_stage("entities").model, mode="given")
    doc = Document(EN, id="en-tensor", language="en")
    civilians = at(EN, "civilians")
    doc.entities = [Entity(civilians.text, [civilians])]
    document_vectors(stage.encoder, [segment(doc)])  # as the narrative stage does
    encoder_calls.clear()
    stage([doc])
    assert encoder_calls == [] and doc.entities[0].main_role is not None


def test_narrative_probabilities_reach_the_entity_stage() -> None:
    """The narrative stage keeps each document's full probability vector for the entity
    stage (models trained with narrative features read it); without it, nothing breaks."""
    from narrascope.stages.narratives import narrative_probabilities

    full = narrascope.load(stages=["language", "segment", "narratives", "entities"])
    doc = full(Document(EN, id="en-narr"))
    probs = narrative_probabilities(doc)
    assert probs is not None
    assert set(probs) == set(full.get_stage("narratives").model.labels_)
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    assert probs == doc.cats
    assert "cats" not in doc.to_dict()  # a working field, not an output
    # a document the stage has not scored has none
    assert narrative_probabilities(Document(EN, language="en")) is None
    stage = full.get_stage("entities")
    if stage.model.narrative_labels_:
        assert stage._narratives([doc]) == [probs]
    else:
        assert stage._narratives([doc]) is None
    roles = {e.name: e.main_role for e in doc.entities if e.framed}
    assert roles.get("Vladimir Putin") == "Antagonist", roles
