"""Long texts cost time linear in their length (issue 23: a 1 MB text took 172 s).

Each quadratic step found in the profile has a test here that would fail on it: operation
counts where an operation can be counted, else the time of a 4x larger input against the
smaller one with a generous bound (8x; linear is 4x, the quadratic versions measured
11-17x on these inputs).
Every input is made here, small enough that the file runs in a few seconds. The faster
versions must also give exactly what the simple ones gave: that is tested too.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from narrascope.doc import Document, Span
from narrascope.models import spans as spans_module
from narrascope.models.entities import find_and_count
from narrascope.taxonomy import TECHNIQUES
from narrascope.text import aliases
from narrascope.text.aliases import group_mentions
from narrascope.text.mentions import Mention, union
from narrascope.text.segment import split_sentences

SYLLABLES = "ka lo mi ne ru sa to vi be da fe gu ho ja ki".split()


def _names(n: int, seed: int = 0) -> list[str]:
    """``n`` made-up person names, most of them distinct, some repeated or shortened."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        first = "".join(rng.choice(SYLLABLES) for _ in range(4)).capitalize()
        last = "".join(rng.choice(SYLLABLES) for _ in range(4)).capitalize()
        out.append(rng.choice([f"{first} {last}", last, f"{first} {last}"]))
    return out


def _text(n_sentences: int, seed: int = 0, newline: str = "\n") -> str:
    names = _names(n_sentences, seed)
    return newline.join(
        f"{name} met the Nato envoy in Kyiv on Monday. Officials said talks went well."
        for name in names
    )


def _grows_linearly(run: Callable[[int], object], n: int, factor: float = 8.0) -> None:
    """``run(4n)`` takes under ``factor`` times ``run(n)`` (best of seven each, the two
    sizes timed in turn so that a burst of another process's work slows both, without the
    garbage collector, whose passes on a busy machine made a 4.6x step look 9.5x; a
    quadratic step is 16x)."""
    small, large = [], []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(7):
            for size, times in ((n, small), (4 * n, large)):
                start = time.perf_counter()
                run(size)
                times.append(time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    assert min(large) < factor * max(min(small), 1e-3), (min(small), min(large))


@dataclass
class _M:
    text: str
    kind: str = "PER"
    lemma: str = ""


def test_alias_grouping_compares_only_names_that_could_match(monkeypatch) -> None:
    calls = {"pairs": 0}
    real = aliases._same_words

    def counted(a, b):  # type: ignore[no-untyped-def]
        calls["pairs"] += 1
        return real(a, b)

    monkeypatch.setattr(aliases, "_same_words", counted)
    group_mentions([_M(t) for t in _names(2000)])
    # all pairs of ~1,800 distinct names would be ~1.6 million; names sharing a first word
    assert calls["pairs"] < 2000, calls


def _reference_groups(mentions: list[_M]) -> list[list[int]]:
    """The rules of ``group_mentions`` applied to every pair of names (no index)."""
    keys = [aliases._key(m) for m in mentions]
    groups = aliases._Groups(len(keys))
    distinct: dict[tuple, int] = {}
    for i, key in enumerate(keys):
        if key.words:
            groups.join(distinct.setdefault((key.words, key.gender), i), i)
    reps = sorted(distinct.values())
    untold: dict[int, list[int]] = {}
    for a in reps:
        for b in reps:
            if a == b or not aliases._same_words(keys[a], keys[b]):
                continue
            if keys[a].gender == keys[b].gender:
                groups.join(a, b)
            elif not keys[a].gender:
                untold.setdefault(a, []).append(b)
    for a, told in untold.items():
        if len({keys[b].gender for b in told}) == 1:
            for b in told:
                groups.join(a, b)
    genders: dict[int, set[str]] = {}
    for r in reps:
        if keys[r].gender:
            genders.setdefault(groups.find(r), set()).add(keys[r].gender)
    fits = []
    for short in reps:
        found = [
            full
            for full in reps
            if full != short
            and aliases._agrees(keys[short].gender, genders.get(groups.find(full), set()))
            and (
                aliases._is_short_form(keys[short], keys[full])
                or aliases._is_acronym(keys[short], keys[full])
                or aliases._is_state_form(keys[short], keys[full])
            )
        ]
        same = [f for f in found if genders.get(groups.find(f)) == {keys[short].gender}]
        if found:
            fits.append((short, same or found))
    groups.join_fits(fits)
    return groups.groups()


def test_alias_grouping_gives_what_all_pairs_give() -> None:
    pool = [
        "Vladimir Putin", "Putin", "Путин", "Путина", "Владимир Путин", "Joe Biden", "Biden",
        "Hunter Biden", "EU", "European Union", "Russia", "Russian Federation", "Россия",
        "Российская Федерация", "Русия", "Руската федерация", "NATO", "НАТО", "Zelensky",
        "Зеленский", "Володимир Зеленський", "Kyiv", "Киев", "Київ", "UN", "United Nations",
        "Rússia", "Federação Russa", "Olaf Scholz", "Шольц", "G7",
    ]  # fmt: skip
    rng = random.Random(3)
    for _ in range(200):
        mentions = [
            _M(rng.choice(pool), rng.choice(["", "PER", "ORG", "LOC"]))
            for _ in range(rng.randint(0, 30))
        ]
        assert group_mentions(mentions) == _reference_groups(mentions)
    mentions = [_M(t) for t in _names(300, seed=5)]
    assert group_mentions(mentions) == _reference_groups(mentions)


def test_name_counts_match_str_find_and_count() -> None:
    rng = random.Random(0)
    alphabet = "ab c\nаб"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50)))
        names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in "abcd"]
        names.append(text[3:20])  # longer than the hashed prefix
        found = find_and_count(text, names)
        assert all(found[n] == (text.find(n), text.count(n)) for n in names)
    text = _text(400).lower()
    names = [n.lower() for n in _names(400)] + ["(", ".", "nato envoy"]
    found = find_and_count(text, names)
    assert all(found[n] == (text.find(n), text.count(n)) for n in names)


def test_name_counts_grow_linearly() -> None:
    # one scan of the text per distinct name was quadratic: names grow with the text
    inputs = {n: (_text(n).lower(), [m.lower() for m in _names(n)]) for n in (300, 1200)}
    _grows_linearly(lambda n: find_and_count(*inputs[n]), 300)


def test_sentences_of_one_long_line_grow_linearly() -> None:
    # every boundary copied the rest of its line
    texts = {n: _text(n, newline=" ") for n in (4000, 16000)}
    _grows_linearly(lambda n: split_sentences(texts[n]), 4000)
    assert len(split_sentences(texts[4000])) == 8000


def test_sentence_spans_of_one_long_paragraph_grow_linearly() -> None:
    # every sentence compared itself with every word of the paragraph
    def words(n: int) -> tuple[str, spans_module.Words]:
        paragraph = _text(n, newline=" ")
        offsets = [(m.start(), m.end()) for m in spans_module._WORD.finditer(paragraph)]
        contrib = np.ones((len(offsets), len(TECHNIQUES)), dtype=np.float32)
        return paragraph, (offsets, contrib)

    inputs = {n: words(n) for n in (400, 1600)}

    def run(n: int) -> None:
        paragraph, found = inputs[n]
        spans_module.sentence_spans(paragraph, [(0, 0.5)], found, 0.8, 60)

    _grows_linearly(run, 400)


def test_union_of_detectors_grows_linearly() -> None:
    def mentions(n: int, shift: int) -> list[Mention]:
        return [Mention(10 * i + shift, 10 * i + shift + 4, "Name", "ENT", "crf") for i in range(n)]

    inputs = {n: (mentions(n, 0), mentions(n, 5)) for n in (8000, 32000)}
    _grows_linearly(lambda n: union(*inputs[n]), 8000)
    a, b = mentions(3, 0), [Mention(2, 6, "x", "ENT", "crf"), Mention(5, 9, "y", "ENT", "crf")]
    assert [(m.start, m.end) for m in union(a, b)] == [(0, 4), (5, 9), (10, 14), (20, 24)]


def test_entity_evidence_indexes_sentences_once_per_document(monkeypatch) -> None:
    from narrascope.stages import entities as stage_module

    calls = []
    real = stage_module._sentence_index
    monkeypatch.setattr(stage_module, "_sentence_index", lambda doc: calls.append(doc) or real(doc))
    text = _text(40)
    doc = Document(text=text, id="d", language="en")
    doc.sentences = [Span.of(text, s, e) for s, e in split_sentences(text)]
    stage = stage_module.EntityStage(context=False, min_framed=0.0)  # every entity framed
    stage([doc])
    assert sum(bool(e.evidence) for e in doc.entities) > 10  # many entities got evidence...
    assert len(calls) == 1  # ...from one index of the sentences


def test_entity_features_are_built_in_bounded_chunks(monkeypatch) -> None:
    from narrascope.models import entities as model_module
    from narrascope.models.artefact import bundled_path

    model = model_module.EntityRoleClassifier.load(bundled_path("entities"))
    text = _text(30)
    starts = [text.find(name) for name in _names(30)]
    mentions = [[(s, s + 5) for s in starts]]
    vectors = np.zeros((len(starts), model_module.PARAGRAPH_WIDTH), np.float32)
    whole = model.predict_proba([text], ["en"], mentions, paragraph_vectors=vectors)
    sizes = []
    real = model._features
    monkeypatch.setattr(model, "_features", lambda m: sizes.append(len(m.keys)) or real(m))
    monkeypatch.setattr(model_module, "FEATURE_ROWS", 7)
    chunked = model.predict_proba([text], ["en"], mentions, paragraph_vectors=vectors)
    assert max(sizes) == 7 and sum(sizes) == len(starts)
    for a, b in zip(
        [whole.main, whole.fine, whole.framed],
        [chunked.main, chunked.fine, chunked.framed],
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
