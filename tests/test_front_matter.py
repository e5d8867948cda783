"""A text saved with its metadata above it (trafilatura's ``--with-metadata`` output, a
static-site post, a script's ``Title:``/``Date:`` lines) is read as that metadata and its
body, not as a text whose first sentences are ``title: …`` and ``url: …``."""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura

from narrascope.doc import Document
from narrascope.errors import InputError
from narrascope.ingest import read_inputs
from narrascope.ingest.front_matter import read_front_matter
from narrascope.stages.segment import SegmentStage

PAGE = """<html><head><title>Drones hit Ashby</title>
<meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2024-03-23">
<link rel="canonical" href="https://example.org/ashby"></head>
<body><article><h1>Drones hit Ashby</h1>
<p>Officials said 120 people left Ashby on 1 June 2024 after three drones struck the
power plant. The mayor said the town would rebuild within a year.</p>
<p>A second paragraph says what the officials of the region said about the war.</p>
</article></body></html>"""


def _read(path: Path) -> Document:
    (doc,) = read_inputs([path])
    assert isinstance(doc, Document), doc
    return doc


def _sentences(doc: Document) -> list[str]:
    (doc,) = SegmentStage()([doc])
    return [doc.text[s.start : s.end] for s in doc.sentences]


@pytest.mark.parametrize(("output", "suffix"), [("txt", ".txt"), ("markdown", ".md")])
def test_trafilatura_output_with_metadata_is_read_as_metadata(
    tmp_path: Path, output: str, suffix: str
) -> None:
    saved = trafilatura.extract(PAGE, output_format=output, with_metadata=True)
    assert saved.startswith("---\n") and 'date: "2024-03-23"' in saved  # what it writes
    path = tmp_path / f"ashby{suffix}"
    path.write_text(saved, encoding="utf-8")
    doc = _read(path)
    assert doc.meta["date"] == "2024-03-23"
    assert doc.meta["url"] == "https://example.org/ashby"
    assert doc.meta["source"] == "example.org"
    assert doc.meta["title"] == "Drones hit Ashby" and doc.meta["author"] == "Jane Roe"
    assert doc.meta["front_matter"]["hostname"] == "example.org"
    assert "fingerprint" in doc.meta["front_matter"]
    sentences = _sentences(doc)
    assert sentences[0].lstrip("# ") == "Drones hit Ashby"  # the title unit is the title
    assert sentences[1].startswith("Officials said 120 people left Ashby")
    assert not any(":" in s and s.split(":")[0] in ("title", "url", "date") for s in sentences)
    assert "---" not in doc.text and "fingerprint" not in doc.text


def test_header_lines_give_title_date_and_link_in_any_of_our_languages(tmp_path: Path) -> None:
    english = tmp_path / "en.txt"
    english.write_bytes(
        b"Title: Drones hit Ashby\r\nDate: 2024-03-23\r\nURL: https://example.org/a\r\n\r\n"
        b"Officials said 120 people left Ashby.\r\n"
    )
    doc = _read(english)
    assert (doc.meta["title"], doc.meta["date"], doc.meta["url"]) == (
        "Drones hit Ashby",
        "2024-03-23",
        "https://example.org/a",
    )
    assert doc.text == "Drones hit Ashby\nOfficials said 120 people left Ashby.\r\n"
    russian = tmp_path / "ru.txt"
    russian.write_text(
        "Заголовок: Дроны атаковали Эшби\nДата: 23.03.2024\nИсточник: Вести\n\n"
        "Чиновники сообщили, что 120 человек покинули город.\n",
        encoding="cp1251",
    )
    doc = _read(russian)
    assert doc.meta["date"] == "23.03.2024" and doc.meta["source"] == "Вести"  # as given
    assert doc.text.startswith("Дроны атаковали Эшби\nЧиновники сообщили")


@pytest.mark.parametrize(
    "text",
    [
        # a text that opens with a label of its own is no header
        "Update: Russia says 120 people left Ashby.\nThe mayor said so on Monday.\n",
        "Title: Drones hit Ashby\n\nOfficials said 120 people left Ashby.\n",  # one title
        "Date: last Monday\nThe mayor said the town would rebuild.\n",  # no date, in words
        # a markdown rule above a paragraph is no front matter
        "---\nThe mayor said: we rebuild.\n---\nMore text.\n",
        "---\n\nOfficials said 120 people left Ashby.\n",  # never closed
        "Officials said 120 people left Ashby.\nDate: 2024-03-23\n",  # not at the start
    ],
)
def test_text_that_only_looks_like_a_header_is_kept_whole(tmp_path: Path, text: str) -> None:
    assert read_front_matter(text) is None
    path = tmp_path / "plain.txt"
    path.write_text(text, encoding="utf-8")
    doc = _read(path)
    assert doc.text == text and "front_matter" not in doc.meta and doc.meta["date"] is None


def test_one_iso_date_line_is_a_header(tmp_path: Path) -> None:
    head = read_front_matter("Published: 2024-03-23T10:00:00Z\nThe mayor said so.\n")
    assert head is not None and head.meta == {"date": "2024-03-23T10:00:00Z"}
    assert head.end == len("Published: 2024-03-23T10:00:00Z\n")


def test_metadata_without_text_is_an_error_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text('---\ntitle: "Only a title"\ndate: 2024-03-23\n---\n\n')
    (tmp_path / "b.txt").write_text("---\ntags:\n  - war\n  - drones\ndate: 2024-03-24\n---\nBody.")
    found = {getattr(item, "id", None) or item.source: item for item in read_inputs([tmp_path])}
    bad = found[str(tmp_path / "a.txt")]
    assert isinstance(bad, InputError) and "front matter" in bad.reason
    good = found["b.txt"]
    assert isinstance(good, Document) and good.text == "Body."
    assert good.meta["date"] == "2024-03-24" and "tags" not in good.meta["front_matter"]


@pytest.mark.parametrize(
    ("text", "date", "body"),
    [
        ("date 2024-03-23 Conventional attacks are a recourse.", "2024-03-23", "Conventional"),
        ("Date: 23.03.2024 The president said so.", "23.03.2024", "The president"),
        ("Published March 23, 2024 The president said so.", "March 23, 2024", "The president"),
        ("Дата 23 марта 2024 г. Президент сказал это.", "23 марта 2024 г.", "Президент"),
    ],
)
def test_a_date_label_opening_the_first_line_is_the_date(
    tmp_path: Path, text: str, date: str, body: str
) -> None:
    """A page's date widget copied with its article, on the article's first line."""
    path = tmp_path / "copied.txt"
    path.write_text(text, encoding="utf-8")
    doc = _read(path)
    assert doc.meta["date"] == date and doc.text.startswith(body)
    assert _sentences(doc)[0].startswith(body)


@pytest.mark.parametrize(
    "text",
    [
        "Update 2024-03-23 The president said so.",  # no date label
        "The date 2024-03-23 was a Saturday.",
        "Date 2024-13-45 is no day at all.",
        "Date 2024-03-23",  # nothing after it
    ],
)
def test_no_dateline_without_a_date_label_a_day_and_a_text(text: str) -> None:
    assert read_front_matter(text) is None
