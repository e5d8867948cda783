"""A short plain-text summary of one analysed document, for the CLI without ``--out``."""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from narrascope.doc import Annotation, DebunkMatch, Document
from narrascope.export.display import visible_bidi, visible_reordering
from narrascope.export.records import OTHER
from narrascope.taxonomy import technique_taxonomy

_MAX_NARRATIVES = 5
_MAX_CLAIMS = 3  # the check-worthy claims and known debunks shown, best first
_MAX_ENTITIES = 6
_MAX_TECHNIQUES = 5
_EVIDENCE_WIDTH = 160
WIDTH = 88  # the summary's width when the output is no terminal (a file, a pipe)
MIN_WIDTH = 40  # narrower terminals still get lines this long: labels stay readable
# Control characters (C0, DEL, C1) in untrusted text could drive the terminal (ANSI escapes).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What starts a new line (NEL, the Unicode line and paragraph separators included): in an
# id, a source or a URL it would put forged lines ("  0.99  URW: ...", "Flags: ...") at
# the start of the next line, where the summary's own lines are.
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
LINE_BREAK_SHOWN = "⏎"


def _clean(text: str) -> str:
    """An id, label, source or name: no terminal control, every bidi control visible, a
    line break shown as ``⏎`` (it stays on its line)."""
    one_line = _LINE_BREAK.sub(LINE_BREAK_SHOWN, text).replace("\t", " ")
    return visible_bidi(_CONTROL.sub(" ", one_line))


def _clean_text(text: str) -> str:
    """Document text (evidence, explanation): no terminal control, no line break and no
    override that could reorder the rest of the line; the bidi marks right-to-left
    writing needs stay."""
    return visible_reordering(_CONTROL.sub(" ", _LINE_BREAK.sub(" ", text)))


def terminal_width() -> int:
    """The width summaries wrap at: the terminal's (``COLUMNS`` first), :data:`WIDTH`
    when stdout is no terminal, never under :data:`MIN_WIDTH`."""
    return max(MIN_WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns)


def _use_colour(colour: bool | None) -> bool:
    if colour is not None:
        return colour
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _sub_name(sub: Annotation) -> str:
    return sub.label.rsplit(": ", 1)[-1] if ": " in sub.label else sub.label


def format_terminal_summary(
    doc: Document, *, colour: bool | None = None, width: int = WIDTH
) -> str:
    """id, language, top narratives with sub-narratives, best evidence and the explanation.

    ``colour=None`` colours only when stdout is a terminal and ``NO_COLOR`` is unset.
    Lines are wrapped at ``width`` (the CLI passes :func:`terminal_width`), all but an id
    or a URL longer than that.
    """
    on = _use_colour(colour)

    def bold(s: str) -> str:
        return f"\x1b[1m{s}\x1b[0m" if on else s

    def dim(s: str) -> str:
        return f"\x1b[2m{s}\x1b[0m" if on else s

    def wrap(text: str, first: str = "  ", rest: str = "  ", *, whole: bool = False) -> list[str]:
        """``whole``: a URL, never cut (a cut one could not be copied)."""
        return textwrap.wrap(
            text,
            width,
            initial_indent=first,
            subsequent_indent=rest,
            break_long_words=not whole,
            break_on_hyphens=not whole,
        )

    meta = _clean(" · ".join(str(doc.meta[k]) for k in ("source", "date") if doc.meta.get(k)))
    name, language = _clean(doc.id) or "(no id)", _clean(doc.language or "?")
    head = f"{bold(name)}  [{language}]"
    if meta and len(f"{name}  [{language}]  {meta}") <= width:
        lines = [f"{head}  {dim(meta)}"]
    else:  # the source and date on lines of their own
        lines = [head, *(dim(line) for line in wrap(meta))]
    for warning in doc.meta.get("input_warnings") or []:  # read, but not quite as written
        lines.extend(wrap(f"Input: {_clean(str(warning))}", rest="    "))
    thread = thread_summary(doc)
    if thread:
        lines.extend(wrap(thread, rest="    "))
    flags = flag_summary(doc)
    if flags:
        lines.extend(wrap(flags, rest="    "))
    found = sorted((n for n in doc.narratives if n.label != OTHER), key=lambda n: -n.score)
    if not found:
        other = next((n for n in doc.narratives if n.label == OTHER), None)
        score = f" ({OTHER}, {other.score:.2f})" if other else ""
        lines.append(f"  no narrative detected{score}")
    for n in found[:_MAX_NARRATIVES]:
        lines.extend(wrap(f"{n.score:.2f}  {_clean(n.label)}", rest=" " * 8))
        for sub in sorted(doc.subnarratives_of(n.label), key=lambda s: -s.score):
            lines.extend(wrap(f"{sub.score:.2f}  {_clean(_sub_name(sub))}", " " * 8, " " * 14))
    if len(found) > _MAX_NARRATIVES:
        lines.append(f"  … and {len(found) - _MAX_NARRATIVES} more")
    evidence = next((n.evidence[0] for n in found if n.evidence), None)
    if evidence is not None:
        short = textwrap.shorten(_clean_text(evidence.text), _EVIDENCE_WIDTH, placeholder=" …")
        lines.extend(wrap(f"Evidence: “{short}”"))
    framed = sorted((e for e in doc.entities if e.framed), key=lambda e: -e.score)
    if framed:
        cast = "; ".join(
            f"{_clean(e.name)}: {e.main_role}"
            + (f" ({', '.join(e.fine_labels)})" if e.fine_labels else "")
            + f" {e.score:.2f}"
            for e in framed[:_MAX_ENTITIES]
        )
        more = f"; … {len(framed) - _MAX_ENTITIES} more" if len(framed) > _MAX_ENTITIES else ""
        lines.extend(wrap(f"Cast: {cast}{more}"))
    techniques = technique_summary(doc)
    if techniques:
        lines.extend(wrap(techniques))
    for claim in doc.claims[:_MAX_CLAIMS]:
        short = textwrap.shorten(_clean_text(claim.text), _EVIDENCE_WIDTH, placeholder=" …")
        lines.extend(wrap(f"Claim {claim.score:.2f}: “{short}”", rest="    "))
    if len(doc.claims) > _MAX_CLAIMS:
        hidden = len(doc.claims) - _MAX_CLAIMS
        lines.append(f"  … and {hidden} more claim{'s' if hidden > 1 else ''}")
    for match in doc.debunks[:_MAX_CLAIMS]:
        lines.extend(_debunk_lines(match, "Repeats", wrap))
    # the best of the reader comments' (the debunk's words and the offsets, never the
    # comment's: a summary line must not reprint a slur)
    theirs = [
        (DebunkMatch.from_dict(d), str(c.id))
        for c in doc.comments
        for d in c.annotations.get("debunks") or []
        if isinstance(d, dict) and d.get("id") is not None
    ]
    theirs.sort(key=lambda m: -m[0].score)
    for match, comment in theirs[:_MAX_CLAIMS]:
        lines.extend(_debunk_lines(match, f"Comment {_clean(comment)} repeats", wrap))
    if doc.explanation:
        lines.extend(wrap("Why: " + _clean_text(doc.explanation)))
    return "\n".join(lines)


def _debunk_lines(match: DebunkMatch, who: str, wrap: Callable[..., list[str]]) -> list[str]:
    """ "Repeats a known debunk 0.91 at 12-80: “claim” (false, checked 2023-03-20)" and its
    url: ``who`` starts the line (a comment's names the comment)."""
    about = [_clean(match.verdict)] if match.verdict else []
    if match.date:  # before or after the post: the reader weighs it
        about.append(f"checked {_clean(match.date)}")
    verdict = f" ({', '.join(about)})" if about else ""
    where = f" at {match.claim_span.start}-{match.claim_span.end}" if match.claim_span else ""
    line = f"{who} a known debunk {match.score:.2f}{where}: “{_clean(match.claim)}”{verdict}"
    out = wrap(line, rest="    ")
    if match.url:
        out += wrap(_clean(match.url), "    ", "    ", whole=True)
    return out


def thread_summary(doc: Document) -> str:
    """``thread: 14 comments, 3 hateful, 1 offensive, 1 incitement, 2 repeating known
    debunks``; empty for a document without one.

    The flags are counted from each comment's ``hate`` (label ``"hateful"``) and
    ``incitement`` (label true) analyses, and named only once a stage has set them:
    counts, never the words of a comment (a summary line must not reprint a slur).
    """
    if not doc.has_thread:
        return ""
    n = len(doc.comments)
    parts = [f"thread: {n} comment{'' if n == 1 else 's'}"]
    # the hate stage's results (issue 24) go here: each flag, counted over the comments
    analysed = [c.annotations for c in doc.comments]
    if any("hate" in a for a in analysed):
        parts.append(f"{sum(_label(a.get('hate')) == 'hateful' for a in analysed)} hateful")
        parts.append(f"{sum(_label(a.get('hate')) == 'offensive' for a in analysed)} offensive")
    if any("incitement" in a for a in analysed):
        parts.append(f"{sum(_label(a.get('incitement')) is True for a in analysed)} incitement")
    # the debunk stage's (issue 25): the comments that repeat a known debunk
    if any("debunks" in a for a in analysed):
        parts.append(f"{sum(bool(a.get('debunks')) for a in analysed)} repeating known debunks")
    warnings = doc.meta.get("thread_warnings") or []
    line = ", ".join(parts)
    if warnings:
        line += f" (read with {len(warnings)} warning{'' if len(warnings) == 1 else 's'})"
    return line


def flag_summary(doc: Document) -> str:
    """``Flags (article): hateful 0.91, target religion, chars 120-188; incitement 0.85,
    chars 7-54``: the label, score and where the evidence is, never its words (a summary
    must not reprint a slur; the html report and the web page show it in place).
    Empty when nothing is flagged or no hate stage ran."""
    parts = []
    hate, call = doc.hate or {}, doc.incitement or {}
    if hate.get("label") in ("hateful", "offensive"):
        target = f", target {_clean(str(hate['target']))}" if hate.get("target") else ""
        parts.append(f"{hate['label']} {hate['score']:.2f}{target}{_where(hate)}")
    if call.get("label") is True:
        parts.append(f"incitement {call['score']:.2f}{_where(call)}")
    if not parts:
        return ""
    return ("Flags (article): " if doc.has_thread else "Flags: ") + "; ".join(parts)


def _where(analysis: Mapping[str, Any]) -> str:
    evidence = analysis.get("evidence") or {}
    if "start" not in evidence:
        return ""
    return f", chars {evidence['start']}-{evidence['end']}"


def _label(analysis: Any) -> Any:
    """The label of an analysis kept as a record (a dict) or as an object."""
    if isinstance(analysis, Mapping):
        return analysis.get("label")
    return getattr(analysis, "label", None)


def technique_summary(doc: Document) -> str:
    """``Techniques: loaded language 3, doubt 2, … · profile: attack on reputation 4, …``:
    paragraphs per technique (most used first) and per family; empty when none."""
    paragraphs: dict[str, set[int]] = {}
    for t in doc.techniques:
        paragraphs.setdefault(t.label, set()).add(t.paragraph)
    if not paragraphs:
        return ""
    taxonomy = technique_taxonomy()
    names = {k: v["name"] for k, v in taxonomy["techniques"].items()}
    top = sorted(paragraphs.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    shown = ", ".join(
        f"{_clean(names.get(label, label)).lower()} {len(lines)}"
        for label, lines in top[:_MAX_TECHNIQUES]
    )
    if len(top) > _MAX_TECHNIQUES:
        shown += f", … {len(top) - _MAX_TECHNIQUES} more"
    families = {k: v["name"] for k, v in taxonomy["families"].items()}
    profile = ", ".join(
        f"{families.get(f, _clean(f)).lower()} {n}"
        for f, n in sorted(doc.persuasion_profile.items(), key=lambda kv: -kv[1])
        if n
    )
    return f"Techniques: {shown}" + (f" · profile: {profile}" if profile else "")
