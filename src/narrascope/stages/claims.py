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
cheap tier and first by the e5 head). A sentence is read as its independent clauses
(joined by ``;``: each states something of its own, so the claim's span is the clause
that states it), and one longer than ``max_chars`` as all its clauses (cut at ``;``, a
dash, or ``, but``/``, and``-like joints): CheckThat! rows are one sentence or a tweet,
and a 60-word sentence usually makes several claims. Scoring each CheckThat! row of the
parts never trained on by its best clause left their F1 and AUC as they were (within
0.006 F1 and 0.003 AUC: docs/claims-research.md).
Offsets are those of ``doc.text`` (the article alone while the pipeline runs; comments
are blanked, so blank sentences are skipped).

Reader comments (issue 25: replies are where debunked claims get repeated) are read by
the same two tiers and the same threshold, each comment on its own, in the same pass:
every comment's units join the batch's one cheap-tier call, and the comment's best unit
by the cheap tier (``comment_k`` = 1; no title line) joins the batch's one e5 call. A
comment's claims go to its ``annotations["claims"]``, offsets in the whole text and its
id under ``"comment"``; ``doc.claims`` stays the article's.

Why one e5 read a comment, and not every unit nor none (measured 2026-12-07 on this
project's 2-core AMD EPYC host while another job kept it busy): e5's six layers cost a
comment sentence 8-10 ms, so reading every unit cost a comment of
bench_comment_claims.py's page (2.5 units) 20 ms, its best unit alone 8-10 ms, about what
the hate stage spends on a comment there. The cheap tier alone cannot list anything:
the one threshold is the blend's, and skipping e5 for units the n-grams rank low does not
carry across languages (a cut keeping 99.4% of what the blend lists in English
CheckThat! sentences kept 93% of it in English comments, 81% in Russian, 50% in
Portuguese: the n-grams do not transfer, and Russian and Ukrainian replies are what this
is for). Reading the best unit only, on 400 comments each of Davidson (en),
ru-distorted-toxicity and ToLD-Br (pt), 1.3-1.7 units a comment: of the comments that
list a claim when every unit is read, 27/28 (en), 31/37 (ru) and 5/5 (pt) still list
one; a second read a comment would bring 28/28, 34/37 and 5/5 for 17-33% more e5 reads.
The debunk stage matches a comment whole anyway (a post), so a restatement the claims
miss is still matched there.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from narrascope.doc import COMMENT, Claim, CommentRecord, Document, Span
from narrascope.models.artefact import bundled_path
from narrascope.models.claims import ClaimModel, hand_features
from narrascope.store.stems import WORD
from narrascope.text.segment import split_sentences

MAX_CLAIMS = 20  # per document, best first (at most k + 1 are rescored, so listed)
MAX_CHARS = 300  # a longer sentence is read as its clauses
COMMENT_K = 1  # units of a reader comment the e5 head reads: its best by the cheap tier
MIN_CHARS = 12  # shorter units ("Why?", "Photo: AP") are never claims
# a unit sharing this much of its words (Jaccard) with one already picked for the e5 head
# repeats it: "The ministry said 137 residents of Oakford were evacuated on 2 May..." and
# "... 174 residents of Redmarsh ... on 3 May" share 0.7; distinct sentences of one news
# article rarely 0.3 (their function words)
NEAR_DUPLICATE = 0.5
_SEMICOLON = re.compile(r"\s*;\s+")
_JOINT = re.compile(
    r"\s*;\s+|\s+[—–-]\s+|,\s+(?=(?:but|while|whereas|and|although|though|а|но|однако|"
    r"тогда как|але|проте|тоді як|но|докато|mas|enquanto|porém|लेकिन|जबकि)\b)",
    re.I,
)


def clauses(text: str, start: int, end: int, max_chars: int = MAX_CHARS) -> list[tuple[int, int]]:
    """``(start, end)`` of the clauses of ``text[start:end]``: its independent clauses
    (joined by ``;``) apart, and when it is longer than ``max_chars`` its other clauses
    too (cut at the joints of :data:`_JOINT`); a piece shorter than ``3 * MIN_CHARS``
    stays with its neighbour."""
    joints = _JOINT if end - start > max_chars else _SEMICOLON
    cuts = [m for m in joints.finditer(text, start, end) if m.start() > start]
    out: list[tuple[int, int]] = []
    cursor = start
    for m in cuts:
        if m.start() - cursor >= MIN_CHARS * 3 and end - m.end() >= MIN_CHARS * 3:
            out.append((cursor, m.start()))
            cursor = m.end()
    out.append((cursor, end))
    return out


def distinct_best(
    cheap: np.ndarray, words: list[frozenset[str]], k: int, *, title: bool = True
) -> list[int]:
    """The ``k`` units after the first (the title line, rescored anyway; with ``title``
    False, a comment's, the first competes too) that the cheap tier ranks best (indices
    into ``cheap``), a unit that is a near duplicate (:data:`NEAR_DUPLICATE`) of one
    already taken skipped until the distinct ones are in: the e5 head's budget is not
    spent on one template k times."""
    taken: list[int] = []
    waiting: list[int] = []
    for i in np.argsort(-cheap, kind="stable").tolist():
        if len(taken) >= k:
            break
        if i == 0 and title:
            continue
        mine = words[i]
        if any(
            len(mine & words[j]) >= NEAR_DUPLICATE * max(1, len(mine | words[j])) for j in taken
        ):
            waiting.append(i)
        else:
            taken.append(i)
    return taken + waiting[: k - len(taken)]


# what the claim stage reads of a document or a comment: the text its offsets count in,
# its units, how many of them the e5 head reads, and whether its first unit is a title
# line (read too)
_Reading = tuple[str, list[tuple[int, int]], int, bool]


class ClaimStage:
    """Sets ``doc.claims`` (the article's) and each reader comment's ``claims``:
    check-worthy sentences or clauses, best first."""

    name = "claims"

    def __init__(
        self,
        model: ClaimModel | None = None,
        *,
        model_path: str | Path | None = None,
        k: int | None = None,
        comment_k: int = COMMENT_K,
        max_claims: int = MAX_CLAIMS,
        max_chars: int = MAX_CHARS,
        threshold: float | None = None,
    ) -> None:
        self.model = model or ClaimModel.load(model_path or bundled_path("claims"))
        self.k = self.model.k if k is None else k
        self.comment_k = comment_k
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
            sentences = split_sentences(text)
        return self._cut(text, sentences)

    def comment_units(self, doc: Document, comment: CommentRecord) -> list[tuple[int, int]]:
        """The candidate spans of one reader comment, as :meth:`units` makes a document's,
        with offsets in the whole text (the pipeline shows the stages the article alone)."""
        whole = doc.whole_text or doc.text
        start = comment.start
        sentences = split_sentences(whole[start : comment.end])
        return self._cut(whole, [(start + s, start + e) for s, e in sentences])

    def _cut(self, text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``sentences`` of ``text`` as units: long ones cut into clauses, whitespace and
        short fragments dropped."""
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
        threads = [(doc, comment) for doc in docs for comment in doc.comments]
        readings = [(doc.text, self.units(doc), self.k, True) for doc in docs]
        readings += [
            (doc.whole_text or doc.text, self.comment_units(doc, c), self.comment_k, False)
            for doc, c in threads
        ]
        found = self._listed(readings)
        for doc, claims in zip(docs, found[: len(docs)], strict=True):
            doc.claims = claims
        for (_, comment), claims in zip(threads, found[len(docs) :], strict=True):
            comment.annotations["claims"] = [
                {**claim.to_dict(), COMMENT: comment.id} for claim in claims
            ]
        return docs

    def _listed(self, readings: list[_Reading]) -> list[list[Claim]]:
        """The claims of each reading (a document or a comment), best first: the cheap
        tier over every unit of all of them in one call, the e5 head in one call over each
        reading's best ``k`` distinct units (and its first unit, a document's title line)."""
        texts = [text[a:b] for text, units, _, _ in readings for a, b in units]
        hand = hand_features(texts)
        cheap = self.model.cheap_logits(texts, hand) if texts else np.zeros(0)
        # each reading's best k distinct units by the cheap tier, and its first unit (a
        # document's title line)
        words = [frozenset(w.casefold() for w in WORD.findall(t)) for t in texts]
        picked: list[int] = []
        offset = 0
        for _, units, budget, titled in readings:
            n = len(units)
            mine = cheap[offset : offset + n]
            if titled:  # the title line takes one of the k when the cheap tier ranks it so
                top = np.argsort(-mine, kind="stable")[:budget].tolist()
                best = distinct_best(mine, words[offset : offset + n], budget - int(0 in top))
                chosen = set(best) | ({0} if n else set())
            else:
                chosen = set(distinct_best(mine, words[offset : offset + n], budget, title=False))
            picked.extend(offset + i for i in sorted(chosen))
            offset += n
        scores = np.full(len(texts), np.nan, np.float32)
        if picked:
            rows = np.array(picked)
            vectors = self.model.vectors([texts[i] for i in picked])
            scores[rows] = self.model.blend(
                cheap[rows], self.model.head_logits(vectors, hand[rows])
            )
        out: list[list[Claim]] = []
        offset = 0
        for text, units, _, _ in readings:
            found = [
                Claim(Span.of(text, a, b), float(scores[offset + j]))
                for j, (a, b) in enumerate(units)
                if scores[offset + j] >= self.threshold  # NaN (not rescored) never passes
            ]
            found.sort(key=lambda c: (-c.score, c.span.start))
            out.append(found[: self.max_claims])
            offset += len(units)
        return out
