"""Mention detection and alias grouping on sentences written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrascope.errors import ModelError
from narrascope.text.aliases import (
    canonical_name,
    clean_name,
    group_mentions,
    is_name,
    strip_slavic,
)
from narrascope.text.mentions import (
    FAST,
    Gazetteer,
    Mention,
    MentionDetector,
    MentionTagger,
    decode_bio,
    sequences,
    tokenize,
    trim_function_words,
    union,
)


@pytest.fixture(scope="module")
def detector() -> MentionDetector:
    return MentionDetector()


def _found(mentions: list[Mention]) -> dict[str, Mention]:
    return {m.text: m for m in mentions}


def _detect(detector: MentionDetector, text: str, language: str, source: str) -> list[Mention]:
    """Detect, checking that every mention points at its own text in the original string."""
    mentions = detector.detect(text, language)
    assert mentions, f"nothing found in {language}"
    for m in mentions:
        assert text[m.start : m.end] == m.text
        assert m.source == source
    return mentions


def _groups_as_text(mentions: list[Mention]) -> list[set[str]]:
    return [{mentions[i].text for i in g} for g in group_mentions(mentions, None)]


# --- English: spaCy -----------------------------------------------------------------------

EN = (
    "Russian President Vladimir Putin accused NATO of provoking the war.\r\n"
    "Zelensky said in Kyiv that Putin's demands were absurd and thanked the European Union."
)


def test_english_offsets_are_exact_with_crlf(detector: MentionDetector) -> None:
    found = _found(_detect(detector, EN, "en", "spacy"))
    assert found["Vladimir Putin"].start == EN.index("Vladimir Putin")
    assert found["Vladimir Putin"].kind == "PER"
    assert found["NATO"].kind == "ORG"
    assert found["Zelensky"].start == EN.index("Zelensky")
    assert found["Kyiv"].kind == "LOC"
    # the possessive is not part of the name
    assert "Putin" in found
    assert found["Putin"].start == EN.index("Putin's")


def test_english_groups_putin_mentions(detector: MentionDetector) -> None:
    mentions = detector.detect(EN, "en")
    groups = _groups_as_text(mentions)
    assert {"Vladimir Putin", "Putin"} in groups
    putin = next(g for g in group_mentions(mentions) if mentions[g[0]].text == "Vladimir Putin")
    assert canonical_name(mentions, putin) == "Vladimir Putin"
    assert {"NATO"} in groups


# --- Russian: natasha ---------------------------------------------------------------------

RU = (
    "Владимир Путин провёл переговоры в Москве. Зеленский снова обвинил Путина, а\r\n"
    "в Кремле ответили, что Путин не собирается встречаться с Владимиром Зеленским."
)


def test_russian_mentions_and_lemmas(detector: MentionDetector) -> None:
    found = _found(_detect(detector, RU, "ru", "natasha"))
    assert found["Путина"].lemma == "Путин"
    assert found["Москве"].lemma == "Москва"
    assert found["Владимир Путин"].kind == "PER"
    assert found["Путина"].start == RU.index("Путина")


def test_russian_case_forms_group(detector: MentionDetector) -> None:
    mentions = detector.detect(RU, "ru")
    groups = _groups_as_text(mentions)
    assert {"Владимир Путин", "Путина", "Путин"} in groups
    assert {"Зеленский", "Владимиром Зеленским"} in groups
    zel = next(g for g in group_mentions(mentions) if mentions[g[0]].text == "Зеленский")
    assert canonical_name(mentions, zel) == "Владимир Зеленский"


# --- other languages: the CRF -------------------------------------------------------------

BG = (
    "Президентът Володимир Зеленски поиска помощ от НАТО, а Русия отговори с нови удари по Украйна."
)
PT = "O presidente Volodymyr Zelensky pediu ajuda à NATO, mas a Rússia respondeu com ataques."


@pytest.mark.parametrize(
    ("text", "language", "names"),
    [
        (BG, "bg", ["Зеленски", "НАТО", "Русия", "Украйна"]),
        (PT, "pt", ["Zelensky", "NATO", "Rússia"]),
        (BG, "uk", ["Зеленски", "НАТО"]),  # Ukrainian has no training data: Cyrillic features
    ],
)
def test_crf_finds_names(
    detector: MentionDetector, text: str, language: str, names: list[str]
) -> None:
    mentions = _detect(detector, text, language, "crf")
    covered = " ".join(m.text for m in mentions)
    for name in names:
        assert name in covered
    # nothing lower-case on its own (verbs, prepositions) is taken for a name
    assert all(not m.text.islower() for m in mentions)


def test_fast_mode_tags_english_with_the_crf() -> None:
    mentions = _detect(MentionDetector(backends=FAST), EN, "en", "crf")
    covered = " ".join(m.text for m in mentions)
    for name in ("Putin", "NATO", "Zelensky", "Kyiv"):
        assert name in covered
    assert "accused" not in covered


def test_batch_keeps_order_and_matches_single(detector: MentionDetector) -> None:
    texts, langs = [PT, EN, BG, ""], ["pt", "en", "bg", "en"]
    batch = detector.detect_many(texts, langs)
    assert batch[3] == []
    for text, lang, got in zip(texts[:3], langs[:3], batch[:3], strict=True):
        assert got == detector.detect(text, lang)
    with pytest.raises(ValueError):
        detector.detect_many(["a"], [])


def test_missing_crf_artefact_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        MentionTagger.load(tmp_path)
    assert err.value.code == "E201"
    with pytest.raises(ModelError):
        MentionDetector(model_path=tmp_path).detect("Ana foi a Lisboa.", "pt")


# --- building blocks ----------------------------------------------------------------------


def test_tokenize_keeps_devanagari_words_and_splits_possessives() -> None:
    text = "पुतिन ने कहा। Putin's"
    words = [text[s:e] for s, e in tokenize(text)]
    assert words == ["पुतिन", "ने", "कहा", "।", "Putin", "'", "s"]
    assert len(sequences(text, tokenize(text))) == 2
    # an invisible word break is space, not a token a name could start with
    text = "orders from\u200b Washington and\ufeff the\u2060West"
    assert [text[s:e] for s, e in tokenize(text)] == [
        "orders",
        "from",
        "Washington",
        "and",
        "the",
        "West",
    ]


def test_decode_bio_and_gazetteer() -> None:
    spans = [(0, 3), (4, 7), (8, 11), (12, 15)]
    assert decode_bio(["B", "I", "O", "I"], spans) == [(0, 7), (12, 15)]
    gaz = Gazetteer({("vladimir", "putin"): 3, ("putin",): 2, ("kyiv",): 1})
    assert gaz.marks(["Vladimir", "Putin", "in", "Kyiv"]) == ["B", "I", "O", "O"]
    # leave-one-out: the training document's own names count one document less
    assert gaz.marks(["Putin"], frozenset({("putin",)})) == ["O"]


def test_union_prefers_primary() -> None:
    a = [Mention(0, 14, "Vladimir Putin", "PER", "spacy")]
    b = [Mention(9, 14, "Putin", "ENT", "crf"), Mention(20, 24, "NATO", "ENT", "crf")]
    assert [m.text for m in union(a, b)] == ["Vladimir Putin", "NATO"]


def _m(text: str, kind: str = "PER", lemma: str = "") -> Mention:
    return Mention(0, len(text), text, kind, "test", lemma)


def test_grouping_across_scripts_and_forms() -> None:
    names = ["Putin", "Vladimir Putin", "Putin's", "Путин", "Путина", "Владимир Путин"]
    mentions = [_m(n) for n in names] + [_m("NATO", "ORG")]
    groups = group_mentions(mentions, "en")
    assert groups == [[0, 1, 2, 3, 4, 5], [6]]
    assert canonical_name(mentions, groups[0]) == "Vladimir Putin"


def test_grouping_is_careful() -> None:
    mentions = [_m("Joe Biden"), _m("Hunter Biden"), _m("Biden"), _m("Russia", "LOC")]
    mentions += [_m("Russians", "GROUP"), _m("Iran", "LOC"), _m("Iraq", "LOC")]
    # "Biden" is ambiguous between two people; a country is not its people
    assert group_mentions(mentions) == [[0], [1], [2], [3], [4], [5], [6]]


def test_grouping_acronyms_and_bulgarian_articles() -> None:
    mentions = [_m("European Union", "ORG"), _m("EU", "ORG"), _m("the United States", "LOC")]
    mentions += [_m("U.S.", "LOC"), _m("Западът", "ENT"), _m("Запада", "ENT")]
    assert group_mentions(mentions) == [[0, 1], [2, 3], [4, 5]]
    assert canonical_name(mentions, [2, 3]) == "United States"


def test_grouping_a_country_with_its_official_name() -> None:
    # en, pt (state word first), ru, bg and uk without lemmas (the CRF case), ru with lemmas
    pairs = [
        ("Russia", "the Russian Federation"),
        ("Rússia", "Federação Russa"),
        ("Россия", "Российская Федерация"),
        ("Русия", "Руската федерация"),
        ("Росія", "Російська Федерація"),
    ]
    for short, full in pairs:
        assert group_mentions([_m(short, "LOC"), _m(full, "LOC")]) == [[0, 1]], short
    lemmas = [_m("России", "LOC", "Россия")]
    lemmas.append(_m("Российской Федерации", "LOC", "Российская Федерация"))
    assert group_mentions(lemmas) == [[0, 1]]
    # its army, its people (spelt like the adjective) and another republic stay apart
    others = [_m("Russia", "LOC"), _m("Russian Army", "ORG"), _m("Republic of Korea", "LOC")]
    assert group_mentions(others) == [[0], [1], [2]]
    people = [("Russians", "Russian Federation"), ("Russian", "Russian Federation")]
    people += [("россияне", "Российская Федерация"), ("russos", "Federação Russa")]
    for short, full in people:
        assert group_mentions([_m(short, "ENT"), _m(full, "ENT")]) == [[0], [1]], short


def test_slavic_surnames_keep_their_gender() -> None:
    """Husband and wife share a surname stem but are two people; his case forms are one."""
    pairs = [  # hers, then his forms (ru and uk without lemmas: the CRF case; bg)
        (["Елена Зеленская"], ["Зеленский", "Зеленского", "Зеленскому"]),
        (["Олена Зеленська", "Зеленської"], ["Зеленський", "Зеленського"]),
        (["Олена Зеленска"], ["Зеленски"]),
        (["Захаровой"], ["Захаров", "Захаровым"]),
    ]
    for hers, his in pairs:
        mentions = [_m(n) for n in hers + his]
        assert group_mentions(mentions) == [
            list(range(len(hers))),
            list(range(len(hers), len(mentions))),
        ], hers
    # natasha lemmatises her surname as his; her given name still tells who she is
    lemmas = [_m("Мария Захарова", lemma="Мария Захаров"), _m("Захаров", lemma="Захаров")]
    lemmas.append(_m("Елена Зеленская", lemma="Елена Зеленский"))
    lemmas.append(_m("Зеленский", lemma="Зеленский"))
    assert group_mentions(lemmas) == [[0], [1], [2], [3]]
    his = [_m("Владимира Путина", lemma="Владимир Путин"), _m("Путин", lemma="Путин")]
    assert group_mentions(his) == [[0, 1]]
    # Bulgarian has no cases: Захарова is a woman there, his genitive in Russian
    assert group_mentions([_m("Мария Захарова"), _m("Захаров")], "bg") == [[0], [1]]
    # a bare surname goes to the full name of its own gender
    medvedev = [_m("Дмитрий Медведев"), _m("Светлана Медведева"), _m("Медведев")]
    assert group_mentions(medvedev) == [[0, 2], [1]]
    # forms that do not tell the gender join the one gender named
    putin = [_m(n) for n in ("Путин", "Путина", "Путину", "Путиным", "Putin")]
    assert group_mentions(putin) == [[0, 1, 2, 3, 4]]
    # ... but not when both are named: Захарова may be either
    both = [_m("Захаров"), _m("Захаровой"), _m("Захарова")]
    assert group_mentions(both) == [[0], [1], [2]]


def test_ukrainian_alternation_and_plural_adjectives() -> None:
    for names in (
        ["Київ", "Києва", "Києві"],
        ["Харків", "Харкова", "Харкові"],
        ["Львів", "Львова"],
    ):
        assert group_mentions([_m(n, "LOC") for n in names]) == [list(range(len(names)))], names
    forces = ["ЗСУ", "Збройні сили України", "Збройних сил України"]
    assert group_mentions([_m(n, "ENT") for n in forces]) == [[0, 1, 2]]
    forces = ["ВСУ", "Вооружённые силы Украины", "Вооруженных сил Украины"]
    assert group_mentions([_m(n, "ORG") for n in forces]) == [[0, 1, 2]]
    # a name that starts like the city is another entity
    for city, other in (("Kyiv", "Kyivstar"), ("Київ", "Київстар"), ("Харків", "Харківщина")):
        assert group_mentions([_m(city, "LOC"), _m(other, "ORG")]) == [[0], [1]], other


def test_grouping_does_not_depend_on_the_order_of_mentions() -> None:
    from itertools import permutations

    for names in permutations(["US", "U.S.", "United States"]):
        assert group_mentions([_m(n, "LOC") for n in names]) == [[0, 1, 2]], names
    for names in permutations(["Joe Biden", "Hunter Biden", "Biden"]):
        assert group_mentions([_m(n) for n in names]) == [[0], [1], [2]], names
    for names in permutations(["Дмитрий Медведев", "Светлана Медведева", "Медведев"]):
        groups = _groups_as_text([_m(n) for n in names])
        assert sorted(map(sorted, groups)) == [
            ["Дмитрий Медведев", "Медведев"],
            ["Светлана Медведева"],
        ]


def test_a_capitalised_article_does_not_block_grouping() -> None:
    pairs = [
        (["The United States", "the United States", "US"], "LOC", "United States"),
        (["The Kremlin", "the Kremlin", "Kremlin"], "ORG", "Kremlin"),
        (["A Rússia", "Rússia"], "LOC", "Rússia"),
        (["Os Estados Unidos", "Estados Unidos"], "LOC", "Estados Unidos"),
    ]
    for names, kind, canonical in pairs:
        mentions = [_m(n, kind) for n in names]
        assert group_mentions(mentions) == [list(range(len(names)))], names
        assert canonical_name(mentions, range(len(names))) == canonical
    # names that include their article keep it, and stay apart from the bare word
    for name in ("The Hague", "The Guardian", "The Times", "the Hague", "O Globo"):
        assert clean_name(name) == name
    assert group_mentions([_m("The Hague", "LOC"), _m("Hague")]) == [[0], [1]]
    assert not is_name("The") and not is_name("A")


def test_detector_drops_spans_that_name_nothing() -> None:
    """A bare article or a stray letter from a backend never reaches the document."""
    text = "The Kremlin denied it. S. The report on NATO was ignored by the EU."

    class Tagger:
        def detect_many(self, texts: list[str]) -> list[list[Mention]]:
            spans = [(0, 3), (4, 11), (23, 24), (26, 29), (40, 44), (64, 66)]
            return [[Mention(s, e, t[s:e], "ENT", "crf") for s, e in spans] for t in texts]

    detector = MentionDetector(backends=FAST)
    detector._loaded["crf"] = Tagger()
    found = [m.text for m in detector.detect(text, "en")]
    assert found == ["Kremlin", "NATO", "EU"]
    assert not is_name("the") and not is_name("O") and is_name("ЕС") and is_name("भारत")
    assert is_name("G7") and is_name("F-16")


def test_detector_trims_function_words_a_span_ran_on_into() -> None:
    text = "As George Kennan of Princeton warned, the Ministério da Defesa e a NATO and the EU."

    class Tagger:
        def detect_many(self, texts: list[str]) -> list[list[Mention]]:
            spans = [(3, 19), (20, 29), (42, 66), (67, 75)]
            return [[Mention(s, e, t[s:e], "ENT", "crf") for s, e in spans] for t in texts]

    detector = MentionDetector(backends=FAST)
    detector._loaded["crf"] = Tagger()
    found = detector.detect(text, "en")
    assert [m.text for m in found] == ["George Kennan", "Princeton", "Ministério da Defesa", "NATO"]
    assert all(text[m.start : m.end] == m.text for m in found)
    # names with a function word inside keep it; a lone function word is left to is_name
    for name in ("Bank of England", "Banco do Brasil", "Prince Of", "of"):
        assert trim_function_words(_m(name)).text == name
    assert trim_function_words(_m("Министерство на", "ORG", "Министерство на")).lemma == (
        "Министерство"
    )


def test_cleaning_helpers() -> None:
    assert clean_name("«Putin's»") == "Putin"
    assert clean_name("the West") == clean_name("The West") == "West"
    assert strip_slavic("Зеленского") == strip_slavic("Зеленский") == "Зеленск"
    assert strip_slavic("Русията") == strip_slavic("Русия")
    assert strip_slavic("США") == "США"
    assert strip_slavic("Харків") == strip_slavic("Харкова") == strip_slavic("Харкові")
    assert strip_slavic("Збройних") == strip_slavic("Збройні")


# --- on the shared SemEval data -----------------------------------------------------------


@pytest.mark.shared
def test_packaged_models_recover_annotated_mentions(semeval25: Path) -> None:
    from narrascope.training.corpus import load_entity_corpus

    detector = MentionDetector()
    for lang, floor in (("en", 0.6), ("ru", 0.6), ("bg", 0.6)):
        docs = load_entity_corpus(semeval25 / "train", languages=(lang,))[:25]
        found = detector.detect_many([d.text for d in docs], [lang] * len(docs))
        gold = hit = 0
        for doc, mentions in zip(docs, found, strict=True):
            assert all(doc.text[m.start : m.end] == m.text for m in mentions)
            for g in doc.aligned_mentions():
                gold += 1
                hit += any(m.start < g.end and m.end > g.start for m in mentions)
        assert hit / gold >= floor, f"{lang}: overlap recall {hit / gold:.2f}"


@pytest.mark.shared
@pytest.mark.slow
def test_crf_learns_from_a_small_split(semeval25: Path, tmp_path: Path) -> None:
    from narrascope.training.corpus import load_entity_corpus
    from narrascope.training.mentions import TaggerSettings, fit_tagger, score_table

    docs = load_entity_corpus(semeval25 / "train", languages=("pt",))
    train, test = docs[:120], docs[120:170]
    tagger = fit_tagger(train, tmp_path, TaggerSettings(max_iterations=30))
    table = score_table(test, [tagger.spans(d.text) for d in test])
    # CV on all data: 0.94 overlap recall; the spans cover only framed entities, so
    # precision is low by construction, but tagging every word would score under 0.05
    assert table["pt"]["r_overlap"] > 0.7
    assert table["pt"]["p_repeats"] > 0.1


# --- spans cut back to the name (seen on the seeds; texts written for the test) ----------


def _mention(text: str, name: str, occurrence: int = 0) -> Mention:
    from narrascope.text.mentions import Mention

    start = -1
    for _ in range(occurrence + 1):
        start = text.index(name, start + 1)
    return Mention(start, start + len(name), name, "ENT", "crf")


def test_a_title_case_headline_does_not_join_neighbouring_words_into_one_name() -> None:
    from narrascope.text.mentions import tidied

    text = (
        "Why Holding the Line Ukraine Needs Now\n\n"
        "Ukraine asked its allies for air defence. Kyiv says the front holds."
    )
    cut = tidied(_mention(text, "Line Ukraine"), text, "en")
    assert cut.text == "Ukraine" and text[cut.start : cut.end] == "Ukraine"
    # a name the body repeats whole, or one only the headline has, stays as it is
    both = "Olaf Scholz Meets the Press Today\n\nOlaf Scholz spoke for an hour."
    assert tidied(_mention(both, "Olaf Scholz"), both, "en").text == "Olaf Scholz"
    alone = "Maria Weber Wins the Regional Vote\n\nThe count ended late on Sunday."
    assert tidied(_mention(alone, "Maria Weber"), alone, "en").text == "Maria Weber"
    # in a sentence (not a title-case line) two capitalised words are one name
    plain = "Yesterday Jerry Hood wrote that the talks failed."
    assert tidied(_mention(plain, "Jerry Hood"), plain, "en").text == "Jerry Hood"


def test_english_spans_lose_trailing_lowercase_words_and_unclosed_brackets() -> None:
    from narrascope.text.mentions import tidied

    text = "For decades the West persists in its plans, said a speaker at the Davos forum (Great"
    assert tidied(_mention(text, "West persists"), text, "en").text == "West"
    assert tidied(_mention(text, "Davos forum (Great"), text, "en").text == "Davos"
    # other languages keep lowercase words that belong to the name
    ru = "Вчера Государственная дума приняла закон."
    assert tidied(_mention(ru, "Государственная дума"), ru, "ru").text == "Государственная дума"


def test_a_span_over_a_line_break_keeps_one_line() -> None:
    from narrascope.text.mentions import tidied

    text = "Talks Resume or Collapse\n\nLavrov arrived on Monday. Lavrov said little."
    cut = tidied(_mention(text, "Collapse\n\nLavrov"), text, "en")
    assert cut.text == "Lavrov" and cut.start == text.index("Lavrov")


def test_the_seed_like_headline_comes_out_as_its_country_end_to_end() -> None:
    from narrascope.text.mentions import MentionDetector

    text = (
        "Having Pulled the Gun Russia Must Shoot or Lose\n\n"
        "Russia cannot stop now, the author writes; the West persists in its plans."
    )
    found = MentionDetector().detect(text, "en")
    names = {m.text for m in found}
    assert {"Russia", "West"} <= names
    assert not any(" " in name for name in names)  # no joined headline words, no verb
    assert text.index("Russia") in {m.start for m in found}  # the headline's Russia
