"""A single self-contained HTML report: summary of narratives first, then every document.

Everything in a record (text, labels, ids, metadata) is untrusted — it comes from the
media being analysed — so every value goes through :func:`html.escape`, and a
Content-Security-Policy with a per-report nonce blocks any script or network load that
escaping might have missed. The report works opened from disk: inline CSS and JS only.

Documents are streamed to a temporary file while the summary is counted, so the summary
can come first without holding the batch in memory. Each document section carries its
record (minus sentence offsets) as a JSON data block, which is how :func:`read` lets a
resumed run rebuild the whole report.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from itertools import pairwise
from typing import Any, TextIO

from narrascope.doc import COMMENT
from narrascope.export.display import visible_bidi
from narrascope.export.records import (
    ARTICLE,
    COMMENTS,
    ENTITIES,
    NARRATIVES,
    OTHER,
    PROFILE,
    SUBNARRATIVES,
    TECHNIQUES,
    Record,
    annotation_groups,
    claim_list,
    comment_claims,
    comment_debunks,
    debunk_list,
    dumps_record,
    parent_of,
)
from narrascope.taxonomy import technique_taxonomy

RECORD_OPEN = '<script type="application/json" class="ns-record">'
RECORD_CLOSE = "</script>"
_INLINE_LINKS = 12  # more document links than this collapse into a <details>
_ROLE_CLASSES = ("Protagonist", "Antagonist", "Innocent")  # CSS classes r-<role>

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#222}
h1{font-size:1.5rem}table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}tr.sub td:first-child{padding-left:2rem;font-size:.92em}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.chip{display:inline-block;border-radius:1rem;padding:0 .6rem;margin:.1rem;border:1px solid #0002}
.chip b{font-weight:600;margin-left:.3rem}.other{background:#eee;color:#555}
details.doc{border:1px solid #ddd;border-radius:.4rem;margin:.5rem 0;padding:.3rem .8rem}
details.doc>summary{cursor:pointer}details.doc[open]>summary{margin-bottom:.5rem}
.doc-id{font-weight:600}.lang{font-family:monospace;color:#555;margin:0 .4rem}
.meta{color:#555;font-size:.9em}.explanation{background:#f8f8f0;padding:.4rem .6rem}
ul.narr{list-style:none;padding-left:0}ul.subs{list-style:none;padding-left:1.5rem;margin:0}
.text{white-space:pre-wrap;border-top:1px solid #eee;padding-top:.5rem}
mark{border-radius:.2rem;padding:0 .1rem;color:inherit}
.ent{border-bottom:.18rem solid;font-weight:600}.role{font-size:.72em;border-radius:.6rem;
padding:0 .35rem;margin-left:.15rem;vertical-align:.15em;white-space:nowrap;color:#fff}
.r-Protagonist{border-color:#2e7d32}.role.r-Protagonist{background:#2e7d32}
.r-Antagonist{border-color:#c62828}.role.r-Antagonist{background:#c62828}
.r-Innocent{border-color:#1565c0}.role.r-Innocent{background:#1565c0}
table.entities td{font-size:.92em}
.tq{text-decoration:underline wavy;text-decoration-thickness:.09rem;text-underline-offset:.22rem}
.f-attack_on_reputation{text-decoration-color:#c62828}.f-justification{text-decoration-color:#6a1b9a}
.f-simplification{text-decoration-color:#ef6c00}.f-distraction{text-decoration-color:#00838f}
.f-call{text-decoration-color:#2e7d32}.f-manipulative_wording{text-decoration-color:#1565c0}
.f-other{text-decoration-color:#555}.fam{font-size:.8em;border-radius:.6rem;padding:0 .4rem;
white-space:nowrap;border:2px solid}.fam.f-attack_on_reputation{border-color:#c62828}
.fam.f-justification{border-color:#6a1b9a}.fam.f-simplification{border-color:#ef6c00}
.fam.f-distraction{border-color:#00838f}.fam.f-call{border-color:#2e7d32}
.fam.f-manipulative_wording{border-color:#1565c0}.fam.f-other{border-color:#555}
table.techniques td{font-size:.92em}
.controls input{padding:.3rem;width:20rem}.controls button{margin-left:.3rem}
.thread{border-top:2px solid #ddd;margin-top:1rem}.thread-summary{color:#444}
ol.comments{list-style:none;padding-left:0}li.comment{margin-block:.4rem;padding:.3rem .6rem;
border-left:3px solid #ddd}li.comment.flagged{border-left-color:#c62828;background:#fdf3f2}
li.d-1{margin-left:1.5rem}li.d-2{margin-left:3rem}li.d-3{margin-left:4.5rem}
li.d-4{margin-left:6rem}li.d-5{margin-left:7.5rem}li.d-6{margin-left:9rem}.c-head{font-size:.88em;color:#555}
.c-author{font-weight:600;color:#222}.c-text{white-space:pre-wrap;margin-top:.15rem}
.flag{font-size:.8em;border-radius:.6rem;padding:0 .4rem;margin-left:.3rem;color:#fff;
white-space:nowrap}.flag.hateful{background:#b71c1c}.flag.offensive{background:#e65100}
.flag.incitement{background:#4a148c}mark.flag-ev{background:#ffcdd2}
mark.flag-ev.incitement{background:#e1bee7}
ol.comments.flagged-only li.comment:not(.flagged):not(.context){display:none}
ol.comments.flagged-only li.context{opacity:.5}
.claim{background:#fff8d6;box-shadow:inset 0 -.14rem #e0a800}
.claim.debunked{background:#fde2e0;box-shadow:inset 0 -.14rem #c62828}
section.claims ol{padding-left:1.5rem}section.claims li{margin-block:.25rem}
.cscore{font-variant-numeric:tabular-nums;font-weight:600;margin-right:.4rem}
.debunk{display:block;font-size:.9em;color:#7f1d1d;margin-left:1rem}
.flag.debunked{background:#c62828}p.debunks{margin:.3rem 0}
p.failed{color:#b71c1c;font-weight:600}
"""

_JS = """
(function () {
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  function all(open) {
    document.querySelectorAll("details.doc").forEach(function (d) { d.open = open; });
  }
  document.getElementById("expand-all").addEventListener("click", function () { all(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { all(false); });
  var box = document.getElementById("filter");
  box.addEventListener("input", function () {
    var q = box.value.toLowerCase();
    document.querySelectorAll("details.doc").forEach(function (d) {
      d.hidden = q !== "" && d.getAttribute("data-search").indexOf(q) < 0;
    });
  });
  document.querySelectorAll("input.flagged-only").forEach(function (c) {
    c.addEventListener("change", function () {
      var list = c.closest(".thread").querySelector("ol.comments");
      list.classList.toggle("flagged-only", c.checked);
    });
  });
})();
"""


def _show(value: Any) -> str:
    """An id, label, name or other short field, escaped, its bidi controls made visible
    (``⟨U+202E⟩``) so that it cannot reorder what is around it on the page."""
    return escape(visible_bidi(str(value)))


def colour(label: str) -> str:
    """A stable pastel colour per label, so a narrative looks the same in every report."""
    hue = int(hashlib.sha1(label.encode("utf-8", "replace")).hexdigest()[:6], 16) % 360
    return f"hsl({hue},70%,82%)"


def _label_colour(group: str, annotation: Mapping[str, Any]) -> str:
    label = str(annotation.get("label", ""))
    if label == OTHER:
        return "#eee"
    if group == SUBNARRATIVES:
        label = parent_of(annotation) or label
    return colour(label)


def _score(annotation: Mapping[str, Any]) -> float:
    score = annotation.get("score")
    return float(score) if score is not None else 0.0


def _chip(group: str, annotation: Mapping[str, Any], *, text: str | None = None) -> str:
    label = str(annotation.get("label", ""))
    score = annotation.get("score")
    cls = "chip other" if label == OTHER else "chip"
    style = "" if label == OTHER else f' style="background:{_label_colour(group, annotation)}"'
    shown = _show(text if text is not None else label)
    scored = f"<b>{float(score):.2f}</b>" if score is not None else ""
    return f'<span class="{cls}"{style} title="{_show(label)}">{shown}{scored}</span>'


@dataclass
class _LabelStats:
    docs: int = 0
    score_sum: float = 0.0
    languages: set[str] = field(default_factory=set)
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Summary:
    """What the summary table needs, counted while documents stream past."""

    documents: int = 0
    languages: set[str] = field(default_factory=set)
    labels: dict[str, dict[str, _LabelStats]] = field(
        default_factory=lambda: {NARRATIVES: {}, SUBNARRATIVES: {}}
    )
    parents: dict[str, str | None] = field(default_factory=dict)
    # (entity name, main role) → documents casting it so
    roles: dict[tuple[str, str], _LabelStats] = field(default_factory=dict)
    # technique family → (documents using it, paragraphs using it)
    families: dict[str, list[int]] = field(default_factory=dict)
    # documents with a reader thread, and (comments, hateful, offensive, incitement) in them
    threads: int = 0
    thread_counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    # documents repeating any known debunk (in the article or a reader comment), those
    # repeating one in a comment, and per debunk id: its documents and what the first
    # match said of it (claim, verdict, url)
    debunked: int = 0
    debunked_in_comments: int = 0
    debunks: dict[str, tuple[_LabelStats, Mapping[str, Any]]] = field(default_factory=dict)

    def add(self, record: Record, anchor: str) -> None:
        self.documents += 1
        own, theirs = debunk_list(record), comment_debunks(record)
        self.debunked += bool(own or theirs)
        self.debunked_in_comments += bool(theirs)
        for d in own + theirs:  # the article's first: a link says "in a comment" only then
            stats, _ = self.debunks.setdefault(str(d["id"]), (_LabelStats(), d))
            if not stats.links or stats.links[-1][0] != anchor:
                stats.docs += 1
                where = " (in a comment)" if COMMENT in d else ""
                stats.links.append((anchor, str(record.get("id") or anchor) + where))
                stats.score_sum += _score(d)
        if _article_region(record) is not None:
            self.threads += 1
            counts = _thread_counts(_comment_list(record))
            self.thread_counts = [a + b for a, b in zip(self.thread_counts, counts, strict=True)]
        for family, count in (record.get(PROFILE) or {}).items():
            if count:
                totals = self.families.setdefault(_family_class(family), [0, 0])
                totals[0] += 1
                totals[1] += int(count)
        for e in record.get(ENTITIES) or []:
            main = e.get("main_role")
            if main in _ROLE_CLASSES:
                stats = self.roles.setdefault((str(e.get("name", "")), main), _LabelStats())
                if not stats.links or stats.links[-1][0] != anchor:
                    stats.docs += 1
                    stats.links.append((anchor, str(record.get("id") or anchor)))
                stats.score_sum += _score(e)
        language = str(record.get("language") or "?")
        self.languages.add(language)
        for group in (NARRATIVES, SUBNARRATIVES):
            best: dict[str, float] = {}
            for a in record.get(group) or []:
                label = str(a.get("label", ""))
                if group == SUBNARRATIVES and label == OTHER:
                    continue  # the fine "Other" repeats the coarse one
                best[label] = max(best.get(label, 0.0), _score(a))
                if group == SUBNARRATIVES:
                    self.parents[label] = parent_of(a)
            for label, score in best.items():
                stats = self.labels[group].setdefault(label, _LabelStats())
                stats.docs += 1
                stats.score_sum += score
                stats.languages.add(language)
                stats.links.append((anchor, str(record.get("id") or anchor)))


def _links(stats: _LabelStats) -> str:
    links = ", ".join(f'<a href="#{a}">{_show(doc_id)}</a>' for a, doc_id in stats.links)
    if len(stats.links) <= _INLINE_LINKS:
        return links
    return f"<details><summary>{len(stats.links)} documents</summary>{links}</details>"


def _row(label: str, stats: _LabelStats, *, parent: str | None = None) -> str:
    sub = parent is not None
    shown = label.rsplit(": ", 1)[-1] if sub and ": " in label else label
    mean = stats.score_sum / stats.docs if stats.docs else 0.0
    hue = colour(parent or label)
    style = "" if label == OTHER else f' style="border-left:.6rem solid {hue}"'
    return (
        f'<tr class="{"sub" if sub else "narr"}"><td{style} title="{_show(label)}">'
        f"{_show(shown)}</td><td class=num>{stats.docs}</td><td class=num>{mean:.2f}</td>"
        f"<td>{_show(', '.join(sorted(stats.languages)))}</td><td>{_links(stats)}</td></tr>"
    )


def _threads_line(summary: _Summary) -> str:
    """The batch's reader comments and their flags: counts only, never a comment's text."""
    if not summary.threads:
        return ""
    comments, hateful, offensive, calls = summary.thread_counts
    return (
        f"<p class=meta>Reader comments: {comments} in {summary.threads} "
        f"thread{'' if summary.threads == 1 else 's'} · {hateful} hateful · "
        f"{offensive} offensive · {calls} incitement</p>\n"
    )


def _debunks_line(summary: _Summary, checked: bool | None) -> str:
    """How many documents of the batch repeat a known debunk (said even when none do),
    or that they were not checked: "0 repeat" would read as checked and clean."""
    if not summary.documents:
        return ""
    n = summary.debunked
    if checked is False and not n:
        return (
            "<p class=meta id=debunked-count>Not checked against known debunks "
            "(analyze --debunks FILE, or a --db that holds debunks)</p>\n"
        )
    k = summary.debunked_in_comments
    return (
        f"<p class=meta id=debunked-count>{n} of {summary.documents} "
        f"document{'' if summary.documents == 1 else 's'} repeat{'s' if n == 1 else ''} "
        "known debunks" + (f" ({k} in a comment)" if k else "") + "</p>\n"
    )


def _debunks_table(summary: _Summary) -> str:
    """The known debunks the batch repeats, most repeated first, with their documents."""
    if not summary.debunks:
        return ""
    rows = "".join(
        f"<tr><td dir=auto>{_show(d.get('claim') or '')}</td>"
        f"<td>{_show(d.get('verdict') or '')}</td><td>{_show(d.get('date') or '')}</td>"
        f"<td>{_debunk_link(d)}</td>"
        f"<td class=num>{stats.docs}</td><td>{_links(stats)}</td></tr>"
        for _id, (stats, d) in sorted(
            summary.debunks.items(), key=lambda kv: (-kv[1][0].docs, kv[0])
        )
    )
    return (
        "<h2>Known debunks repeated</h2><table class=debunks><thead><tr><th>Debunked claim</th>"
        "<th>Verdict</th><th>Checked</th><th>Fact-check</th><th>Documents</th><th>Links</th>"
        "</tr></thead>"
        f"<tbody>{rows}</tbody></table>\n"
    )


def _summary_table(summary: _Summary) -> str:
    if not summary.documents:
        return "<p>No documents.</p>"
    narratives = summary.labels[NARRATIVES]
    subs = summary.labels[SUBNARRATIVES]
    rows = []
    placed: set[str] = set()

    def order(item: tuple[str, _LabelStats]) -> tuple[bool, int, str]:
        return (item[0] == OTHER, -item[1].docs, item[0])  # most frequent first, Other last

    for label, stats in sorted(narratives.items(), key=order):
        rows.append(_row(label, stats))
        for sub_label, sub_stats in sorted(subs.items(), key=order):
            if summary.parents.get(sub_label) == label:
                rows.append(_row(sub_label, sub_stats, parent=label))
                placed.add(sub_label)
    rows.extend(
        _row(lb, st, parent=summary.parents.get(lb) or lb)
        for lb, st in sorted(subs.items())
        if lb not in placed
    )
    return (
        "<table class=summary><thead><tr><th>Narrative / sub-narrative</th><th>Documents</th>"
        "<th>Mean score</th><th>Languages</th><th>Links</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


_TOP_ENTITIES = 30


def _roles_table(summary: _Summary) -> str:
    """The most frequently framed entities of the batch and the roles they get."""
    if not summary.roles:
        return ""
    top = sorted(summary.roles.items(), key=lambda kv: (-kv[1].docs, kv[0]))[:_TOP_ENTITIES]
    rows = "".join(
        f"<tr><td>{_show(name)}</td><td><span class='role r-{main}'>{escape(main)}</span></td>"
        f"<td class=num>{st.docs}</td><td>{_links(st)}</td></tr>"
        for (name, main), st in top
    )
    return (
        "<h2>Entities</h2><table class=entities><thead><tr><th>Entity</th><th>Main role</th>"
        f"<th>Documents</th><th>Links</th></tr></thead><tbody>{rows}</tbody></table>\n"
    )


def _families_table(summary: _Summary) -> str:
    """Batch persuasion profile; it doubles as the legend of the underline colours."""
    if not summary.families:
        return ""
    members = {f: v["techniques"] for f, v in technique_taxonomy()["families"].items()}
    rows = "".join(
        f'<tr><td><span class="fam f-{f}">{escape(name)}</span></td>'
        f"<td class=num>{summary.families.get(f, [0, 0])[0]}</td>"
        f"<td class=num>{summary.families.get(f, [0, 0])[1]}</td>"
        f"<td>{escape(', '.join(_technique_name(t) for t in members[f]))}</td></tr>"
        for f, name in _FAMILY_NAMES.items()
    )
    return (
        "<h2>Persuasion techniques</h2><p class=meta>Technique spans are underlined in their "
        "family's colour; hover a span for the technique, its score and what it means.</p>"
        "<table class=techniques><thead><tr><th>Family</th><th>Documents</th>"
        f"<th>Paragraphs</th><th>Techniques</th></tr></thead><tbody>{rows}</tbody></table>\n"
    )


class _Sweep:
    """The spans of one kind that cover each piece of the text, while the pieces are
    walked left to right (a sweep line): a span joins at its start and leaves at its end,
    so each piece costs the spans covering it, not every span of the document (a
    460 KB text with 5,600 framed mentions took 12 s scanning them all per piece).

    Every span's start and end must be among the cuts; spans come back in the order
    they were given, so the first one wins a tie as before."""

    def __init__(self, spans: Sequence[tuple[Any, ...]]) -> None:
        self.spans = spans
        self.starts: dict[int, list[int]] = {}
        self.ends: dict[int, list[int]] = {}
        for i, span in enumerate(spans):
            self.starts.setdefault(span[0], []).append(i)
            self.ends.setdefault(span[1], []).append(i)
        self.active: set[int] = set()

    def covering(self, cut: int) -> list[Any]:
        """The spans covering the piece that starts at ``cut`` (cuts asked in order)."""
        self.active.update(self.starts.get(cut, ()))
        self.active.difference_update(self.ends.get(cut, ()))  # an empty span: gone at once
        return [self.spans[i] for i in sorted(self.active)]


def _highlighted(record: Record, region: tuple[int, int] | None = None, anchor: str = "doc") -> str:
    """The text with every evidence span marked, in the colour of its (parent) narrative,
    every persuasion-technique span underlined in its family's colour, and every mention
    of a framed entity underlined with a role chip after it.

    Spans overlap (one sentence supports two narratives, techniques overlap each other and
    the evidence), so the text is cut at every span boundary and each piece is wrapped,
    outside in, by the best narrative covering it, the document's own hate or incitement
    flag whose evidence covers it, the best technique covering it and the entity mention.
    Only the innermost wrapper has a tooltip, listing everything that covers the piece (a
    browser shows the innermost title only). Spans whose offsets do not match the text
    are skipped. With ``region`` (a thread's article) only that part of the text is
    shown, and only the spans inside it. Check-worthy claims are the outermost wrapper (a
    known debunk's in red); a claim's first piece carries the id ``<anchor>-claim-<i>``
    that the Claims list links to.
    """
    text = str(record.get("text") or "")
    lo, hi = region if region is not None else (0, len(text))
    spans: list[tuple[int, int, tuple[int, float], str, str]] = []
    for rank, (group, group_annotations) in enumerate(annotation_groups(record).items()):
        for a in group_annotations:
            for ev in a.get("evidence") or []:
                if _fits(text, ev):
                    tip = f"{a.get('label', '')} ({_score(a):.2f})"
                    start, end = int(ev["start"]), int(ev["end"])
                    spans.append((start, end, (rank, -_score(a)), _label_colour(group, a), tip))
    mentions = _framed_mentions(record, text)
    techniques = _technique_spans(record, text)
    claims = _claim_spans(record, text, anchor)
    flags = _flag_spans(record, text, lo, hi)
    if region is not None:
        spans = [s for s in spans if lo <= s[0] and s[1] <= hi]
        mentions = [m for m in mentions if lo <= m[0] and m[1] <= hi]
        techniques = [t for t in techniques if lo <= t[0] and t[1] <= hi]
        claims = [c for c in claims if lo <= c[0] and c[1] <= hi]
    if not spans and not mentions and not techniques and not claims and not flags:
        return escape(text[lo:hi])
    bounds = [b for s in [*spans, *mentions, *techniques, *claims, *flags] for b in s[:2]]
    placed: set[str] = set()  # claim ids already given to a piece
    cuts = sorted({lo, hi, *bounds})
    claim_sweep, span_sweep, flag_sweep = _Sweep(claims), _Sweep(spans), _Sweep(flags)
    technique_sweep, mention_sweep = _Sweep(techniques), _Sweep(mentions)
    out = []
    for a, b in pairwise(cuts):
        wrappers: list[tuple[str, str]] = []  # (opening tag without ">", closing tag)
        tips: list[str] = []
        claim = next(iter(claim_sweep.covering(a)), None)
        if claim is not None:
            ident = ""
            if claim[4] and claim[4] not in placed:
                placed.add(claim[4])
                ident = f' id="{escape(claim[4])}"'
            wrappers.append((f'<span class="{claim[2]}"{ident}', "</span>"))
            tips.append(claim[3])
        covering = sorted(span_sweep.covering(a), key=lambda s: s[2])
        if covering:
            wrappers.append((f'<mark style="background:{covering[0][3]}"', "</mark>"))
            tips.append("; ".join(dict.fromkeys(s[4] for s in covering)))
        flagged = flag_sweep.covering(a)
        if flagged:
            kinds = " ".join(dict.fromkeys(f[2] for f in flagged))
            wrappers.append((f'<mark class="flag-ev {kinds}"', "</mark>"))
            tips.extend(dict.fromkeys(f[3] for f in flagged))
        in_tq = sorted(technique_sweep.covering(a), key=lambda t: -t[3])
        if in_tq:
            wrappers.append((f'<span class="tq f-{in_tq[0][2]}"', "</span>"))
            tips.extend(dict.fromkeys(t[4] for t in in_tq))
        inside = next(iter(mention_sweep.covering(a)), None)
        if inside is not None:
            wrappers.append((f'<span class="ent r-{inside[2]}"', "</span>"))
            tips.insert(0, inside[3])
        piece = escape(text[a:b])
        if wrappers:
            opening = [tag + ">" for tag, _ in wrappers[:-1]]
            opening.append(f'{wrappers[-1][0]} title="{_show(chr(10).join(tips))}">')
            closing = [close for _, close in reversed(wrappers)]
            piece = "".join(opening) + piece + "".join(closing)
        out.append(piece)
        if inside is not None and inside[1] == b:
            out.append(f'<span class="role r-{inside[2]}">{_show(inside[4])}</span>')
    return "".join(out)


def _flag_spans(record: Record, text: str, lo: int, hi: int) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, badge) of the evidence of the document's own hate and
    incitement flags inside ``text[lo:hi]`` (the article of a thread), as
    :func:`_comment_body` marks a comment's."""
    out = []
    for kind, badge, evidence in _flags(record):
        span = _evidence_span(text, lo, hi, evidence)
        if span is not None:
            out.append((*span, kind, badge))
    return out


def _family_class(family: Any) -> str:
    """A CSS class suffix for a family name from an (untrusted) record."""
    return str(family) if family in _FAMILY_NAMES else "other"


def _technique_spans(record: Record, text: str) -> list[tuple[int, int, str, float, str]]:
    """(start, end, family class, score, tooltip) of every technique span that fits."""
    out = []
    for t in record.get(TECHNIQUES) or []:
        if not _fits(text, t):
            continue
        label = str(t.get("label", ""))
        out.append(
            (
                int(t["start"]),
                int(t["end"]),
                _family_class(t.get("family")),
                _score(t),
                f"{_technique_name(label)} ({_score(t):.2f}): {_definition(label)}",
            )
        )
    return out


def _fits(text: str, span: Mapping[str, Any]) -> bool:
    """Whether a span's offsets are inside the text and (when it says) cover its text."""
    start, end = int(span.get("start", -1)), int(span.get("end", -1))
    if not 0 <= start < end <= len(text):
        return False
    return "text" not in span or text[start:end] == span["text"]


def _role_text(entity: Mapping[str, Any]) -> str:
    fine = [str(a.get("label", "")) for a in entity.get("fine_roles") or []]
    return f"{entity.get('main_role')}" + (f" · {', '.join(fine)}" if fine else "")


def _framed_mentions(record: Record, text: str) -> list[tuple[int, int, str, str, str]]:
    """(start, end, main role, tooltip, chip text) of every mention of a framed entity."""
    out = []
    for e in record.get(ENTITIES) or []:
        main = str(e.get("main_role") or "")
        if main not in _ROLE_CLASSES:
            continue
        tip = f"{e.get('name', '')}: {_role_text(e)} ({_score(e):.2f})"
        for m in e.get("mentions") or []:
            if _fits(text, m):
                out.append((int(m["start"]), int(m["end"]), main, tip, _role_text(e)))
    out.sort()
    # overlapping mentions would nest tags wrongly: keep the first of any overlap
    kept: list[tuple[int, int, str, str, str]] = []
    for m in out:
        if not kept or m[0] >= kept[-1][1]:
            kept.append(m)
    return kept


def _entity_table(record: Record) -> str:
    """Who the document casts in which role, with the sentence that does it."""
    framed = [e for e in record.get(ENTITIES) or [] if e.get("main_role") in _ROLE_CLASSES]
    if not framed:
        return ""
    rows = []
    for e in sorted(framed, key=lambda e: (str(e.get("main_role")), -_score(e))):
        main = str(e["main_role"])
        evidence = (e.get("evidence") or [{}])[0].get("text", "")
        rows.append(
            f"<tr><td>{_show(e.get('name', ''))}</td>"
            f'<td><span class="role r-{main}">{_show(_role_text(e))}</span></td>'
            f"<td class=num>{_score(e):.2f}</td><td class=num>{len(e.get('mentions') or [])}</td>"
            f'<td dir="auto">{escape(str(evidence))}</td></tr>'
        )
    return (
        "<table class=entities><thead><tr><th>Entity</th><th>Role</th><th>Score</th>"
        "<th>Mentions</th><th>Evidence</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


_FAMILY_NAMES: dict[str, str] = {k: v["name"] for k, v in technique_taxonomy()["families"].items()}


def _technique_name(label: str) -> str:
    entry = technique_taxonomy()["techniques"].get(label)
    return entry["name"] if entry else label


def _definition(label: str) -> str:
    entry = technique_taxonomy()["techniques"].get(label)
    return entry["definition"] if entry else ""


def _technique_table(record: Record) -> str:
    """The legend of the underlines: each technique found, its family, how many
    paragraphs use it, its best score and what it means; then the persuasion profile."""
    found: dict[str, tuple[str, set[int], float]] = {}
    for t in record.get(TECHNIQUES) or []:
        label = str(t.get("label", ""))
        family, lines, best = found.get(label, (_family_class(t.get("family")), set(), 0.0))
        lines.add(int(t.get("paragraph") or 0))
        found[label] = (family, lines, max(best, _score(t)))
    profile = record.get(PROFILE) or {}
    if not found and not any(profile.values()):
        return ""
    rows = "".join(
        f'<tr><td><span class="fam f-{family}">{escape(_FAMILY_NAMES.get(family, family))}'
        f"</span></td><td>{_show(_technique_name(label))}</td><td class=num>{len(lines)}</td>"
        f"<td class=num>{best:.2f}</td><td>{escape(_definition(label))}</td></tr>"
        for label, (family, lines, best) in sorted(
            found.items(), key=lambda kv: (kv[1][0], -len(kv[1][1]), kv[0])
        )
    )
    cells = "".join(
        f'<td class=num><span class="fam f-{_family_class(f)}" title="{escape(name)}">'
        f"{int(profile.get(f) or 0)}</span></td>"
        for f, name in _FAMILY_NAMES.items()
    )
    head = "".join(f"<th>{escape(name)}</th>" for name in _FAMILY_NAMES.values())
    return (
        "<table class=techniques><thead><tr><th>Family</th><th>Technique</th>"
        "<th>Paragraphs</th><th>Best score</th><th>Meaning</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "<table class=techniques><thead><tr><th>Persuasion profile (paragraphs)</th>"
        f"{head}</tr></thead><tbody><tr><td></td>{cells}</tr></tbody></table>"
    )


# --- the reader thread ------------------------------------------------------------------

_MAX_INDENT = 6  # deeper replies sit at the sixth level: a long chain stays readable
_HATE_FLAGS = ("hateful", "offensive")


def _article_region(record: Record) -> tuple[int, int] | None:
    """The article's (start, end) when the record carries a reader thread, else None
    (an ordinary record, shown exactly as before threads existed)."""
    article, comments = record.get(ARTICLE), record.get(COMMENTS)
    if not isinstance(article, Mapping) or not isinstance(comments, list):
        return None
    try:
        start, end = int(article["start"]), int(article["end"])
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 <= start <= end <= len(str(record.get("text") or "")):
        return None
    return start, end


def _flags(item: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(kind, badge, evidence) of each flag raised on a comment or a document: hate
    labelled hateful or offensive, incitement true. An absent analysis (an older record)
    or a "none" raises nothing. The badge holds the label, score and target, never text."""
    out: list[tuple[str, str, Any]] = []
    hate = item.get("hate")
    if isinstance(hate, Mapping) and hate.get("label") in _HATE_FLAGS:
        badge = f"{hate['label']} {_score(hate):.2f}"
        if hate.get("target"):
            badge += f" · target: {hate['target']}"
        out.append((str(hate["label"]), badge, hate.get("evidence")))
    incitement = item.get("incitement")
    if isinstance(incitement, Mapping) and incitement.get("label") is True:
        out.append(
            ("incitement", f"incitement {_score(incitement):.2f}", incitement.get("evidence"))
        )
    return out


def _badges(flags: list[tuple[str, str, Any]]) -> str:
    return "".join(f'<span class="flag {kind}">{_show(badge)}</span>' for kind, badge, _ in flags)


def _thread_counts(comments: list[Mapping[str, Any]]) -> tuple[int, int, int, int]:
    """(comments, hateful, offensive, incitement) of a thread."""
    hate = [c.get("hate") for c in comments]
    labels = [h.get("label") for h in hate if isinstance(h, Mapping)]
    incitement = [c.get("incitement") for c in comments]
    calls = sum(isinstance(i, Mapping) and i.get("label") is True for i in incitement)
    return len(comments), labels.count("hateful"), labels.count("offensive"), calls


def _counts_line(comments: list[Mapping[str, Any]]) -> str:
    """ "14 comments · 3 hateful · 1 offensive · 1 incitement · 1 repeating known debunks":
    counts only, never text. A count is left out when no comment carries that analysis
    (it was not run)."""
    n, hateful, offensive, calls = _thread_counts(comments)
    parts = [f"{n} comment{'' if n == 1 else 's'}"]
    if any(isinstance(c.get("hate"), Mapping) for c in comments):
        parts += [f"{hateful} hateful", f"{offensive} offensive"]
    if any(isinstance(c.get("incitement"), Mapping) for c in comments):
        parts.append(f"{calls} incitement")
    if any(isinstance(c.get("debunks"), list) for c in comments):
        repeating = sum(bool(debunk_list(c)) for c in comments)
        parts.append(f"{repeating} repeating known debunks")
    return " · ".join(parts)


def _evidence_span(text: str, start: int, end: int, evidence: Any) -> tuple[int, int] | None:
    """Where a flag's evidence lies in ``text[start:end]``: its offsets count in the
    record's text; offsets relative to the comment are accepted too. None if neither fits."""
    if not isinstance(evidence, Mapping):
        return None
    try:
        s, e = int(evidence["start"]), int(evidence["end"])
    except (KeyError, TypeError, ValueError):
        return None
    want = evidence.get("text")
    for base in (0, start):
        a, b = s + base, e + base
        if start <= a < b <= end and (not isinstance(want, str) or text[a:b] == want):
            return a, b
    return None


def _comment_body(
    text: str,
    start: int,
    end: int,
    flags: list[tuple[str, str, Any]],
    claims: Sequence[tuple[int, int, str, str, str]] = (),
) -> str:
    """The comment's text, escaped, with each flag's evidence marked and each of its
    check-worthy claims (``claims``: :func:`_claim_spans`' of the record) as in the
    article: a known debunk's in red, its first piece carrying the id the Claims list
    links to."""
    marks = []
    for kind, badge, evidence in flags:
        span = _evidence_span(text, start, end, evidence)
        if span is not None:
            marks.append((*span, kind, badge))
    mine = [c for c in claims if start <= c[0] and c[1] <= end]
    cuts = sorted({start, end, *(b for m in [*marks, *mine] for b in m[:2])})
    out = []
    placed: set[str] = set()
    for a, b in pairwise(cuts):
        piece = escape(text[a:b])
        cover = [m for m in marks if m[0] <= a and m[1] >= b]
        claim = next((c for c in mine if c[0] <= a and c[1] >= b), None)  # best first
        tips = [claim[3]] if claim is not None else []
        if cover:
            kinds = " ".join(dict.fromkeys(m[2] for m in cover))
            tips.extend(dict.fromkeys(m[3] for m in cover))
            title = "" if claim is not None else f' title="{_show(chr(10).join(tips))}"'
            piece = f'<mark class="flag-ev {kinds}"{title}>{piece}</mark>'
        if claim is not None:
            ident = ""
            if claim[4] and claim[4] not in placed:
                placed.add(claim[4])
                ident = f' id="{escape(claim[4])}"'
            title = _show(chr(10).join(tips))
            piece = f'<span class="{claim[2]}"{ident} title="{title}">{piece}</span>'
        out.append(piece)
    return "".join(out)


def _comment_list(record: Record) -> list[Mapping[str, Any]]:
    return [c for c in record.get(COMMENTS) or [] if isinstance(c, Mapping)]


def _thread_section(record: Record, anchor: str = "doc") -> str:
    """The comments as a thread: in order, indented by depth, flagged ones marked, their
    check-worthy claims and restated debunks marked; the ancestors of a flagged comment
    stay visible (dimmed) under "show flagged only"."""
    text = str(record.get("text") or "")
    claims = _claim_spans(record, text, anchor)
    comments = _comment_list(record)
    by_id = {str(c.get("id")): c for c in comments}
    context: set[str] = set()
    for c in comments:
        if not _flags(c):
            continue
        parent = c.get("parent")
        while parent is not None and str(parent) in by_id and str(parent) not in context:
            context.add(str(parent))
            parent = by_id[str(parent)].get("parent")
    items = []
    for c in comments:
        flags = _flags(c)
        cid = str(c.get("id"))
        try:
            depth = min(max(int(c.get("depth") or 0), 0), _MAX_INDENT)
            start, end = int(c["start"]), int(c["end"])
        except (KeyError, TypeError, ValueError):
            depth, start, end = 0, 0, 0
        if not 0 <= start <= end <= len(text):
            start = end = 0
        cls = "comment" + (" flagged" if flags else " context" if cid in context else "")
        head = [f'<span class="c-author">{_show(c.get("author") or "anonymous")}</span>']
        if c.get("date"):
            head.append(f'<span class="c-date">{_show(c["date"])}</span>')
        if c.get("language"):
            head.append(f'<span class="lang">{_show(c["language"])}</span>')
        parent = c.get("parent")
        items.append(
            f'<li class="{cls} d-{depth}" data-id="{escape(cid)}" data-depth="{depth}"'
            f' data-parent="{escape("" if parent is None else str(parent))}">'
            f'<div class="c-head">{" · ".join(head)}{_badges(flags)}</div>'
            f'<div class="c-text" dir="auto">{_comment_body(text, start, end, flags, claims)}'
            "</div></li>"
        )
    return (
        f'<section class="thread"><h3>Comments ({len(comments)})</h3>'
        f'<p class="thread-summary">{escape(_counts_line(comments))}</p>'
        '<p class="thread-filter"><label><input type="checkbox" class="flagged-only"> '
        "show flagged only</label></p>"
        f'<ol class="comments">{"".join(items)}</ol></section>\n'
    )


# --- claims and known debunks --------------------------------------------------------------


def _debunk_link(d: Mapping[str, Any]) -> str:
    """The fact-check's address: a link only for http(s) (never ``javascript:``...), opened
    in a new tab that cannot reach back to the report; any other value is shown as text."""
    url = str(d.get("url") or "")
    if url.lower().startswith(("http://", "https://")):
        return (
            f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{_show(url)}</a>"
        )
    return _show(url)


def _verdict_and_date(d: Mapping[str, Any]) -> str:
    """ "false, checked 2023-03-20": the debunk's verdict and date, either may be missing
    (the date tells a reader whether the fact-check came before or after the post)."""
    parts = [str(d["verdict"])] if d.get("verdict") else []
    if d.get("date"):
        parts.append(f"checked {d['date']}")
    return ", ".join(parts)


def _debunk_line(d: Mapping[str, Any]) -> str:
    """ "matches debunk: <claim> (<verdict>, checked <date>) <link>", with the debunk's id
    and score."""
    about = _verdict_and_date(d)
    verdict = f" ({_show(about)})" if about else ""
    link = _debunk_link(d)
    return (
        f'<span class="debunk" data-debunk="{escape(str(d.get("id")))}">matches debunk: '
        f'<q dir="auto">{_show(d.get("claim") or "")}</q>{verdict}'
        + (f" {link}" if link else "")
        + f' <span class="meta">{_show(d.get("id"))} · {_score(d):.2f}</span></span>'
    )


def _claim_matches(
    record: Record, text: str
) -> tuple[list[Mapping[str, Any]], dict[int, list[Mapping[str, Any]]], list[Mapping[str, Any]]]:
    """(claims that fit the text, best first; the debunk matches of each claim by its
    index; the matches of no listed claim: the document's as a whole, or a stretch that
    is no listed claim). A match belongs to the claim its ``claim_span`` overlaps most.
    The reader comments' claims and matches are among them (each names its comment)."""
    claims = [c for c in claim_list(record) + comment_claims(record) if _fits(text, c)]
    claims.sort(key=lambda c: -_score(c))
    by_claim: dict[int, list[Mapping[str, Any]]] = {}
    loose: list[Mapping[str, Any]] = []
    for d in debunk_list(record) + comment_debunks(record):
        span = d.get("claim_span")
        best, overlap = -1, 0
        if isinstance(span, Mapping) and _fits(text, span):
            s, e = int(span["start"]), int(span["end"])
            for i, c in enumerate(claims):
                shared = min(e, int(c["end"])) - max(s, int(c["start"]))
                if shared > overlap:
                    best, overlap = i, shared
        if best >= 0:
            by_claim.setdefault(best, []).append(d)
        else:
            loose.append(d)
    return claims, by_claim, loose


def _claim_spans(record: Record, text: str, anchor: str) -> list[tuple[int, int, str, str, str]]:
    """(start, end, CSS class, tooltip, element id) of every listed claim that fits the
    text, best first; a claim that restates a known debunk is marked ``debunked``."""
    claims, by_claim, loose = _claim_matches(record, text)
    out = []
    for i, c in enumerate(claims):
        matches = by_claim.get(i, [])
        tip = f"check-worthy claim ({_score(c):.2f})"
        tip += "".join(
            f"\nmatches debunk: {d.get('claim') or ''}"
            + (f" ({_verdict_and_date(d)})" if _verdict_and_date(d) else "")
            for d in matches
        )
        cls = "claim debunked" if matches else "claim"
        out.append((int(c["start"]), int(c["end"]), cls, tip, f"{anchor}-claim-{i}"))
    for d in loose:  # a matched stretch that is no listed claim is marked too
        span = d.get("claim_span")
        if isinstance(span, Mapping) and _fits(text, span):
            tip = f"matches debunk: {d.get('claim') or ''}" + (
                f" ({_verdict_and_date(d)})" if _verdict_and_date(d) else ""
            )
            out.append((int(span["start"]), int(span["end"]), "claim debunked", tip, ""))
    return out


def _in_comment(record: Record, item: Mapping[str, Any]) -> str:
    """ "(in a comment by Anna)": where a reader comment's claim or match is (the author
    named when the record has one; "(in a comment)" for a claim outside the article that
    names no comment, as older records have)."""
    said = item.get(COMMENT)
    author = next(
        (
            c.get("author")
            for c in _comment_list(record)
            if said is not None and c.get("id") == said
        ),
        None,
    )
    by = f" by {_show(author)}" if author else ""
    return f' <span class="meta">(in a comment{by})</span>'


def _claims_section(record: Record, anchor: str, region: tuple[int, int] | None) -> str:
    """The document's check-worthy claims, best first, each with its score, a link to it
    in the text (a reader comment's: in its comment) and the known debunks it repeats;
    then the debunks matched elsewhere."""
    text = str(record.get("text") or "")
    claims, by_claim, loose = _claim_matches(record, text)
    if not claims and not loose:
        return ""
    lo, hi = region if region is not None else (0, len(text))
    items = []
    for i, c in enumerate(claims):
        shown = f'<q dir="auto">{escape(text[int(c["start"]) : int(c["end"])])}</q>'
        if lo <= int(c["start"]) and int(c["end"]) <= hi:  # highlighted in the text shown
            shown = f'<a href="#{anchor}-claim-{i}">{shown}</a>'
        elif COMMENT in c and region is not None:  # marked in its comment in the thread
            shown = f'<a href="#{anchor}-claim-{i}">{shown}</a>{_in_comment(record, c)}'
        else:
            shown += _in_comment(record, c)
        lines = "".join(_debunk_line(d) for d in by_claim.get(i, []))
        items.append(
            f'<li class="claim-item" data-start="{int(c["start"])}" data-end="{int(c["end"])}">'
            f'<span class="cscore">{_score(c):.2f}</span>{shown}{lines}</li>'
        )
    stretches, whole = [], []
    for d in loose:
        span = d.get("claim_span")
        if isinstance(span, Mapping) and _fits(text, span):
            where = _in_comment(record, d) if COMMENT in d else ""
            stretches.append(
                f'<li><q dir="auto">{escape(str(span.get("text") or ""))}</q>{where}'
                f"{_debunk_line(d)}</li>"
            )
        else:
            whole.append(f'<p class="debunks">{_debunk_line(d)}</p>')
    return (
        f'<section class="claims"><h3>Claims ({len(claims)})</h3>'
        + "".join(whole)
        + (f"<ol>{''.join(items)}</ol>" if items else "")
        + (f"<ul>{''.join(stretches)}</ul>" if stretches else "")
        + "</section>\n"
    )


def _embedded(record: Record) -> str:
    slim = {k: v for k, v in record.items() if k != "sentences"}
    data = dumps_record(slim).decode("utf-8").rstrip("\n")
    # "<" etc. only occur inside JSON strings, where \\u escapes mean the same thing;
    # this keeps "</script>" in a document from closing the data block.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"{RECORD_OPEN}{data}{RECORD_CLOSE}\n"


def _document(record: Record, anchor: str) -> str:
    doc_id = str(record.get("id") or anchor)
    groups = annotation_groups(record)
    narratives = sorted(groups.get(NARRATIVES, []), key=lambda a: -_score(a))
    subnarratives = groups.get(SUBNARRATIVES, [])
    labels = [str(a.get("label", "")) for anns in groups.values() for a in anns]
    labels += [str(e.get("name", "")) for e in record.get(ENTITIES) or [] if e.get("main_role")]
    labels += [str(t.get("label", "")) for t in record.get(TECHNIQUES) or []]
    debunks = debunk_list(record)
    theirs = comment_debunks(record)
    labels += [f"{d.get('id')} {d.get('claim') or ''}" for d in debunks + theirs]
    search = " ".join([doc_id, *labels]).lower()
    head_chips = "".join(_chip(NARRATIVES, a) for a in narratives)
    meta = []
    for key in ("title", "source", "date", "path"):
        if record.get(key):
            meta.append(f"{key}: {_show(record[key])}")
    url = str(record.get("url") or "")
    if url.startswith(("http://", "https://")):
        meta.append(
            f'url: <a href="{escape(url)}" rel="noopener noreferrer nofollow">{_show(url)}</a>'
        )
    elif url:
        meta.append(f"url: {_show(url)}")
    items = []
    for a in narratives:
        label = str(a.get("label", ""))
        # the fine "Other" only repeats the coarse one: show it once
        children = [s for s in subnarratives if parent_of(s) == label and label != OTHER]
        subs = "".join(
            f"<li>{_chip(SUBNARRATIVES, s, text=str(s.get('label', '')).rsplit(': ', 1)[-1])}</li>"
            for s in sorted(children, key=lambda s: -_score(s))
        )
        items.append(
            f"<li>{_chip(NARRATIVES, a)}"
            + (f"<ul class=subs>{subs}</ul>" if subs else "")
            + "</li>"
        )
    orphans = [s for s in subnarratives if parent_of(s) not in {a.get("label") for a in narratives}]
    items.extend(f"<li>{_chip(SUBNARRATIVES, s)}</li>" for s in orphans)
    others = "".join(
        f"<p class=group><b>{_show(name)}</b>: {''.join(_chip(name, a) for a in anns)}</p>"
        for name, anns in groups.items()
        if name not in (NARRATIVES, SUBNARRATIVES) and anns
    )
    explanation = record.get("explanation")
    region = _article_region(record)
    # the headline carries the document's own flags and the thread's counts, never text
    head_flags = _badges(_flags(record))
    if debunks:
        n = len({str(d["id"]) for d in debunks})
        head_flags += (
            f'<span class="flag debunked">repeats {n} known debunk{"" if n == 1 else "s"}</span>'
        )
    if theirs:
        n = len({str(d["id"]) for d in theirs})
        head_flags += (
            f'<span class="flag debunked">repeats {n} known debunk{"" if n == 1 else "s"}'
            " in a comment</span>"
        )
    if region is not None:
        head_flags += f'<span class="meta"> · {escape(_counts_line(_comment_list(record)))}</span>'
    return (
        f'<details class="doc" id="{anchor}" data-search="{escape(search)}">'
        f'<summary><span class="doc-id">{_show(doc_id)}</span>'
        f'<span class="lang">{_show(record.get("language") or "?")}</span>'
        f"{head_chips}{head_flags}</summary>\n"
        f'<div class="meta">{" · ".join(meta)}</div>'
        f"<ul class=narr>{''.join(items)}</ul>{others}{_entity_table(record)}"
        f"{_technique_table(record)}"
        + (
            f'<p class="explanation" dir="auto">{escape(str(explanation))}</p>'
            if explanation
            else ""
        )
        + _claims_section(record, anchor, region)
        + f'<div class="text" dir="auto">{_highlighted(record, region, anchor)}</div>\n'
        + (_thread_section(record, anchor) if region is not None else "")
        + _embedded(record)
        + "</details>\n"
    )


def _failures_line(failed: int, errors_file: str | None) -> str:
    """How many inputs failed and where they are listed: the report is what gets shared,
    and its readers must see that part of the corpus is missing from it."""
    if not failed:
        return ""
    where = f" — see {_show(errors_file)}" if errors_file else ""
    return (
        f"<p class=failed id=failed-count>{failed} input{'' if failed == 1 else 's'} "
        f"failed{where}</p>\n"
    )


def write(
    records: Iterable[Record],
    fh: TextIO,
    *,
    title: str = "Narrascope report",
    debunks_checked: bool | None = None,
    failed: int = 0,
    errors_file: str | None = None,
) -> int:
    """Write the report; returns the number of documents.

    What the records cannot say comes from the run (:mod:`narrascope.runner`):
    ``debunks_checked``, whether the pipeline matched known debunks (False: the header
    says "not checked" rather than "0 repeat"; None: not known, the count is shown);
    ``failed``, how many inputs failed, and ``errors_file``, the file listing them.
    """
    summary = _Summary()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace", newline="") as body:
        for i, record in enumerate(records):
            anchor = f"doc-{i}"
            summary.add(record, anchor)
            body.write(_document(record, anchor))
        nonce = secrets.token_urlsafe(16)
        csp = (
            "default-src 'none'; style-src 'unsafe-inline'; "
            f"script-src 'nonce-{nonce}'; img-src data:"
        )
        generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        langs = ", ".join(sorted(summary.languages)) or "none"
        fh.write(
            "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            '<meta name="viewport" content="width=device-width,initial-scale=1">\n'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
            f"<h1>{escape(title)}</h1><p class=meta>{summary.documents} documents · "
            f"languages: {_show(langs)} · generated {generated}</p>\n"
            f"{_failures_line(failed, errors_file)}"
            f"{_threads_line(summary)}{_debunks_line(summary, debunks_checked)}"
            f"<h2>Narratives</h2>{_summary_table(summary)}\n{_roles_table(summary)}"
            f"{_families_table(summary)}{_debunks_table(summary)}"
            "<h2>Documents</h2>\n"
            '<p class="controls"><input id="filter" type="search" '
            'placeholder="Filter documents by id or label"><button id="expand-all">'
            'Expand all</button><button id="collapse-all">Collapse all</button></p>\n'
        )
        body.seek(0)
        shutil.copyfileobj(body, fh)
        fh.write(f'<script nonce="{nonce}">{_JS}</script>\n</body></html>\n')
    return summary.documents


def read(fh: TextIO) -> Iterator[dict[str, Any]]:
    """The records embedded in an earlier report (see the module docstring)."""
    for line in fh:
        line = line.strip()
        if line.startswith(RECORD_OPEN) and line.endswith(RECORD_CLOSE):
            record = json.loads(line[len(RECORD_OPEN) : -len(RECORD_CLOSE)])
            if isinstance(record, dict):
                yield record
