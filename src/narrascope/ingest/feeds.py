"""RSS and Atom feeds: one document per item, with its title, link, date and outlet.

Why: researchers follow outlets by their feeds (a state channel's RSS, a blog's Atom
feed) and keep the files they fetch. Each item carries what the timeline, the campaign
view and the dated debunk matcher need: who published it (the feed's title, else its
site's host), when (``pubDate``, ``published``, ``dc:date``), where (``link``). The text
is the item's title line, then its full content where the feed gives it
(``content:encoded``, Atom ``content``), else its summary (``description``,
``summary``), HTML read as the text it shows. An item's id is its ``guid``/``id``, else its
link, so the same item in two fetches of a feed is one document (the second is reported
as a repeated id, as any id given twice is, and ``--resume`` skips it).

RSS 2.0, RSS 1.0 (RDF) and Atom are told by their elements' local names, whatever
namespaces a feed declares. Parsed with lxml, entities unresolved and no network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from narrascope.doc import Document
from narrascope.errors import E_BAD_RECORD, E_EMPTY, InputError
from narrascope.ingest.html_text import html_fragment_text

_FEED_ROOT = re.compile(rb"<(?:[\w-]+:)?(rss|feed|RDF)[\s>]")


def looks_like_feed(head: bytes) -> bool:
    """Whether an XML file's head opens an RSS, RDF or Atom root element."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"<") and _FEED_ROOT.search(head[:4096]) is not None


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item as the feed gives it: ``text`` is its content (or summary) as shown."""

    title: str
    link: str
    text: str
    date: str | None
    author: str
    guid: str


def read_feed(data: bytes) -> tuple[str, list[FeedItem]]:
    """The feed's title and its items; raises ValueError (lxml's errors are ones) when
    the bytes are no well-formed XML."""
    root = _parse(data)
    channel = _child(root, "channel")
    outlet = _text(_child(channel if channel is not None else root, "title"))
    items = []
    for item in root.iter():
        if _local(item) not in ("item", "entry"):
            continue
        guid = _text(_child(item, "guid")) or _text(_child(item, "id"))
        items.append(
            FeedItem(
                title=_text(_child(item, "title")),
                link=_link(item),
                text=html_fragment_text(_content(item)),
                date=_date(item),
                author=_author(item),
                guid=guid,
            )
        )
    return outlet, items


def feed_documents(
    data: bytes, label: str, path: str | None, *, max_bytes: int
) -> Iterator[Document | InputError]:
    """The feed's items as documents (read from ``label``)."""
    from narrascope.ingest.formats import meta, too_large

    try:
        outlet, items = read_feed(data)
    except Exception as exc:  # lxml's syntax errors and the like: this file alone fails
        yield InputError(label, f"not a readable RSS or Atom feed ({exc})", E_BAD_RECORD)
        return
    if not items:
        yield InputError(label, "the feed holds no item", E_EMPTY)
        return
    for number, item in enumerate(items, 1):
        where = f"{label}:item {number}"
        text = "\n".join(part for part in (item.title, item.text) if part)
        if not text.strip():
            yield InputError(where, "an item without a title or text", E_EMPTY)
            continue
        size = len(text.encode("utf-8"))
        if size > max_bytes:
            yield too_large(where, size, max_bytes, what="item")
            continue
        link = item.link
        source = outlet or (urlsplit(link).hostname if link else None)
        doc_id = item.guid or link or where
        doc = Document(text=text, id=doc_id, meta=meta(path, source, link or None, item.date))
        if item.title:
            doc.meta["title"] = item.title
        if item.author:
            doc.meta["author"] = item.author
        yield doc


def _parse(data: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False
    )
    return etree.fromstring(data, parser)


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: Any, name: str) -> Any:
    if element is None:
        return None
    return next((c for c in element if _local(c) == name), None)


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element if _local(c) == name]


def _text(element: Any) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _link(item: Any) -> str:
    """RSS's ``<link>URL</link>``, Atom's ``<link rel="alternate" href=…>`` (or its first)."""
    links = _children(item, "link")
    for link in links:
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return str(link.get("href")).strip()
    for link in links:
        if link.get("href"):
            return str(link.get("href")).strip()
        if _text(link):
            return _text(link)
    return ""


def _content(item: Any) -> str:
    """The item's fullest text: ``content:encoded`` or Atom ``content``, else its
    ``description``/``summary`` (HTML or plain)."""
    for name in ("encoded", "content", "description", "summary"):
        found = _child(item, name)
        if found is None:
            continue
        if found.get("type") == "xhtml":
            from lxml import etree

            inner = "".join(etree.tostring(c, encoding="unicode") for c in found)
            value = (found.text or "") + inner
        else:
            value = "".join(found.itertext())
        if value.strip():
            return value
    return ""


def _date(item: Any) -> str | None:
    for name in ("pubDate", "published", "date", "updated", "issued", "created"):
        value = _text(_child(item, name))
        if value:
            return value
    return None


def _author(item: Any) -> str:
    for name in ("creator", "author"):
        found = _child(item, name)
        if found is not None:
            inner = _child(found, "name")  # Atom: <author><name>…</name></author>
            return _text(inner if inner is not None else found)
    return ""
