"""Entities in the document model and every output: JSON round trip, the subtask-1
submission lines, CSV rows, the HTML role chips (escaped) and the given-mentions reader."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from narrascope.doc import Annotation, Document, Entity, Span
from narrascope.errors import NarrascopeError
from narrascope.export import format_terminal_summary, get_format
from narrascope.ingest.mentions import attach_mentions, read_mentions_file

XSS = "<img src=x onerror=alert(1)>"


def cast_doc() -> Document:
    # CRLF on purpose: offsets count both characters, as in the shared-task files
    text = "Putin attacked Kyiv.\r\nVladimir Putin blamed NATO for the war.\r\nCivilians suffer."
    doc = Document(text=text, id="EN_T_1.txt", language="en")
    first, second = text.index("Putin"), text.index("Vladimir Putin")
    s1 = Span.of(text, 0, text.index("\r"))
    s2 = Span.of(text, second, text.index("war.") + 4)
    putin = Entity(
        name="Vladimir Putin",
        mentions=[Span.of(text, first, first + 5), Span.of(text, second, second + 14)],
        main_role="Antagonist",
        score=0.91,
        fine_roles=[Annotation("Instigator", 0.7, [s1], [0.7], parent="Antagonist")],
        evidence=[s1],
        evidence_scores=[0.8],
        kind="PER",
    )
    nato_at = text.index("NATO")
    nato = Entity("NATO", [Span.of(text, nato_at, nato_at + 4)], None, 0.6, kind="ORG")
    civ_at = text.index("Civilians")
    civilians = Entity(
        "Civilians",
        [Span.of(text, civ_at, civ_at + 9)],
        "Innocent",
        0.8,
        [Annotation("Victim", 0.8, [], [], parent="Innocent")],
        [s2],
        [0.5],
    )
    doc.entities = [putin, nato, civilians]
    return doc


def render(fmt: str, docs: list[Document]) -> str:
    buffer = io.StringIO()
    get_format(fmt).write((d.to_dict() for d in docs), buffer)
    return buffer.getvalue()


def test_entities_survive_a_json_round_trip() -> None:
    doc = cast_doc()
    back = Document.from_dict(doc.to_dict())
    assert back.entities == doc.entities
    assert back.groups == {}  # entities are not mistaken for an annotation group
    assert back.entities[0].fine_labels == ["Instigator"]
    assert not back.entities[1].framed


def test_semeval_entities_lines_use_inclusive_ends_on_the_crlf_text() -> None:
    doc = cast_doc()
    lines = render("semeval-entities", [doc]).splitlines()
    # one line per mention of a framed entity, in text order; the unframed NATO has none
    assert [ln.split("\t")[1] for ln in lines] == ["Putin", "Vladimir Putin", "Civilians"]
    _id, mention, start, end, main, *fine = lines[1].split("\t")
    assert doc.text[int(start) : int(end) + 1] == mention == "Vladimir Putin"
    assert (_id, main, fine) == ("EN_T_1.txt", "Antagonist", ["Instigator"])
    assert lines[2].endswith("\tInnocent\tVictim")


def test_semeval_entities_read_back_reproduces_the_lines() -> None:
    text = render("semeval-entities", [cast_doc()])
    fmt = get_format("semeval-entities")
    records = list(fmt.read(io.StringIO(text)))
    assert [r["id"] for r in records] == ["EN_T_1.txt"]
    buffer = io.StringIO()
    fmt.write(records, buffer)
    assert buffer.getvalue() == text


def test_csv_has_a_row_per_framed_entity_and_reads_back() -> None:
    text = render("csv", [cast_doc()])
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["level"] == "entity"]
    assert [(r["entity"], r["label"], r["fine_roles"]) for r in rows] == [
        ("Vladimir Putin", "Antagonist", "Instigator"),
        ("Civilians", "Innocent", "Victim"),
    ]
    assert rows[0]["evidence"] == "Putin attacked Kyiv."
    back = next(iter(get_format("csv").read(io.StringIO(text))))
    assert [e["name"] for e in back["entities"]] == ["Vladimir Putin", "Civilians"]
    assert render_records_csv(back) == text


def render_records_csv(record: dict) -> str:
    buffer = io.StringIO()
    get_format("csv").write([record], buffer)
    return buffer.getvalue()


def test_html_marks_mentions_with_role_chips_and_escapes_names() -> None:
    doc = cast_doc()
    text = doc.text
    at = len(text)
    doc.text = text + " " + XSS
    doc.entities.append(Entity(XSS, [Span.of(doc.text, at + 1, len(doc.text))], "Antagonist", 0.5))
    page = render("html", [doc])
    body = page[page.index('<div class="text"') :]
    body = body[: body.index("</div>")]
    # both Putin mentions are underlined in the antagonist colour and followed by a chip
    assert body.count('<span class="ent r-Antagonist"') == 3
    assert body.count('<span class="role r-Antagonist">Antagonist · Instigator</span>') == 2
    assert '<span class="ent r-Innocent"' in body
    assert "blamed NATO for" in body  # mentioned but not framed: not marked
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<h2>Entities</h2>" in page  # batch summary of who is cast as what


def test_terminal_summary_lists_the_cast() -> None:
    out = format_terminal_summary(cast_doc(), colour=False)
    assert "Cast: Vladimir Putin: Antagonist (Instigator) 0.91; Civilians: Innocent" in out
    assert "NATO" not in out  # mentioned, not framed


def test_mentions_file_is_read_with_inclusive_ends(tmp_path: Path) -> None:
    path = tmp_path / "subtask-1-entity-mentions.txt"
    path.write_text("EN_T_1.txt\tPutin\t0\t4\nEN_T_1.txt\tNATO\t44\t47\n\n", encoding="utf-8")
    given = read_mentions_file(path)
    assert given["EN_T_1.txt"] == [Span(0, 5, "Putin"), Span(44, 48, "NATO")]
    doc = cast_doc()
    doc.entities = []
    [out] = list(attach_mentions([doc], given))
    assert [e.name for e in out.entities] == ["Putin", "NATO"]
    assert all(e.main_role is None for e in out.entities)


def test_bad_mentions_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.txt"
    path.write_text("EN_T_1.txt\tPutin\tzero\t4\n", encoding="utf-8")
    with pytest.raises(NarrascopeError, match=r"m.txt:1: expected id<TAB>mention"):
        read_mentions_file(path)
    with pytest.raises(NarrascopeError, match="not found"):
        read_mentions_file(tmp_path / "missing.txt")
