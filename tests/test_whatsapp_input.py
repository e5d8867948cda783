"""A WhatsApp chat export is read as its messages: one document each, with its sender,
its time and the chat, not as one text whose claims and hate cannot be told apart."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from narrascope.doc import Document
from narrascope.errors import E_EMPTY, E_TOO_LARGE, InputError
from narrascope.ingest import ReadOptions, read_inputs

ANDROID = (
    "23/03/2024, 14:35 - Messages and calls are end-to-end encrypted. No one outside of "
    "this chat can read them.\n"
    '23/03/2024, 14:35 - Ravi created group "Town news"\n'
    "23/03/2024, 14:36 - Ravi: The attack in Ashby was staged, share before they delete it\n"
    "23/03/2024, 14:37 - Ravi: <Media omitted>\n"
    "23/03/2024, 14:40 - +91 98765 43210: This was already debunked.\n"
    "See the fact check from yesterday: it was a drill.\n"
    "24/03/2024, 09:02 - Anna: This message was deleted\n"
    "24/03/2024, 09:03 - Anna: ok\n"
)
IOS = (
    "[3/23/24, 2:35:12 PM] Town news: \u200eMessages and calls are end-to-end encrypted.\n"
    "[3/23/24, 2:36:40 PM] Ana Lima: O ataque em Ashby foi encenado, compartilhem\n"
    "[3/23/24, 11:02:00 PM] ~ Bruno: \u200eimage omitted\n"
    "[3/24/24, 12:05:09 AM] ~ Bruno: Já foi desmentido.\n"
)


def _items(path: Path, options: ReadOptions | None = None) -> list[Document | InputError]:
    return list(read_inputs([path], options))


def test_an_android_export_is_one_document_per_message(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat with Town news.txt"
    path.write_text(ANDROID, encoding="utf-8")
    docs = _items(path)
    assert all(isinstance(d, Document) for d in docs)
    assert [d.id for d in docs] == [
        "WhatsApp Chat with Town news.txt:3",
        "WhatsApp Chat with Town news.txt:5",
        "WhatsApp Chat with Town news.txt:8",
    ]
    first, second, third = docs
    assert first.text == "The attack in Ashby was staged, share before they delete it"
    assert second.text == (
        "This was already debunked.\nSee the fact check from yesterday: it was a drill."
    )
    assert third.text == "ok"
    assert [d.meta["date"] for d in docs] == [
        "2024-03-23T14:36:00",
        "2024-03-23T14:40:00",
        "2024-03-24T09:03:00",
    ]
    assert [d.meta["author"] for d in docs] == ["Ravi", "+91 98765 43210", "Anna"]
    assert {d.meta["source"] for d in docs} == {"WhatsApp Chat with Town news"}
    assert all("input_warnings" not in d.meta for d in docs)  # 23/03 told day first


def test_an_ios_export_with_a_12_hour_clock_and_month_first_dates(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(IOS, encoding="utf-8")
    docs = _items(path)
    assert [(d.meta["author"], d.meta["date"], d.text) for d in docs] == [
        ("Ana Lima", "2024-03-23T14:36:40", "O ataque em Ashby foi encenado, compartilhem"),
        ("Bruno", "2024-03-24T00:05:09", "Já foi desmentido."),
    ]


def test_dates_that_do_not_tell_day_from_month_are_read_day_first_and_say_so(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        "02/03/2024, 10:00 - Ravi: First message of the chat\n"
        "02/03/2024, 10:05 - Anna: Second message of the chat\n"
        "03/03/2024, 11:00 - Ravi: Third message of the chat\n",
        encoding="utf-8",
    )
    docs = _items(path)
    assert [d.meta["date"][:10] for d in docs] == ["2024-03-02", "2024-03-02", "2024-03-03"]
    assert "day first" in docs[0].meta["input_warnings"][0]


def test_a_text_that_opens_with_a_date_is_no_chat(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    text = "23/03/2024, 14:35 - notes from the meeting\nThe mayor spoke first.\nThen the army.\n"
    path.write_text(text, encoding="utf-8")
    (doc,) = _items(path)
    assert isinstance(doc, Document) and doc.text == text


def test_read_from_stdin_and_forced_on_another_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Stdin:
        buffer = io.BytesIO(ANDROID.encode("utf-8"))

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert len(list(read_inputs(["-"]))) == 3
    path = tmp_path / "export.log"
    path.write_text(IOS, encoding="utf-16")
    docs = _items(path, ReadOptions(input_format="whatsapp"))
    assert [d.meta["author"] for d in docs] == ["Ana Lima", "Bruno"]


def test_a_chat_without_text_and_a_message_over_the_limit_fail_alone(tmp_path: Path) -> None:
    empty = tmp_path / "media.txt"
    empty.write_text(
        "23/03/2024, 14:36 - Ravi: <Media omitted>\n23/03/2024, 14:37 - Ravi: <Media omitted>\n",
        encoding="utf-8",
    )
    (error,) = _items(empty)
    assert isinstance(error, InputError) and error.code == E_EMPTY
    long = tmp_path / "long.txt"
    long.write_text(
        "23/03/2024, 14:36 - Ravi: " + "word " * 40 + "\n23/03/2024, 14:37 - Anna: short\n"
        "23/03/2024, 14:38 - Ravi: short too\n",
        encoding="utf-8",
    )
    items = _items(long, ReadOptions(max_bytes=100))
    assert isinstance(items[0], InputError) and items[0].code == E_TOO_LARGE
    assert items[0].source.endswith("long.txt:1")
    assert [d.text for d in items[1:]] == ["short", "short too"]


def test_a_message_too_short_to_tell_is_read_in_its_chats_language(tmp_path: Path) -> None:
    """lingua calls "ok" Polish; in an English chat it is English, and a Portuguese
    message in that chat keeps its own language."""
    from narrascope.stages.language import LanguageStage

    path = tmp_path / "WhatsApp Chat with Town news.txt"
    path.write_text(
        ANDROID + "24/03/2024, 09:05 - Bruno: O ataque em Ashby foi encenado, compartilhem\n",
        encoding="utf-8",
    )
    docs = [d for d in _items(path) if isinstance(d, Document)]
    assert {d.meta["chat_language"] for d in docs} == {"en"}
    languages = [d.language for d in LanguageStage()(docs)]
    assert languages == ["en", "en", "en", "pt"]
