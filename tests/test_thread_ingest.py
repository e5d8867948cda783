"""Thread detection wired into reading: every input's comments become spans of its document.

The splitting itself is tested in test_threads.py; here each kind of input goes through
the public reader (``read_inputs``) and the CLI, and the document record carries
``article`` and ``comments``, or neither for an ordinary article.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrascope.doc import Document
from narrascope.errors import InputError
from narrascope.ingest import INPUT_FORMATS, ReadOptions, estimate_count, read_inputs
from narrascope.ingest.encoding import E_BAD_RECORD, E_RAGGED_ROW, E_TOO_LARGE

FIXTURES = Path(__file__).parent / "fixtures" / "threads"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def read_all(*inputs: str | Path, **options: object) -> list[Document | InputError]:
    return list(read_inputs(list(inputs), ReadOptions(**options)))  # type: ignore[arg-type]


def docs_of(items: list[Document | InputError]) -> dict[str, Document]:
    assert all(isinstance(i, Document) for i in items), items
    return {d.id: d for d in items}  # type: ignore[union-attr]


def shape(doc: Document) -> list[tuple[str | None, str | None, int]]:
    """(author, parent's author, depth) per comment."""
    by_id = {c.id: c for c in doc.comments}
    return [(c.author, by_id[c.parent].author if c.parent else None, c.depth) for c in doc.comments]


def check_record(doc: Document) -> None:
    """The record's spans are the document's and point into its text."""
    record = doc.to_dict()
    assert record["article"] == {"start": doc.article[0], "end": doc.article[1]}  # type: ignore[index]
    assert [c["id"] for c in record["comments"]] == [c.id for c in doc.comments]
    for c in record["comments"]:
        body = record["text"][c["start"] : c["end"]]
        assert body and body == body.strip()
        assert c["end"] <= len(record["text"]) and c["start"] >= record["article"]["end"]


# -- every fixture through the reader -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "article_end", "count"),
    [
        ("wordpress_dump.txt", "expected after the G20 summit.", 14),
        ("ru_numbered.txt", "рабочую неделю.", 7),
        ("disqus_dump.txt", "after small gains.", 5),
        ("tabs_dump.txt", None, 4),
    ],
)
def test_text_dumps_are_split_into_article_and_comments(
    name: str, article_end: str | None, count: int
) -> None:
    (doc,) = docs_of(read_all(FIXTURES / name)).values()
    assert doc.id == name and doc.meta["thread_kind"] == "text"
    assert len(doc.comments) == count
    if article_end is not None:
        assert doc.article_text.endswith(article_end)
    assert doc.article == (0, len(doc.article_text))
    check_record(doc)


def test_wordpress_dump_keeps_who_replied_to_whom() -> None:
    (doc,) = docs_of(read_all(FIXTURES / "wordpress_dump.txt")).values()
    assert shape(doc)[:4] == [
        ("Oleg K.", None, 0),
        ("Marta", "Oleg K.", 1),
        ("Oleg K.", "Marta", 2),
        ("danube_watcher", "Oleg K.", 1),
    ]
    assert doc.comments[0].date == "November 14, 2022 at 9:12 am"
    assert doc.comment_text(doc.comments[-1]) == (
        "Thanks for writing about the farmers and not only the diplomats."
    )
    assert "thread_warnings" not in doc.meta


def test_html_pages_get_their_comment_markup_as_comments() -> None:
    docs = docs_of(read_all(FIXTURES / "wordpress_page.html", FIXTURES / "microdata_page.html"))
    page = docs["wordpress_page.html"]
    assert page.meta["thread_kind"] == "html"
    assert "Rolling blackouts returned to Kharkiv" in page.article_text
    assert "four hours of power" not in page.article_text
    assert [c.id for c in page.comments] == [
        "comment-201",
        "comment-202",
        "comment-203",
        "comment-204",
    ]
    assert shape(page) == [
        ("Halyna", None, 0),
        ("Mike D", "Halyna", 1),
        ("Halyna", "Mike D", 2),
        ("Petro", None, 0),
    ]
    assert page.comment_text(page.comments[0]).startswith("We had four hours of power")
    assert page.meta["title"] == "Power cuts return to Kharkiv"  # the page's metadata is read
    assert page.meta["date"] is None  # its only dates are its comments'
    micro = docs["microdata_page.html"]
    assert shape(micro) == [("econ_watch", None, 0), ("Irina", "econ_watch", 1)]
    for doc in docs.values():
        check_record(doc)


SHORT_COMMENTS_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Bridge repairs begin</title>{meta}</head><body>
<article class="post"><h1>Bridge repairs begin</h1><div class="entry-content">
<p>Workers began repairing the old river bridge on Monday, the city council said. The
bridge has been closed to lorries since the spring floods damaged two of its piers.</p>
<p>The council expects the repairs to take four months and to cost less than planned.</p>
<ol class="replies">
<li id="comment-1" class="comment"><div class="comment-author"><b class="fn">Ann</b></div>
<time datetime="2023-07-09T10:00:00+00:00">July 9, 2023</time>
<div class="comment-content"><p>Kill them all!</p></div></li>
<li id="comment-2" class="comment"><div class="comment-author"><b class="fn">Bo</b></div>
<div class="comment-content"><p>Stupid idiots.</p></div></li>
<li id="comment-3" class="comment"><div class="comment-author"><b class="fn">Cy</b></div>
<div class="comment-content"><p>About time.</p></div></li>
</ol></div></article></body></html>
"""


def test_short_comments_inside_the_article_are_not_article_text(tmp_path: Path) -> None:
    """Comments the extractor would take for main text (a list inside ``<article>``) are
    left out of the article, however short they are."""
    path = tmp_path / "short.html"
    path.write_text(SHORT_COMMENTS_PAGE.format(meta=""), encoding="utf-8")
    (doc,) = docs_of(read_all(path)).values()
    assert "repairs to take four months" in doc.article_text
    for words in ("Kill them all", "Stupid idiots", "About time"):
        assert words not in doc.article_text
        assert doc.text.count(words) == 1
    assert [doc.comment_text(c) for c in doc.comments] == [
        "Kill them all!",
        "Stupid idiots.",
        "About time.",
    ]
    check_record(doc)


@pytest.mark.parametrize("threads", [True, False])
def test_an_html_page_takes_no_date_from_its_comments(tmp_path: Path, threads: bool) -> None:
    path = tmp_path / "undated.html"
    path.write_text(SHORT_COMMENTS_PAGE.format(meta=""), encoding="utf-8")
    (doc,) = docs_of(read_all(path, threads=threads)).values()
    assert doc.meta["date"] is None  # the only date on the page is a comment's
    assert ("Kill them all!" in doc.text) and (doc.has_thread is threads)
    own = '<meta property="article:published_time" content="2023-05-02T08:00:00+00:00">'
    path.write_text(SHORT_COMMENTS_PAGE.format(meta=own), encoding="utf-8")
    (doc,) = docs_of(read_all(path, threads=threads)).values()
    assert doc.meta["date"] == "2023-05-02"


def test_telegram_export_is_recognised_in_a_json_file() -> None:
    docs = docs_of(read_all(FIXTURES / "telegram_result.json"))
    assert set(docs) == {"1700123456:11", "1700123456:17", "1700123456:19", "1700123456:9"}
    morning = docs["1700123456:11"]
    assert morning.article_text.startswith("Morning summary")
    assert shape(morning) == [
        ("Pavlo", None, 0),
        ("Sveta", "Pavlo", 1),
        ("Pavlo", "Sveta", 2),
        ("Olena", None, 0),
    ]
    assert morning.meta["source"] == "Frontline Digest Chat"
    assert morning.meta["date"] == "2023-01-05T10:00:00"
    assert morning.meta["thread_kind"] == "telegram"
    assert morning.meta["thread_warnings"] == ["1 reply without text left out"]
    assert not docs["1700123456:19"].has_thread  # a post nobody answered
    assert docs["1700123456:9"].article == (0, 0)  # replies whose post is not exported
    for doc in docs.values():
        if doc.has_thread:
            check_record(doc)
    assert estimate_count([FIXTURES / "telegram_result.json"]) is None


def test_telegram_size_limit_is_per_document_not_per_file(tmp_path: Path) -> None:
    export = json.loads((FIXTURES / "telegram_result.json").read_text(encoding="utf-8"))
    size = (FIXTURES / "telegram_result.json").stat().st_size
    big = "Long post. " * 60
    export["messages"].append({"id": 99, "type": "message", "date": "2023-01-06", "text": big})
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    items = read_all(path, max_bytes=600)
    assert size > 600  # the file is over the limit, each document under it
    errors = [i for i in items if isinstance(i, InputError)]
    assert [(e.source, e.code) for e in errors] == [(f"{path}:1700123456:99", E_TOO_LARGE)]
    assert len([i for i in items if isinstance(i, Document)]) == 4


def test_4cat_exports_are_recognised_by_their_fields() -> None:
    docs = docs_of(read_all(FIXTURES / "4cat_reddit.ndjson", FIXTURES / "4cat_chan.ndjson"))
    post = docs["xq1a"]
    assert post.article_text.startswith("Ukraine says it retook three villages near Lyman")
    assert [(c.id, c.parent, c.depth) for c in post.comments] == [
        ("c001", None, 0),
        ("c002", "c001", 1),
        ("c003", "c002", 2),
        ("c004", None, 0),
    ]
    assert post.meta["source"] == "worldnews"
    assert post.meta["date"] == "2022-10-17T07:00:00+00:00"  # a unix timestamp, in UTC
    assert any("not JSON" in w for w in post.meta["thread_warnings"])
    assert docs["zz9"].article == (0, 0)
    assert [(c.id, c.parent) for c in docs["5001"].comments] == [
        ("5002", None),
        ("5003", "5002"),
        ("5004", None),
    ]
    assert estimate_count([FIXTURES / "4cat_chan.ndjson"]) is None


def test_a_text_field_wins_over_the_4cat_guess(tmp_path: Path) -> None:
    """Own records that happen to carry thread_id and body are read as records when
    their text field is there."""
    path = tmp_path / "mine.ndjson"
    path.write_text(
        json.dumps({"id": "a", "thread_id": "t", "body": "B", "text": "Own text one."})
        + "\n"
        + json.dumps({"id": "b", "thread_id": "t", "body": "B", "text": "Own text two."})
        + "\n",
        encoding="utf-8",
    )
    assert [d.text for d in docs_of(read_all(path)).values()] == ["Own text one.", "Own text two."]
    forced = docs_of(read_all(path, input_format="4cat"))
    # "t" names no item and nothing replies to it: a chat, each item a post of its own
    assert list(forced) == ["t:a", "t:b"]


@pytest.mark.parametrize("path", sorted((FIXTURES / "not_threads").glob("*.txt")), ids=str)
def test_ordinary_articles_have_no_thread_keys(path: Path) -> None:
    (doc,) = docs_of(read_all(path)).values()
    record = doc.to_dict()
    assert "comments" not in record and "article" not in record
    assert doc.article_text == doc.text and doc.comments == []


# -- records with a parent field ------------------------------------------------------------


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


def test_jsonl_records_grouped_by_parent_field(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "posts.jsonl",
        [
            {"id": "p1", "text": "Post one.", "source": "forum", "date": "2024/03/02"},
            {"id": "r1", "reply_to": "p1", "text": "Reply one.", "user": "ann", "date": "d1"},
            "{not json",
            {"id": "p2", "text": "Post two, nobody replied."},
            {"id": "r2", "reply_to": "r1", "text": "Reply to reply.", "user": "bo"},
            {"id": "r3", "reply_to": "p1", "text": 5},
            {"id": "r4", "reply_to": "p1", "text": "Second reply.", "user": "cy"},
        ],
    )
    items = read_all(path, parent_field="reply_to", author_field="user")
    errors = [(e.source, e.code) for e in items if isinstance(e, InputError)]
    # today's per-line errors, at their lines
    assert errors == [(f"{path}:3", E_BAD_RECORD), (f"{path}:6", E_BAD_RECORD)]
    docs = docs_of([i for i in items if isinstance(i, Document)])
    assert list(docs) == ["p1", "p2"]
    post = docs["p1"]
    assert post.text == "Post one.\n\nReply one.\n\nReply to reply.\n\nSecond reply."
    assert post.article_text == "Post one."
    assert [(c.id, c.parent, c.author, c.depth, c.date) for c in post.comments] == [
        ("r1", None, "ann", 0, "d1"),
        ("r2", "r1", "bo", 1, None),
        ("r4", None, "cy", 0, None),
    ]
    assert post.meta["source"] == "forum" and post.meta["date"] == "2024-03-02"
    assert post.meta["path"] == str(path)
    assert not docs["p2"].has_thread
    check_record(post)
    assert estimate_count([path], ReadOptions(parent_field="reply_to")) is None


def test_grouped_records_keep_the_id_checks_and_the_empty_error(tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [{"id": "p1", "text": "Earlier document."}])
    path = write_jsonl(
        tmp_path / "b.jsonl",
        [
            {"text": "A post without an id."},
            {"id": "p1", "text": "Same id as a.jsonl's post."},
            {"id": "p3", "text": "   "},
            {"id": "r9", "parent": "gone", "text": "Its post was never exported."},
        ],
    )
    items = read_all(first, path, parent_field="parent")
    errors = [(e.source, e.reason) for e in items if isinstance(e, InputError)]
    assert errors == [
        (f"{path}:2", f"id 'p1' repeated: first seen in {first}:1; the first is kept"),
        (f"{path}:3", "empty document (no text, or only whitespace)"),
    ]
    docs = docs_of([i for i in items if isinstance(i, Document)])
    assert list(docs) == ["p1", "b.jsonl:1", "gone"]
    orphan = docs["gone"]
    assert orphan.article == (0, 0) and orphan.article_text == ""
    assert "not in the input" in orphan.meta["thread_warnings"][0]


def test_a_null_text_is_a_deleted_comment_that_keeps_its_replies(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "deleted.jsonl",
        [
            {"id": "p1", "parent": None, "text": "The post."},
            {"id": "c1", "parent": "p1", "text": None},
            {"id": "c2", "parent": "c1", "user": "bo", "text": "A reply to a deleted comment."},
            {"id": "c3", "parent": "p1", "text": ["not", "a", "string"]},
        ],
    )
    items = read_all(path, parent_field="parent", author_field="user")
    errors = [(e.source, e.code) for e in items if isinstance(e, InputError)]
    assert errors == [(f"{path}:4", E_BAD_RECORD)]  # a list is still no text
    (post,) = docs_of([i for i in items if isinstance(i, Document)]).values()
    assert post.id == "p1" and post.article_text == "The post."
    assert [(c.id, c.parent, c.author, c.depth) for c in post.comments] == [("c2", None, "bo", 0)]
    assert post.meta["thread_warnings"] == ["1 reply without text left out"]
    check_record(post)


def test_csv_rows_grouped_by_parent_field(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    path.write_text(
        "id,parent,author,text\n"
        "1,,desk,The post.\n"
        "2,1,ann,First reply.\n"
        "3,2,,Nested reply.\n"
        "4,1,bo\n"  # ragged: reported at its row, as without threads
        "5,1,cy,Last reply.\n",
        encoding="utf-8",
    )
    items = read_all(path, parent_field="parent")
    errors = [(e.source, e.code) for e in items if isinstance(e, InputError)]
    assert errors == [(f"{path}:5", E_RAGGED_ROW)]
    (doc,) = docs_of([i for i in items if isinstance(i, Document)]).values()
    assert doc.id == "1" and doc.article_text == "The post."
    assert [(c.id, c.parent, c.author) for c in doc.comments] == [
        ("2", None, "ann"),
        ("3", "2", None),
        ("5", None, "cy"),
    ]


def test_options_are_checked_once() -> None:
    with pytest.raises(ValueError, match="parent_field 'id' is also the id field"):
        ReadOptions(parent_field="id")
    with pytest.raises(ValueError, match="author_field 'text' is also the text field"):
        ReadOptions(author_field="text")
    with pytest.raises(ValueError, match="parent_field must be a non-empty"):
        ReadOptions(parent_field=" ")
    with pytest.raises(ValueError, match="needs threads=True"):
        ReadOptions(parent_field="parent", threads=False)
    assert {"telegram", "4cat"} <= set(INPUT_FORMATS)


def test_cli_lists_the_same_input_formats() -> None:
    from narrascope.cli import analyze

    assert analyze.INPUT_FORMATS == INPUT_FORMATS


# -- no threads, broken threads -------------------------------------------------------------


def test_without_threads_inputs_read_as_before() -> None:
    docs = docs_of(
        read_all(FIXTURES / "wordpress_dump.txt", FIXTURES / "wordpress_page.html", threads=False)
    )
    dump = docs["wordpress_dump.txt"]
    assert not dump.has_thread and "says:" in dump.text
    page = docs["wordpress_page.html"]
    assert not page.has_thread and "four hours of power" in page.text
    telegram = docs_of(read_all(FIXTURES / "telegram_result.json", threads=False))
    assert not any(d.has_thread for d in telegram.values())
    assert "Claims from both sides" in telegram["1700123456:11"].text  # one text, replies in


def test_a_thread_read_in_part_keeps_every_comment_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "dump.txt"
    path.write_text(
        "Article.\n\nComments\n\n"
        "Alice says:\n    Top.\n"
        "        Bob says:\n            Deep reply.\n"
        "    Carol says:\n        Between the two levels.\n",
        encoding="utf-8",
    )
    (doc,) = docs_of(read_all(path)).values()
    assert [c.author for c in doc.comments] == ["Alice", "Bob", "Carol"]
    record = doc.to_dict()
    assert any("inconsistent indentation" in w for w in record["thread_warnings"])
    assert Document.from_dict(record).meta["thread_warnings"] == record["thread_warnings"]


def test_a_splitter_crash_keeps_the_document_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narrascope.ingest import formats

    def broken(text: str) -> None:
        raise RecursionError("deep")

    monkeypatch.setattr(formats, "split_thread", broken)
    path = tmp_path / "a.txt"
    path.write_text("Just an article.", encoding="utf-8")
    (doc,) = docs_of(read_all(path)).values()
    assert doc.text == "Just an article." and not doc.has_thread
    assert doc.meta["thread_warnings"] == ["thread detection failed (RecursionError)"]


def test_json_documents_that_are_not_telegram_say_so(tmp_path: Path) -> None:
    pretty = tmp_path / "config.json"
    pretty.write_text(json.dumps({"name": "x", "items": [1, 2]}, indent=2), encoding="utf-8")
    (err,) = read_all(pretty)
    assert isinstance(err, InputError) and "neither JSON Lines" in err.reason
    forced = tmp_path / "export.txt"
    forced.write_text('{"messages": "none"}', encoding="utf-8")
    (err,) = read_all(forced, input_format="telegram")
    assert isinstance(err, InputError) and "not a Telegram Desktop export" in err.reason


# -- the CLI --------------------------------------------------------------------------------


def test_cli_parent_field_writes_article_and_comments(tmp_path: Path, capsys) -> None:
    from narrascope.cli import main

    source = write_jsonl(
        tmp_path / "x.jsonl",
        [
            {"id": "p1", "text": "NATO expanded eastwards and broke its promises."},
            {"id": "r1", "reply_to": "p1", "text": "Russia invaded.", "author": "ann"},
            {"id": "r2", "reply_to": "r1", "text": "Facts are facts.", "author": "bo"},
        ],
    )
    out = tmp_path / "y.jsonl"
    args = ["analyze", str(source), "--parent-field", "reply_to", "--no-progress"]
    assert main([*args, "--out", str(out)]) == 0
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == "p1"
    assert record["article"] == {"start": 0, "end": len(record["text"].split("\n\n")[0])}
    assert [(c["id"], c["parent"], c["author"], c["depth"]) for c in record["comments"]] == [
        ("r1", None, "ann", 0),
        ("r2", "r1", "bo", 1),
    ]
    assert record["text"][record["comments"][1]["start"] :] == "Facts are facts."
    assert main(["analyze", str(source), "--parent-field", "id", "--no-progress"]) == 2
    assert "--parent-field 'id' is also the id field" in capsys.readouterr().err


# -- seed 003 -------------------------------------------------------------------------------


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared is not available")
def test_seed_003_is_read_as_an_article_and_its_reader_thread() -> None:
    found = sorted((SHARED / "seeds").glob("003_*.txt"))
    if not found:
        pytest.skip("seed 003 is not available")
    (doc,) = docs_of(read_all(found[0])).values()
    assert len(doc.comments) >= 10
    assert shape(doc)[:3] == [
        ("Jerry Hood", None, 0),
        ("ken", "Jerry Hood", 1),
        ("Jerry Hood", "ken", 2),
    ]
    assert "nuke" not in doc.article_text
    check_record(doc)
