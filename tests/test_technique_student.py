"""The Hindi technique student: fit, routing inside the technique model, spans on whole
Devanagari words, the resumable e5 cache and the training command end to end.

All text here is ours (hand-written), not from any dataset. The e5 teacher is replaced by a
tiny cross-lingual stand-in in the training test: its vectors count words of the same
meaning in English, Russian and Hindi, which is what the real encoder is trusted to do.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from narrascope.doc import Document
from narrascope.models.artefact import bundled_path
from narrascope.models.technique_student import TechniqueStudent, rate_matched_threshold
from narrascope.models.techniques import TechniqueClassifier
from narrascope.stages.techniques import TechniqueStage
from narrascope.taxonomy import TECHNIQUES
from narrascope.training import technique_student as training

LOADED = "Loaded_Language"
NAME = "Name_Calling-Labeling"
DOUBT = "Doubt"
J_LOADED, J_DOUBT = TECHNIQUES.index(LOADED), TECHNIQUES.index(DOUBT)

HINDI_LOADED = [
    "ये गद्दार और झूठे नेता हमारे महान देश को बर्बाद कर रहे हैं!",
    "बेशर्म गद्दार फिर से घिनौना झूठ फैला रहे हैं।",
    "घिनौने झूठ और गद्दारों का यह शासन शर्मनाक है।",
    "इन बेशर्म झूठों ने सैनिकों का अपमान किया।",
]
HINDI_DOUBT = [
    "क्या हम मंत्री पर भरोसा कर सकते हैं? उनके दावों पर सवाल उठते हैं।",
    "क्या यह रिपोर्ट सच है? किसी ने आँकड़ों की जाँच नहीं की, सवाल बाकी हैं।",
]
HINDI_NEUTRAL = [
    "परिषद ने मंगलवार को अगले साल के बजट पर चर्चा की।",
    "उत्तर में बारिश की संभावना है, तापमान लगभग दस डिग्री रहेगा।",
    "संग्रहालय सप्ताह के दिनों में सुबह नौ बजे खुलता है।",
    "शहर के स्कूल में एक नया पुस्तकालय खोला गया।",
]
HINDI = HINDI_LOADED + HINDI_DOUBT + HINDI_NEUTRAL


def _soft_targets() -> np.ndarray:
    """What a teacher would say about the fixtures: loaded / doubt / nothing."""
    y = np.full((len(HINDI), len(TECHNIQUES)), 0.02)
    y[: len(HINDI_LOADED), J_LOADED] = 0.8
    y[len(HINDI_LOADED) : len(HINDI_LOADED) + len(HINDI_DOUBT), J_DOUBT] = 0.7
    return y


SETTINGS = {"alpha": 0.1}  # (a tiny corpus keeps every n-gram: no min_df to set)


@pytest.fixture(scope="module")
def student() -> TechniqueStudent:
    return TechniqueStudent(**SETTINGS).fit(HINDI, _soft_targets(), threshold=0.4)


@pytest.fixture(scope="module")
def main_model() -> TechniqueClassifier:
    paragraphs = [
        ("The corrupt traitors and their disgusting lies destroy our nation!", "en", [LOADED]),
        ("These shameless clowns spread outrageous lies.", "en", [LOADED, NAME]),
        ("Can we really trust what the minister says?", "en", [DOUBT]),
        ("Is this report honest? Nobody checked the figures.", "en", [DOUBT]),
        ("The council met on Tuesday to discuss the budget.", "en", []),
        ("The museum opens at nine and closes at five.", "en", []),
    ]
    texts, langs, labels = zip(*paragraphs, strict=True)
    return TechniqueClassifier(c_tfidf=10.0).fit(
        list(texts),
        list(langs),
        [list(x) for x in labels],
        thresholds={"*": 0.3},
        span_words={LOADED: 2, NAME: 3, DOUBT: 16},
    )


def test_student_learns_its_teacher_on_new_hindi_text(student: TechniqueStudent) -> None:
    new = [
        "गद्दार नेता फिर झूठ बोल रहे हैं!",  # traitor leaders are lying again
        "क्या इस दावे पर भरोसा किया जा सकता है? सवाल उठता है।",  # can this claim be trusted?
        "संग्रहालय रविवार को बंद रहता है।",  # the museum is closed on Sunday
    ]
    p = student.predict_proba(new)
    assert p.shape == (3, len(TECHNIQUES)) and ((p >= 0) & (p <= 1)).all()
    assert p[0, J_LOADED] > p[2, J_LOADED] + 0.2 and p[0, J_LOADED] > p[1, J_LOADED]
    assert p[1, J_DOUBT] > p[0, J_DOUBT] and p[1, J_DOUBT] > p[2, J_DOUBT]
    # Devanagari-aware tokens: whole words such as "गद्दार" are features, not pieces
    assert "गद्दार" in student.words.word.vocabulary_


def test_student_round_trip(student: TechniqueStudent, tmp_path: Path) -> None:
    student.save(tmp_path / "hi", meta={"note": "test"})
    again = TechniqueStudent.load(tmp_path / "hi")
    assert again.threshold_ == pytest.approx(0.4) and again.language == "hi"
    assert again.get_params() == student.get_params()
    np.testing.assert_allclose(again.predict_proba(HINDI), student.predict_proba(HINDI), atol=1e-5)


def test_rate_matched_threshold_reproduces_the_rate() -> None:
    scores = np.linspace(0, 1, 101)
    t = rate_matched_threshold(scores, 0.1)
    assert (scores >= t).mean() == pytest.approx(0.1, abs=0.011)
    assert rate_matched_threshold(scores, 0.0) == 1.0


def test_hindi_rows_go_to_the_student_and_others_do_not(
    main_model: TechniqueClassifier, student: TechniqueStudent, tmp_path: Path
) -> None:
    english = ["Those disgusting traitors lie!"]
    before = main_model.predict_proba(english, ["en"])
    main_model.save(tmp_path / "tech")
    model = TechniqueClassifier.load(tmp_path / "tech")
    assert model.students_ == {}
    model.students_["hi"] = student
    mixed = ["बेशर्म गद्दार झूठ फैला रहे हैं।", *english]
    p = model.predict_proba(mixed, ["hi", "en"])
    np.testing.assert_allclose(p[0], student.predict_proba(mixed[:1])[0], atol=1e-6)
    np.testing.assert_allclose(p[1], before[0], atol=1e-6)
    assert model.thresholds_for(["hi", "en", "uk"]).tolist() == pytest.approx([0.4, 0.3, 0.3])
    # saved with the model, loaded back with it
    model.save(tmp_path / "tech")
    assert (tmp_path / "tech" / "students" / "hi" / "config.json").is_file()
    again = TechniqueClassifier.load(tmp_path / "tech")
    assert sorted(again.students_) == ["hi"]
    np.testing.assert_allclose(again.predict_proba(mixed, ["hi", "en"]), p, atol=1e-5)


def test_hindi_spans_cover_whole_words(
    main_model: TechniqueClassifier, student: TechniqueStudent
) -> None:
    main_model.students_["hi"] = student
    try:
        text = "संग्रहालय सुबह खुलता है।\nये बेशर्म गद्दार घिनौना झूठ फैला रहे हैं!\n"
        (paragraphs,) = TechniqueStage(model=main_model).predict([Document(text, language="hi")])
    finally:
        main_model.students_.clear()
    assert [dict(p.labels).keys() & {LOADED} for p in paragraphs] == [set(), {LOADED}]
    spans = [s for p in paragraphs for s in p.spans if s[2] == LOADED]
    assert spans
    for start, end, _, score in spans:
        assert 0 < score <= 1
        piece = text[start:end]
        assert {"गद्दार", "घिनौना", "झूठ", "बेशर्म"} & set(piece.split()), piece
        # never starts or ends inside a word: the neighbours are not letters or marks
        for ch in (text[start - 1], text[end]):
            assert not (ch.isalnum() or unicodedata.category(ch).startswith("M")), piece


def test_cache_resumes_and_never_answers_for_other_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training, "CHUNK", 2)
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([[len(t), t.count("a")] for t in texts], dtype=np.float32)

    texts = ["alpha", "beta", "gamma", "delta", "epsilon"]
    first = training.cached_embeddings(texts, embed, tmp_path, progress=False)
    assert len(calls) == 3 and first.shape == (5, 2)
    # a killed run: one chunk lost; only that chunk is embedded again
    sorted(tmp_path.glob("*.npy"))[0].unlink()
    again = training.cached_embeddings(texts, embed, tmp_path, progress=False)
    assert len(calls) == 4
    np.testing.assert_array_equal(again, first)
    other = training.cached_embeddings(["alpha", "BETA"], embed, tmp_path, progress=False)
    assert calls[-1] == ["alpha", "BETA"] and other[1, 0] == 4


# words of one meaning across languages: the stand-in encoder's dimensions
_CONCEPTS = {
    "loaded": ("traitor", "lie", "disgust", "shameless", "предател", "лож", "мерзк", "наглые",
               "गद्दार", "झूठ", "घिनौन", "बेशर्म", "शर्मनाक"),
    "doubt": ("trust", "honest", "checked", "верить", "сомнен", "проверял", "भरोसा", "सवाल"),
}  # fmt: skip


def _toy_encoder(texts: list[str]) -> np.ndarray:
    rows = []
    for text in texts:
        low = text.lower()
        counts = [sum(low.count(w) for w in words) for words in _CONCEPTS.values()]
        rows.append([*counts, 1.0, (len(low) % 7) / 7])
    return np.asarray(rows, dtype=np.float32)


def _write_corpus(root: Path) -> None:
    fixtures = {
        "en": [
            ("Those traitors spread disgusting lies!", [LOADED]),
            ("The shameless traitors lie again.", [LOADED]),
            ("Can we trust him? Nobody checked it.", [DOUBT]),
            ("Is this honest? Nobody checked the figures.", [DOUBT]),
            ("The council met on Tuesday.", []),
            ("Rain is expected in the north.", []),
        ],
        "ru": [
            ("Наглые предатели распространяют мерзкую ложь!", [LOADED]),
            ("Предатели снова лгут, это ложь.", [LOADED]),
            ("Можно ли верить министру? Никто не проверял.", [DOUBT]),
            ("Совет обсудил бюджет во вторник.", []),
        ],
    }
    for lang, rows in fixtures.items():
        folder = root / lang
        (folder / "train-articles-subtask-3").mkdir(parents=True)
        labels = []
        for k in range(0, len(rows), 2):
            part = rows[k : k + 2]
            text = "".join(f"{para}\n\n" for para, _ in part)
            (folder / "train-articles-subtask-3" / f"article{k}.txt").write_text(text, "utf-8")
            labels += [f"{k}\t{2 * i + 1}\t{','.join(lab)}\n" for i, (_, lab) in enumerate(part)]
        (folder / "train-labels-subtask-3.txt").write_text("".join(labels), encoding="utf-8")


def test_train_command_distils_the_teacher_into_a_hindi_student(tmp_path: Path) -> None:
    _write_corpus(tmp_path / "data")
    docs = tmp_path / "HI" / "raw-documents"
    docs.mkdir(parents=True)
    for k in range(0, len(HINDI), 2):
        (docs / f"HI_{k}.txt").write_text("\n\n".join(HINDI[k : k + 2]) + "\n", "utf-8")
    # annotation files beside raw-documents are not documents
    (tmp_path / "HI" / "subtask-2-annotations.txt").write_text("HI_0.txt\tOther\tOther\n")
    out = training.train_technique_student(
        tmp_path / "data",
        tmp_path / "HI",
        out_dir=tmp_path / "tech",
        cache_dir=tmp_path / "cache",
        folds=2,
        settings=SETTINGS,
        embed=_toy_encoder,
        teacher_c=10.0,
        progress=False,
    )
    assert out == tmp_path / "tech" / "students" / "hi"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["student_data"]["paragraphs"] == len(HINDI)
    assert meta["student_data"]["documents"] == len(HINDI) // 2
    assert sorted(meta["proxy_leave_one_language_out"]) == ["en", "mean", "ru"]
    assert 0 < meta["threshold"] <= 1
    student = TechniqueStudent.load(out)
    p = student.predict_proba(["गद्दार फिर झूठ फैला रहे हैं!", "परिषद ने बजट पर चर्चा की।"])
    assert p[0, J_LOADED] > p[1, J_LOADED]

    def fail(texts: list[str]) -> np.ndarray:
        raise AssertionError("cache miss")

    # a second run is answered by the cache alone, and is deterministic
    again = training.train_technique_student(
        tmp_path / "data", tmp_path / "HI", out_dir=tmp_path / "tech2",
        cache_dir=tmp_path / "cache", folds=2, settings=SETTINGS, embed=fail,
        teacher_c=10.0, proxy=False, progress=False,
    )  # fmt: skip
    np.testing.assert_allclose(
        TechniqueStudent.load(again).predict_proba(HINDI), student.predict_proba(HINDI), atol=1e-5
    )


BUNDLED = bundled_path("techniques") / "students" / "hi"


@pytest.mark.skipif(not BUNDLED.is_dir(), reason="no bundled Hindi student")
def test_bundled_hindi_student_reads_hand_written_paragraphs() -> None:
    model = TechniqueClassifier.load(bundled_path("techniques"))
    assert "hi" in model.students_
    meta = model.students_["hi"].meta
    assert meta["proxy_leave_one_language_out"]["mean"]["student"] > 0.25
    text = (
        "ये गद्दार और भ्रष्ट नेता झूठ फैलाकर हमारे महान देश को बर्बाद कर रहे हैं!\n"
        "संग्रहालय सप्ताह के दिनों में सुबह नौ बजे खुलता है।\n"
    )
    loaded, neutral = TechniqueStage(model=model).predict([Document(text, language="hi")])[0]
    assert {LOADED, NAME} & dict(loaded.labels).keys()
    assert loaded.spans and neutral.labels == ()


def test_centring_removes_each_language_mean_only() -> None:
    v = np.array([[1.0, 2.0], [3.0, 2.0], [10.0, 0.0], [12.0, 4.0]])
    out = training.centre_by_language(v, ["en", "en", "hi", "hi"])
    np.testing.assert_allclose(out, [[-1, 0], [1, 0], [-1, -2], [1, 2]])
    np.testing.assert_array_equal(v[0], [1.0, 2.0])  # the input is left alone
