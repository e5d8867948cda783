"""The input layer on real text: encodings, formats, folders, stdin and every kind of bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sys
import time
from pathlib import Path

import pytest

from narrascope import Document
from narrascope.errors import InputError
from narrascope.ingest import ReadOptions, decode_bytes, discover, read_inputs

RU = "Власти заявили, что удар по электростанции оставил без света тысячи жителей."
BG = "Според официалните данни цените на горивата в България се повишиха след началото на войната."
UK = "Жителі Харкова знову провели ніч у підвалах через обстріли, повідомила міська влада."
PT = "A população afirma que a situação económica piorou e que as sanções não resolvem nada."
HI = "विशेषज्ञों का कहना है कि युद्ध का खतरा लगातार बढ़ रहा है।"
EN = "Officials said the sanctions were working, but prices kept rising."


def read_all(*inputs: str | Path, **options: object) -> list[Document | InputError]:
    return list(read_inputs(list(inputs), ReadOptions(**options)))  # type: ignore[arg-type]


def only_doc(items: list[Document | InputError]) -> Document:
    assert len(items) == 1 and isinstance(items[0], Document), items
    return items[0]


def only_error(items: list[Document | InputError]) -> InputError:
    assert len(items) == 1 and isinstance(items[0], InputError), items
    return items[0]


# -- encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        (HI, HI.encode("utf-8")),
        (RU, b"\xef\xbb\xbf" + RU.encode("utf-8")),
        (UK, UK.encode("utf-16")),  # with BOM, native order
        (BG, b"\xff\xfe" + BG.encode("utf-16-le")),
        (EN, EN.encode("utf-16-le")),  # no BOM: NUL bytes at odd positions
        (RU, RU.encode("utf-16-be")),
        (PT, b"\xff\xfe\x00\x00" + PT.encode("utf-32-le")),
        (RU, RU.encode("cp1251")),
        (BG, BG.encode("cp1251")),
        (UK, UK.encode("cp1251")),
        (RU, RU.encode("koi8_r")),
        (PT, PT.encode("latin-1")),
        ("Não há paz.", "Não há paz.".encode("latin-1")),  # short: cp1251 would read "Nгo"
    ],
)
def test_decode_bytes_recovers_the_text(text: str, encoded: bytes) -> None:
    assert decode_bytes(encoded, "x.txt") == text


def test_utf16_cyrillic_without_any_ascii_and_without_bom() -> None:
    word = "Украина" * 20
    assert decode_bytes(word.encode("utf-16-le"), "x.txt") == word


def test_cp1251_files_come_out_as_cyrillic(tmp_path: Path) -> None:
    (tmp_path / "ru.txt").write_bytes(RU.encode("cp1251"))
    (tmp_path / "bg.txt").write_bytes(BG.encode("cp1251"))
    assert [d.text for d in read_all(tmp_path)] == [BG, RU]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + os.urandom(512), "looks like PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "looks like PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00", "looks like ZIP"),
        (b"\x7fELF\x02\x01\x01" + bytes(64), "looks like ELF"),
        (b"GARBAGE" + bytes(range(256)) * 4, "contains NUL bytes"),
        (bytes(range(1, 32)) * 20, "many control characters"),
    ],
)
def test_binary_input_is_refused(data: bytes, kind: str) -> None:
    with pytest.raises(InputError, match=f"binary file \\({kind}.*not text") as info:
        decode_bytes(data, "scan.bin")
    assert info.value.source == "scan.bin"


def test_undecodable_bytes_say_what_to_do() -> None:
    # Any byte decodes in KOI8 or Latin-1, but random high bytes read as text in none.
    noise = bytes(random.Random(0).randrange(0x80, 0x100) for _ in range(3000))
    with pytest.raises(InputError, match=r"cannot decode: not UTF-8.*re-save it as UTF-8"):
        decode_bytes(noise, "x.txt")


def test_a_stray_nul_byte_does_not_make_utf8_text_utf16(tmp_path: Path) -> None:
    text = "The Kremlin said on Monday that the talks had failed. " * 20
    data = text.encode()
    path = tmp_path / "nul.txt"
    path.write_bytes(data[:101] + b"\x00" + data[101:] + b" ")  # even length, as UTF-16
    doc = only_doc(read_all(path))
    assert doc.text == text[:101] + "\x00" + text[101:] + " "  # offsets hold
    assert doc.meta["input_warnings"] == [
        "1 NUL byte (the first at byte 101) kept as U+0000 characters; "
        "a corpus database stores them as U+FFFD"
    ]


def test_a_nul_byte_in_one_jsonl_record_loses_only_that_record(tmp_path: Path) -> None:
    lines = [json.dumps({"id": n, "text": f"Record {n}: {EN}"}).encode() for n in range(10)]
    lines[5] = lines[5].replace(b"Record", b"Rec\x00ord")
    path = tmp_path / "nul.jsonl"
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(data + b"\n" * (len(data) % 2))  # an even length, as UTF-16 has
    items = read_all(path)
    assert [d.id for d in items if isinstance(d, Document)] == [str(n) for n in range(10) if n != 5]
    (err,) = [e for e in items if isinstance(e, InputError)]
    assert err.source == f"{path}:6"
    assert err.reason.startswith("invalid JSON (Invalid control character")


def test_utf8_with_one_cp1252_byte_stays_utf8_with_a_warning(tmp_path: Path) -> None:
    text = "Zelensky said the war “will end” in victory. " * 20
    path = tmp_path / "pasted.txt"
    path.write_bytes(text.encode() + "Ukraine’s".encode("cp1252"))
    doc = only_doc(read_all(path))
    assert doc.text == text + "Ukraine\ufffds"  # not "вЂњwill endвЂќ" (cp1251)
    offset = len(text.encode()) + len("Ukraine")
    assert doc.meta["input_warnings"] == [
        f"not valid UTF-8 at byte {offset}: 1 bad byte sequence replaced by U+FFFD"
    ]


@pytest.mark.parametrize(
    "text", [RU[:-1], "Zelensky said the war “will end” in victory, it is “clear”"]
)
def test_utf8_cut_in_the_middle_of_its_last_character(tmp_path: Path, text: str) -> None:
    data = text.encode()[:-1]
    path = tmp_path / "cut.txt"
    path.write_bytes(data)
    doc = only_doc(read_all(path))  # not cp866 "тАЬwill endтАЭ", nor "cannot decode"
    assert doc.text == text[:-1] + "\ufffd"
    assert doc.meta["input_warnings"] == [
        f"ends in the middle of a UTF-8 character (byte {len(text[:-1].encode())}), "
        "replaced by U+FFFD"
    ]


# -- plain text files -----------------------------------------------------------------------


def test_crlf_is_kept_and_only_the_bom_is_stripped(tmp_path: Path) -> None:
    text = f"{RU}\r\n\r\n{EN}\r\n"
    path = tmp_path / "EN_UA_300009.txt"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    doc = only_doc(read_all(path))
    assert doc.text == text
    assert doc.id == "EN_UA_300009.txt"
    assert doc.meta == {"source": None, "url": None, "date": None, "path": str(path)}


@pytest.mark.parametrize("content", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf \n"])
def test_empty_document(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    err = only_error(read_all(path))
    assert err.reason.startswith("empty document")
    assert err.source == str(path)


def test_binary_file_in_a_folder_is_an_error_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    (tmp_path / "b.txt").write_text(PT, encoding="latin-1")
    png_error, doc = read_all(tmp_path)
    assert isinstance(png_error, InputError) and "looks like PNG" in png_error.reason
    assert isinstance(doc, Document) and doc.text == PT


def test_huge_file_is_rejected_from_its_size_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(50_000_000)  # sparse: takes no disk space
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("file was read"))
    start = time.perf_counter()
    err = only_error(read_all(path))
    assert time.perf_counter() - start < 1.0
    assert err.reason == (
        "file is 50.0 MB (50000000 bytes), over the 10.0 MB limit; "
        "raise it with --max-bytes (ReadOptions.max_bytes)"
    )


def test_max_bytes_can_be_raised(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(EN, encoding="utf-8")
    assert "--max-bytes" in only_error(read_all(path, max_bytes=10)).reason
    assert only_doc(read_all(path, max_bytes=1000)).text == EN


def test_missing_path(tmp_path: Path) -> None:
    err = only_error(read_all(tmp_path / "nope.txt"))
    assert err.reason == "no such file or folder; check the path"
    assert err.code == "E101"


# -- folders --------------------------------------------------------------------------------


def test_folders_are_walked_sorted_recursively_skipping_hidden(tmp_path: Path) -> None:
    for rel in ["b.txt", "a/z.txt", "a/c/y.txt", "a.txt", ".git/HEAD", "a/.hidden.txt", "c.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(EN, encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]  # type: ignore[union-attr]
    assert found == ["a/c/y.txt", "a/z.txt", "a.txt", "b.txt", "c.md"]
    assert list(discover([tmp_path / "b.txt", tmp_path, "-", "-"]))[-1] == "-"
    assert len(list(discover([tmp_path / "b.txt", tmp_path]))) == 5  # b.txt only once


def test_duplicate_names_keep_the_first_and_disambiguate_later_ones(tmp_path: Path) -> None:
    for folder, text in (("one", EN), ("two", RU)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "EN_UA_1.txt").write_text(text, encoding="utf-8")
    first, second = read_all(tmp_path)
    assert isinstance(first, Document) and isinstance(second, Document)
    assert (first.id, first.text) == ("EN_UA_1.txt", EN)
    assert second.id == (tmp_path / "two" / "EN_UA_1.txt").as_posix()


def test_a_repeated_id_is_an_error_naming_both_places_and_the_first_is_kept(
    tmp_path: Path,
) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps({"id": i, "text": t}) for i, t in [("x", EN), ("y", RU), ("x", UK)]),
        encoding="utf-8",
    )
    rows = tmp_path / "b.csv"
    rows.write_text(f"id,text\ny,{BG}\nz,{PT}\n", encoding="utf-8")
    text = tmp_path / "x"  # a file whose name is an id already used by a record
    text.write_text(HI, encoding="utf-8")
    items = read_all(jsonl, rows, text)
    docs = [i for i in items if isinstance(i, Document)]
    assert [(d.id, d.text) for d in docs] == [("x", EN), ("y", RU), ("z", PT)]
    errors = [(e.source, e.reason, e.code) for e in items if isinstance(e, InputError)]
    assert errors == [
        (f"{jsonl}:3", f"id 'x' repeated: first seen in {jsonl}:1; the first is kept", "E106"),
        (f"{rows}:2", f"id 'y' repeated: first seen in {jsonl}:2; the first is kept", "E106"),
        (str(text), f"id 'x' repeated: first seen in {jsonl}:1; the first is kept", "E106"),
    ]


# -- HTML -----------------------------------------------------------------------------------

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Kyiv under fire</title>
<link rel="canonical" href="https://news.example.org/kyiv-under-fire">
<meta property="article:published_time" content="2024-03-05T08:30:00+02:00">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/login">Log in to your account</a></li></ul></nav>
<article><h1>Kyiv under fire</h1>
<p>Air raid sirens sounded across the capital on Sunday morning as residents went down to
shelters in the metro stations.</p>
<p>Local officials said that the strikes damaged a power station and two apartment blocks
in the eastern districts of the city.</p></article>
<div class="comments"><div class="comment"><p>This reader comment says the West started
the war, which is a claim we need to see.</p></div></div>
<footer>Copyright 2024 Example News. All rights reserved. Subscribe to our newsletter.</footer>
</body></html>"""


def test_html_main_text_title_comments_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "kyiv.html"
    path.write_text(ARTICLE, encoding="utf-8")
    doc = only_doc(read_all(path))
    assert doc.id == "kyiv.html"
    assert doc.text.startswith("Kyiv under fire\nAir raid sirens sounded")
    assert "eastern districts of the city." in doc.text
    assert doc.text.endswith("which is a claim we need to see.")
    for boilerplate in ("Home", "Log in", "Copyright", "newsletter"):
        assert boilerplate not in doc.text
    assert doc.meta["url"] == "https://news.example.org/kyiv-under-fire"
    assert doc.meta["date"] == "2024-03-05"
    assert doc.meta["title"] == "Kyiv under fire"


def test_html_in_declared_cp1251(tmp_path: Path) -> None:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        f"</head><body><article><p>{RU}</p><p>{BG}</p></article></body></html>"
    )
    path = tmp_path / "ru.htm"
    path.write_bytes(html.encode("cp1251"))
    assert only_doc(read_all(path)).text == f"{RU}\n{BG}"


def test_html_without_main_text(tmp_path: Path) -> None:
    path = tmp_path / "app.html"
    path.write_text('<html><body><div id="root"></div><script>x()</script></body></html>')
    assert "no main text found" in only_error(read_all(path)).reason


def test_html_declared_latin1_is_read_as_windows_1252(tmp_path: Path) -> None:
    body = "The Kremlin called it a “special military operation” – observers disagreed."
    html = (
        '<html><head><meta charset="iso-8859-1"><title>Kremlin’s “operation”</title></head>'
        f"<body><article><p>{body}</p><p>{EN}</p></article></body></html>"
    )
    path = tmp_path / "latin1.html"
    path.write_bytes(html.encode("cp1252"))
    doc = only_doc(read_all(path))
    assert doc.meta["title"] == "Kremlin’s “operation”"
    assert body in doc.text


def test_html_declaring_utf16_in_an_ascii_meta_tag_is_utf8(tmp_path: Path) -> None:
    html = (
        '<html><head><meta charset="utf-16"><title>Заявление</title></head>'
        f"<body><article><p>{RU}</p><p>{EN}</p></article></body></html> "
    )
    data = html.encode()
    path = tmp_path / "utf16.html"
    path.write_bytes(data if len(data) % 2 == 0 else data + b" ")
    assert only_doc(read_all(path)).text == f"Заявление\n{RU}\n{EN}"


# -- JSONL ----------------------------------------------------------------------------------


def test_jsonl_bad_line_in_the_middle_does_not_stop_the_file(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"id": 7, "text": RU, "date": "2024/3/2", "source": "tg", "url": "https://t.me/x"}
        ),
        '{"text": "broken", ',
        "",
        json.dumps({"body": UK, "lang": "uk"}),
        json.dumps({"text": HI, "date": "2 March 2024"}),
        "[1, 2]",
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first, bad, missing, last, array = read_all(path)
    assert isinstance(first, Document)
    assert (first.id, first.text) == ("7", RU)
    assert first.meta == {
        "source": "tg",
        "url": "https://t.me/x",
        "date": "2024-03-02",
        "path": str(path),
    }
    assert isinstance(bad, InputError)
    assert bad.source == f"{path}:2"
    assert bad.reason.startswith("invalid JSON (")
    assert isinstance(missing, InputError)
    assert missing.source == f"{path}:4"
    assert missing.reason == (
        "no 'text' field (keys present: body, lang); choose the text field with --text-field"
    )
    assert isinstance(last, Document)
    assert (last.id, last.text, last.meta["date"]) == ("posts.jsonl:5", HI, "2 March 2024")
    assert isinstance(array, InputError)
    assert array.reason == "line is a JSON list, expected an object"


def test_jsonl_custom_fields_and_record_limits(tmp_path: Path) -> None:
    path = tmp_path / "c.ndjson"
    records = [
        {"uid": "a", "body": EN},
        {"uid": "b", "body": "x" * 200},
        {"uid": "c", "body": None},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    doc, big, null = read_all(path, text_field="body", id_field="uid", max_bytes=100)
    assert isinstance(doc, Document) and doc.id == "a"
    assert isinstance(big, InputError)
    assert big.reason.startswith("record text is 200 bytes, over the 100 bytes limit")
    assert isinstance(null, InputError) and null.reason == "field 'body' is null, expected a string"


def test_jsonl_in_cp1251_with_an_escaped_crlf(tmp_path: Path) -> None:
    path = tmp_path / "ru.jsonl"
    text = f"{RU}\r\n{BG}"
    path.write_bytes(json.dumps({"text": text}, ensure_ascii=False).encode("cp1251"))
    assert only_doc(read_all(path)).text == text


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"text": "cut', "invalid JSON (Unterminated string starting at column 10)"),
        ('{"text": "a\tb"}', "invalid JSON (Invalid control character at column 12)"),
        ('{"text" "x"}', "invalid JSON (Expecting ':' delimiter at column 9)"),
        ('{"text": "x"} {}', "invalid JSON (Extra data at column 15)"),
    ],
)
def test_jsonl_errors_name_the_column_once(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    err = only_error(read_all(path))
    assert (err.source, err.reason) == (f"{path}:1", reason)  # never "at at column"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_line_separators_inside_json_strings_do_not_split_records(
    tmp_path: Path, separator: str
) -> None:
    items = [
        {"id": "100", "thread_id": "100", "body": f"Russia will win.{separator}Second line."},
        {"id": "101", "thread_id": "100", "body": f"No,{separator}Ukraine will."},
        {"id": "102", "thread_id": "100", "body": "Plain reply here."},
    ]
    fourcat = tmp_path / "fourcat.ndjson"
    fourcat.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    doc = only_doc(read_all(fourcat))  # recognised as 4CAT, all three items kept
    assert doc.id == "100"
    assert doc.article_text == f"Russia will win.{separator}Second line."
    assert [doc.comment_text(c) for c in doc.comments] == [
        f"No,{separator}Ukraine will.",
        "Plain reply here.",
    ]
    export = {
        "name": "War news",
        "type": "public_channel",
        "id": 12345,
        "messages": [
            {"id": 1, "type": "message", "date": "2024-03-01T10:00:00", "text": f"A.{separator}B."}
        ],
    }
    telegram = tmp_path / "result.json"
    telegram.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")  # one line
    assert only_doc(read_all(telegram)).text == f"A.{separator}B."


def test_json_array_gets_a_conversion_hint(tmp_path: Path) -> None:
    path = tmp_path / "all.json"
    path.write_text(json.dumps([{"text": EN}, {"text": RU}], indent=2), encoding="utf-8")
    assert "jq -c '.[]'" in only_error(read_all(path)).reason


# -- CSV ------------------------------------------------------------------------------------


def test_csv_ragged_row_and_custom_fields(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(
        "post_id;content;published\r\n"
        f'p1;"{PT}";2024-03-01\r\n'
        "p2;too;many;cells\r\n"
        f'p3;"{RU}\r\nsecond line; with a semicolon";2024-03-03\r\n',
        encoding="utf-8",
    )
    items = read_all(path, text_field="content", id_field="post_id", date_field="published")
    first, ragged, multiline = items
    assert isinstance(first, Document)
    assert (first.id, first.text, first.meta["date"]) == ("p1", PT, "2024-03-01")
    assert isinstance(ragged, InputError)
    assert ragged.source == f"{path}:3"
    assert ragged.reason.startswith("row has 4 columns but the header has 3")
    assert isinstance(multiline, Document)
    assert multiline.text == f"{RU}\r\nsecond line; with a semicolon"


def test_csv_without_the_text_column_lists_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"id,body\n1,{EN}\n", encoding="utf-8")
    err = only_error(read_all(path))
    assert err.reason == (
        "no 'text' column (columns: id, body); choose the text column with --text-field"
    )


def test_tsv_in_cp1251_with_default_ids(tmp_path: Path) -> None:
    path = tmp_path / "bg.tsv"
    path.write_bytes(f"text\tsource\n{BG}\tbnr\n{RU}\t\n".encode("cp1251"))
    first, second = read_all(path)
    assert isinstance(first, Document) and isinstance(second, Document)
    assert (first.id, first.text, first.meta["source"]) == ("bg.tsv:2", BG, "bnr")
    assert (second.id, second.text, second.meta["source"]) == ("bg.tsv:3", RU, None)


def test_csv_with_crlf_keeps_doubled_quotes(tmp_path: Path) -> None:
    text = 'Lavrov: "The West wants war"; Kyiv denied it.'
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # CRLF line ends, as Excel writes them
    writer.writerows([["id", "text"], ["1", text], ["2", "Kyiv denied it."]])
    path = tmp_path / "quotes.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    assert [d.text for d in read_all(path)] == [text, "Kyiv denied it."]  # type: ignore[union-attr]


def test_semicolon_csv_with_crlf_and_a_semicolon_in_a_field(tmp_path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerows([["id", "text"], ["1", "Путин сказал: война; мир."], ["2", RU]])
    path = tmp_path / "ru.csv"
    path.write_bytes(buffer.getvalue().encode("cp1251"))
    items = read_all(path)
    assert [(d.id, d.text) for d in items] == [  # type: ignore[union-attr]
        ("1", "Путин сказал: война; мир."),
        ("2", RU),
    ]


def test_csv_header_in_one_column_names_its_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    # a ragged row leaves the Sniffer without a guess; the header still shows the ";"
    path.write_text("id;text\n1;Kyiv, Lviv; and Odesa\n2;Kharkiv was shelled again\n", "utf-8")
    ragged, doc = read_all(path)
    assert isinstance(ragged, InputError) and ragged.source == f"{path}:2"
    assert ragged.code == "E108"
    assert isinstance(doc, Document) and (doc.id, doc.text) == ("2", "Kharkiv was shelled again")


def test_csv_row_over_the_limit_is_skipped_whole_and_the_file_goes_on(tmp_path: Path) -> None:
    big = "Russia, Ukraine\n2,fake row inside the field\n" * 5000  # 220 000 characters
    path = tmp_path / "big.csv"
    path.write_text(f'id,text\n1,"{big}"\n3,"{RU}"\n4,"{EN}"\n', encoding="utf-8")
    for max_bytes in (10_000_000, 1000, 10_000_000, 1000):  # no state left by a read
        items = read_all(path, max_bytes=max_bytes)
        if max_bytes > len(big):
            assert [d.id for d in items] == ["1", "3", "4"]  # type: ignore[union-attr]
            continue
        err, third, fourth = items
        assert isinstance(err, InputError) and err.source == f"{path}:2"
        assert err.code == "E102" and err.reason.startswith("row is 220.0 KB")
        assert isinstance(third, Document) and (third.id, third.text) == ("3", RU)
        assert isinstance(fourth, Document) and (fourth.id, fourth.text) == ("4", EN)


def test_csv_quoted_field_never_closed_stops_the_file_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_text(f'id,text\n1,"{RU}"\n2,"{"x" * 80_000}\n3,"{EN}"\n', encoding="utf-8")
    first, too_big, unclosed = read_all(path, max_bytes=1000)
    assert isinstance(first, Document) and first.text == RU
    assert isinstance(too_big, InputError) and too_big.source == f"{path}:3"
    assert too_big.reason.startswith("row is more than 80.1 KB")
    assert isinstance(unclosed, InputError) and unclosed.source == f"{path}:3"
    assert unclosed.reason == (
        "a quoted field is not closed before the end of the file; the rest of the file is skipped"
    )


def test_forced_input_format(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    path.write_text(json.dumps({"text": EN}) + "\n", encoding="utf-8")
    assert only_doc(read_all(path)).text.startswith("{")  # unknown extension: plain text
    assert only_doc(read_all(path, input_format="jsonl")).text == EN
    with pytest.raises(ValueError, match="unknown input_format 'xlsx'"):
        ReadOptions(input_format="xlsx")


# -- stdin ----------------------------------------------------------------------------------


class FakeStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(f"{BG}\r\n".encode("cp1251")))
    doc = only_doc(read_all("-"))
    assert (doc.id, doc.text, doc.meta["path"]) == ("stdin", f"{BG}\r\n", None)


def test_stdin_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    data = "\n  " + json.dumps({"text": UK}) + "\nnot json\n" + json.dumps({"text": EN, "id": "e"})
    monkeypatch.setattr(sys, "stdin", FakeStdin(data.encode("utf-8")))
    first, bad, last = read_all("-")
    assert isinstance(first, Document) and (first.id, first.text) == ("stdin:2", UK)
    assert isinstance(bad, InputError) and bad.source == "<stdin>:3"
    assert isinstance(last, Document) and last.id == "e"


def test_stdin_empty_and_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(b""))
    assert only_error(read_all("-")).source == "<stdin>"
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"\x89PNG\r\n\x1a\n..."))
    assert "looks like PNG image" in only_error(read_all("-")).reason
    # a PDF is read as one (this one is cut short, and says so)
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"%PDF-1.4\n..."))
    assert "the PDF could not be read" in only_error(read_all("-")).reason


def test_reading_is_lazy(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"text": f"{EN} {i}"}) + "\n" for i in range(1000)))
    stream = read_inputs([path])
    assert isinstance(next(stream), Document)
    assert sum(1 for _ in stream) == 999


def test_estimate_count_for_progress_bars(tmp_path: Path) -> None:
    from narrascope.ingest import estimate_count

    (tmp_path / "a.txt").write_text("one document", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"text": "x"}\n{"text": "y"}\n{"text": "z"}\n')
    (tmp_path / "c.csv").write_text("id,text\n1,x\n2,y\n")
    assert estimate_count([tmp_path]) == 1 + 3 + 2
    assert estimate_count([tmp_path, "-"]) is None


def test_estimate_count_counts_a_last_line_without_newline(tmp_path: Path) -> None:
    from narrascope.ingest import estimate_count

    (tmp_path / "a.jsonl").write_text('{"text": "one"}\n{"text": "two"}', encoding="utf-8")
    (tmp_path / "b.csv").write_text("text\nthree\nfour", encoding="utf-8")
    assert estimate_count([tmp_path / "a.jsonl"]) == 2
    assert estimate_count([tmp_path / "b.csv"]) == 2


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_estimate_count_reads_every_line_ending(tmp_path: Path, end: str) -> None:
    from narrascope.ingest import estimate_count

    rows = ["id,text", "1,one", "2,two", "3,three"]
    (tmp_path / "a.csv").write_bytes(end.join(rows).encode() + end.encode())
    (tmp_path / "b.jsonl").write_bytes(end.join('{"text": "x"}' for _ in range(4)).encode())
    assert estimate_count([tmp_path / "a.csv"]) == 3
    assert estimate_count([tmp_path / "b.jsonl"]) == 4


def test_estimate_count_a_crlf_split_between_reads_is_one_line(tmp_path: Path) -> None:
    from narrascope.ingest import estimate_count

    first = '{"text": "' + "x" * ((1 << 20) - 13) + '"}'  # its \r is the read's last byte
    assert len(first.encode()) == (1 << 20) - 1
    (tmp_path / "big.jsonl").write_bytes(first.encode() + b'\r\n{"text": "y"}\r\n')
    assert estimate_count([tmp_path / "big.jsonl"]) == 2
