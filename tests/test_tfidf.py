import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from narrascope.models.tfidf import TOKEN_PATTERN_INDIC, FixedTfidf

TEXTS = [
    "NATO provoked the war; the West wants Russia destroyed!  Kyiv obeys Washington.",
    "Запад боится России.\r\nСанкции не работают, а Европа замерзает без нашего газа.",
    "O clima da Terra sempre mudou em ciclos naturais — muito antes da indústria.",
    "यह एक वाक्य है। परमाणु युद्ध का खतरा बढ़ता जा रहा है।",
    "Санкциите срещу Русия се обърнаха срещу самите нас. I a b",
    "",
    "x",
    "Aaaaaa aaaaaa the the the war war war; NATO provoked the war",  # repeats count once each
    "NATO provoked the war; the West wants Russia destroyed!  Kyiv obeys Washington.",
]


ANALYZERS = [("word", (1, 2)), ("char_wb", (2, 5))]


def fitted_pair(analyzer: str, ngrams: tuple[int, int]) -> tuple[TfidfVectorizer, FixedTfidf]:
    """scikit-learn's vectorizer fitted on three texts, and ours with its vocabulary."""
    fitted = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True).fit(
        TEXTS[:3]
    )
    vocabulary = sorted(fitted.vocabulary_, key=fitted.vocabulary_.get)
    return fitted, FixedTfidf(analyzer, ngrams, vocabulary, fitted.idf_)


@pytest.mark.parametrize(("analyzer", "ngrams"), ANALYZERS)
def test_matches_scikit_learn(analyzer: str, ngrams: tuple[int, int]) -> None:
    fitted, ours = fitted_pair(analyzer, ngrams)
    reference = TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngrams,
        sublinear_tf=True,
        vocabulary=fitted.vocabulary_,
        dtype=np.float32,
    ).fit(["x"])
    reference.idf_ = fitted.idf_
    expected = reference.transform(TEXTS).toarray()
    got = ours.transform(TEXTS)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got.toarray(), expected, atol=1e-6)
    assert np.count_nonzero(expected[0]) > 5  # the check is not vacuous


@pytest.mark.parametrize(("analyzer", "ngrams"), ANALYZERS)
def test_a_batch_is_its_rows(analyzer: str, ngrams: tuple[int, int]) -> None:
    """Counting a whole batch at once gives each text the row it gets alone."""
    fitted, ours = fitted_pair(analyzer, ngrams)
    batch = ours.transform(TEXTS)
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(batch[i].toarray(), ours.transform([text]).toarray())
    assert batch.has_sorted_indices
    assert ours.transform([]).shape == (0, len(fitted.vocabulary_))


def test_rejects_unknown_analyzer() -> None:
    with pytest.raises(ValueError, match="analyzer"):
        FixedTfidf("char", (1, 2), ["a"], [1.0])


def test_indic_token_pattern_matches_scikit_learn() -> None:
    kwargs = {"analyzer": "word", "ngram_range": (1, 2), "sublinear_tf": True}
    fitted = TfidfVectorizer(token_pattern=TOKEN_PATTERN_INDIC, **kwargs).fit(TEXTS[:4])
    assert "रूस" in TfidfVectorizer(token_pattern=TOKEN_PATTERN_INDIC).fit(["रूस ने"]).vocabulary_
    vocabulary = sorted(fitted.vocabulary_, key=fitted.vocabulary_.get)
    ours = FixedTfidf("word", (1, 2), vocabulary, fitted.idf_, TOKEN_PATTERN_INDIC)
    np.testing.assert_allclose(
        ours.transform(TEXTS).toarray(), fitted.transform(TEXTS).toarray(), atol=1e-6
    )
    assert "युद्ध" in fitted.vocabulary_  # whole Devanagari words, not fragments
