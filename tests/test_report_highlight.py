"""The html report's highlighted text: the document's own hate and incitement evidence is
marked in place, and marking is a sweep over the spans, as fast on a long document with
thousands of spans as it is exact (the same html as scanning every span for every piece)."""

from __future__ import annotations

import io
import random
import re
import time
from itertools import pairwise
from typing import Any

from narrascope.export import report
from narrascope.export.records import annotation_groups

DISCREDIT = "URW: Discrediting Ukraine"
PUPPET = f"{DISCREDIT}: Ukraine is a puppet of the West"
BLAME = "URW: Blaming the war on others rather than the invader"
SENTENCES = [
    "Kyiv is a puppet of the West.",
    "NATO provoked the war and Washington wants it to last.",
    "Ukrainians are vermin and should all be exterminated.",
    "Kill them all!",
    "Grain prices rose again this spring.",
]


def text_block(page: str) -> str:
    return page.split('<div class="text" dir="auto">', 1)[1].split("</div>", 1)[0]


def page_of(*records: dict[str, Any]) -> str:
    fh = io.StringIO()
    report.write(list(records), fh)
    return fh.getvalue()


def span(text: str, words: str) -> dict[str, Any]:
    at = text.index(words)
    return {"start": at, "end": at + len(words), "text": words}


def flagged_record() -> dict[str, Any]:
    """A document whose own text the hate and incitement stages flagged."""
    text = " ".join(SENTENCES)
    return {
        "id": "flag1",
        "text": text,
        "language": "en",
        "narratives": [
            {"label": DISCREDIT, "score": 0.9, "evidence": [span(text, SENTENCES[0])]},
        ],
        "subnarratives": [],
        "hate": {
            "label": "hateful",
            "score": 0.93,
            "target": "ethnicity",
            "evidence": span(text, SENTENCES[2]),
        },
        "incitement": {"label": True, "score": 0.85, "evidence": span(text, "Kill them all!")},
    }


def test_the_documents_own_flags_are_marked_in_the_text() -> None:
    block = text_block(page_of(flagged_record()))
    assert (
        '<mark class="flag-ev hateful" title="hateful 0.93 · target: ethnicity">'
        f"{SENTENCES[2]}</mark>" in block
    )
    assert '<mark class="flag-ev incitement" title="incitement 0.85">Kill them all!</mark>' in block
    # the narrative's evidence is still marked in its colour
    assert re.search(r'<mark style="background:[^"]+" title="[^"]+">Kyiv is a puppet', block)


def test_a_flag_over_a_narratives_evidence_shows_both_in_the_tooltip() -> None:
    record = flagged_record()
    text = record["text"]
    record["narratives"][0]["evidence"] = [span(text, SENTENCES[2])]
    block = text_block(page_of(record))
    assert (
        f'<mark style="background:{report.colour(DISCREDIT)}"><mark class="flag-ev hateful" '
        f'title="{DISCREDIT} (0.90)&#10;hateful 0.93 · target: ethnicity">{SENTENCES[2]}'
        "</mark></mark>"
    ) in block.replace("\n", "&#10;")


def test_flags_that_are_not_raised_or_do_not_fit_mark_nothing() -> None:
    record = flagged_record()
    record["hate"] = {"label": "none", "score": 0.1, "target": None, "evidence": None}
    record["incitement"]["evidence"] = {"start": 5, "end": 9000, "text": "x"}
    assert "flag-ev" not in text_block(page_of(record))


def test_the_article_of_a_thread_marks_its_own_flags_too() -> None:
    article = " ".join(SENTENCES[:4])
    comment = "I agree with this."
    text = f"{article}\n\nAnna says\n{comment}"
    at = text.index(comment)
    record = {
        "id": "t1",
        "text": text,
        "language": "en",
        "article": {"start": 0, "end": len(article)},
        "comments": [{"id": "c1", "author": "Anna", "start": at, "end": len(text), "depth": 0}],
        "incitement": {"label": True, "score": 0.8, "evidence": span(text, "Kill them all!")},
    }
    block = text_block(page_of(record))
    assert '<mark class="flag-ev incitement" title="incitement 0.8' in block
    assert "Anna" not in block


# --- the sweep -------------------------------------------------------------------------


def highlighted_by_scanning(
    record: dict[str, Any], region: tuple[int, int] | None = None, anchor: str = "doc"
) -> str:
    """The renderer before the sweep: every span checked for every piece of the text
    (kept here as the reference the sweep must match exactly)."""
    text = str(record.get("text") or "")
    lo, hi = region if region is not None else (0, len(text))
    spans = []
    for rank, (group, group_annotations) in enumerate(annotation_groups(record).items()):
        for a in group_annotations:
            for ev in a.get("evidence") or []:
                if report._fits(text, ev):
                    tip = f"{a.get('label', '')} ({report._score(a):.2f})"
                    start, end = int(ev["start"]), int(ev["end"])
                    key = (rank, -report._score(a))
                    spans.append((start, end, key, report._label_colour(group, a), tip))
    mentions = report._framed_mentions(record, text)
    techniques = report._technique_spans(record, text)
    claims = report._claim_spans(record, text, anchor)
    if region is not None:
        spans = [s for s in spans if lo <= s[0] and s[1] <= hi]
        mentions = [m for m in mentions if lo <= m[0] and m[1] <= hi]
        techniques = [t for t in techniques if lo <= t[0] and t[1] <= hi]
        claims = [c for c in claims if lo <= c[0] and c[1] <= hi]
    if not spans and not mentions and not techniques and not claims:
        return report.escape(text[lo:hi])
    bounds = [b for s in [*spans, *mentions, *techniques, *claims] for b in s[:2]]
    placed: set[str] = set()
    out = []
    for a, b in pairwise(sorted({lo, hi, *bounds})):
        wrappers: list[tuple[str, str]] = []
        tips: list[str] = []
        claim = next((c for c in claims if c[0] <= a and c[1] >= b), None)
        if claim is not None:
            ident = ""
            if claim[4] and claim[4] not in placed:
                placed.add(claim[4])
                ident = f' id="{report.escape(claim[4])}"'
            wrappers.append((f'<span class="{claim[2]}"{ident}', "</span>"))
            tips.append(claim[3])
        covering = sorted((s for s in spans if s[0] <= a and s[1] >= b), key=lambda s: s[2])
        if covering:
            wrappers.append((f'<mark style="background:{covering[0][3]}"', "</mark>"))
            tips.append("; ".join(dict.fromkeys(s[4] for s in covering)))
        in_tq = sorted((t for t in techniques if t[0] <= a and t[1] >= b), key=lambda t: -t[3])
        if in_tq:
            wrappers.append((f'<span class="tq f-{in_tq[0][2]}"', "</span>"))
            tips.extend(dict.fromkeys(t[4] for t in in_tq))
        inside = next((m for m in mentions if m[0] <= a and m[1] >= b), None)
        if inside is not None:
            wrappers.append((f'<span class="ent r-{inside[2]}"', "</span>"))
            tips.insert(0, inside[3])
        piece = report.escape(text[a:b])
        if wrappers:
            opening = [tag + ">" for tag, _ in wrappers[:-1]]
            opening.append(f'{wrappers[-1][0]} title="{report._show(chr(10).join(tips))}">')
            closing = [close for _, close in reversed(wrappers)]
            piece = "".join(opening) + piece + "".join(closing)
        out.append(piece)
        if inside is not None and inside[1] == b:
            out.append(f'<span class="role r-{inside[2]}">{report._show(inside[4])}</span>')
    return "".join(out)


TECHNIQUES = [
    ("Loaded_Language", "manipulative_wording"),
    ("Name_Calling-Labeling", "attack_on_reputation"),
    ("Doubt", "attack_on_reputation"),
    ("Appeal_to_Fear-Prejudice", "justification"),
]


def annotated(text: str, rng: random.Random, n: int) -> dict[str, Any]:
    """A record with ``n`` spans of each kind at random, overlapping every way they can:
    narrative and sub-narrative evidence, techniques, framed mentions, claims and
    debunk matches (one of a claim, one of a stretch that is no claim)."""

    def pick(longest: int) -> dict[str, int]:
        start = rng.randrange(len(text) - 1)
        return {"start": start, "end": min(len(text), start + rng.randint(1, longest))}

    narratives = [
        {"label": label, "score": rng.random(), "evidence": [pick(120) for _ in range(n // 4)]}
        for label in (DISCREDIT, BLAME, "Other")
    ]
    subs = [{"label": PUPPET, "parent": DISCREDIT, "score": 0.7, "evidence": [pick(80)]}]
    techniques = [
        {"label": label, "family": family, "score": round(rng.random(), 2), **pick(40)}
        for label, family in (rng.choice(TECHNIQUES) for _ in range(n))
    ]
    entities = [
        {
            "name": name,
            "main_role": role,
            "score": 0.8,
            "fine_roles": [{"label": "Guardian"}] if role == "Protagonist" else [],
            "mentions": [pick(12) for _ in range(n // 3)],
        }
        for name, role in (("NATO", "Antagonist"), ("Kyiv", "Innocent"), ("army", "Protagonist"))
    ]
    claims = [{"score": round(rng.random(), 2), **pick(150)} for _ in range(max(2, n // 20))]
    debunks = [
        {"id": "fc-1", "claim": "NATO <provoked>", "score": 0.8, "claim_span": dict(claims[0])},
        {"id": "fc-2", "claim": "Loose", "verdict": "false", "score": 0.6, "claim_span": pick(60)},
    ]
    return {
        "id": "long",
        "text": text,
        "language": "en",
        "narratives": narratives,
        "subnarratives": subs,
        "techniques": techniques,
        "entities": entities,
        "claims": claims,
        "debunks": debunks,
    }


def test_the_sweep_gives_exactly_the_html_of_scanning_every_span() -> None:
    rng = random.Random(7)
    text = "\n".join(" ".join(rng.sample(SENTENCES, 3)) for _ in range(12)) + " <&\"'>"
    for n in (0, 1, 4, 30, 120):
        record = annotated(text, rng, n)
        assert report._highlighted(record, None, "doc-3") == highlighted_by_scanning(
            record, None, "doc-3"
        )
        region = (len(text) // 4, len(text) // 2)
        assert report._highlighted(record, region) == highlighted_by_scanning(record, region)


def test_a_normal_document_renders_as_before() -> None:
    text = " ".join(SENTENCES[:2] + SENTENCES[4:])
    record = {
        "id": "d1",
        "text": text,
        "language": "en",
        "narratives": [
            {"label": DISCREDIT, "score": 0.9, "evidence": [span(text, SENTENCES[0])]},
            {"label": BLAME, "score": 0.7, "evidence": [span(text, SENTENCES[1])]},
        ],
        "subnarratives": [
            {"label": PUPPET, "parent": DISCREDIT, "score": 0.8, "evidence": [span(text, "Kyiv")]}
        ],
        "techniques": [
            {"label": "Loaded_Language", "family": "manipulative_wording", "score": 0.6}
            | span(text, "puppet of the West"),
            {"label": "Doubt", "family": "attack_on_reputation", "score": 0.4}
            | span(text, "Washington wants it to last"),
        ],
        "entities": [
            {
                "name": "NATO",
                "main_role": "Antagonist",
                "score": 0.8,
                "mentions": [span(text, "NATO")],
            }
        ],
        "claims": [{"score": 0.7} | span(text, SENTENCES[4])],
        "debunks": [],
    }
    assert report._highlighted(record) == highlighted_by_scanning(record)


def test_a_long_document_with_thousands_of_spans_renders_in_a_moment() -> None:
    rng = random.Random(11)
    text = "\n".join(" ".join(rng.sample(SENTENCES, 4)) for _ in range(2_700))
    assert len(text) > 400_000
    record = annotated(text, rng, 4_000)
    spans = sum(len(a["evidence"]) for a in record["narratives"]) + len(record["techniques"])
    spans += sum(len(e["mentions"]) for e in record["entities"]) + len(record["claims"])
    assert spans > 10_000
    started = time.perf_counter()
    page = page_of(record)
    took = time.perf_counter() - started
    assert took < 4.0, f"{took:.1f} s"  # scanning every span for each piece: 20 s
    assert page.count('<span class="tq ') > 1_000
