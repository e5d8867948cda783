"""Markdown as the text a reader sees: what ``.md`` files hold is read without its markup.

Why: a page saved as markdown (trafilatura's markdown output, a notes app's export) puts
``#``, ``**``, ``[words](https://…)`` and image links among the words. Read as they are,
a link's address sat inside the sentence that cites it, every model read the markup as
words, and the evidence shown to the user carried it. So the text is what the page shows,
as an HTML page's is: headings, paragraphs, list items, quotes and table rows keep their
words, each on a line of its own (a blank line where the source had one; a paragraph
wrapped over several lines is one line, as markdown shows it, so that no sentence is cut
at a wrap); link targets, images,
inline HTML and emphasis marks go; code keeps its text. Parsing is markdown-it's
(CommonMark, with tables and strikethrough), so what counts as markup is the standard's.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_TAG = re.compile(r"<[^>]*>")


@functools.cache
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def markdown_text(source: str) -> str:
    """The text ``source`` shows: a line per paragraph, heading, item or row, blocks
    apart by a blank line where the source put one. An ordered list keeps its numbers
    ("2." in an article is its second point)."""
    pieces: list[tuple[str, int, int, bool]] = []  # text, source lines [first, end), row
    row: list[str] | None = None
    row_lines = (0, 0)
    number = ""  # an ordered item's number, for its first line
    for token in _parser().parse(source):
        lines = tuple(token.map) if token.map else None
        if token.type == "list_item_open" and token.info:
            number = f"{token.info}{token.markup} "
        elif token.type == "tr_open":
            row, row_lines = [], lines or (0, 0)
        elif token.type == "tr_close" and row is not None:
            pieces.append((" | ".join(row), *row_lines, True))
            row = None
        elif token.type == "inline":
            words = _inline(token.children or [])
            if row is not None:
                row.append(words.strip())
            elif words.strip() and lines:
                pieces.append((number + words, *lines, False))
            number = ""
        elif token.type in ("fence", "code_block") and lines:
            pieces.append((token.content.rstrip("\n"), *lines, False))
        elif token.type == "html_block" and lines:
            shown = _TAG.sub("", token.content).strip()
            if shown:
                pieces.append((shown, *lines, False))
    out: list[str] = []
    last, last_row = None, False
    for words, first, end, is_row in pieces:
        if last is not None:
            out.append("\n" if first <= last or (is_row and last_row) else "\n\n")
        out.append(words)
        last, last_row = end, is_row
    return "".join(out)


def _inline(children: list[Any]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":  # a paragraph wrapped in the source: one line
            if parts and not parts[-1].endswith((" ", "\t", "\n")):
                parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    # a line ends where its words do (an image or a tag dropped at its end leaves none)
    return "\n".join(line.rstrip() for line in "".join(parts).split("\n"))
