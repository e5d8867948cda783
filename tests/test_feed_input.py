"""RSS and Atom feeds are read as their items: one document each, with the outlet, the
link, the date and the item's text, not as one XML text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from narrascope.doc import Document
from narrascope.errors import E_BAD_RECORD, E_EMPTY, InputError
from narrascope.ingest import read_inputs
from narrascope.text.dates import moment

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Example Wire</title><link>https://wire.example</link>
<item><title>Drones hit Ashby</title><link>https://wire.example/ashby</link>
<guid isPermaLink="false">wire-1</guid><pubDate>Sat, 23 Mar 2024 10:00:00 +0000</pubDate>
<dc:creator>Jane Roe</dc:creator><description>&lt;p&gt;A short summary.&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>Officials said <b>120 people</b> left <a href="/x">Ashby</a>.</p>
<p>The mayor asked for help.<br>The army sent water.</p><script>track()</script>]]>
</content:encoded></item>
<item><title>Second item</title><link>https://wire.example/two</link>
<description>Plain text &amp; nothing else.</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Канал новостей</title>
<entry><title>Дроны атаковали Эшби</title><id>tag:news.example,2024:1</id>
<link rel="alternate" href="https://news.example/1"/><published>2024-03-23T10:00:00+03:00</published>
<author><name>Иван Петров</name></author>
<content type="html">&lt;p&gt;Чиновники сообщили, что 120 человек покинули город.&lt;/p&gt;
</content>
</entry>
<entry><title>Без текста</title><link href="https://news.example/2"/>
<summary>Короткая заметка.</summary></entry>
</feed>"""


def _items(path: Path) -> list[Document | InputError]:
    return list(read_inputs([path]))


def test_an_rss_feed_is_one_document_per_item(tmp_path: Path) -> None:
    path = tmp_path / "wire.xml"  # .xml: told a feed by its root
    path.write_text(RSS, encoding="utf-8")
    first, second = _items(path)
    assert isinstance(first, Document) and isinstance(second, Document)
    assert first.id == "wire-1" and second.id == "https://wire.example/two"
    assert first.text == (
        "Drones hit Ashby\nOfficials said 120 people left Ashby.\n"
        "The mayor asked for help.\nThe army sent water."
    )  # the full content, not the summary; the script left out
    assert second.text == "Second item\nPlain text & nothing else."
    assert first.meta["source"] == "Example Wire" and first.meta["author"] == "Jane Roe"
    assert first.meta["url"] == "https://wire.example/ashby"
    assert first.meta["title"] == "Drones hit Ashby"
    assert moment(first.meta["date"]) == datetime(2024, 3, 23, 10, tzinfo=UTC)


def test_an_atom_feed_in_russian(tmp_path: Path) -> None:
    path = tmp_path / "news.atom"
    path.write_text(ATOM, encoding="utf-8")
    first, second = _items(path)
    assert first.id == "tag:news.example,2024:1" and first.meta["author"] == "Иван Петров"
    assert first.text == "Дроны атаковали Эшби\nЧиновники сообщили, что 120 человек покинули город."
    assert first.meta["source"] == "Канал новостей"
    assert first.meta["url"] == "https://news.example/1"
    assert moment(first.meta["date"]) == datetime(2024, 3, 23, 7, tzinfo=UTC)
    assert second.id == "https://news.example/2" and second.text.endswith("Короткая заметка.")


def test_a_broken_or_empty_feed_fails_alone(tmp_path: Path) -> None:
    (tmp_path / "cut.rss").write_text(RSS[:300], encoding="utf-8")
    (tmp_path / "empty.rss").write_text("<rss><channel><title>X</title></channel></rss>")
    (tmp_path / "ok.txt").write_text("Officials said 120 people left Ashby.", encoding="utf-8")
    items = {getattr(i, "id", None) or i.source: i for i in read_inputs([tmp_path])}
    cut, empty = items[str(tmp_path / "cut.rss")], items[str(tmp_path / "empty.rss")]
    assert isinstance(cut, InputError) and cut.code == E_BAD_RECORD
    assert isinstance(empty, InputError) and empty.code == E_EMPTY
    assert isinstance(items["ok.txt"], Document)


def test_other_xml_is_still_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.xml"
    path.write_text("<notes><note>Officials said 120 people left.</note></notes>")
    (doc,) = _items(path)
    assert isinstance(doc, Document) and doc.text.startswith("<notes>")
    assert "unknown file extension" in doc.meta["input_warnings"][0]


FACT_CHECKS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>
<item><title>No, the Ashby dam was not blown up by the army</title>
<link>https://desk.example/ashby-dam</link><guid>desk-101</guid>
<pubDate>Mon, 01 Apr 2024 08:00:00 +0000</pubDate>
<description>A video said the army blew up the dam at Ashby. It shows a 2019 flood.</description>
</item>
<item><title>Fries do not cost one dollar in Kyiv</title>
<link>https://desk.example/fries</link></item>
<item><link>https://desk.example/untitled</link></item>
</channel></rss>"""


def test_a_fact_checkers_feed_is_a_debunk_source(tmp_path: Path) -> None:
    """`narrascope debunks add feed.rss`: each item a debunk, its headline the claim."""
    from narrascope.ingest.debunks import BadRow, FieldNames, Note, read_debunks
    from narrascope.store.debunks import Debunk, url_id

    path = tmp_path / "desk.rss"
    path.write_text(FACT_CHECKS, encoding="utf-8")
    notes: list[Note] = []
    found = list(read_debunks(path, notes=notes.append))
    first, second, bad = found
    assert isinstance(first, Debunk) and isinstance(second, Debunk)
    assert (first.id, first.claim) == ("desk-101", "No, the Ashby dam was not blown up by the army")
    assert first.url == "https://desk.example/ashby-dam"
    assert moment(first.date) == datetime(2024, 4, 1, 8, tzinfo=UTC)  # kept as given
    assert first.text.startswith("A video said the army blew up the dam")
    assert second.id == url_id("https://desk.example/fries")  # no guid: keyed by its link
    assert isinstance(bad, BadRow) and bad.line == 3 and "claim" in bad.reason
    assert "headline" in str(notes[0])
    summaries = list(read_debunks(path, FieldNames(claim="text")))
    assert summaries[0].claim.startswith("A video said the army blew up the dam")


def test_debunks_add_reads_a_feed(tmp_path: Path, capsys) -> None:
    from narrascope.cli import main
    from narrascope.store.debunks import DebunkStore

    path = tmp_path / "desk.xml"
    path.write_text(FACT_CHECKS, encoding="utf-8")
    db = tmp_path / "corpus.db"
    code = main(["debunks", "add", str(path), "--db", str(db), "--quiet", "--no-reader"])
    said = capsys.readouterr()
    assert code == 1  # the untitled item is a bad row, said with its place
    assert "desk.xml:3" in said.out + said.err and "2 added" in said.out
    with DebunkStore(db) as store:
        assert store.get("desk-101").claim.startswith("No, the Ashby dam")
    again = main(["debunks", "add", str(path), "--db", str(db), "--quiet", "--no-reader"])
    assert again == 1 and "0 added" in capsys.readouterr().out  # re-importing updates
