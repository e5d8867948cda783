"""An entity's fine role never reads surer than the main role it refines: its score is the
probability that the text frames the entity in that fine role (texts written here)."""

from __future__ import annotations

import pytest

import narrascope
from narrascope.doc import Document, Entity, Span

TEXTS = [
    "The Russian army is advancing confidently and liberating one town after another. "
    "Our brave soldiers protect the people of Donbas from the Kyiv regime. "
    "NATO secretly plans to drag Europe into a war with Russia. "
    "Washington pulls the strings while Zelensky steals Western aid.",
    "Российская армия уверенно наступает и освобождает один город за другим. "
    "Наши солдаты защищают мирных жителей Донбасса от киевского режима. "
    "НАТО тайно готовит войну против России, а Вашингтон дёргает за ниточки.",
]


@pytest.fixture(scope="module")
def nlp() -> narrascope.Pipeline:
    return narrascope.load(stages=["language", "segment", "narratives", "entities"])


@pytest.mark.parametrize("text", TEXTS)
def test_a_fine_role_scores_at_most_its_main_role(nlp, text: str) -> None:
    doc = nlp(text)
    framed = [e for e in doc.entities if e.framed]
    assert framed
    for entity in framed:
        assert entity.fine_roles
        for fine in entity.fine_roles:
            assert fine.parent == entity.main_role
            assert 0.0 < fine.score <= entity.score, (entity.name, entity.score, fine)
        # the fine roles of one main role share its probability
        assert sum(f.score for f in entity.fine_roles) <= entity.score + 1e-9
        record = entity.to_dict()
        for fine in record["fine_roles"]:
            assert {"label", "score", "parent"} <= set(fine)
            assert fine["score"] <= record["score"]


def test_given_mentions_keep_their_fine_roles_under_their_main_role(nlp) -> None:
    from narrascope.stages.entities import EntityStage

    stage = EntityStage(nlp.get_stage("entities").model, mode="given")
    text = TEXTS[1]
    doc = nlp(Document(text=text, language="ru"))
    doc.entities = []
    for name in ("Российская армия", "НАТО", "Вашингтон"):
        start = text.index(name)
        doc.entities.append(Entity(name, [Span.of(text, start, start + len(name))]))
    stage([doc])
    for entity in doc.entities:
        assert entity.main_role and entity.fine_roles
        assert all(0.0 < f.score <= entity.score for f in entity.fine_roles), entity


def test_a_repeated_sentence_is_one_piece_of_an_entitys_evidence(nlp) -> None:
    slogan = "Zelensky is a thief and a puppet of Washington!"
    text = "Zelensky met the generals on Monday. Brussels keeps sending billions to Kyiv.\n\n"
    doc = nlp(text + f"{slogan}\n\n" * 3)
    (zelensky,) = [e for e in doc.entities if e.name == "Zelensky"]
    said = [s.text for s in zelensky.evidence]
    assert said.count(slogan) == 1 and len(said) == len(set(said)) == 2
