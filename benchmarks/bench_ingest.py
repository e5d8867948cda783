"""Benchmark: how fast the readers stream documents, and that memory stays flat.

Writes a synthetic JSONL file (and a folder of cp1251/UTF-16 text files, one of markdown
files with a front matter, one of Word files, one of e-mails, a WhatsApp chat export and
an RSS feed) of
the requested size, reads it with
``narrascope.ingest.read_inputs`` in a child process, and records throughput and peak
memory in docs/benchmarks.md. PDFs are timed on the SemEval-2025 guidelines (54 pages)
when ../shared holds them.

Usage: python benchmarks/bench_ingest.py [--records N] [--files N] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import write_section

GUIDELINES_PDF = (
    Path(__file__).resolve().parents[2]
    / "shared/datasets/semeval2025-task10/taxonomy/annotation_guidelines_SemEval2025T10.pdf"
)
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

SENTENCES = [
    "The council met on Tuesday to discuss the budget for the coming year.",
    "Совет собрался во вторник, чтобы обсудить бюджет на следующий год.",
    "O conselho reuniu-se na terça-feira para discutir o orçamento.",
    "Съветът се събра във вторник, за да обсъди бюджета за следващата година.",
]

READ = """
import sys, time
from narrascope.ingest import read_inputs
from narrascope.doc import Document
t = time.perf_counter()
ok = bad = chars = 0
for item in read_inputs(sys.argv[1:]):
    if isinstance(item, Document):
        ok += 1
        chars += len(item.text)
    else:
        bad += 1
print(ok, bad, chars, time.perf_counter() - t)
"""


def run_reader(*inputs: str) -> tuple[int, int, int, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", READ, *inputs], capture_output=True, text=True, check=True
    ).stdout.split()
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return int(out[0]), int(out[1]), int(out[2]), float(out[3]), peak_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "corpus.jsonl"
        with jsonl.open("w", encoding="utf-8") as fh:
            for i in range(args.records):
                text = " ".join(SENTENCES[(i + k) % 4] for k in range(8))
                fh.write(json.dumps({"id": f"r{i}", "text": text, "date": "2024-03-02"}) + "\n")
        size_mb = jsonl.stat().st_size / 1e6
        ok, bad, _, secs, peak = run_reader(str(jsonl))
        print(
            f"jsonl {size_mb:.0f} MB: {ok} records in {secs:.1f} s = {ok / secs:,.0f}/s, "
            f"peak RSS {peak:.0f} MB, {bad} errors"
        )

        folder = Path(tmp) / "files"
        folder.mkdir()
        for i in range(args.files):
            text = "\n".join(SENTENCES[(i + k) % 4] for k in range(6))
            encoding = ("utf-8", "cp1251", "utf-16")[i % 3]
            if encoding == "cp1251":
                text = "\n".join(SENTENCES[1] for _ in range(6))
            (folder / f"doc{i:05d}.txt").write_bytes(text.encode(encoding))
        f_ok, f_bad, _, f_secs, _ = run_reader(str(folder))
        print(
            f"{args.files} small files (utf-8, cp1251, utf-16 mixed): {f_ok} in {f_secs:.2f} s "
            f"= {f_ok / f_secs:,.0f}/s, {f_bad} errors"
        )

        rows = other_formats(Path(tmp), args.files)

    lines = [
        f"Measured {date.today().isoformat()} on this machine ({os.cpu_count()} cores) with "
        "`python benchmarks/bench_ingest.py` (synthetic data, reading only, child process).",
        "",
        "| input | documents | seconds | documents/s | peak memory |",
        "|---|---|---|---|---|",
        f"| one JSONL file of {size_mb:.0f} MB | {ok:,} | {secs:.1f} | {ok / secs:,.0f} | "
        f"{peak:.0f} MB (max RSS of all reader runs) |",
        f"| folder of {args.files:,} small .txt files, encodings mixed (UTF-8, cp1251, UTF-16) | "
        f"{f_ok:,} | {f_secs:.2f} | {f_ok / f_secs:,.0f} | — |",
        *rows,
        "",
        "Memory stays flat however large the file: records are read one line at a time "
        "(the peak is the largest of all reader runs, the PDF reader's included). A PDF or "
        "Word file is read whole (at most 20 times --max-bytes).",
    ]
    if not args.no_write:
        write_section("\n".join(lines), mark="ingest-speed")
    return 0


def _timed(path: Path, what: str, label: str) -> str:
    """Read ``path`` in a child process, say how it went, and give its table row."""
    ok, bad, _, secs, _ = run_reader(str(path))
    print(f"{what}: {ok} in {secs:.2f} s, {bad} errors")
    return f"| {label} | {ok:,} | {secs:.2f} | {ok / secs:,.0f} | — |"


def other_formats(tmp: Path, files: int) -> list[str]:
    """Table rows for markdown with a front matter, Word files, e-mails, a WhatsApp chat,
    an RSS feed and (when ../shared has it) a PDF."""
    rows = []
    markdown = tmp / "markdown"
    markdown.mkdir()
    for i in range(files):
        body = "\n\n".join(
            f"**{SENTENCES[(i + k) % 4]}** [link](https://x.test/{k})" for k in range(6)
        )
        head = f'---\ntitle: Report {i}\ndate: "2024-03-02"\nurl: https://x.test/{i}\n---\n'
        (markdown / f"doc{i:05d}.md").write_text(head + body, encoding="utf-8")
    what = f"{files} markdown files with a front matter"
    rows.append(
        _timed(
            markdown,
            what,
            f"folder of {files:,} .md files, each with a YAML front matter and markup",
        )
    )
    word = tmp / "word"
    word.mkdir()
    count = max(1, files // 10)
    for i in range(count):
        paragraphs = "".join(
            f"<w:p><w:r><w:t>{SENTENCES[(i + k) % 4]}</w:t></w:r></w:p>" for k in range(30)
        )
        with zipfile.ZipFile(word / f"doc{i:05d}.docx", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(
                "word/document.xml",
                f'<w:document xmlns:w="{WORD}"><w:body>{paragraphs}</w:body></w:document>',
            )
    what = f"{count} Word files of 30 paragraphs"
    rows.append(_timed(word, what, f"folder of {count:,} .docx files of 30 paragraphs"))
    mails = tmp / "mail"
    mails.mkdir()
    for i in range(count):
        message = EmailMessage()
        message["Subject"] = f"Tip {i}"
        message["From"] = "Reader <reader@example.org>"
        message["Date"] = "Sat, 23 Mar 2024 10:00:00 +0200"
        message.set_content("\n".join(SENTENCES * 5), cte="base64")
        message.add_alternative("<p>" + "</p><p>".join(SENTENCES) + "</p>", subtype="html")
        (mails / f"tip{i:05d}.eml").write_bytes(bytes(message))
    label = f"folder of {count:,} .eml e-mails (base64 text and HTML parts)"
    rows.append(_timed(mails, f"{count} e-mails", label))
    chat = tmp / "WhatsApp Chat with Town news.txt"
    messages = files * 25
    with chat.open("w", encoding="utf-8") as fh:
        for i in range(messages):
            fh.write(f"23/03/2024, {i // 60 % 24:02d}:{i % 60:02d} - Member {i % 40}: ")
            fh.write(SENTENCES[i % 4] + ("\nand a second line\n" if i % 7 == 0 else "\n"))
    what = f"a WhatsApp chat of {messages} messages"
    rows.append(_timed(chat, what, f"one WhatsApp chat export of {messages:,} messages"))
    feed = tmp / "wire.rss"
    items = "".join(
        f"<item><title>Item {i}</title><link>https://wire.example/{i}</link>"
        f"<pubDate>Sat, 23 Mar 2024 10:00:00 +0000</pubDate><description>&lt;p&gt;"
        f"{SENTENCES[i % 4]}&lt;/p&gt;&lt;p&gt;{SENTENCES[(i + 1) % 4]}&lt;/p&gt;"
        "</description></item>"
        for i in range(files * 2)
    )
    feed.write_text(f"<rss><channel><title>Wire</title>{items}</channel></rss>", "utf-8")
    rows.append(
        _timed(feed, f"an RSS feed of {files * 2} items", f"one RSS feed of {files * 2:,} items")
    )
    if GUIDELINES_PDF.is_file():
        pdfs = tmp / "pdf"
        pdfs.mkdir()
        for i in range(5):
            shutil.copy(GUIDELINES_PDF, pdfs / f"guidelines{i}.pdf")
        ok, bad, chars, secs, _ = run_reader(str(pdfs))
        print(
            f"5 copies of a 54-page PDF: {ok} in {secs:.2f} s ({chars:,} characters), {bad} errors"
        )
        rows.append(
            f"| 5 copies of a 54-page PDF (SemEval-2025 guidelines, 1.1 MB) | {ok:,} | "
            f"{secs:.2f} | {ok / secs:,.1f} ({ok * 54 / secs:,.0f} pages/s) | — |"
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
