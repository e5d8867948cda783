"""The debunk reader in the matcher (issue 25): a post's nearest debunks by the reader join
its shortlist, and the read head scores its pairs with the reader's cosine, gap and rank.

The debunks here were written for these tests (no dataset text). The reader's vectors are
stand-ins where the test is about the matcher's plumbing, the bundled reader where it is
about reading.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from narrascope.models import debunk_match
from narrascope.models.artefact import bundled_path
from narrascope.models.debunk_match import (
    MONO_FEATURES,
    READER_RANKS,
    DebunkMatcher,
    DebunkScorer,
    reader_features,
)
from narrascope.store.debunks import Debunk, DebunkStore

SHIPPED = bundled_path("debunks")
READER = bundled_path("debunk_reader")

DEBUNKS = [
    ("r-bridge", "The Crimean bridge was closed for good after a storm last week."),
    ("r-grain", "Grain ships leaving Odesa are carrying weapons to Africa."),
    ("r-power", "Kyiv's power stations are run by a private American company."),
    ("r-draft", "Every man over fifty in Ukraine is being drafted into the army."),
    ("r-coins", "Portugal is replacing the euro with a gold-backed coin in 2025."),
    ("r-trains", "All night trains between Sofia and Bucharest were cancelled in March."),
]
# restates r-draft, sharing none of its content words
POST = "Fathers of grown-up children are now getting call-up papers, my neighbour says."


class OneHot:
    """A stand-in for USE: one fixed direction per text, no model to load."""

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 512), np.float32)
        for i, t in enumerate(texts):
            out[i, sum(map(ord, t)) % 512] = 1.0
        return out


class FakeReader:
    """A stand-in reader: the post lies next to one debunk's row of the table."""

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector
        self.calls: list[list[str]] = []

    def encode_units(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.tile(self.vector, (len(texts), 1))


def test_reader_features_are_cosine_gap_and_rank() -> None:
    x = reader_features(
        np.array([0.9, 0.5, 0.7]), np.array([0, 0, 1]), np.array([0.0, 3.0, READER_RANKS])
    )
    np.testing.assert_allclose(x[:, 0], [0.9, 0.5, 0.7])
    np.testing.assert_allclose(x[:, 1], [0.0, -0.4, 0.0])  # to the best of the same unit
    np.testing.assert_allclose(x[:, 2], [1.0, 0.25, 1.0 / (1 + READER_RANKS)])


def test_a_scorer_saved_without_the_read_head_still_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = {}
    for head, (names, _) in debunk_match.HEADS.items():
        if head not in debunk_match.OPTIONAL_HEADS:
            data[head] = (rng.normal(size=(40, len(names))), np.arange(40) % 2 == 0)
    old = DebunkScorer().fit(data, heads=tuple(data))
    assert not old.reads
    old.save(tmp_path / "old")
    back = DebunkScorer.load(tmp_path / "old")
    assert not back.reads
    store = DebunkStore(tmp_path / "db.sqlite")
    store.add([Debunk(id=i, claim=c, language="en") for i, c in DEBUNKS], encode=OneHot().encode)
    matcher = DebunkMatcher(store, scorer=back, encoder=OneHot())
    assert matcher.reader_table(matcher.index()) is None  # nothing to read with


@pytest.fixture
def plumbing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if not (SHIPPED / "config.json").is_file() or not DebunkScorer.load(SHIPPED).reads:
        pytest.skip("no shipped debunk matcher with the read head")
    monkeypatch.setattr(debunk_match, "SMALL_DATABASE", 0)  # as with 5,000 debunks or more
    store = DebunkStore(tmp_path / "db.sqlite")
    store.add([Debunk(id=i, claim=c, language="en") for i, c in DEBUNKS], encode=OneHot().encode)
    keys = DebunkMatcher(store, encoder=OneHot()).index().keys
    table = np.eye(len(keys), 384, dtype=np.float32)
    draft = next(i for i, (debunk_id, _) in enumerate(DEBUNKS) if debunk_id == "r-draft")
    reader = FakeReader(table[draft] * 0.8 + table[(draft + 1) % len(keys)] * 0.6)
    return store, table, reader


def _matcher(store, table, reader, **kwargs) -> DebunkMatcher:
    return DebunkMatcher(
        store, encoder=OneHot(), reader=reader, reader_table=table, e5=lambda t: 0, **kwargs
    )


def test_the_readers_nearest_debunk_joins_a_posts_shortlist(plumbing, monkeypatch) -> None:
    store, table, reader = plumbing
    monkeypatch.setattr(debunk_match, "VECTOR_SHORTLIST", 1)  # as among thousands
    ids = {k: d.id for k, d in store.by_keys(list(range(1, 100))).items()}
    with_reader = _matcher(store, table, reader)
    found = {ids[c.key] for c, _ in with_reader.score([POST], "en")}
    assert "r-draft" in found  # no word in common: only the reader found it
    without = _matcher(store, table, reader, use_reader=False)
    assert "r-draft" not in {ids[c.key] for c, _ in without.score([POST], "en")}


def test_a_posts_pairs_are_scored_by_the_read_head(plumbing) -> None:
    store, table, reader = plumbing
    matcher = _matcher(store, table, reader)
    scored = matcher.score([POST], "en")
    candidates = [c for c, _ in scored]
    x = matcher.features([POST], "en", candidates)
    assert x.shape[1] == len(MONO_FEATURES)
    reading = matcher.read([([POST], "en", False)])[0]
    extra = reading.features(matcher.index(), candidates)
    # the read path's log-odds shifted onto the one shown threshold (ranking unchanged)
    want = matcher.scorer.shifted(matcher.scorer.proba("read", np.hstack([x, extra])), "read")
    np.testing.assert_allclose([p for _, p in scored], want, rtol=1e-9)
    by_key = {c.key: p for c, p in scored}
    keys = matcher.index().keys
    best = max(by_key, key=by_key.get)
    assert int(keys[np.argmax(table @ reader.vector)]) == best  # the reader's nearest


def test_the_parts_of_a_text_are_not_read_by_the_reader(plumbing) -> None:
    store, table, reader = plumbing
    matcher = _matcher(store, table, reader)
    matcher.score([POST, "Men over fifty are drafted now."], "en", article=[False, True])
    assert reader.calls == [[POST]]  # the post, not its listed claim
    reader.calls.clear()
    matcher.score([POST], "en", article=True)
    assert reader.calls == []


def test_a_small_database_is_not_read_by_the_reader(plumbing, monkeypatch) -> None:
    store, table, reader = plumbing
    monkeypatch.setattr(debunk_match, "SMALL_DATABASE", 5_000)
    matcher = _matcher(store, table, reader)
    assert matcher.reader_table(matcher.index()) is None
    matcher.score([POST], "en")
    assert reader.calls == []


@pytest.mark.skipif(not (READER / "weights.npz").is_file(), reason="no bundled reader")
def test_the_bundled_reader_reads_a_restatement_closer_than_a_topic_neighbour() -> None:
    from narrascope.models.debunk_reader import reader_version, shared_reader

    reader = shared_reader()
    assert len(reader_version()) == 16
    debunks = reader.encode_debunks([c for _, c in DEBUNKS])
    units = reader.encode_units(
        [
            "BREAKING: the Kerch bridge to Crimea has been shut forever after last week's gale",
            "They say the freighters out of Odesa hide guns for Africa under the wheat",
        ]
    )
    np.testing.assert_allclose(np.linalg.norm(debunks, axis=1), 1.0, rtol=1e-5)
    sims = units @ debunks.T
    assert sims[0].argmax() == 0 and sims[1].argmax() == 1, sims.round(2)


@pytest.mark.skipif(not (READER / "weights.npz").is_file(), reason="no bundled reader")
def test_fact_checks_read_for_one_run_get_reader_vectors_when_the_matcher_reads_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from narrascope.cli.analyze import _read_with_reader
    from narrascope.models.debunk_reader import reader_version

    store = DebunkStore(":memory:")
    store.add([Debunk(id=i, claim=c, language="en") for i, c in DEBUNKS], encode=OneHot().encode)
    _read_with_reader(store)  # 6 debunks: the small head reads them, no reader needed
    assert store.reader_missing() == len(DEBUNKS)
    monkeypatch.setattr(debunk_match, "SMALL_DATABASE", 5)
    _read_with_reader(store)
    assert store.reader_matrix(reader_version()) is not None
    assert "with the debunk reader" in capsys.readouterr().err


def test_a_post_in_a_language_no_debunk_is_in_is_not_read(plumbing) -> None:
    """The read head reads pairs in one language, as it was trained; a Russian post
    against English debunks is read by the fast and cross heads, as without a reader."""
    store, table, reader = plumbing
    matcher = _matcher(store, table, reader)
    russian = "Мужчин старше пятидесяти теперь призывают в армию, говорит сосед."
    scored = matcher.score([russian], "ru")
    assert reader.calls == []
    candidates = [c for c, _ in scored]
    fast = matcher.scorer.proba("fast", matcher.features([russian], "ru", candidates))
    assert all(p >= f - 1e-12 for (_, p), f in zip(scored, fast, strict=True))
    matcher.score([POST], "en")
    assert reader.calls == [[POST]]


@pytest.mark.skipif(not (READER / "weights.npz").is_file(), reason="no bundled reader")
def test_the_readers_vectors_do_not_depend_on_how_texts_are_batched() -> None:
    """A batch is split so that every core reads a part: the vectors stay the same."""
    from narrascope.models.debunk_reader import shared_reader

    reader = shared_reader()
    texts = [c for _, c in DEBUNKS] + [POST, "Short one.", POST + " " + POST]
    together = reader.encode_units(texts)
    alone = np.vstack([reader.encode_units([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_analyze_can_match_without_the_reader_for_one_run(tmp_path: Path) -> None:
    """`analyze --no-debunk-reader`: the stage's matcher never reads with the reader,
    whatever vectors the database holds (a faster pass over a large corpus)."""
    from narrascope.cli import build_parser
    from narrascope.cli.analyze import debunk_config
    from narrascope.stages.debunks import DebunkStage

    db = tmp_path / "debunks.db"
    with DebunkStore(db) as store:
        store.add([Debunk(id=i, claim=c, language="en") for i, c in DEBUNKS])
    parse = build_parser().parse_args
    assert parse(["analyze", "a.txt", "--debunks", str(db)]).debunk_reader is True
    args = parse(["analyze", "a.txt", "--debunks", str(db), "--no-debunk-reader"])
    assert args.debunk_reader is False
    assert debunk_config(str(db), None) == {"db": str(db)}
    off = debunk_config(str(db), None, reader=args.debunk_reader)
    assert off == {"db": str(db), "use_reader": False}
    assert DebunkStage(**off).matcher.use_reader is False
    assert DebunkStage(**debunk_config(str(db), None)).matcher.use_reader is True
