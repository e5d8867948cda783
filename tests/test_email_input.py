"""An e-mail saved as .eml is read as its subject and text, not as MIME headers and
base64 lines; its sender, date and attachments' names are kept."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from narrascope.doc import Document
from narrascope.errors import E_EMPTY, E_NO_MAIN_TEXT, InputError
from narrascope.ingest import read_inputs

BODY = (
    "Hello desk,\n\nA video says the army blew up the dam at Ashby on Monday.\n"
    "Is it true? It is shared in three groups already.\n"
)


def _message(*, html: bool = False, attach: bool = False, text: str = BODY) -> bytes:
    message = EmailMessage()
    message["Subject"] = "Tip: Ashby dam video"
    message["From"] = "Reader One <reader@example.org>"
    message["To"] = "desk@example.org"
    message["Date"] = "Sat, 23 Mar 2024 10:00:00 +0200"
    message["Message-ID"] = "<tip-1@example.org>"
    if text:
        message.set_content(text, charset="utf-8", cte="base64")
    if html:
        message.add_alternative("<p>The <b>HTML</b> part.</p>", subtype="html")
    if attach:
        message.add_attachment(
            b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="dam.pdf"
        )
    return bytes(message)


def _one(path: Path) -> Document | InputError:
    (item,) = read_inputs([path])
    return item


def test_an_email_is_its_subject_and_text(tmp_path: Path) -> None:
    path = tmp_path / "tip.eml"
    path.write_bytes(_message(html=True, attach=True))
    doc = _one(path)
    assert isinstance(doc, Document), doc
    assert doc.text == "Tip: Ashby dam video\n" + BODY.rstrip("\n")  # the plain part first
    assert doc.meta["title"] == "Tip: Ashby dam video" and doc.meta["author"] == "Reader One"
    assert doc.meta["date"] == "2024-03-23T10:00:00+02:00"
    assert doc.meta["attachments"] == ["dam.pdf"]


def test_an_html_only_email_in_russian(tmp_path: Path) -> None:
    message = EmailMessage()
    message["Subject"] = "Рассылка: новости недели"
    message["From"] = "news@example.org"
    message.set_content(
        "<p>Дроны атаковали <a href='x'>Эшби</a>.</p><p>Второй абзац.</p>",
        subtype="html",
        charset="koi8-r",
    )
    path = tmp_path / "newsletter.eml"
    path.write_bytes(bytes(message))
    doc = _one(path)
    assert doc.text == "Рассылка: новости недели\nДроны атаковали Эшби.\nВторой абзац."
    assert doc.meta["author"] == "news@example.org" and doc.meta["date"] is None


def test_an_email_without_text_says_why(tmp_path: Path) -> None:
    only_files = EmailMessage()
    only_files.add_attachment(
        b"%PDF-1.4", maintype="application", subtype="pdf", filename="scan.pdf"
    )
    (tmp_path / "files.eml").write_bytes(bytes(only_files))
    (tmp_path / "blank.eml").write_bytes(b"From: a@example.org\n\n")
    found = {i.source: i for i in read_inputs([tmp_path]) if isinstance(i, InputError)}
    files = found[str(tmp_path / "files.eml")]
    assert files.code == E_NO_MAIN_TEXT and "scan.pdf" in files.reason
    assert found[str(tmp_path / "blank.eml")].code == E_EMPTY
