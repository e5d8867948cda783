"""Inputs as they come from the real world: old-Mac line ends, a stray cp1252 byte, a wrong
charset declaration, hand-made comment markup, an XML declaration, decomposed letters.

Each test writes its own small input; every failure must stay with its file or row."""

from __future__ import annotations

import io
import json
import sys
import unicodedata
from pathlib import Path

import pytest

from narrascope import Document
from narrascope.errors import InputError
from narrascope.ingest import ReadOptions, decode_bytes, read_inputs
from narrascope.ingest.encoding import E_DECODE, E_NOT_FOUND

EN = "Officials said the sanctions were working, but prices kept rising."
RU = "Власти заявили, что удар по электростанции оставил без света тысячи жителей."
UK = "Жителі Харкова знову провели ніч у підвалах через обстріли, повідомила міська влада."
PT = "A população afirma que a situação económica piorou e que as sanções não resolvem nada."
ARTICLE = (
    "<p>The city council voted on Friday to spend 3 million euros on upgrading bomb "
    "shelters in schools, the mayor's office said.</p>\n<p>Work on the first twelve shelters "
    "will begin in September and should be finished before winter, officials said.</p>\n"
    "<p>Parents' associations had campaigned for the upgrades for more than a year.</p>"
)


def read_all(*inputs: str | Path, **options: object) -> list[Document | InputError]:
    return list(read_inputs(list(inputs), ReadOptions(**options)))  # type: ignore[arg-type]


def docs(items: list[Document | InputError]) -> list[Document]:
    return [item for item in items if isinstance(item, Document)]


def errors(items: list[Document | InputError]) -> list[InputError]:
    return [item for item in items if isinstance(item, InputError)]


def only_doc(items: list[Document | InputError]) -> Document:
    assert len(items) == 1 and isinstance(items[0], Document), items
    return items[0]


def page(body: str, head: str = '<meta charset="utf-8">') -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head>{head}<title>Shelters</title></head><body>"
        f"<div class='main'><h1>Shelters</h1>\n{ARTICLE}\n</div>\n{body}\n</body></html>"
    )


# -- CSV: old-Mac line ends and stray bytes --------------------------------------------------


def test_a_csv_with_bare_cr_line_ends_is_read_and_the_batch_goes_on(tmp_path: Path) -> None:
    """Excel for Mac's "CSV (Macintosh)" ends rows in "\\r"; it crashed the whole batch."""
    good = tmp_path / "a.csv"
    good.write_text(f'id,text\na1,"{EN}"\n', encoding="utf-8")
    old_mac = tmp_path / "b.csv"
    old_mac.write_bytes(f'id,text\rb1,"{RU}"\rb2,"{UK}"\r'.encode())
    after = tmp_path / "c.txt"
    after.write_text(PT, encoding="utf-8")
    items = read_all(good, old_mac, after)
    assert not errors(items)
    assert [(d.id, d.text) for d in docs(items)] == [
        ("a1", EN),
        ("b1", RU),
        ("b2", UK),
        ("c.txt", PT),
    ]


def test_a_stray_cp1252_byte_in_a_csv_costs_no_row(tmp_path: Path) -> None:
    lines = [f'{n},"Row {n}: the ministry said exports grew – officials added."' for n in range(6)]
    data = ("id,text\n" + "\n".join(lines) + "\n").encode()
    path = tmp_path / "sheet.csv"
    path.write_bytes(data.replace(b"Row 3: the ministry", b"Row 3: the ministry\x92s office"))
    items = read_all(path)
    assert not errors(items)
    found = {d.id: d for d in docs(items)}
    assert sorted(found) == ["0", "1", "2", "3", "4", "5"]
    assert (
        found["3"].text == "Row 3: the ministry\ufffds office said exports grew – officials added."
    )
    assert found["3"].meta["input_warnings"] == ["not valid utf-8: 1 bad byte replaced by U+FFFD"]
    assert "–" in found["4"].text and "input_warnings" not in found["4"].meta


def test_a_stray_byte_far_into_a_big_csv_is_reported_at_its_own_row(tmp_path: Path) -> None:
    """A strict decoder stopped at the chunk holding the byte: half the rows were lost, and
    the error named another row."""
    lines = [f'{n},"Row {n}: grain exports grew – officials said."' for n in range(1, 1001)]
    data = ("id,text\n" + "\n".join(lines) + "\n").encode()
    data = data.replace(b"Row 500: grain", b"Row 500: grain\x92s")
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    items = read_all(path)
    assert not errors(items)
    assert len(items) == 1000
    flagged = [d.id for d in docs(items) if d.meta.get("input_warnings")]
    assert flagged == ["500"]


def test_a_row_in_another_encoding_is_the_only_row_lost(tmp_path: Path) -> None:
    """A cp1251 row in a file whose start is UTF-8 is refused alone, not analysed as
    replacement characters, and the rows after it are read."""
    before = "".join(f'{n},"{UK}"\n' for n in range(1, 31))
    data = (
        f"id,text\n{before}".encode()
        + b'31,"'
        + RU.encode("cp1251")
        + b'"\n'
        + f'32,"{EN}"\n'.encode()
    )
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    items = read_all(path)
    assert [d.id for d in docs(items)] == [*map(str, range(1, 31)), "32"]
    (bad,) = errors(items)
    assert (bad.source, bad.code) == (f"{path}:32", E_DECODE)
    assert "row is not valid utf-8" in bad.reason


def test_a_stray_byte_in_a_grouped_csv_is_said_on_its_thread(tmp_path: Path) -> None:
    path = tmp_path / "thread.csv"
    path.write_bytes(
        b"id,parent,text\n"
        + f'p1,,"{EN} – yes"\n'.encode()
        + b'c1,p1,"That\x92s not what the report says."\n'
    )
    doc = only_doc(read_all(path, parent_field="parent"))
    assert [c.id for c in doc.comments] == ["c1"]
    assert doc.comment_text(doc.comments[0]) == "That\ufffds not what the report says."
    assert doc.meta["input_warnings"] == [
        f"{path}:3: not valid utf-8: 1 bad byte replaced by U+FFFD"
    ]


def test_a_stray_byte_in_a_jsonl_line_keeps_the_line(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(
        json.dumps({"id": "a", "text": f"{EN} – yes"}, ensure_ascii=False).encode()
        + b'\n{"id": "b", "text": "It was the army\x92s third loss."}\n'
    )
    items = read_all(path)
    assert not errors(items)
    second = docs(items)[1]
    assert second.text == "It was the army\ufffds third loss."
    assert second.meta["input_warnings"] == ["not valid utf-8: 1 bad byte replaced by U+FFFD"]


def test_a_jsonl_file_with_bare_cr_line_ends_is_read_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "old_mac.jsonl"
    records = [{"id": "r1", "text": RU}, {"id": "r2", "text": UK}]
    path.write_bytes("\r".join(json.dumps(r, ensure_ascii=False) for r in records).encode() + b"\r")
    assert [(d.id, d.text) for d in docs(read_all(path))] == [("r1", RU), ("r2", UK)]


# -- text encodings --------------------------------------------------------------------------


def test_mostly_ascii_utf8_with_one_cp1252_byte_stays_utf8() -> None:
    data = (
        "The ministry — citing intelligence — said the convoy was hit near Kupiansk. ".encode()
        + b"It was the army\x92s third loss this week."
    )
    warnings: list[str] = []
    text = decode_bytes(data, "mixed.txt", warnings)
    assert text.startswith("The ministry — citing intelligence — said")
    assert "army\ufffds third" in text
    assert warnings == ["not valid UTF-8 at byte 95: 1 bad byte sequence replaced by U+FFFD"]


def test_a_legacy_guess_despite_as_much_valid_utf8_is_said() -> None:
    """Two adjacent bad bytes are no lone stray, so the text goes to the legacy guess; but it
    holds as many valid UTF-8 characters as bad bytes, which the reader must learn."""
    data = "Ok — fine — good".encode() + b" \x93\x94 end."
    warnings: list[str] = []
    decode_bytes(data, "odd.txt", warnings)
    assert len(warnings) == 1 and "valid UTF-8" in warnings[0]


@pytest.mark.parametrize(
    ("encoding", "quoted"), [("cp1251", "«РИА НОВОСТИ»"), ("cp866", "РИА"), ("koi8_r", "РИА")]
)
def test_legacy_cyrillic_gets_no_utf8_warning(encoding: str, quoted: str) -> None:
    """Legacy Cyrillic forms a few valid UTF-8 characters by chance (cp1251 "И»", cp866
    "сла"): no reason to doubt the guess."""
    text = f"{quoted} сообщает: {RU} Слава, шла, ещё, её."
    warnings: list[str] = []
    assert decode_bytes(text.encode(encoding), "old.txt", warnings) == text
    assert warnings == []


# -- HTML: charset, comment markup, XML declaration, metadata --------------------------------


def test_a_utf8_page_declaring_a_single_byte_charset_is_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ru.html"
    body = f"<p>{RU}</p><p>{RU}</p><p>{RU}</p>"
    path.write_bytes(
        "<html><head><meta charset='windows-1251'><title>Мост через Волгу</title></head>"
        f"<body><article><h1>Мост через Волгу</h1>{body}</article></body></html>".encode()
    )
    doc = only_doc(read_all(path))
    assert doc.text.startswith("Мост через Волгу\n") and RU in doc.text
    assert doc.meta["input_warnings"] == [
        "the page declares charset 'windows-1251' but is valid UTF-8: read as UTF-8"
    ]
    legacy = tmp_path / "ru_cp1251.html"  # a true cp1251 page still follows its declaration
    legacy.write_bytes(path.read_text().encode("cp1251"))
    doc = only_doc(read_all(legacy))
    assert RU in doc.text and "input_warnings" not in doc.meta


DIV_COMMENTS = """<div class="comments"><h3>Comments (2)</h3>
<div class="comment"><span class="author">mike_77</span> <span class="date">2023-06-02 14:11</span>
<div class="text">About time. My kids' school has no proper shelter.</div></div>
<div class="comment"><span class="author">Anonymous</span>
<span class="date">2023-06-03 08:40</span>
<div class="text">3 million is nothing, they spent more on the new stadium.</div></div></div>"""


@pytest.mark.parametrize("tag", ["div", "section"])
def test_div_and_section_comment_markup_is_read_as_comments(tmp_path: Path, tag: str) -> None:
    path = tmp_path / "council.html"
    name = "comment" if tag == "div" else "comment-item"
    markup = DIV_COMMENTS.replace('<div class="comment">', f'<{tag} class="{name}">')
    markup = markup.replace("</div></div>", f"</div></{tag}>")
    path.write_text(page(markup), encoding="utf-8")
    doc = only_doc(read_all(path))
    shown = [(c.author, c.date, doc.comment_text(c)) for c in doc.comments]
    assert shown == [
        ("mike_77", "2023-06-02 14:11", "About time. My kids' school has no proper shelter."),
        (
            "Anonymous",
            "2023-06-03 08:40",
            "3 million is nothing, they spent more on the new stadium.",
        ),
    ]
    assert doc.meta["date"] is None  # the article states none; a comment's is not its
    assert "Comments (2)" not in doc.text and "thread_warnings" not in doc.meta


def test_unreadable_comment_markup_gives_no_heading_comment_and_no_date(tmp_path: Path) -> None:
    """Markup no rule knows: the heading "Comments (2)" once became the only "comment", and
    the first comment's time the page's date."""
    unknown = """<div class="comments"><h3>Comments (2)</h3>
<div class="entry"><span class="who">mike_77</span> <time datetime="2023-06-02T14:11">2 June</time>
<div class="words">About time. My kids' school has no proper shelter.</div></div></div>"""
    path = tmp_path / "odd.html"
    path.write_text(page(unknown), encoding="utf-8")
    doc = only_doc(read_all(path))
    assert doc.comments == []
    assert doc.meta["date"] is None
    assert doc.meta["thread_warnings"] == [
        "the page has a comment section, but its comments could not be read"
    ]
    assert "Comments (2)" not in doc.text


def test_an_xml_declaration_does_not_hide_the_comment_markup(tmp_path: Path) -> None:
    comments = """<ol class="comment-list">
<li class="comment" id="comment-5">
<div class="comment-author vcard"><b class="fn">Петрович</b></div>
<div class="comment-metadata"><time datetime="2023-05-22T10:00:00">22 мая</time></div>
<div class="comment-content"><p>Держитесь, земляки.</p></div></li>
<li class="comment" id="comment-6"><div class="comment-author vcard"><b class="fn">Ирина</b></div>
<div class="comment-content"><p>Когда дадут свет?</p></div></li></ol>"""
    path = tmp_path / "page.xhtml"
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + page(comments), encoding="utf-8")
    doc = only_doc(read_all(path))
    assert [(c.id, c.author, doc.comment_text(c)) for c in doc.comments] == [
        ("comment-5", "Петрович", "Держитесь, земляки."),
        ("comment-6", "Ирина", "Когда дадут свет?"),
    ]
    assert doc.meta["date"] is None


def test_an_html_page_keeps_its_author(tmp_path: Path) -> None:
    path = tmp_path / "byline.html"
    path.write_text(
        page("", head='<meta charset="utf-8"><meta name="author" content="Dana Whitfield">'),
        encoding="utf-8",
    )
    assert only_doc(read_all(path)).meta["author"] == "Dana Whitfield"


# -- stdin, folders, 4CAT ----------------------------------------------------------------------


class FakeStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_honours_the_input_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(page("").encode()))
    doc = only_doc(read_all("-", input_format="html"))
    assert doc.id == "stdin" and doc.meta["path"] is None
    assert doc.text.startswith("Shelters\nThe city council voted") and "<p>" not in doc.text

    monkeypatch.setattr(sys, "stdin", FakeStdin(f'id,text\nx,"{EN}"\ny,"{RU}"\n'.encode()))
    assert [(d.id, d.text) for d in docs(read_all("-", input_format="csv"))] == [
        ("x", EN),
        ("y", RU),
    ]

    braced = "{Updated} Kyiv was shelled overnight, officials said."
    monkeypatch.setattr(sys, "stdin", FakeStdin(braced.encode()))
    assert only_doc(read_all("-", input_format="txt")).text == braced


def test_a_broken_symlink_in_a_folder_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "real.txt").write_text(EN, encoding="utf-8")
    (folder / "gone.txt").symlink_to(tmp_path / "moved_away.txt")
    items = read_all(folder)
    assert [d.id for d in docs(items)] == ["real.txt"]
    (bad,) = errors(items)
    assert bad.source == str(folder / "gone.txt") and bad.code == E_NOT_FOUND
    assert "broken symbolic link" in bad.reason and "moved_away.txt" in bad.reason


def test_4cat_comment_dates_are_written_as_the_posts_date(tmp_path: Path) -> None:
    path = tmp_path / "reddit.ndjson"
    items = [
        {"id": "t", "thread_id": "t", "body": EN, "author": "a", "timestamp": 1700000000},
        {
            "id": "c1",
            "thread_id": "t",
            "parent": "t3_t",
            "body": "Source?",
            "timestamp": 1700000600,
        },
        {
            "id": "c2",
            "thread_id": "t",
            "parent": "t1_c1",
            "body": "Page 4.",
            "timestamp": "2023-11-14 22:30:00",
        },
    ]
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    doc = only_doc(read_all(path))
    assert doc.meta["date"] == "2023-11-14T22:13:20+00:00"
    assert [c.date for c in doc.comments] == ["2023-11-14T22:23:20+00:00", "2023-11-14T22:30:00"]


# -- Unicode normalisation -------------------------------------------------------------------


def test_decomposed_text_is_composed_with_a_warning(tmp_path: Path) -> None:
    nfc = f"{RU} Сергей Шойгу заявил, что войну затянут. {PT}"
    path = tmp_path / "nfd.txt"
    path.write_text(unicodedata.normalize("NFD", nfc), encoding="utf-8")
    doc = only_doc(read_all(path))
    assert doc.text == nfc
    (warning,) = doc.meta["input_warnings"]
    assert "not in Unicode NFC" in warning and "offsets refer to the normalised text" in warning
    plain = tmp_path / "nfc.txt"
    plain.write_text(nfc, encoding="utf-8")
    assert "input_warnings" not in only_doc(read_all(plain)).meta


def test_composing_a_thread_keeps_each_comment_on_its_words(tmp_path: Path) -> None:
    dump = (
        "Жителі Харкова знову провели ніч у підвалах.\n\nКоментарі (2)\n\n"
        "Йосип\n3 березня 2022 о 17:14\nЇжак і йорж — це наші.\n\n"
        "Олена\n3 березня 2022 о 18:02\nНе йдіть туди, будь ласка.\n"
    )
    path = tmp_path / "thread.txt"
    path.write_text(unicodedata.normalize("NFD", dump), encoding="utf-8")
    doc = only_doc(read_all(path))
    assert doc.text == dump
    assert [doc.comment_text(c) for c in doc.comments] == [
        "Їжак і йорж — це наші.",
        "Не йдіть туди, будь ласка.",
    ]
    assert doc.article is not None
    assert (
        doc.text[doc.article[0] : doc.article[1]] == "Жителі Харкова знову провели ніч у підвалах."
    )


@pytest.mark.skipif(sys.platform != "linux", reason="a file name in raw bytes: POSIX file systems")
def test_a_cp1251_file_name_gives_one_readable_id_in_every_output(tmp_path: Path) -> None:
    """A Windows zip unpacks Cyrillic names as cp1251 bytes: Python reads them as lone
    surrogates, which JSONL kept and CSV turned into '?', so one document had two ids."""
    import os

    from narrascope.ingest.encoding import readable_name

    folder = tmp_path / "zip"
    folder.mkdir()
    raw = os.path.join(os.fsencode(folder), "Обстріл Харкова.txt".encode("cp1251"))
    with open(raw, "wb") as out:
        out.write(EN.encode())
    (folder / "plain.txt").write_text(RU, encoding="utf-8")
    found = {d.id: d for d in docs(read_all(folder))}
    assert set(found) == {"Обстріл Харкова.txt", "plain.txt"}
    assert found["Обстріл Харкова.txt"].meta["path"].endswith("/Обстріл Харкова.txt")
    assert found["Обстріл Харкова.txt"].text == EN
    # a UTF-8 folder holding such a name keeps its own letters
    assert readable_name("папка/" + os.fsdecode("файл.txt".encode("cp1251"))) == "папка/файл.txt"
    assert readable_name("plain/name.txt") == "plain/name.txt"
