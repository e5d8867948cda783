"""Stage: a short explanation of the dominant narrative, grounded in its evidence.

SemEval-2025 subtask 3 asks for at most 80 words saying why a text carries its dominant
narrative. With no generative model offline, we compose it from what we can show: the
label, its confidence, and the evidence sentences themselves (quoted, shortened), with
the connecting words in the document's language so the explanation reads as one text.
"""

from __future__ import annotations

from narrascope.doc import Annotation, Document
from narrascope.doc.document import wording

MAX_WORDS = 80
HEDGE_BELOW = 0.5  # under this confidence the explanation says "may"

# Connecting phrases: (lead-in for the narrative, lead-in for the quoted evidence).
_PHRASES: dict[str, tuple[str, str]] = {
    "en": ("The text advances the narrative", "It says"),
    "ru": ("Текст продвигает нарратив", "В нём говорится"),
    "uk": ("Текст просуває наратив", "У ньому сказано"),
    "bg": ("Текстът прокарва наратива", "В него се казва"),
    "pt": ("O texto promove a narrativa", "Nele lê-se"),
    "hi": ("यह पाठ इस आख्यान को आगे बढ़ाता है", "इसमें कहा गया है"),
}


# Lead-ins used when the named label's score is under HEDGE_BELOW.
_HEDGED: dict[str, str] = {
    "en": "The text may advance the narrative",
    "ru": "Текст, возможно, продвигает нарратив",
    "uk": "Текст, можливо, просуває наратив",
    "bg": "Текстът може би прокарва наратива",
    "pt": "O texto talvez promova a narrativa",
    "hi": "यह पाठ संभवतः इस आख्यान को आगे बढ़ाता है",
}


def _dominant(doc: Document) -> tuple[Annotation, Annotation | None] | None:
    narratives = [a for a in doc.narratives if a.label != "Other"]
    if not narratives:
        return None
    top = max(narratives, key=lambda a: a.score)
    subs = [a for a in doc.subnarratives_of(top.label) if not a.label.endswith(": Other")]
    return top, max(subs, key=lambda a: a.score) if subs else None


def explain(doc: Document, *, max_words: int = MAX_WORDS) -> str | None:
    """Compose the explanation for ``doc`` or return None when no narrative was found."""
    found = _dominant(doc)
    if found is None:
        return None
    narrative, sub = found
    language = doc.language if doc.language in _PHRASES else "en"
    lead, says = _PHRASES[language]
    # the number next to a label is that label's own score, and the hedge follows it: a
    # sub-narrative is often far less sure than its narrative (0.07 under 0.22)
    named = sub if sub is not None else narrative
    if named.score < HEDGE_BELOW:
        lead = _HEDGED[language]
    head = f"{lead} «{named.label}» ({named.score:.0%})."
    evidence = (sub.evidence if sub is not None and sub.evidence else []) or narrative.evidence
    budget = max_words - len(head.split()) - len(says.split())
    quotes: list[str] = []
    seen: set[str] = set()
    for span in evidence:
        words = span.text.split()
        said = wording(span.text)
        if not span.has_words or said in seen:
            continue  # a separator line is no evidence; a repeated slogan is quoted once
        seen.add(said)
        if budget <= 3:
            break
        if len(words) > budget:
            words = [*words[: budget - 1], "…"]
        quotes.append("“" + " ".join(words) + "”")
        budget -= len(words)
    if not quotes:
        return head
    return f"{head} {says}: {' '.join(quotes)}"


class ExplanationStage:
    name = "explanation"

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            doc.explanation = explain(doc)
        return docs
