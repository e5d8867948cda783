"""PDF and Word files are read as their text, with the file's own title, author and date,
and a file that cannot be read says why while the batch goes on."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from narrascope.doc import Document
from narrascope.errors import E_EMPTY, E_INPUT, E_NO_MAIN_TEXT, E_TOO_LARGE, InputError
from narrascope.ingest import ReadOptions, read_inputs
from narrascope.stages.segment import SegmentStage

PAGE_ONE = [
    "Officials in the region said on Monday that about 120 people had left the",
    "town after three drones struck the power plant, and that the water supply",
    "was cut for most of the day. The mayor asked the government for generators",
    "and promised that schools would open again within a week if the supply was",
    "restored by Friday.",
]
PAGE_TWO = ["A spokesman of the army denied that any unit was stationed in the town."]


def _pdf(
    pages: list[list[str]], *, title: str = "Ashby report", created: str = "20240323"
) -> bytes:
    """A small PDF of our own: one Helvetica text line per string, the Info dictionary's
    title, author and creation date."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    info_id = font_id + 1
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for page_id, lines in zip(page_ids, pages, strict=True):
        body = (
            "BT /F1 10 Tf 14 TL 40 760 Td " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
        )
        stream = body.encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font "
            f"<< /F1 {font_id} 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objects.append(
        f"<< /Title ({title}) /Author (Desk Two) /CreationDate (D:{created}101500Z) >>".encode()
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx(body: str, core: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "word/document.xml", f"<w:document {W}><w:body>{body}</w:body></w:document>"
        )
        if core is not None:
            archive.writestr("docProps/core.xml", core)
    return out.getvalue()


def _p(*runs: str) -> str:
    return (
        "<w:p>"
        + "".join(f"<w:r><w:t xml:space='preserve'>{r}</w:t></w:r>" for r in runs)
        + "</w:p>"
    )


CORE = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>Statement on Ashby</dc:title>'
    "<dc:creator>Press office</dc:creator><dcterms:created>2024-03-23T09:00:00Z"
    "</dcterms:created></cp:coreProperties>"
)


def _one(path: Path, options: ReadOptions | None = None) -> Document | InputError:
    (item,) = read_inputs([path], options)
    return item


def test_a_pdf_is_read_as_its_pages_text_in_sentences(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(_pdf([PAGE_ONE, PAGE_TWO]))
    doc = _one(path)
    assert isinstance(doc, Document), doc
    assert doc.meta["title"] == "Ashby report" and doc.meta["author"] == "Desk Two"
    assert doc.meta["date"].startswith("2024-03-23") and doc.meta["pages"] == 2
    (doc,) = SegmentStage()([doc])
    sentences = [" ".join(doc.text[s.start : s.end].split()) for s in doc.sentences]
    assert sentences == [
        " ".join(PAGE_ONE)[: " ".join(PAGE_ONE).index(" The mayor")],
        " ".join(PAGE_ONE)[" ".join(PAGE_ONE).index("The mayor") :],
        PAGE_TWO[0],
    ]


def test_words_the_page_broke_across_lines_are_joined(tmp_path: Path) -> None:
    """A "govern-" / "ment" is one word again; "well-" / "known" keeps its hyphen where the
    text writes it so elsewhere, and "so-" / "called" where it uses both pieces alone."""
    lines = [
        "The regional govern-",
        "ment said that the well-",
        "known plant, a well-known target, was hit. Residents of the so-",
        "called safe zone left, and so did the mayor, who called for calm. The pro-",
        "Russian channels denied it.",
    ]
    path = tmp_path / "broken.pdf"
    path.write_bytes(_pdf([lines]))
    doc = _one(path)
    assert isinstance(doc, Document), doc
    text = " ".join(doc.text.split())
    assert "The regional government said that the well-known plant" in text
    assert "the so-called safe zone" in text
    assert "The pro- Russian channels" in text  # a capital: not a broken word


def test_join_broken_words_in_other_languages() -> None:
    from narrascope.ingest.pdf import join_broken_words

    assert join_broken_words("Прави-\nтельство заявило, из-\nза войны, из дома, за год.") == (
        "Правительство заявило, из-за войны, из дома, за год."
    )
    assert join_broken_words("в 2030-\nта година") == "в 2030-та година"
    assert join_broken_words("a soft\u00ad\nhyphen, 1990-\n2000") == "a softhyphen, 1990-\n2000"


def test_a_word_file_is_read_a_line_per_paragraph(tmp_path: Path) -> None:
    body = (
        _p("Statement on Ashby")
        + _p("Officials said ", "120 people left Ashby.")
        + "<w:p><w:r><w:t>Kept </w:t></w:r><w:del><w:r><w:delText>deleted words "
        "</w:delText></w:r></w:del><w:ins><w:r><w:t>and inserted.</w:t></w:r></w:ins></w:p>"
        + "<w:tbl><w:tr><w:tc>"
        + _p("A cell")
        + "</w:tc><w:tc>"
        + _p("Another cell")
        + "</w:tc></w:tr></w:tbl>"
        + "<w:p><w:r><w:t>Before a tab</w:t><w:tab/><w:t>after it</w:t></w:r></w:p>"
    )
    path = tmp_path / "statement.docx"
    path.write_bytes(_docx(body, CORE))
    doc = _one(path)
    assert isinstance(doc, Document), doc
    assert doc.text == (
        "Statement on Ashby\nOfficials said 120 people left Ashby.\nKept and inserted.\n"
        "A cell\nAnother cell\nBefore a tab\tafter it"
    )
    assert doc.meta["title"] == "Statement on Ashby" and doc.meta["author"] == "Press office"
    assert doc.meta["date"] == "2024-03-23T09:00:00+00:00"


def test_a_pdf_or_word_file_under_another_name_is_read_as_what_it_is(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_bytes(_pdf([PAGE_TWO]))
    (tmp_path / "statement").write_bytes(_docx(_p("Officials said 120 people left Ashby.")))
    found = {item.id: item for item in read_inputs([tmp_path])}
    assert found["report.txt"].text == PAGE_TWO[0]
    assert found["statement"].text == "Officials said 120 people left Ashby."
    assert "input_warnings" not in found["statement"].meta


@pytest.mark.parametrize(
    ("name", "data", "code", "reason"),
    [
        ("scan.pdf", _pdf([[]]), E_NO_MAIN_TEXT, "no text layer"),
        ("cut.pdf", _pdf([PAGE_TWO])[:200], E_INPUT, "could not be read"),
        ("empty.docx", _docx("<w:p/>"), E_EMPTY, "no text"),
        ("broken.docx", b"PK\x03\x04 not really a zip", E_INPUT, "could not be read"),
        ("bomb.docx", _docx(_p("x" * 50_000)), E_TOO_LARGE, "unpacks to"),
        ("nothing.docx", b"", E_EMPTY, "empty"),
        ("nothing.pdf", b"", E_EMPTY, "empty"),
    ],
)
def test_what_cannot_be_read_says_why_and_the_batch_goes_on(
    tmp_path: Path, name: str, data: bytes, code: str, reason: str
) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "ok.txt").write_text("Officials said 120 people left Ashby.", encoding="utf-8")
    items = list(
        read_inputs([tmp_path], ReadOptions(max_bytes=100) if name == "bomb.docx" else None)
    )
    bad = [i for i in items if isinstance(i, InputError)]
    assert len(bad) >= 1 and bad[0].code == code and reason in bad[0].reason
    if name != "bomb.docx":
        assert [i.id for i in items if isinstance(i, Document)] == ["ok.txt"]


def test_the_file_may_be_larger_than_max_bytes_but_not_its_text(tmp_path: Path) -> None:
    data = _pdf([PAGE_ONE])
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    assert isinstance(_one(path, ReadOptions(max_bytes=len(data) // 2)), Document)
    small = _one(path, ReadOptions(max_bytes=50))
    assert isinstance(small, InputError) and small.code == E_TOO_LARGE


def test_the_upload_api_reads_pdf_word_chat_and_feed_files(tmp_path: Path) -> None:
    """The web page's upload goes through the same readers: a PDF, a Word file, a WhatsApp
    chat and a feed are stored as their documents, with their dates."""
    from fastapi.testclient import TestClient

    from narrascope.serve.app import create_app
    from test_feed_input import RSS
    from test_serve_api import fake_pipeline, wait_job
    from test_whatsapp_input import ANDROID

    files = [
        ("files", ("report.pdf", _pdf([PAGE_TWO]), "application/pdf")),
        ("files", ("statement.docx", _docx(_p("Officials said 120 people left."), CORE), "")),
        ("files", ("WhatsApp Chat with Town news.txt", ANDROID.encode(), "text/plain")),
        ("files", ("wire.xml", RSS.encode(), "application/rss+xml")),
    ]
    app = create_app(tmp_path / "corpus.db", pipeline=fake_pipeline())
    with TestClient(app) as client:
        reply = client.post("/api/documents/upload", files=files)
        assert reply.status_code == 202, reply.text
        info = wait_job(client, reply.json()["job"]["id"])
        assert info["state"] == "done" and info["failed"] == 0, info["errors"]
        assert info["done"] == 1 + 1 + 3 + 2
        pdf = client.get("/api/documents/report.pdf").json()
        assert pdf["text"] == PAGE_TWO[0] and pdf["date"].startswith("2024-03-23")
        word = client.get("/api/documents/statement.docx").json()
        assert word["date"].startswith("2024-03-23")
        message = client.get("/api/documents/WhatsApp Chat with Town news.txt:3").json()
        assert message["source"] == "WhatsApp Chat with Town news"
        assert client.get("/api/documents/wire-1").json()["source"] == "Example Wire"
