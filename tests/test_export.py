"""Writers: exact content per format, round-trips, and escaping of untrusted text."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest

from narrascope.doc import Annotation, Document, Entity, Span
from narrascope.export import (
    FORMATS,
    format_terminal_summary,
    get_format,
    guess_format,
    report,
    semeval,
    table,
)
from narrascope.ingest.threads import Comment, Thread

DISCREDIT = "URW: Discrediting Ukraine"
PUPPET = "URW: Discrediting Ukraine: Ukraine is a puppet of the West"
BLAME = "URW: Blaming the war on others rather than the invader"
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"


def sentence_spans(text: str) -> list[Span]:
    spans, start = [], 0
    for part in text.split(". "):
        spans.append(Span.of(text, start, start + len(part)))
        start += len(part) + 2
    return spans


def analysed_doc() -> Document:
    text = "Kyiv is a puppet of the West. The weather is fine. NATO provoked the war."
    doc = Document(
        text=text, id="d1", language="en", meta={"source": "site.example", "date": "2024-03-01"}
    )
    doc.sentences = sentence_spans(text)
    s0, _, s2 = doc.sentences
    doc.groups["narratives"] = [
        Annotation(DISCREDIT, 0.9, [s0], [0.8]),
        Annotation(BLAME, 0.7, [s2], [0.6]),
    ]
    doc.groups["subnarratives"] = [Annotation(PUPPET, 0.8, [s0], [0.8], parent=DISCREDIT)]
    doc.explanation = "Calls Ukraine a Western puppet and blames NATO."
    return doc


def other_doc() -> Document:
    doc = Document(text="Grain prices rose.", id="d2", language="ru")
    doc.groups["narratives"] = [Annotation("Other", 0.95)]
    doc.groups["subnarratives"] = []
    return doc


def render(fmt: str, docs: list[Document]) -> str:
    fh = io.StringIO()
    get_format(fmt).write([d.to_dict() for d in docs], fh)
    return fh.getvalue()


def reread(fmt: str, text: str) -> list[dict]:
    return list(get_format(fmt).read(io.StringIO(text, newline="")))


# --- semeval ---------------------------------------------------------------------------


def test_semeval_lines_are_exact() -> None:
    assert render("semeval-narratives", [analysed_doc(), other_doc()]) == (
        f"d1\t{DISCREDIT};{BLAME}\t{PUPPET}\nd2\tOther\tOther\n"
    )


def test_semeval_keeps_a_hedged_other_and_fills_only_gaps() -> None:
    doc = Document(text="x", id="d4")
    doc.groups["narratives"] = [Annotation(DISCREDIT, 0.6), Annotation("Other", 0.4)]
    doc.groups["subnarratives"] = [
        Annotation(PUPPET, 0.5, parent=DISCREDIT),
        Annotation("Other", 0.4, parent="Other"),
    ]
    assert semeval.line(doc.to_dict()) == f"d4\t{DISCREDIT};Other\t{PUPPET};Other"
    doc.groups["subnarratives"] = []
    assert semeval.line(doc.to_dict()) == f"d4\t{DISCREDIT};Other\t{DISCREDIT}: Other;Other"
    text = render("semeval-narratives", [doc])
    assert render_records("semeval-narratives", reread("semeval-narratives", text)) == text


def test_semeval_lists_each_coarse_label_once_and_adds_parents_of_orphan_subs() -> None:
    doc = Document(text="x", id="d3")
    doc.groups["narratives"] = [Annotation(DISCREDIT, 0.9), Annotation(DISCREDIT, 0.6)]
    doc.groups["subnarratives"] = [
        Annotation(PUPPET, 0.7, parent=DISCREDIT),
        Annotation(f"{BLAME}: The West are the aggressors", 0.6, parent=BLAME),
    ]
    assert semeval.line(doc.to_dict()) == (
        f"d3\t{DISCREDIT};{BLAME}\t{PUPPET};{BLAME}: The West are the aggressors"
    )


def test_semeval_read_then_write_reproduces_the_file() -> None:
    text = render("semeval-narratives", [analysed_doc(), other_doc()])
    assert render_records("semeval-narratives", reread("semeval-narratives", text)) == text


def render_records(fmt: str, records: list[dict]) -> str:
    fh = io.StringIO()
    get_format(fmt).write(records, fh)
    return fh.getvalue()


# --- csv -------------------------------------------------------------------------------


def test_csv_has_one_row_per_document_and_label() -> None:
    rows = list(csv.DictReader(io.StringIO(render("csv", [analysed_doc(), other_doc()]))))
    assert [(r["id"], r["level"], r["label"]) for r in rows] == [
        ("d1", "narrative", DISCREDIT),
        ("d1", "narrative", BLAME),
        ("d1", "subnarrative", PUPPET),
        ("d2", "narrative", "Other"),
    ]
    first = rows[0]
    assert first["language"] == "en"
    assert first["source"] == "site.example"
    assert first["date"] == "2024-03-01"
    assert first["score"] == "0.9000"
    assert first["evidence"] == "Kyiv is a puppet of the West"
    assert (first["evidence_start"], first["evidence_end"]) == ("0", "28")
    assert rows[2]["parent"] == DISCREDIT
    assert rows[3]["score"] == "0.9500"
    assert rows[3]["evidence"] == rows[3]["evidence_start"] == ""


def test_csv_keeps_unlabelled_documents_and_extra_groups() -> None:
    bare = Document(text="nothing", id="d9", language="en")
    doc = analysed_doc()
    doc.groups["frames"] = [Annotation("Economic", 0.6, [doc.sentences[0]], [0.6])]
    rows = list(csv.DictReader(io.StringIO(render("csv", [doc, bare]))))
    assert ("d1", "frames", "Economic") in [(r["id"], r["level"], r["label"]) for r in rows]
    assert [(r["id"], r["level"]) for r in rows if r["id"] == "d9"] == [("d9", "")]


def test_csv_neutralises_formulas_and_reads_them_back() -> None:
    doc = other_doc()
    doc.id = '=HYPERLINK("http://evil")'
    text = render("csv", [doc])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["id"] == '\'=HYPERLINK("http://evil")'
    assert reread("csv", text)[0]["id"] == doc.id


def test_csv_read_then_write_reproduces_the_file() -> None:
    text = render("csv", [analysed_doc(), other_doc(), Document(text="x", id="d9")])
    assert render_records("csv", reread("csv", text)) == text
    empty_thread = thread_doc(comments=0)
    empty_thread.id = "d3"
    threaded = render("csv", [thread_doc(), empty_thread])
    assert "\nd3,en,site.example,2024-03-01,0,narrative," in threaded
    assert render_records("csv", reread("csv", threaded)) == threaded


def thread_doc(comments: int = 3) -> Document:
    """``analysed_doc`` with reader comments after its article."""
    doc = analysed_doc()
    article = len(doc.text)
    doc.text += "".join(f"\n\nComment {n}." for n in range(comments))
    spans = [
        Comment(f"c{n}", None, "@=cmd", article + 2 + 12 * n, article + 12 + 12 * n)
        for n in range(comments)
    ]
    doc.set_thread(Thread((0, article), spans, "text"))
    return doc


def test_csv_counts_comments_on_every_row_of_a_thread() -> None:
    doc = thread_doc()
    assert [doc.comment_text(c) for c in doc.comments][-1] == "Comment 2."
    rows = list(csv.DictReader(io.StringIO(render("csv", [doc, other_doc()]))))
    assert [(r["id"], r["comments"]) for r in rows] == [("d1", "3")] * 3 + [("d2", "")]
    assert list(rows[0])[:5] == ["id", "language", "source", "date", "comments"]
    # an author is never a cell (only the count is), so it cannot carry a formula
    assert "@=cmd" not in render("csv", [doc])


def test_csv_has_a_row_per_flag_and_reads_it_back() -> None:
    """Hate and incitement flags (issue 24): the article's and each comment's, as rows."""
    doc = thread_doc()
    first = doc.comments[0]
    doc.hate = {"label": "none", "score": 0.9, "target": None, "evidence": None}
    doc.incitement = {
        "label": True,
        "score": 0.85,
        "evidence": {"start": 0, "end": 4, "text": doc.text[0:4]},
    }
    first.annotations["hate"] = {
        "label": "hateful",
        "score": 0.91,
        "target": "religion",
        "evidence": {"start": first.start, "end": first.end, "text": doc.comment_text(first)},
    }
    first.annotations["incitement"] = {"label": False, "score": 0.0, "evidence": None}
    doc.comments[1].annotations["hate"] = {"label": "none", "score": 0.8, "target": None}
    text = render("csv", [doc])
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["level"] in table.FLAG_LEVELS]
    assert [(r["level"], r["label"], r["parent"], r["score"], r["comment"]) for r in rows] == [
        ("incitement", "incitement", "", "0.8500", ""),
        ("comment_hate", "hateful", "religion", "0.9100", "c0"),
    ]
    assert rows[1]["evidence"] == "Comment 0." and rows[1]["evidence_start"] == str(first.start)
    (record,) = reread("csv", text)
    assert record["incitement"]["label"] is True and "hate" not in record
    assert record["comments"] == [
        {
            "id": "c0",
            "hate": {
                "label": "hateful",
                "score": 0.91,
                "target": "religion",
                "evidence": {"start": first.start, "end": first.end, "text": "Comment 0."},
            },
        }
    ]
    assert render_records("csv", [record]) == text


# --- jsonl -----------------------------------------------------------------------------


def test_jsonl_round_trips_through_document_from_dict() -> None:
    docs = [analysed_doc(), other_doc()]
    lines = render("jsonl", docs).splitlines()
    assert len(lines) == 2
    for line, doc in zip(lines, docs, strict=True):
        assert Document.from_dict(json.loads(line)).to_dict() == doc.to_dict()


def test_jsonl_survives_lone_surrogates() -> None:
    doc = Document(text="broken \udcff byte", id="s")
    line = render("jsonl", [doc])
    line.encode("utf-8")  # valid UTF-8 output
    assert json.loads(line)["text"] == doc.text


# --- html ------------------------------------------------------------------------------


def hostile_doc() -> Document:
    text = f"Intro {XSS_SCRIPT} here. Second {XSS_IMG} sentence."
    doc = Document(text=text, id=f"id{XSS_IMG}", language="en", meta={"source": XSS_SCRIPT})
    doc.sentences = sentence_spans(text)
    label = f"URW: {XSS_SCRIPT}"
    doc.groups["narratives"] = [Annotation(label, 0.9, [doc.sentences[0]], [0.9])]
    doc.groups["subnarratives"] = [
        Annotation(f"{label}: {XSS_IMG}", 0.5, [doc.sentences[1]], [0.5], parent=label)
    ]
    doc.explanation = f"Because {XSS_IMG} and </script>"
    return doc


def test_html_escapes_every_untrusted_value() -> None:
    page = render("html", [hostile_doc(), analysed_doc()])
    assert XSS_SCRIPT not in page
    assert XSS_IMG not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # our own two kinds of script tag only: the nonce'd JS and the JSON data blocks
    assert page.count("<script") == page.count("<script nonce=") + page.count(report.RECORD_OPEN)
    assert page.count("<script nonce=") == 1


def test_html_is_self_contained_with_a_strict_policy() -> None:
    page = render("html", [analysed_doc()])
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert "<link" not in page
    assert " src=" not in page


def test_html_highlights_evidence_in_the_narrative_colour() -> None:
    page = render("html", [analysed_doc()])
    colour = report.colour(DISCREDIT)
    # narrative and sub-narrative share the sentence: one mark, the narrative's colour, both labels
    assert (
        f'<mark style="background:{colour}" title="{DISCREDIT} (0.90); {PUPPET} (0.80)">'
        "Kyiv is a puppet of the West</mark>"
    ) in page
    assert f'title="{BLAME} (0.70)">NATO provoked the war.</mark>' in page
    assert "The weather is fine. " in page  # unmarked text stays plain


def test_html_summary_table_counts_documents_and_links_them() -> None:
    second = analysed_doc()
    second.id, second.language = "d3", "bg"
    page = render("html", [analysed_doc(), other_doc(), second])
    summary = page[page.index("<table class=summary>") : page.index("</table>")]
    row = summary[summary.index(f'title="{DISCREDIT}"') :]
    row = row[: row.index("</tr>")]
    assert "<td class=num>2</td><td class=num>0.90</td><td>bg, en</td>" in row
    assert '<a href="#doc-0">d1</a>, <a href="#doc-2">d3</a>' in row
    assert 'id="doc-2"' in page
    assert page.index("<table class=summary>") < page.index('<details class="doc"')
    assert "Ukraine is a puppet of the West" in summary
    assert summary.index('title="Other"') > summary.index(f'title="{BLAME}"')  # Other last
    sub_row = summary[summary.index(f'title="{PUPPET}"') - 60 :]
    assert f"solid {report.colour(DISCREDIT)}" in sub_row[:80]  # sub-narrative: parent colour


def test_html_embeds_records_that_read_back_exactly() -> None:
    docs = [hostile_doc(), analysed_doc()]
    page = render("html", docs)
    expected = [{k: v for k, v in d.to_dict().items() if k != "sentences"} for d in docs]
    assert reread("html", page) == expected


def test_html_of_an_empty_batch_says_so() -> None:
    assert "No documents." in render("html", [])


# --- terminal --------------------------------------------------------------------------


def test_terminal_summary_is_plain_and_complete() -> None:
    out = format_terminal_summary(analysed_doc(), colour=False)
    assert "\x1b" not in out
    assert out.splitlines()[0].startswith("d1  [en]  site.example · 2024-03-01")
    assert f"0.90  {DISCREDIT}" in out
    assert "0.80  Ukraine is a puppet of the West" in out
    assert "Evidence: “Kyiv is a puppet of the West”" in out
    assert "Why: Calls Ukraine a Western puppet and blames NATO." in out


def test_terminal_summary_says_how_the_input_was_read_when_not_quite_as_written() -> None:
    doc = analysed_doc()
    assert "Input:" not in format_terminal_summary(doc, colour=False)
    doc.meta["input_warnings"] = ["not valid UTF-8 at byte 912: 1 bad byte sequence replaced"]
    lines = format_terminal_summary(doc, colour=False).splitlines()
    assert lines[1] == "  Input: not valid UTF-8 at byte 912: 1 bad byte sequence replaced"


def test_terminal_summary_counts_comments_and_their_flags() -> None:
    doc = thread_doc()
    lines = format_terminal_summary(doc, colour=False).splitlines()
    assert lines[1] == "  thread: 3 comments"
    assert "thread" not in format_terminal_summary(analysed_doc(), colour=False)
    doc.comments[0].annotations["hate"] = {"label": "hateful", "score": 0.9}
    doc.comments[1].annotations["hate"] = {"label": "offensive", "score": 0.7}
    doc.comments[1].annotations["incitement"] = {"label": True, "score": 0.8}
    doc.meta["thread_warnings"] = ["line 9: a warning"]
    assert format_terminal_summary(doc, colour=False).splitlines()[1] == (
        "  thread: 3 comments, 1 hateful, 1 offensive, 1 incitement (read with 1 warning)"
    )


def test_terminal_summary_strips_control_characters_and_reports_other() -> None:
    doc = other_doc()
    doc.id = "evil\x1b]0;pwned\x07"
    out = format_terminal_summary(doc, colour=False)
    assert "\x1b" not in out and "\x07" not in out
    assert "no narrative detected (Other, 0.95)" in out


# --- bidi control characters -----------------------------------------------------------

RLO, RLI, RLM = "\u202e", "\u2067", "\u200f"
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def bidi_doc() -> Document:
    """Bidi controls in every identifying field, and in the text (an override and the
    right-to-left mark Arabic writing uses)."""
    text = f"Kyiv is a puppet of {RLO}the West. Putin said: \u0646\u0639\u0645{RLM}."
    doc = Document(
        text=text,
        id=f"rtl-{RLO}abc",
        language="en",
        meta={"source": f"site{RLI}.ru", "title": f"Title {RLO}reversed"},
    )
    doc.sentences = sentence_spans(text)
    doc.groups["narratives"] = [Annotation(DISCREDIT, 0.9, [doc.sentences[0]], [0.8])]
    doc.groups["subnarratives"] = []
    at = text.index("Putin")
    doc.entities = [
        Entity(f"Put{RLO}in", [Span.of(text, at, at + 5)], "Antagonist", 0.8, [], [], [])
    ]
    doc.explanation = f"Calls Ukraine a {RLO}puppet."
    return doc


class _ShownText(HTMLParser):
    """What a reader sees outside isolated blocks: text and tooltips, not scripts or the
    ``dir="auto"`` blocks (which cannot reorder anything outside themselves)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: hidden or isolated
        self.shown: list[str] = []
        self.isolated = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skip = tag == "script" or values.get("dir") == "auto"
        if tag not in ("meta", "br", "input"):
            self.stack.append(skip)
        self.isolated += skip and values.get("dir") == "auto"
        if not any(self.stack):
            self.shown.append(values.get("title") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("meta", "br", "input") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.shown.append(data)


def test_terminal_shows_bidi_controls_in_ids_names_and_sources() -> None:
    out = format_terminal_summary(bidi_doc(), colour=False)
    head = out.splitlines()[0]
    assert head.startswith("rtl-⟨U+202E⟩abc  [en]  site⟨U+2067⟩.ru")
    assert "Cast: Put⟨U+202E⟩in: Antagonist" in out
    assert "of ⟨U+202E⟩the West" in out and "a ⟨U+202E⟩puppet" in out  # overrides in text too
    assert RLO not in out and RLI not in out


def test_terminal_keeps_the_marks_of_right_to_left_text() -> None:
    doc = bidi_doc()
    doc.groups["narratives"][0].evidence = [doc.sentences[1]]
    out = format_terminal_summary(doc, colour=False)
    assert f"\u0646\u0639\u0645{RLM}." in out  # evidence is text: its RLM stays


def test_html_shows_bidi_controls_and_isolates_document_text() -> None:
    doc = bidi_doc()
    page = render("html", [doc])
    seen = _ShownText()
    seen.feed(page)
    shown = "".join(seen.shown)
    assert not BIDI & set(shown), [c for c in shown if c in BIDI]
    assert seen.isolated >= 3  # the text, the explanation, the entity's evidence
    assert '<span class="doc-id">rtl-⟨U+202E⟩abc</span>' in page
    assert "title: Title ⟨U+202E⟩reversed · source: site⟨U+2067⟩.ru" in page
    assert "<td>Put⟨U+202E⟩in</td>" in page  # the entity tables
    assert '<div class="text" dir="auto">' in page
    assert f"of {RLO}the West" in page  # the text itself is shown as written, isolated
    assert reread("html", page)[0]["id"] == doc.id  # the embedded data keeps every character


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_data_formats_keep_bidi_controls_exactly(fmt: str) -> None:
    doc = bidi_doc()
    records = reread(fmt, render(fmt, [doc]))
    assert {r["id"] for r in records} == {doc.id}
    if fmt == "jsonl":
        assert records[0]["text"] == doc.text and records[0]["source"] == doc.meta["source"]


# --- registry --------------------------------------------------------------------------


def test_unknown_format_lists_the_valid_ones() -> None:
    with pytest.raises(
        ValueError,
        match="choose one of jsonl, csv, semeval-narratives, semeval-entities, "
        "semeval-techniques, html",
    ):
        get_format("pdf")


def test_guess_format_from_suffix() -> None:
    from pathlib import Path

    assert guess_format(Path("out.CSV")) == "csv"
    assert guess_format(Path("out.html")) == "html"
    assert guess_format(Path("out.pdf")) is None
    assert set(FORMATS) == {
        "jsonl",
        "csv",
        "semeval-narratives",
        "semeval-entities",
        "semeval-techniques",
        "html",
    }
    assert table.COLUMNS[0] == "id"


# --- html: reader threads ----------------------------------------------------------------

RLO = "\u202e"
# (id, parent, author, depth, body, hate, incitement); the hostile comment carries a script
# tag and a bidi override, and the flags carry evidence offsets into the record's text
THREAD = [
    ("c1", None, "Anna", 0, "I agree with this.", None, None),
    (
        "c2",
        "c1",
        "Boris <b>",
        1,
        f"Those {XSS_SCRIPT} are vermin, nuke them{RLO} all.",
        "hateful",
        True,
    ),
    ("c3", "c2", "Chris", 2, "Calm down, please.", "none", False),
    ("c4", None, "Dana", 0, "What a stupid take.", "offensive", False),
    ("c5", "c3", "Eve", 9, "A very deep reply.", "none", False),
]


def thread_record() -> dict:
    """A hand-built record of an article and its thread, with hate and incitement flags."""
    record = analysed_doc().to_dict()
    text = record["text"]
    record["article"] = {"start": 0, "end": len(text)}
    comments = []
    for cid, parent, author, depth, body, hate, incitement in THREAD:
        text += f"\n\n{author} says\n"
        start = len(text)
        text += body
        comment = {
            "id": cid,
            "parent": parent,
            "author": author,
            "date": "March 3, 2022",
            "start": start,
            "end": len(text),
            "depth": depth,
            "language": "en",
        }
        if hate is not None:
            word = {"hateful": "vermin", "offensive": "stupid"}.get(hate, body[:4])
            at = text.index(word, start)
            comment["hate"] = {
                "label": hate,
                "score": 0.91 if hate == "hateful" else 0.62,
                "target": "religion" if hate == "hateful" else None,
                "evidence": {"start": at, "end": at + len(word), "text": word},
            }
        if incitement is not None:
            at = text.index("nuke them", start) if incitement else start
            comment["incitement"] = {
                "label": incitement,
                "score": 0.84 if incitement else 0.1,
                "evidence": {"start": at, "end": at + 9, "text": text[at : at + 9]},
            }
        comments.append(comment)
    record["text"], record["comments"] = text, comments
    record["hate"] = {"label": "none", "score": 0.05, "target": None, "evidence": None}
    return record


def html_of(*records: dict) -> str:
    fh = io.StringIO()
    report.write(list(records), fh)
    return fh.getvalue()


def test_html_shows_the_article_then_the_thread_with_flags() -> None:
    page = html_of(thread_record())
    text_block = page.split('<div class="text" dir="auto">', 1)[1].split("</div>", 1)[0]
    assert text_block.endswith("NATO provoked the war.</mark>")  # the article alone
    assert "Anna" not in text_block
    thread = page.split('<section class="thread">', 1)[1].split("</section>", 1)[0]
    assert "<h3>Comments (5)</h3>" in thread
    summary = "5 comments · 1 hateful · 1 offensive · 1 incitement"
    assert f'<p class="thread-summary">{summary}</p>' in thread
    items = re.findall(r'<li class="([^"]+)" data-id="(\w+)" data-depth="(\d)"', thread)
    assert [(i, d) for _, i, d in items] == [
        ("c1", "0"),
        ("c2", "1"),
        ("c3", "2"),
        ("c4", "0"),
        ("c5", "6"),
    ]  # capped at 6
    classes = {i: c for c, i, _ in items}
    assert classes["c2"] == "comment flagged d-1" and classes["c4"] == "comment flagged d-0"
    assert classes["c1"] == "comment context d-0"  # the ancestor of a flagged reply
    assert classes["c3"] == "comment d-2" and classes["c5"] == "comment d-6"
    assert '<span class="flag hateful">hateful 0.91 · target: religion</span>' in thread
    assert '<span class="flag incitement">incitement 0.84</span>' in thread
    assert '<span class="flag offensive">offensive 0.62</span>' in thread
    assert thread.count('class="flag ') == 3  # "none" and false raise nothing
    assert (
        '<mark class="flag-ev hateful" title="hateful 0.91 · target: religion">vermin</mark>'
        in thread
    )
    assert '<mark class="flag-ev incitement" title="incitement 0.84">nuke them</mark>' in thread
    assert '<input type="checkbox" class="flagged-only">' in thread
    # the headline and the batch summary show counts, never a comment's words
    headline = page.split('<summary><span class="doc-id">', 1)[1].split("</summary>", 1)[0]
    assert summary in headline and "vermin" not in headline
    head = page.split("<h2>Documents</h2>", 1)[0]
    assert "Reader comments: 5 in 1 thread · 1 hateful · 1 offensive · 1 incitement" in head
    assert "vermin" not in head and "stupid" not in head
    for tag in re.findall(r"<h\d[^>]*>(.*?)</h\d>", page):
        assert not any(word in tag for word in ("vermin", "nuke", "stupid", "agree"))


def test_html_thread_escapes_comments_and_isolates_their_text() -> None:
    record = thread_record()
    page = html_of(record)
    assert XSS_SCRIPT not in page and "Boris <b>" not in page
    assert "Those &lt;script&gt;alert(1)&lt;/script&gt; are" in page
    assert '<span class="c-author">Boris &lt;b&gt;</span>' in page
    assert page.count("<script") == page.count("<script nonce=") + page.count(report.RECORD_OPEN)
    # the override stays in the comment's body, which is isolated; nowhere else is it shown
    seen = _ShownText()
    seen.feed(page)
    assert RLO not in "".join(seen.shown)
    assert '<div class="c-text" dir="auto">Those' in page
    assert reread("html", page)[0]["comments"] == record["comments"]


def test_html_records_without_thread_render_as_before() -> None:
    plain = analysed_doc().to_dict()
    page = html_of(plain)
    assert "thread" not in page.split("<script nonce=", 1)[0].split("</style>", 1)[1]
    assert "Reader comments" not in page and 'class="flag ' not in page
    # an older thread record without hate or incitement: no badges, the count alone
    record = thread_record()
    for c in record["comments"]:
        c.pop("hate", None)
        c.pop("incitement", None)
    page = html_of(record)
    assert '<p class="thread-summary">5 comments</p>' in page
    assert 'class="flag ' not in page and "flag-ev" not in page.split("</style>", 1)[1]
