"""E-mails saved as ``.eml``: the message's text, with its subject, sender and date.

Why: tips reach fact-checkers by e-mail, and newsletters carry the same narratives as
the sites behind them. Saved from a mail client, a message is MIME: headers, then parts
in transfer encodings (base64, quoted-printable) and charsets of their own. Read as text,
the document was those headers and encoded lines. Here the text is the subject line, then
the plain-text part as written (else the HTML part as the text it shows); the sender is
``author``, the ``Date`` header ``date``, the attachments' names ``attachments`` (they are
not read: save a PDF or Word attachment and give it as a file of its own).
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

from narrascope.doc import Document
from narrascope.errors import E_EMPTY, E_INPUT, E_NO_MAIN_TEXT, InputError
from narrascope.ingest.formats import file_document
from narrascope.ingest.html_text import html_fragment_text


def email_document(
    data: bytes,
    source: str,
    doc_id: str,
    path: str | None,
    *,
    threads: bool = True,
    max_bytes: int = 10_000_000,
) -> Document | InputError:
    """One document: the subject line, then the message's text."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain", "html"))
        body = "" if part is None else str(part.get_content())
        if part is not None and part.get_content_subtype() == "html":
            body = html_fragment_text(body)
        subject = " ".join(str(message.get("subject", "") or "").split())
        sender = message.get("from")
        author = ""
        if sender is not None:
            mailbox = sender.addresses[0] if getattr(sender, "addresses", None) else None
            author = (mailbox.display_name or mailbox.addr_spec) if mailbox else str(sender)
        when = _date(message.get("date"))
        attached = [a.get_filename() or "(unnamed)" for a in message.iter_attachments()]
    except Exception as exc:  # a header or part the parser cannot take: this file alone
        return InputError(source, f"the e-mail could not be read ({type(exc).__name__})", E_INPUT)
    body = body.replace("\r\n", "\n").strip("\n")
    if not body.strip() and not subject:
        if attached:
            names = ", ".join(attached[:3])
            reason = f"the e-mail has no text, only attachments ({names}): give those as files"
            return InputError(source, reason, E_NO_MAIN_TEXT)
        return InputError(source, "the e-mail has no text", E_EMPTY)
    text = "\n".join(part for part in (subject, body) if part.strip())
    about = {k: v for k, v in (("title", subject), ("author", author), ("date", when)) if v}
    doc = file_document(text, source, doc_id, path, about, threads=threads, max_bytes=max_bytes)
    if isinstance(doc, Document) and attached:
        doc.meta["attachments"] = attached
    return doc


def _date(header: object) -> str | None:
    if not header:
        return None
    try:
        return parsedate_to_datetime(str(header)).isoformat()
    except (TypeError, ValueError):
        return str(header)  # as written: text.dates may still read it
