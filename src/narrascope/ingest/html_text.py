"""The text an HTML fragment shows (a feed item's content, an e-mail's HTML part).

Why not trafilatura, as for pages: a fragment is all content, no page around it to tell
apart, and trafilatura's length rules can drop a short one whole. So: a line per block,
links' words kept, scripts and styles dropped, entities decoded; plain text as it is.
"""

from __future__ import annotations

_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "pre")


def html_fragment_text(fragment: str) -> str:
    """The text an HTML fragment shows: a line per block, links' words kept, scripts
    and styles dropped; plain text as it is (whitespace tidied)."""
    if "<" not in fragment:
        from html import unescape

        lines = unescape(fragment).splitlines()
    else:
        import lxml.html

        try:
            root = lxml.html.fragment_fromstring(fragment, create_parent="div")
        except Exception:  # not HTML after all: its words as they are
            return " ".join(fragment.split())
        for bad in root.xpath("//script|//style"):
            bad.drop_tree()
        for element in root.iter("br", *_BLOCKS):
            element.tail = "\n" + (element.tail or "")
            if element.tag != "br":
                element.text = "\n" + (element.text or "")
        lines = root.text_content().splitlines()
    return "\n".join(tidy for line in lines if (tidy := " ".join(line.split())))
