"""Thread detection: comment sections split from their article, with who replied to whom.

Fixtures in tests/fixtures/threads are made up for these tests: plain-text dumps as
copied from blogs (WordPress, Disqus, numbered ru, tab-indented), HTML pages with comment
markup, a Telegram Desktop export, 4CAT NDJSON, and ordinary articles that must never be
split.
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

from narrascope.ingest.threads import (
    Comment,
    Thread,
    split_thread,
    thread_from_4cat,
    thread_from_html,
    thread_from_records,
    thread_from_telegram,
)

FIXTURES = Path(__file__).parent / "fixtures" / "threads"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def check_invariants(text: str, thread: Thread) -> None:
    """What every thread promises: spans inside the text, in order, non-empty, after the
    article; a parent comes before its replies and is one level up."""
    a_start, a_end = thread.article
    assert 0 <= a_start <= a_end <= len(text)
    seen: dict[str, Comment] = {}
    last_end = a_end
    for c in thread.comments:
        assert last_end <= c.start < c.end <= len(text), c
        assert text[c.start : c.end].strip() == text[c.start : c.end], "span has edge whitespace"
        last_end = c.end
        assert c.id not in seen
        if c.parent is None:
            assert c.depth == 0
        else:
            assert c.parent in seen, f"{c.id}'s parent {c.parent} comes later or is missing"
            assert c.depth == seen[c.parent].depth + 1
        seen[c.id] = c


def uncovered_lines(text: str, thread: Thread) -> list[str]:
    """Non-blank lines outside the article, the comments and the trailer."""
    covered = [False] * len(text)
    spans = [thread.article, *((c.start, c.end) for c in thread.comments)]
    for start, end in [*spans, *([thread.trailer] if thread.trailer else [])]:
        covered[start:end] = [True] * (end - start)
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        if line.strip() and not any(covered[pos : pos + len(line)]):
            out.append(line.strip())
        pos += len(line)
    return out


def bodies(text: str, thread: Thread) -> list[str]:
    return [text[c.start : c.end] for c in thread.comments]


def tree(thread: Thread) -> list[tuple[str | None, str | None, int]]:
    """(author, parent's author, depth) per comment: the shape of the thread."""
    by_id = {c.id: c for c in thread.comments}
    return [
        (c.author, by_id[c.parent].author if c.parent else None, c.depth) for c in thread.comments
    ]


# -- plain text ---------------------------------------------------------------------------


def test_wordpress_dump_splits_article_and_fourteen_nested_comments() -> None:
    text = read("wordpress_dump.txt")
    thread = split_thread(text)
    assert thread is not None and thread.kind == "text" and thread.warnings == []
    check_invariants(text, thread)
    article = text[slice(*thread.article)]
    assert article.startswith("Grain corridor talks stall")
    assert article.endswith("expected after the G20 summit.")
    assert "thoughts on" not in article  # the heading is furniture, not article
    assert len(thread.comments) == 14
    assert tree(thread)[:4] == [
        ("Oleg K.", None, 0),
        ("Marta", "Oleg K.", 1),
        ("Oleg K.", "Marta", 2),
        ("danube_watcher", "Oleg K.", 1),
    ]
    assert tree(thread)[8:10] == [("Ines", "K. Brandt", 2), ("tomas77", "K. Brandt", 2)]
    assert thread.comments[0].date == "November 14, 2022 at 9:12 am"
    got = bodies(text, thread)
    assert got[0].startswith("Same story every autumn.") and got[0].endswith("a surprise.")
    assert not any("Reply" in b or "says:" in b or "2022 at" in b for b in got)
    # the reply form after the last comment is the trailer, not part of Lena's comment
    assert got[-1] == "Thanks for writing about the farmers and not only the diplomats."
    assert thread.trailer is not None and text[slice(*thread.trailer)].startswith("Leave a Reply")
    # nothing but furniture is left out: header lines, their dates, "Reply", the heading
    furniture = re.compile(r"says:$|^November \d+, 2022 at \d+:\d+ [ap]m$|^Reply$|thoughts on")
    assert all(furniture.search(line) for line in uncovered_lines(text, thread))


def test_nested_numbering_in_russian_gives_depth_and_trailer() -> None:
    text = read("ru_numbered.txt")
    thread = split_thread(text)
    assert thread is not None
    check_invariants(text, thread)
    assert text[slice(*thread.article)].endswith("рабочую неделю.")
    assert tree(thread) == [
        ("Андрей", None, 0),
        ("Ольга", "Андрей", 1),
        ("Андрей", "Ольга", 2),
        ("Виктор", "Андрей", 1),
        ("Нина", None, 0),
        ("Редакция", "Нина", 1),
        ("Сергей М.", None, 0),
    ]
    assert bodies(text, thread)[-1] == "Губернатор каждый раз говорит одно и то же."
    assert thread.comments[1].date == "12.03.2022 в 14:31"


def test_disqus_dump_takes_parents_from_reply_arrows() -> None:
    text = read("disqus_dump.txt")
    thread = split_thread(text)
    assert thread is not None
    check_invariants(text, thread)
    assert text[slice(*thread.article)].endswith("after small gains.")
    assert tree(thread) == [
        ("history_buff", None, 0),
        ("Maria Stoyanova", "history_buff", 1),
        ("J Alvarez", None, 0),
        ("history_buff", "J Alvarez", 1),
        ("N. Petrova", None, 0),
    ]
    assert not any("Share" in b or "ago" in b for b in bodies(text, thread))


def test_tab_indentation_is_reply_depth() -> None:
    text = read("tabs_dump.txt")
    thread = split_thread(text)
    assert thread is not None
    check_invariants(text, thread)
    assert tree(thread) == [
        ("marko_s", None, 0),
        ("Dana", "marko_s", 1),
        ("marko_s", "Dana", 2),
        ("Ivo Petrov", None, 0),
    ]
    assert bodies(text, thread)[0] == (
        "The inspectors should stay permanently.\n\tAnything less is theatre."
    )


def test_crlf_text_keeps_exact_offsets() -> None:
    text = read("tabs_dump.txt").replace("\n", "\r\n")
    thread = split_thread(text)
    assert thread is not None
    check_invariants(text, thread)
    assert bodies(text, thread)[3] == "Cooling water from the reservoir is the real issue now."


@pytest.mark.parametrize("path", sorted((FIXTURES / "not_threads").glob("*.txt")), ids=str)
def test_ordinary_articles_are_never_split(path: Path) -> None:
    assert split_thread(path.read_text(encoding="utf-8")) is None


@pytest.mark.parametrize(
    "text",
    [
        "Putin says the West wants to destroy Russia. Biden says that is nonsense.",
        "1. Russia says\n2. Ukraine says\n",  # a list of headings, no bodies
        "Comments\n\nNone yet.",
        "",
        "\n\n   \n",
        "Alice says:\nOnly one quote in this article.\n",
        "Lavrov says:\n«Talks are possible».\n\nBlinken says:\n«Not like this».\n",
    ],
)
def test_short_or_quote_texts_are_not_threads(text: str) -> None:
    assert split_thread(text) is None


def test_five_bare_says_headers_are_a_thread_but_two_are_not() -> None:
    names = ["anna", "bo", "cyril", "dee", "eve"]
    dump = "Article text about the war.\n\n" + "".join(
        f"{n} says:\nI think {n} is right about this.\n\n" for n in names
    )
    thread = split_thread(dump)
    assert thread is not None and [c.author for c in thread.comments] == names
    two = "Article text.\n\nanna says:\nYes.\n\nbo says:\nNo.\n"
    assert split_thread(two) is None
    # ...unless the page says a comment section starts here
    assert split_thread("Article text.\n\n2 Comments\n\nanna says:\nYes.\n\nbo says:\nNo.\n")


def test_headers_without_bodies_warn_and_their_replies_go_up() -> None:
    dump = (
        "The article.\n\nComments (3)\n\n"
        "1. Alice says\n\n  Top comment.\n\n"
        "  1. Bob says\n\n"  # deleted: no text
        "    1. Carol says\n\n      Reply to the deleted one.\n"
    )
    thread = split_thread(dump)
    assert thread is not None
    check_invariants(dump, thread)
    assert tree(thread) == [("Alice", None, 0), ("Carol", "Alice", 1)]
    assert any("'Bob'" in w and "no text" in w for w in thread.warnings)


def test_inconsistent_indentation_warns_but_keeps_every_comment() -> None:
    dump = (
        "Article.\n\nComments\n\n"
        "Alice says:\n    Top.\n"
        "        Bob says:\n            Deep reply.\n"
        "    Carol says:\n        Between the two levels.\n"
        "Dan says:\n    Top again.\n"
    )
    thread = split_thread(dump)
    assert thread is not None
    check_invariants(dump, thread)
    assert [c.author for c in thread.comments] == ["Alice", "Bob", "Carol", "Dan"]
    assert tree(thread)[2] == ("Carol", "Alice", 1)
    assert any("inconsistent indentation" in w for w in thread.warnings)


def test_reply_hint_names_the_parent_in_a_flat_dump() -> None:
    dump = (
        "Article.\n\nComments\n\n"
        "Alice says:\nFirst.\n\nBob says:\nIn reply to Alice.\nSecond.\n\n"
        "Carol says:\nReplying to @Zed\nNobody by that name.\n"
    )
    thread = split_thread(dump)
    assert thread is not None
    check_invariants(dump, thread)
    assert tree(thread) == [("Alice", None, 0), ("Bob", "Alice", 1), ("Carol", None, 0)]
    assert bodies(dump, thread)[1] == "Second."
    assert any("'Zed'" in w for w in thread.warnings)


def test_garbage_never_raises() -> None:
    rng = random.Random(7)
    pieces = [
        "Alice says:",
        "  1. Bob says",
        "\t\tReply",
        "• 3 years ago",
        "Comments (3)",
        "March 3, 2022 at 5:14 pm",
        "text line",
        "",
        "   ",
        "1.1.1 Carol wrote:",
        "Leave a Reply",
        "x → y",
        "\r",
        "...",
        ":",
        "@",
        "→",
        "In reply to",
        "Anonymous said...",
        "@x 2 days ago",
    ]
    for _ in range(300):
        text = "\n".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        thread = split_thread(text)
        if thread is not None:
            check_invariants(text, thread)


def test_splitting_one_megabyte_is_fast() -> None:
    """About 0.3 s of CPU per MB of dense comments (CPU time: a busy shared machine must
    not fail it); hostile shapes stay linear too."""
    block = read("wordpress_dump.txt")
    article, _, comments = block.partition("14 thoughts on")
    one_round = comments.split("\n", 1)[1].split("Leave a Reply")[0]
    text = article + "Comments\n" + one_round * 500
    assert len(text) > 1_000_000
    start = time.process_time()
    thread = split_thread(text)
    elapsed = time.process_time() - start
    assert thread is not None and len(thread.comments) == 14 * 500
    assert elapsed < 2.0, f"{elapsed:.2f}s for 1 MB"
    hostile = [
        ("Officials say the talks will resume next week. " * 20 + "\n\n") * 1100,
        "1 " * 500_000 + "says",  # one huge line
        ("  " * 30 + "1.1.1.1 Bob says\n") * 40_000,  # headers, no bodies
        ("Reply • Share › " * 5 + "\n") * 12_000,
    ]
    for text in hostile:
        start = time.process_time()
        thread = split_thread(text)
        assert time.process_time() - start < 2.0
        if thread is not None:
            check_invariants(text, thread)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not available")
def test_seed_003_reader_thread() -> None:
    found = sorted((SHARED / "seeds").glob("003_*.txt"))
    if not found:
        pytest.skip("seed 003 is not available")
    text = found[0].read_text(encoding="utf-8")
    thread = split_thread(text)
    assert thread is not None
    check_invariants(text, thread)
    assert len(thread.comments) >= 10
    shape = tree(thread)
    assert shape[:5] == [
        ("Jerry Hood", None, 0),
        ("ken", "Jerry Hood", 1),
        ("Jerry Hood", "ken", 2),
        ("XSFRGR", "Jerry Hood", 1),
        ("GMC", "XSFRGR", 2),
    ]
    assert ("Eddy", "Pablo", 1) in shape and ("FredMc", None, 0) in shape
    article = text[slice(*thread.article)]
    assert "says" not in article.splitlines()[-1] and "nuke" not in article
    assert all(line.endswith(" says") for line in uncovered_lines(text, thread))


# -- HTML ---------------------------------------------------------------------------------


def test_wordpress_html_comments_with_nested_children() -> None:
    found = thread_from_html(read("wordpress_page.html"))
    assert found is not None
    text, thread = found
    check_invariants(text, thread)
    assert thread.kind == "html" and thread.warnings == []
    article = text[slice(*thread.article)]
    assert "Rolling blackouts returned to Kharkiv" in article
    assert "four hours of power" not in article
    assert [c.id for c in thread.comments] == [
        "comment-201",
        "comment-202",
        "comment-203",
        "comment-204",
    ]
    assert tree(thread) == [
        ("Halyna", None, 0),
        ("Mike D", "Halyna", 1),
        ("Halyna", "Mike D", 2),
        ("Petro", None, 0),
    ]
    assert bodies(text, thread)[0] == (
        "We had four hours of power yesterday. The generators on our street run all night.\n"
        "Still, people help each other with water."
    )
    assert thread.comments[0].date == "2022-10-17T08:14:00+00:00"
    # the text is the article, then "\n\n" and each comment
    assert text == "\n\n".join([article, *bodies(text, thread)])


def test_html_uses_the_callers_article_and_microdata_comments() -> None:
    found = thread_from_html(read("microdata_page.html"), article="Given article text.")
    assert found is not None
    text, thread = found
    check_invariants(text, thread)
    assert text.startswith("Given article text.\n\n")
    assert tree(thread) == [("econ_watch", None, 0), ("Irina", "econ_watch", 1)]
    assert bodies(text, thread)[1].startswith("The shelves are not empty")
    assert thread.comments[0].date == "2022-06-10T12:00:00Z"


def test_html_without_comment_markup() -> None:
    page = "<html><body><article><p>Only an article here, no comments.</p></article></body></html>"
    assert thread_from_html(page, article="Only an article here.") is None
    # trafilatura found a comment section whose structure we cannot see: one block, warned
    text, thread = thread_from_html(page, article="Art.", comments="one\ntwo\n")  # type: ignore[misc]
    assert text == "Art.\n\none\ntwo" and bodies(text, thread) == ["one\ntwo"]
    assert thread.warnings and "one comment" in thread.warnings[0]
    assert thread_from_html("", article="x") is None


# -- records ------------------------------------------------------------------------------


def test_records_group_by_root_with_deep_replies() -> None:
    rows = [
        {"id": "p1", "parent": "", "user": "desk", "body": "Post one."},
        {"id": "r1", "parent": "p1", "user": "a", "body": "Reply one."},
        {"id": "p2", "parent": "", "user": "desk", "body": "Post two, no replies."},
        {"id": "r2", "parent": "r1", "user": "b", "body": "Reply to reply."},
        {"id": "r3", "parent": "p1", "user": "c", "body": "Second reply."},
    ]
    docs = thread_from_records(
        rows, id_field="id", parent_field="parent", author_field="user", text_field="body"
    )
    assert [d.id for d in docs] == ["p1", "p2"]
    one = docs[0]
    assert one.text == "Post one.\n\nReply one.\n\nReply to reply.\n\nSecond reply."
    assert one.thread is not None and one.record is rows[0]
    check_invariants(one.text, one.thread)
    assert [(c.id, c.parent, c.author, c.depth) for c in one.thread.comments] == [
        ("r1", None, "a", 0),
        ("r2", "r1", "b", 1),
        ("r3", None, "c", 0),
    ]
    assert docs[1].thread is None and docs[1].text == "Post two, no replies."
    record = one.thread.to_dict()
    assert record["article"] == {"start": 0, "end": len("Post one.")}
    assert record["comments"][1] == {
        "id": "r2",
        "parent": "r1",
        "author": "b",
        "date": None,
        "start": one.text.index("Reply to reply."),
        "end": one.text.index("Reply to reply.") + len("Reply to reply."),
        "depth": 1,
    }
    assert record["thread_kind"] == "records" and "thread_warnings" not in record


def test_records_bad_links_never_raise_and_keep_every_text() -> None:
    rows = [
        {"id": 1, "parent_id": None, "text": "Root."},
        {"id": 2, "parent_id": 1, "text": "Fine reply."},
        {"id": 3, "parent_id": 4, "text": "Cycle A."},
        {"id": 4, "parent_id": 3, "text": "Cycle B."},
        {"id": 5, "parent_id": 99, "text": "Orphan."},
        {"id": 6, "parent_id": 6, "text": "Own parent."},
        {"id": 2, "parent_id": 1, "text": "Repeated id."},
        {"id": 7, "parent_id": 1, "text": None},
        {"id": 8, "parent_id": 7, "text": "Child of a textless record."},
    ]
    docs = thread_from_records(rows)
    texts = "\n".join(d.text for d in docs)
    for row in rows:
        if row["text"]:
            assert row["text"] in texts
    warnings = [w for d in docs if d.thread for w in d.thread.warnings]
    assert any("cycle" in w for w in warnings)
    assert any("'99'" in w and "not in the input" in w for w in warnings)
    assert any("itself" in w for w in warnings)
    assert any("repeated" in w for w in warnings)
    root = docs[0]
    assert root.thread is not None
    check_invariants(root.text, root.thread)
    shape = [(c.id, c.parent, c.depth) for c in root.thread.comments]
    # the textless record 7 is left out and its reply hangs on the root instead
    assert shape == [("2", None, 0), ("2~7", None, 0), ("8", None, 0)]
    cycle = next(d for d in docs if d.id == "3")
    assert cycle.text == "Cycle A.\n\nCycle B."
    orphan = next(d for d in docs if d.id == "99")
    assert orphan.thread is not None and orphan.thread.article == (0, 0)


def test_records_deep_chain_has_no_recursion_limit() -> None:
    rows = [{"id": 0, "parent_id": None, "text": "root"}] + [
        {"id": k, "parent_id": k - 1, "text": f"r{k}"} for k in range(1, 5000)
    ]
    (doc,) = thread_from_records(rows)
    assert doc.thread is not None and doc.thread.comments[-1].depth == 4998


def test_telegram_export_one_thread_per_post() -> None:
    docs = thread_from_telegram(read("telegram_result.json"))
    by_id = {d.id: d for d in docs}
    morning = by_id["1700123456:11"]
    assert morning.text.startswith("Morning summary")
    assert morning.thread is not None and morning.thread.kind == "telegram"
    check_invariants(morning.text, morning.thread)
    assert tree(morning.thread) == [
        ("Pavlo", None, 0),
        ("Sveta", "Pavlo", 1),
        ("Pavlo", "Sveta", 2),
        ("Olena", None, 0),  # replied to a photo without caption: moved up to the post
    ]
    assert bodies(morning.text, morning.thread)[1] == (
        "Here is a map from an open-source tracker, updated hourly."
    )
    assert by_id["1700123456:19"].thread is None  # a post nobody answered
    assert "1700123456:10" not in by_id  # service message
    deleted = by_id["1700123456:9"]
    assert deleted.thread is not None and deleted.thread.article == (0, 0)
    assert morning.record["date"] == "2023-01-05T10:00:00"


def test_telegram_bad_input_gives_no_documents() -> None:
    assert thread_from_telegram("{not json") == []
    assert thread_from_telegram("[]") == []
    assert thread_from_telegram({"messages": "nope"}) == []
    whole = {"chats": {"list": [json.loads(read("telegram_result.json"))]}}
    assert len(thread_from_telegram(whole)) == 4


def test_4cat_reddit_parents_and_missing_post() -> None:
    lines = read("4cat_reddit.ndjson").splitlines()
    docs = thread_from_4cat(lines)
    assert [d.id for d in docs] == ["xq1a", "zz9"]
    post = docs[0]
    assert post.text.startswith("Ukraine says it retook three villages near Lyman\n\nOfficial")
    assert post.thread is not None and post.thread.kind == "4cat"
    check_invariants(post.text, post.thread)
    assert [(c.id, c.parent, c.depth) for c in post.thread.comments] == [
        ("c001", None, 0),
        ("c002", "c001", 1),
        ("c003", "c002", 2),
        ("c004", None, 0),
    ]
    assert post.thread.comments[0].author == "skeptic_42"
    assert post.thread.comments[0].date == "2022-10-17T07:05:00+00:00"  # as the post's date
    assert any("not JSON" in w for w in post.thread.warnings)
    missing = docs[1]
    assert missing.thread is not None and missing.thread.article == (0, 0)


def test_4cat_board_quotes_name_the_parent() -> None:
    (doc,) = thread_from_4cat(read("4cat_chan.ndjson").encode().splitlines())
    assert doc.thread is not None
    assert [(c.id, c.parent) for c in doc.thread.comments] == [
        ("5002", None),
        ("5003", "5002"),
        ("5004", None),
    ]


def test_4cat_telegram_channels_keep_their_replies_and_posts_apart() -> None:
    """4CAT's Telegram items: ``thread_id`` is the channel and message ids repeat across
    channels; each channel post is a document with its own replies."""
    rows = [
        {"id": 5, "thread_id": "chan_a", "body": "Post five of A.", "reply_to": ""},
        {"id": 6, "thread_id": "chan_a", "body": "Post six of A.", "reply_to": ""},
        {"id": 7, "thread_id": "chan_a", "body": "Reply to A's five.", "reply_to": 5},
        {"id": 5, "thread_id": "chan_b", "body": "Post five of B.", "reply_to": ""},
        {"id": 8, "thread_id": "chan_b", "body": "Reply to B's five.", "reply_to": 5},
    ]
    lines = [json.dumps(r) for r in rows]
    docs = {d.id: d for d in thread_from_4cat(lines)}
    assert list(docs) == ["chan_a:5", "chan_a:6", "chan_b:5"]
    for doc_id, reply in [("chan_a:5", "chan_a:7"), ("chan_b:5", "chan_b:8")]:
        doc = docs[doc_id]
        assert doc.thread is not None and doc.thread.warnings == []
        assert [(c.id, c.parent) for c in doc.thread.comments] == [(reply, None)]
        assert doc.text[slice(*doc.thread.article)].startswith("Post five of")
    assert docs["chan_b:5"].text.endswith("Reply to B's five.")
    assert docs["chan_a:6"].thread is None


def test_html_cuts_comments_the_extractor_took_for_article() -> None:
    article = (
        "Power cuts return to Kharkiv\nRolling blackouts returned on Monday.\n"
        "We had four hours of power yesterday. The generators on our street run all night.\n"
        "Still, people help each other with water.\n"
        "Stay safe, Halyna. Is there a way to send generators from abroad?\n"
        "Yes, several charities collect them. Look for the ones that publish receipts.\n"
    )
    found = thread_from_html(read("wordpress_page.html"), article=article)
    assert found is not None
    text, thread = found
    check_invariants(text, thread)
    assert text[slice(*thread.article)] == (
        "Power cuts return to Kharkiv\nRolling blackouts returned on Monday."
    )
    assert text.count("four hours of power") == 1
    assert any("cut" in w for w in thread.warnings)


SHORT_PAGE = """<html><head><title>Ferry</title></head><body><article>
<h1>Ferry service resumes</h1>
<p>The ferry between the two harbours runs again from Friday, the operator said, after
three weeks of repairs to its engine and a new inspection of the hull.</p>
<p>Tickets bought for the cancelled crossings stay valid until the end of the month.</p>
<ul><li class="comment"><p class="comment-content">Kill them all!</p></li>
<li class="comment"><p class="comment-content">Stupid idiots.</p></li>
<li class="comment"><p class="comment-content">Finally.</p></li></ul>
</article></body></html>"""


def test_html_short_comments_never_stay_in_the_article() -> None:
    # extracted here: the comment nodes are left out of the page the article comes from
    text, thread = thread_from_html(SHORT_PAGE)  # type: ignore[misc]
    check_invariants(text, thread)
    article = text[slice(*thread.article)]
    assert "valid until the end of the month" in article
    assert bodies(text, thread) == ["Kill them all!", "Stupid idiots.", "Finally."]
    assert not any(body in article for body in bodies(text, thread))
    # an article extracted with them: cut at the first, whatever its length
    given = (
        "Ferry service resumes\nThe ferry between the two harbours runs again.\n"
        "- Kill them all!\n- Stupid idiots.\n- Finally."
    )
    text, thread = thread_from_html(SHORT_PAGE, article=given)  # type: ignore[misc]
    check_invariants(text, thread)
    assert text[slice(*thread.article)] == (
        "Ferry service resumes\nThe ferry between the two harbours runs again."
    )
    assert text.count("Kill them all!") == 1
    assert any("cut" in w for w in thread.warnings)


def test_html_one_comment_quoting_the_article_does_not_cut_it() -> None:
    page = read("wordpress_page.html").replace(
        "<p>The shelters around transformers do work against debris, just not direct hits.</p>",
        "<p>Residents queued for water at pumps in the northern districts, as you write.</p>",
    )
    article = "Title\nResidents queued for water at pumps in the northern districts, as you write."
    text, thread = thread_from_html(page, article=article)  # type: ignore[misc]
    assert text[slice(*thread.article)] == article
    assert thread.warnings == []


def test_html_page_without_comments_is_no_thread() -> None:
    page = (
        "<html><head><title>T</title></head><body><article><p>"
        + "A plain report about the front line and the weather in the region. " * 5
        + "</p></article></body></html>"
    )
    assert thread_from_html(page) is None


def test_header_variants_and_furniture_lines() -> None:
    dump = (
        "A short report on the ceasefire talks.\n\n"
        "Responses\n\n"
        "Alice on March 3, 2022 at 5:14 pm said:\n"
        "The talks are a show.\n"
        "Log in to Reply\n\n"
        "Bob wrote:\n"
        "3 March 2022 at 18:02\n"
        "Not a show, a delay.\n"
        "Like\n"
        "Liked by 2 people\n\n"
        "Jinx the cat says\n\n"
        "Names may hold small words once the thread is found.\n\n"
        "Carol • 2 days ago\n"
        "Both can be true.\n"
        "Reply • Share ›\n"
    )
    thread = split_thread(dump)
    assert thread is not None
    check_invariants(dump, thread)
    assert [c.author for c in thread.comments] == ["Alice", "Bob", "Jinx the cat", "Carol"]
    assert bodies(dump, thread) == [
        "The talks are a show.",
        "Not a show, a delay.",
        "Names may hold small words once the thread is found.",
        "Both can be true.",
    ]
    assert thread.comments[0].date == "March 3, 2022 at 5:14 pm"
    assert thread.comments[1].date == "3 March 2022 at 18:02"
    assert dump[slice(*thread.article)] == "A short report on the ceasefire talks."


@pytest.mark.parametrize(
    ("verb", "heading"),
    [
        ("пише:", "Коментарі (2)"),  # uk
        ("каза:", "Коментари"),  # bg
        ("escreveu:", "Comentários (2)"),  # pt
        ("ने कहा:", "टिप्पणियाँ"),  # hi
    ],
)
def test_headers_in_our_other_languages(verb: str, heading: str) -> None:
    dump = f"Текст статьи.\n\n{heading}\n\nИван {verb}\nПервый.\n\nОля {verb}\nВторой.\n"
    thread = split_thread(dump)
    assert thread is not None
    assert [c.author for c in thread.comments] == ["Иван", "Оля"]
    assert bodies(dump, thread) == ["Первый.", "Второй."]


def test_saved_disqus_and_article_comment_markup() -> None:
    disqus = (
        '<ul id="post-list"><li class="post" id="post-1"><div class="post-content">'
        '<span class="author">tankwatcher</span><a class="time-ago">3 years ago</a>'
        '<div class="post-message"><p>Old tanks, new drones.</p></div>'
        '<footer><menu class="post-menu"><li>Reply</li><li>Share ›</li></menu></footer>'
        '</div><ul class="children"><li class="post" id="post-2"><div class="post-content">'
        '<span class="author">Mila</span><div class="post-message"><p>Both matter.</p></div>'
        "</div></li></ul></li></ul>"
    )
    text, thread = thread_from_html(disqus, article="Art.")  # type: ignore[misc]
    assert text == "Art.\n\nOld tanks, new drones.\n\nBoth matter."
    assert tree(thread) == [("tankwatcher", None, 0), ("Mila", "tankwatcher", 1)]
    articles = (
        '<section><article class="comment" id="a1"><header class="comment-header">'
        '<span class="comment-author">Ana</span> <time datetime="2023-05-01">May 1</time>'
        "</header><p>First view.</p></article>"
        '<article class="comment" id="a2"><p>Second view.</p>'
        '<div class="comment-actions">Reply</div></article></section>'
    )
    text, thread = thread_from_html(articles, article="")  # type: ignore[misc]
    assert text == "First view.\n\nSecond view."
    assert thread.article == (0, 0)
    assert [(c.id, c.author, c.date) for c in thread.comments] == [
        ("a1", "Ana", "2023-05-01"),
        ("a2", None, None),
    ]


def test_blogger_youtube_and_russian_site_dumps() -> None:
    blogger = (
        "Post text about the offensive.\n\n3 comments:\n\n"
        "Anonymous said...\n\nThe map in the post is outdated.\n\n"
        "March 3, 2022 at 5:14 PM\n\n"
        "Dmitri K said...\n\nIt was updated this morning.\n\n"
        "March 3, 2022 at 6:01 PM\n\n"
        "Anonymous said...\n\nThanks.\n\nMarch 3, 2022 at 6:30 PM\n"
    )
    thread = split_thread(blogger)
    assert thread is not None
    assert bodies(blogger, thread) == [
        "The map in the post is outdated.",
        "It was updated this morning.",
        "Thanks.",
    ]
    youtube = (
        "Video description: a report from Kupiansk.\n\n"
        "@oksana_k 2 years ago\nThank you for showing the real situation.\n12\nReply\n\n"
        "@drone_guy 2 years ago (edited)\nWhat camera do you use?\nReply\n"
    )
    thread = split_thread(youtube)
    assert thread is not None
    assert [c.author for c in thread.comments] == ["@oksana_k", "@drone_guy"]
    assert bodies(youtube, thread)[1] == "What camera do you use?"
    site = (
        "Статья о восстановлении моста.\n\nКомментарии\n\n"
        "Иван Петров\n12 марта 2022, 14:05\nКогда откроют движение?\nОтветить\n\n"
        "Мария\n12 марта 2022, 15:20\nОбещают к лету.\nОтветить\n"
    )
    thread = split_thread(site)
    assert thread is not None
    assert [(c.author, c.date) for c in thread.comments] == [
        ("Иван Петров", "12 марта 2022, 14:05"),
        ("Мария", "12 марта 2022, 15:20"),
    ]
    assert bodies(site, thread) == ["Когда откроют движение?", "Обещают к лету."]


def test_livejournal_and_column_separated_headers() -> None:
    lj = (
        "Post.\n\nalice wrote:\n2022-03-03 05:14 pm (UTC)\nFirst.\n(Reply) (Thread)\n\n"
        "bob wrote:\n2022-03-03 06:00 pm (UTC)\nSecond.\n(Reply) (Parent) (Thread)\n"
    )
    thread = split_thread(lj)
    assert thread is not None
    assert [(c.author, c.date) for c in thread.comments] == [
        ("alice", "2022-03-03 05:14 pm (UTC)"),
        ("bob", "2022-03-03 06:00 pm (UTC)"),
    ]
    assert bodies(lj, thread) == ["First.", "Second."]
    columns = (
        "Post.\n\nAlice\tMarch 3, 2022 at 5:14 pm\nFirst.\nReply\n\n"
        "Bob    March 3, 2022 at 6:14 pm\nSecond.\nReply\n\n#3 Carol says:\nThird.\n"
    )
    thread = split_thread(columns)
    assert thread is not None
    assert [c.author for c in thread.comments] == ["Alice", "Bob", "Carol"]
    assert bodies(columns, thread) == ["First.", "Second.", "Third."]


def test_a_paragraph_between_heading_and_first_comment_stays_in_the_article() -> None:
    text = (
        "Comments\n\n"  # a sub-heading of the article, not the thread's
        "The ministry's comments on the strike were brief and came two days after it, "
        "when the damage to the port had already been filmed by residents.\n\n"
        "Sort by: newest\n\n"
        "1. Alice says\n\n  First.\n\n2. Bob says\n\n  Second.\n"
    )
    thread = split_thread(text)
    assert thread is not None
    assert "The ministry's comments" in text[slice(*thread.article)]
    assert bodies(text, thread) == ["First.", "Second."]
