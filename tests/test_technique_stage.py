"""The techniques stage with the bundled model, on short texts written for these tests in
the training languages (and Ukrainian, cross-lingual): paragraphs, spans with offsets,
the persuasion profile, the span locator's guards and the paragraph vectors shared with
the narrative stage on ``doc.tensor``."""

from __future__ import annotations

import numpy as np
import pytest

import narrascope
from narrascope.doc import Document
from narrascope.models.encoder import SentenceEncoder, document_vectors
from narrascope.models.spans import best_windows, content_words, phrase_breaks, sentence_spans
from narrascope.stages.techniques import TechniqueStage, _trimmed
from narrascope.taxonomy import (
    TECHNIQUES,
    persuasion_profile,
    technique_family,
    technique_taxonomy,
)
from narrascope.text.function_words import WORD, content_bounds, function_words
from narrascope.text.segment import segment

# Our own sentences: a loud, name-calling paragraph next to a plain one, per language.
TEXTS = {
    "en": "Traitors Betray the Nation\n\n"
    "Those corrupt traitors and shameless liars spread disgusting propaganda again!\n"
    "   \n"
    "The council met on Tuesday to discuss the budget for next year.",
    "ru": "Предатели снова лгут\n\n"
    "Эти наглые предатели и лжецы позорят нашу великую страну!\n\n"
    "Совет обсудил бюджет на следующий год во вторник.",
    "fr": "Les traîtres mentent encore\n\n"
    "Ces traîtres corrompus et ces menteurs éhontés répandent une propagande répugnante !\n\n"
    "Le conseil s'est réuni mardi pour discuter du budget de l'année prochaine.",
    "de": "Die Verräter lügen wieder\n\n"
    "Diese korrupten Verräter und schamlosen Lügner verbreiten widerliche Propaganda!\n\n"
    "Der Stadtrat hat am Dienstag den Haushalt für das nächste Jahr besprochen.",
    "it": "I traditori mentono ancora\n\n"
    "Questi traditori corrotti e bugiardi spudorati diffondono una propaganda disgustosa!\n\n"
    "Il consiglio si è riunito martedì per discutere il bilancio del prossimo anno.",
    "pl": "Zdrajcy znowu kłamią\n\n"
    "Ci skorumpowani zdrajcy i bezczelni kłamcy znowu szerzą obrzydliwą propagandę!\n\n"
    "Rada miasta omówiła we wtorek budżet na przyszły rok.",
}
# Not in SemEval-2023: bg, pt and uk are trained on the extra corpora (CheckThat! 2024,
# slavic-persuasion, UNLP 2025; issue 22); hi (no data, no USE) only has to come out
# well-formed.
CROSS = {
    "bg": "Предателите пак лъжат\n\n"
    "Тези нагли предатели и лъжци позорят нашата велика страна!\n\n"
    "Съветът обсъди бюджета за следващата година във вторник.",
    "pt": "Os traidores mentem outra vez\n\n"
    "Estes traidores corruptos e mentirosos descarados espalham propaganda nojenta!\n\n"
    "O conselho reuniu-se na terça-feira para discutir o orçamento do próximo ano.",
    "uk": "Зрадники знову брешуть\n\n"
    "Ці нахабні зрадники і брехуни ганьблять нашу велику країну!\n\n"
    "Рада обговорила бюджет на наступний рік у вівторок.",
    "hi": "गद्दार फिर झूठ बोलते हैं\n\n"
    "ये भ्रष्ट गद्दार और बेशर्म झूठे घृणित प्रचार फैलाते हैं!\n\n"
    "परिषद ने मंगलवार को अगले साल के बजट पर चर्चा की।",
}


@pytest.fixture(scope="module")
def nlp() -> narrascope.Pipeline:
    return narrascope.load(stages=["language", "segment", "techniques"])


@pytest.fixture(scope="module")
def analysed(nlp: narrascope.Pipeline) -> dict[str, Document]:
    texts = {**TEXTS, **CROSS}
    docs = [Document(text, id=lang, language=lang) for lang, text in texts.items()]
    return {d.id: d for d in nlp.pipe(docs, batch_size=4)}


@pytest.mark.parametrize("lang", [*sorted(TEXTS), "bg", "pt", "uk"])
def test_every_language_gets_spans_that_point_into_the_text(analysed, lang: str) -> None:
    doc = analysed[lang]
    assert doc.techniques, f"{lang}: the loud paragraph carries techniques"
    assert_well_formed(doc)
    loud = [t for t in doc.techniques if t.paragraph == 3]
    assert {t.label for t in loud} & {"Loaded_Language", "Name_Calling-Labeling"}, lang


@pytest.mark.parametrize("lang", ["hi"])
def test_languages_outside_the_encoder_come_out_well_formed(analysed, lang: str) -> None:
    assert_well_formed(analysed[lang])


def assert_well_formed(doc: Document) -> None:
    for t in doc.techniques:
        assert t.label in TECHNIQUES and 0.0 < t.score <= 1.0
        assert doc.text[t.span.start : t.span.end] == t.span.text
        assert t.span.text == t.span.text.strip() and t.span.text
        assert t.family == technique_family(t.label)
    # paragraphs are the non-blank lines, numbered by line (a whitespace line is no paragraph)
    assert {t.paragraph for t in doc.techniques} <= {1, 3, 5}


def test_english_marks_the_insults_not_the_budget(analysed) -> None:
    doc = analysed["en"]
    loaded = [t for t in doc.techniques if t.label == "Loaded_Language"]
    assert loaded and all(t.paragraph == 3 for t in loaded)
    assert all("budget" not in t.span.text for t in loaded)
    assert len(doc.techniques) >= 2


def test_profile_counts_paragraphs_per_family(analysed) -> None:
    for doc in analysed.values():
        assert list(doc.persuasion_profile) == list(technique_taxonomy()["families"])
        used = {(t.paragraph, technique_family(t.label)) for t in doc.techniques}
        assert sum(doc.persuasion_profile.values()) == len(used)
    # paragraph 1 uses two techniques of one family: it counts once
    found = [(1, "Doubt"), (1, "Doubt"), (1, "Name_Calling-Labeling"), (2, "Slogans"), (2, "Doubt")]
    assert persuasion_profile(found) == {
        "attack_on_reputation": 2,
        "justification": 0,
        "simplification": 0,
        "distraction": 0,
        "call": 1,
        "manipulative_wording": 0,
    }


def test_taxonomy_covers_the_official_list_with_definitions() -> None:
    taxonomy = technique_taxonomy()
    assert set(taxonomy["techniques"]) == set(TECHNIQUES)
    members = [t for f in taxonomy["families"].values() for t in f["techniques"]]
    assert sorted(members) == sorted(TECHNIQUES)  # each technique in exactly one family
    assert all(len(v["definition"].split()) >= 8 for v in taxonomy["techniques"].values())


def test_empty_and_blank_documents(nlp: narrascope.Pipeline) -> None:
    doc = nlp(Document(" \n\n \n", id="blank", language="en"))
    assert doc.techniques == [] and sum(doc.persuasion_profile.values()) == 0


def test_windows_never_cross_punctuation() -> None:
    paragraph = "They lie. Traitors everywhere"
    offsets = [(0, 4), (5, 8), (10, 18), (19, 29)]
    contrib = np.zeros((4, len(TECHNIQUES)), dtype=np.float32)
    contrib[1, 0], contrib[2, 0] = 5.0, 5.0  # "lie" and "Traitors" both strong
    breaks = phrase_breaks(paragraph, offsets)
    assert breaks.tolist() == [False, True, False]
    spans = best_windows((offsets, contrib), 0, 2, 0.8, 3, breaks=breaks)
    texts = [paragraph[s:e] for s, e, _ in spans]
    assert texts and all(". " not in t for t in texts)
    free = best_windows((offsets, contrib), 0, 2, 0.8, 1)
    assert paragraph[free[0][0] : free[0][1]] == "lie. Traitors"  # what the guard prevents


def test_weak_edge_words_are_trimmed() -> None:
    offsets = [(0, 3), (4, 9), (10, 13)]
    contrib = np.zeros((3, len(TECHNIQUES)), dtype=np.float32)
    contrib[:, 0] = [0.1, 4.0, 0.1]
    ((s, e, share),) = best_windows((offsets, contrib), 0, 3, 0.8, 1, trim=0.25)
    assert (s, e, share) == (4, 9, 1.0)


def test_long_sentence_spans_are_narrowed(nlp: narrascope.Pipeline) -> None:
    stage = nlp.get_stage("techniques")
    model = stage.model  # type: ignore[attr-defined]
    words = " ".join(["the traitors lie"] * 40)  # 120 words, no sentence punctuation
    doubt = TECHNIQUES.index("Doubt")
    contributions = model.words_for("en").contributions(words)
    spans = sentence_spans(words, [(doubt, 0.5)], contributions, 0.8, model.max_span_words)
    ((s, e, column, _),) = spans
    assert column == doubt and len(words[s:e].split()) <= model.max_span_words
    assert model.spans(words, "en", [("Doubt", 0.5)]) == [(s, e, "Doubt", 0.5)]
    assert _trimmed("  a b c  ", 0, 9, 100) == (2, 7)
    assert _trimmed("   ", 0, 3, 100) is None
    assert _trimmed("aaa bbb ccc", 0, 11, 6) == (0, 3)


def test_paragraphs_reuse_the_narrative_vectors(encoder_calls: list[list[str]]) -> None:
    # the second line starts with spaces: vectors are of the stripped paragraphs
    text = "The corrupt elites lie to you every day.\n  They fear the truth. They hide it."
    long_text = "\n".join(f"Line {k} of a long comment thread." for k in range(62))
    docs = [Document(text, language="en"), Document(long_text, language="en")]
    stage = TechniqueStage()
    for doc in docs:
        segment(doc)
    document_vectors(SentenceEncoder.shared(), docs)  # what the narrative stage does first
    assert [len(d.tensor) for d in docs] == [2, 60]
    fresh = SentenceEncoder.shared().encode(["They fear the truth. They hide it."])[0]
    assert np.allclose(docs[0].tensor[1], fresh, atol=1e-5)

    encoder_calls.clear()  # from here on: what the technique stage encodes
    stage(docs)
    # only the paragraphs past the narrative stage's first 60
    assert encoder_calls == [
        ["Line 60 of a long comment thread.", "Line 61 of a long comment thread."]
    ]
    assert [len(d.tensor) for d in docs] == [2, 62]
    encoder_calls.clear()
    hindi = Document("ये गद्दार झूठ फैलाते हैं!", language="hi")
    stage([hindi])
    assert encoder_calls == [] and hindi.tensor is None  # the student reads n-grams only


def test_narratives_do_not_move_when_techniques_run() -> None:
    text = (
        "NATO provoked this war and Kyiv only follows orders from Washington.\n\n"
        "Those corrupt traitors and shameless liars spread disgusting propaganda again!"
    )
    with_t = narrascope.load(stages=["language", "segment", "narratives", "techniques"])
    without = narrascope.load(stages=["language", "segment", "narratives"])
    a, b = with_t(text), without(text)
    assert [(n.label, n.score) for n in a.narratives] == [(n.label, n.score) for n in b.narratives]
    assert a.techniques and not b.techniques


# Our own loud paragraphs, full of function words next to the loaded ones.
FUNCTION_WORD_TEXTS = {
    "en": "They Just Lie to You\n\n"
    "The corrupt elites are just lying to you through their puppet media, and they will "
    "keep on doing it for example with the shameful sanctions that are destroying us all.\n\n"
    "It is a disgrace: these traitors sold the country to the West and they are laughing "
    "at the people who pay for their criminal adventure.",
    "ru": "Они просто лгут вам\n\n"
    "Эти продажные предатели снова и снова лгут нам через свои марионеточные СМИ, а "
    "позорные санкции уже разрушают всё, что у нас было.\n\n"
    "Это позор: эти воры продали страну Западу и теперь смеются над народом, который "
    "платит за их преступную авантюру.",
}


def _edge_words(text: str) -> tuple[str, str]:
    words = WORD.findall(text)
    return words[0].lower(), words[-1].lower()


@pytest.mark.parametrize("language", sorted(FUNCTION_WORD_TEXTS))
def test_spans_start_and_end_on_content_words(nlp: narrascope.Pipeline, language: str) -> None:
    doc = nlp(Document(FUNCTION_WORD_TEXTS[language], id=language, language=language))
    assert len(doc.techniques) >= 3
    stop = function_words(language)
    for t in doc.techniques:
        first, last = _edge_words(t.span.text)
        assert first not in stop and last not in stop, (t.label, t.span.text)
        # no punctuation or space at either edge: the underline sits on the words
        assert t.span.text[0].isalnum() and t.span.text[-1].isalnum(), t.span.text


def test_function_words_leave_window_edges_and_never_make_a_window() -> None:
    paragraph = "they are just corrupt to the bone"
    offsets = [(m.start(), m.end()) for m in WORD.finditer(paragraph)]
    contrib = np.zeros((len(offsets), len(TECHNIQUES)), dtype=np.float32)
    contrib[:, 0] = [0.1, 3.0, 3.0, 2.0, 2.5, 2.5, 0.1]  # "are just", "to the": strong
    content = content_words(paragraph, offsets, "en")
    assert content.tolist() == [False, False, False, True, False, False, True]
    plain = best_windows((offsets, contrib), 0, 2, 0.5, 3)
    assert [paragraph[s:e] for s, e, _ in plain] == ["are just", "to the"]
    found = best_windows((offsets, contrib), 0, 2, 0.5, 3, content=content)
    # "are just" and "to the" are passed over, "just corrupt" loses "just": the best
    # window kept ("corrupt", 5.0) is the one the others are measured against
    assert [paragraph[s:e] for s, e, _ in found] == ["corrupt", "bone"]
    assert [round(share, 2) for _, _, share in found] == [1.0, 0.52]


def test_content_bounds_and_cut_spans_end_on_content_words() -> None:
    text = "« Они снова лгут нам через свои СМИ, а также »"
    assert text[slice(*content_bounds(text, 0, len(text), "ru"))] == "лгут нам через свои СМИ"
    assert content_bounds("and the of", 0, 10, "en") is None
    text = "the sanctions imposed by the US"  # an acronym in capitals is no function word
    assert text[slice(*content_bounds(text, 0, len(text), "en"))] == text[4:]
    long = "traitors lie to the people of the country"
    # cut at 24 characters ("traitors lie to the peop" -> at a space), then "to the" goes
    assert _trimmed(long, 0, len(long), 24, "en") == (0, 12)
