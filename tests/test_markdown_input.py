"""A ``.md`` file is read as the text it shows: its markup, link targets and images are
not words of the document, and no evidence span shows them."""

from __future__ import annotations

from pathlib import Path

import trafilatura

from narrascope.doc import Document
from narrascope.ingest import read_inputs
from narrascope.ingest.markdown import markdown_text
from narrascope.stages.segment import SegmentStage

PAGE = """<html><head><title>Drones hit Ashby</title>
<meta property="article:published_time" content="2024-03-23"></head>
<body><article><h1>Drones hit Ashby</h1>
<p>Officials said <b>120 people</b> left <a href="https://example.org/ashby">Ashby</a>
after three drones struck the power plant.</p>
<ul><li>The mayor asked for help.</li><li>The army sent water.</li></ul>
<p>A second paragraph says what the region's officials said about the war.</p>
</article></body></html>"""


def _read(path: Path) -> Document:
    (doc,) = read_inputs([path])
    assert isinstance(doc, Document), doc
    return doc


def test_trafilatura_markdown_reads_as_its_text(tmp_path: Path) -> None:
    saved = trafilatura.extract(
        PAGE,
        output_format="markdown",
        with_metadata=True,
        include_links=True,
        include_formatting=True,
    )
    assert "**120 people**" in saved and "](https://example.org/ashby)" in saved
    path = tmp_path / "ashby.md"
    path.write_text(saved, encoding="utf-8")
    doc = _read(path)
    assert doc.meta["date"] == "2024-03-23" and doc.meta["title"] == "Drones hit Ashby"
    assert "#" not in doc.text and "**" not in doc.text and "https://" not in doc.text
    (doc,) = SegmentStage()([doc])
    sentences = [doc.text[s.start : s.end] for s in doc.sentences]
    assert sentences[0] == "Drones hit Ashby"
    assert sentences[1] == (
        "Officials said 120 people left Ashby after three drones struck the power plant."
    )
    assert "The mayor asked for help." in sentences and "The army sent water." in sentences


def test_what_each_kind_of_block_keeps() -> None:
    source = (
        "# A *title*\n\n"
        "A paragraph with [a link](https://x.test/a) and an image ![alt](p.jpg)\n"
        "on two lines, `code` and ~~struck~~ words &amp; an entity.\n\n"
        "1. first point\n2. second point\n\n"
        "- a bullet\n- another\n\n"
        "> a quoted line\n\n"
        "| town | people |\n|---|---|\n| Ashby | 120 |\n\n"
        "```\nkept = 'as is'\n```\n\n"
        "<div>inline <b>html</b></div>\n\n"
        "---\n\nThe end.\n"
    )
    assert markdown_text(source) == (
        "A title\n\n"
        "A paragraph with a link and an image "  # wrapped in the source: one line
        "on two lines, code and struck words & an entity.\n\n"
        "1. first point\n2. second point\n\n"
        "a bullet\nanother\n\n"
        "a quoted line\n\n"
        "town | people\nAshby | 120\n\n"
        "kept = 'as is'\n\n"
        "inline html\n\n"
        "The end."
    )


def test_plain_prose_saved_as_markdown_is_unchanged(tmp_path: Path) -> None:
    prose = "NATO provoked this conflict, a channel says. Kyiv denies it.\n\nA second one."
    path = tmp_path / "notes.md"
    path.write_text(prose + "\n", encoding="utf-8")
    assert _read(path).text == prose


def test_a_comment_dump_saved_as_markdown_keeps_its_thread(tmp_path: Path) -> None:
    """Its indentation says who replies to whom; rendered, it would be a code block."""
    dump = (
        "The article about the war.\n\nComments (3)\n\n"
        "1. Alice says\n\n  Top comment.\n\n"
        "  1. Bob says\n\n    A reply to Alice.\n\n"
        "2. Carol says\n\n  Another top comment.\n"
    )
    path = tmp_path / "thread.md"
    path.write_text(dump, encoding="utf-8")
    doc = _read(path)
    assert [c.author for c in doc.comments] == ["Alice", "Bob", "Carol"]
    assert [c.depth for c in doc.comments] == [0, 1, 0]
