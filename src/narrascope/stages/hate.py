"""Stage: hate, offensive language and incitement, per comment and for the article.

Why two readings of different depth: a comment is short and is what moderators act on,
so every comment is read whole by the model (``models.hate``: e5 sentence vectors, local
n-gram heads, the group and violence-call lexicons). The article is read whole only when
it is short (a post, a tweet); a long article would cost one transformer pass over every
sentence, as much as the rest of the analysis, so for hate it is read in at most
``SCAN_SENTENCES`` sentences: first the one holding a violence call when there is one,
then those that name a protected group (hateful needs a group), and a long article that
insults without naming a group is not flagged offensive. An article's "none" is as sure
as its most doubtful sentence read, as a short text's is, so some sentence is always read
(a "none" that read nothing claimed certainty about words never looked at): a slot left
goes to the sentence the abusive head's char n-grams alone find most abusive (a screen
with no transformer pass, ``HateModel.suspicion``), which bounds that certainty and flags
nothing. Incitement comes from the violence-call lexicon, which is cheap, so it reads the
whole article. Offsets are those of the whole text; each evidence carries its words.
The model reads every text without its invisible format characters (a zero-width space
inside "nu\\u200bke" would hide the word from the lexicons), so a long article's group
sentences and its n-gram screen do too; the evidence still slices the text as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from narrascope.doc import Document
from narrascope.doc.document import has_words, wording
from narrascope.models.artefact import bundled_path
from narrascope.models.hate import HateModel, HateResult, evidence_record, group_target

# An article of at most this many sentences is read whole; a longer one only in the
# sentences the lexicons and the n-gram screen point at, at most ``SCAN_SENTENCES``.
FULL_SENTENCES = 4
SCAN_SENTENCES = 4
# Of those, at most this many are the sentences the n-gram screen finds most abusive, read
# only to say how sure the article's "none" is (they never flag it: news prose near the
# heads' bar is not an insult). One costs a long article ~20-25 ms of CPU; four cost ~75 ms,
# as much again as the rest of the stage on news, against the analyze throughput bar.
SCREEN_SENTENCES = 1
# A long article is hateful only from a sentence at least this sure: such articles attack
# states and leaders by nationality all the time ("... keeps Ukrainians dying"), and the
# heads, trained on tweets and comments, put those near their bar (seed 001 scored 0.56).
ARTICLE_HATE_MIN = 0.75
_RANK = {"hateful": 2, "offensive": 1, "none": 0}


class HateStage:
    """Sets ``doc.hate`` / ``doc.incitement`` and each comment's ``hate`` / ``incitement``
    annotations (``{"label", "score", "target", "evidence": {"start", "end", "text"}}``)."""

    name = "hate"

    def __init__(
        self,
        model: HateModel | None = None,
        *,
        model_path: str | Path | None = None,
        full_sentences: int = FULL_SENTENCES,
        scan_sentences: int = SCAN_SENTENCES,
        screen_sentences: int = SCREEN_SENTENCES,
        article_hate_min: float = ARTICLE_HATE_MIN,
    ) -> None:
        self.model = model or HateModel.load(model_path or bundled_path("hate"))
        self.full_sentences = full_sentences
        self.scan_sentences = scan_sentences
        self.screen_sentences = screen_sentences
        self.article_hate_min = article_hate_min

    def warm_up(self) -> None:
        self.model.predict(["warm up"], ["en"])

    def __call__(self, docs: list[Document]) -> list[Document]:
        texts: list[str] = []
        languages: list[str | None] = []
        where: list[tuple[Any, int]] = []  # (document or comment, offset of the text)
        article_parts: dict[int, list[int]] = {}  # doc index -> its rows
        long_articles: dict[int, bool] = {}  # doc index -> read in its group sentences
        doubt_only: set[int] = set()  # rows the screen chose: they say how sure "none" is
        incitement = [self._incitement(doc.text) for doc in docs]
        for i, doc in enumerate(docs):
            for comment in doc.comments:
                texts.append(doc.comment_text(comment))
                languages.append(comment.language or doc.language)
                where.append((comment, comment.start))
            rows = []
            units, screened, scanned = self._article_units(doc, incitement[i]["evidence"])
            long_articles[i] = scanned
            for start, end in units + screened:
                if (start, end) in screened:
                    doubt_only.add(len(texts))
                rows.append(len(texts))
                texts.append(doc.text[start:end])
                languages.append(doc.language)
                where.append((doc, start))
            article_parts[i] = rows
        results = self.model.predict(texts, languages) if texts else []
        for (target, offset), text, result in zip(where, texts, results, strict=True):
            if not isinstance(target, Document):
                target.annotations.update(_record(result, text, offset))
        for i, doc in enumerate(docs):
            rows = article_parts[i]
            doc.incitement = incitement[i]
            if not rows:  # no letter or digit anywhere: nothing can attack anyone
                doc.hate = {"label": "none", "score": 1.0, "target": None, "evidence": None}
                continue
            if long_articles[i]:
                for r in rows:
                    label, score = results[r].label, results[r].score
                    if (label == "hateful" and score < self.article_hate_min) or (
                        label != "none" and r in doubt_only
                    ):
                        results[r] = results[r].unflagged()
            worst = max(rows, key=lambda r: _severity(results[r]))
            doc.hate = _record(results[worst], texts[worst], where[worst][1])["hate"]
        return docs

    def _incitement(self, text: str) -> dict[str, Any]:
        """The lexicon's reading of the whole (shown) text: offsets are already the
        document's."""
        score, clause = self.model.incitement(text)
        flagged = score >= self.model.incitement_threshold
        evidence = evidence_record(text, clause) if flagged and clause is not None else None
        return {"label": flagged, "score": round(score, 4), "evidence": evidence}

    def _article_units(
        self, doc: Document, call: dict[str, Any] | None = None
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]], bool]:
        """What the article is read in, what only for the doubt of its "none", and whether
        it is long: the whole (shown) text when short; else the sentence holding the
        violence call ``call`` (the incitement evidence), if any, and the sentences that
        name a group, then the most suspicious others (at most ``scan_sentences`` in all)."""
        text = doc.text  # in the pipeline: the article alone, the rest blanked
        if not text.strip():
            return [], [], False
        sentences = doc.sentences and [(s.start, s.end) for s in doc.sentences]
        if not sentences:
            sentences = self.model.units(text)
        if len(sentences) <= self.full_sentences:
            start = next((i for i, c in enumerate(text) if not c.isspace()), 0)
            return [(start, len(text.rstrip()))], [], False
        named = [(a, b) for a, b in sentences if group_target(text[a:b]) is not None]
        if call is not None:
            held = [(a, b) for a, b in sentences if a <= call["start"] < b]
            named = held + [u for u in named if u not in held]
        read = named[: self.scan_sentences]
        return read, self._most_suspicious(text, sentences, read), True

    def _most_suspicious(
        self, text: str, sentences: list[tuple[int, int]], read: list[tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """The sentences that fill the slots ``read`` left free (up to ``scan_sentences``,
        at most ``screen_sentences``): those the n-gram screen finds most abusive, each
        worded differently, so that an article's "none" speaks for the sentences likeliest
        to say otherwise, never for none at all."""
        free = min(self.screen_sentences, self.scan_sentences - len(read))
        if free <= 0:
            return []
        said = {wording(text[a:b]) for a, b in read}
        rest: dict[str, tuple[int, int]] = {}
        for a, b in sentences:
            key = wording(text[a:b])
            if key not in said and key not in rest and has_words(key):
                rest[key] = (a, b)
        if not rest:
            return []
        units = list(rest.values())
        screen = self.model.suspicion([text[a:b] for a, b in units])
        return [units[i] for i in np.argsort(-screen, kind="stable")[:free]]


def _severity(result: HateResult) -> tuple[int, float]:
    """Which read part speaks for the article: the worst label, and within it the surest
    flag, or for "none" the most doubtful part (a "none" is only as sure as that)."""
    rank = _RANK[result.label]
    return rank, result.score if rank else -result.score


def _record(result: HateResult, text: str, offset: int) -> dict[str, Any]:
    """The result's record with evidence offsets moved into the whole text."""
    out = result.as_dict(text)
    for key in ("hate", "incitement"):
        evidence = out[key].get("evidence")
        if evidence:
            evidence["start"] += offset
            evidence["end"] += offset
    return out
