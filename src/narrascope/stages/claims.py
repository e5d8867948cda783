"""Stage: check-worthy claims, the sentences (or clauses) that state a checkable fact.

Why two tiers: a news article has 20-60 sentences, this stage should add only ~30 ms to
it, and e5 reads ~150 sentences/s on two idle cores (~7 ms each). So the cheap
n-gram + hand-feature scorer of ``models.claims`` ranks every sentence of every document
in one batch, and the e5 head rescores each document's best ``k`` (plus its title line:
titles often are the claim) in one batch over all documents. Only those get a
probability; only those at or above the model's threshold are listed, best first. So a
document lists at most ``k`` + 1 claims (7 with the shipped ``k`` = 6; ``max_claims``
only bites with a larger ``k``), and a sentence the cheap tier ranks below its best ``k``
is never listed, nor matched against known debunks (which read the listed claims). The
best ``k`` are *distinct*: a unit that repeats one already taken almost word for word (an
article listing one figure per town in one template) waits until the distinct ones are
in, so fifteen such sentences cannot crowd out the one that states something else (a
restatement of a debunked claim in sentence 12 of 16 was ranked last of 17 units by the
cheap tier and first by the e5 head). A sentence longer than ``max_chars`` is read as its
clauses (cut at ``;``, a dash, or ``, but``/``, and``-like joints): CheckThat! rows are
one sentence or a tweet, and a 60-word sentence usually makes several claims.
Offsets are those of ``doc.text`` (the article alone while the pipeline runs; comments
are blanked, so blank sentences are skipped).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from narrascope.doc import Claim, Document, Span
from narrascope.models.artefact import bundled_path
from narrascope.models.claims import ClaimModel, hand_features
from narrascope.store.stems import WORD

MAX_CLAIMS = 20  # per document, best first (at most k + 1 are rescored, so listed)
MAX_CHARS = 300  # a longer sentence is read as its clauses
MIN_CHARS = 12  # shorter units ("Why?", "Photo: AP") are never claims
# a unit sharing this much of its words (Jaccard) with one already picked for the e5 head
# repeats it: "The ministry said 137 residents of Oakford were evacuated on 2 May..." and
# "... 174 residents of Redmarsh ... on 3 May" share 0.7; distinct sentences of one news
# article rarely 0.3 (their function words)
NEAR_DUPLICATE = 0.5
_JOINT = re.compile(
    r"\s*;\s+|\s+[—–-]\s+|,\s+(?=(?:but|while|whereas|and|although|though|а|но|однако|"
    r"тогда как|але|проте|тоді як|но|докато|mas|enquanto|porém|लेकिन|जबकि)\b)",
    re.I,
)


def clauses(text: str, start: int, end: int, max_chars: int = MAX_CHARS) -> list[tuple[int, int]]:
    """``(start, end)`` of the clauses of ``text[start:end]`` when it is longer than
    ``max_chars`` (cut at the joints of :data:`_JOINT`; pieces shorter than
    ``MIN_CHARS`` stay with their neighbour), else the span itself."""
    if end - start <= max_chars:
        return [(start, end)]
    cuts = [m for m in _JOINT.finditer(text, start, end) if m.start() > start]
    out: list[tuple[int, int]] = []
    cursor = start
    for m in cuts:
        if m.start() - cursor >= MIN_CHARS * 3 and end - m.end() >= MIN_CHARS * 3:
            out.append((cursor, m.start()))
            cursor = m.end()
    out.append((cursor, end))
    return out


def distinct_best(cheap: np.ndarray, words: list[frozenset[str]], k: int) -> list[int]:
    """The ``k`` units after the first (the title line, rescored anyway) that the cheap
    tier ranks best (indices into ``cheap``), a unit that is a near duplicate
    (:data:`NEAR_DUPLICATE`) of one already taken skipped until the distinct ones are in:
    the e5 head's budget is not spent on one template k times."""
    taken: list[int] = []
    waiting: list[int] = []
    for i in np.argsort(-cheap, kind="stable").tolist():
        if len(taken) >= k:
            break
        if i == 0:
            continue
        mine = words[i]
        if any(
            len(mine & words[j]) >= NEAR_DUPLICATE * max(1, len(mine | words[j])) for j in taken
        ):
            waiting.append(i)
        else:
            taken.append(i)
    return taken + waiting[: k - len(taken)]


class ClaimStage:
    """Sets ``doc.claims``: check-worthy sentences or clauses, best first."""

    name = "claims"

    def __init__(
        self,
        model: ClaimModel | None = None,
        *,
        model_path: str | Path | None = None,
        k: int | None = None,
        max_claims: int = MAX_CLAIMS,
        max_chars: int = MAX_CHARS,
        threshold: float | None = None,
    ) -> None:
        self.model = model or ClaimModel.load(model_path or bundled_path("claims"))
        self.k = self.model.k if k is None else k
        self.max_claims = max_claims
        self.max_chars = max_chars
        self.threshold = self.model.threshold if threshold is None else threshold

    def warm_up(self) -> None:
        self.model.cheap_logits(["warm up"])
        self.model.vectors(["warm up"])

    def units(self, doc: Document) -> list[tuple[int, int]]:
        """The candidate spans of a document: its non-blank sentences, long ones cut into
        clauses, whitespace and short fragments dropped."""
        text = doc.text
        sentences = [(s.start, s.end) for s in doc.sentences]
        if not sentences and text.strip():
            from narrascope.text.segment import split_sentences

            sentences = split_sentences(text)
        out = []
        for s, e in sentences:
            for a, b in clauses(text, s, e, self.max_chars):
                while a < b and text[a].isspace():
                    a += 1
                while b > a and text[b - 1].isspace():
                    b -= 1
                if b - a >= MIN_CHARS:
                    out.append((a, b))
        return out

    def __call__(self, docs: list[Document]) -> list[Document]:
        spans = [self.units(doc) for doc in docs]
        texts = [doc.text[a:b] for doc, units in zip(docs, spans, strict=True) for a, b in units]
        hand = hand_features(texts)
        cheap = self.model.cheap_logits(texts, hand) if texts else np.zeros(0)
        # each document's best k distinct units by the cheap tier, and its first unit (the
        # title line)
        words = [frozenset(w.casefold() for w in WORD.findall(t)) for t in texts]
        picked: list[int] = []
        offset = 0
        for units in spans:
            n = len(units)
            mine = cheap[offset : offset + n]
            # the title line takes one of the k when the cheap tier ranks it among them
            k = self.k - int(0 in np.argsort(-mine, kind="stable")[: self.k].tolist())
            best = distinct_best(mine, words[offset : offset + n], k)
            chosen = set(best) | ({0} if n else set())
            picked.extend(offset + i for i in sorted(chosen))
            offset += n
        scores = np.full(len(texts), np.nan, np.float32)
        if picked:
            rows = np.array(picked)
            vectors = self.model.vectors([texts[i] for i in picked])
            scores[rows] = self.model.blend(
                cheap[rows], self.model.head_logits(vectors, hand[rows])
            )
        offset = 0
        for doc, units in zip(docs, spans, strict=True):
            found = [
                Claim(Span.of(doc.text, a, b), float(scores[offset + j]))
                for j, (a, b) in enumerate(units)
                if scores[offset + j] >= self.threshold  # NaN (not rescored) never passes
            ]
            found.sort(key=lambda c: (-c.score, c.span.start))
            doc.claims = found[: self.max_claims]
            offset += len(units)
        return docs
