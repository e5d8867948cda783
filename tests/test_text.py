from narrascope.text import detect_language, split_sentences
from narrascope.text.language import _is_devanagari, script_of


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_offsets_point_into_the_original_text_with_crlf() -> None:
    text = "Title line\r\n\r\nFirst sentence here. Second one!\r\nThird? Yes."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Title line",
        "First sentence here.",
        "Second one!",
        "Third?",
        "Yes.",
    ]
    assert all(0 <= s < e <= len(text) for s, e in spans)


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    assert sentences("Mr. Smith met Dr. Jones in the U.S. capital. Then he left.") == [
        "Mr. Smith met Dr. Jones in the U.S. capital.",
        "Then he left.",
    ]
    assert sentences("В. Путин выступил в Москве. Затем он уехал.") == [
        "В. Путин выступил в Москве.",
        "Затем он уехал.",
    ]


def test_quotes_ellipses_and_danda() -> None:
    assert sentences("He said: «Нет.» Потом ушёл... “Yes.” Fine") == [
        "He said: «Нет.»",
        "Потом ушёл...",
        "“Yes.”",
        "Fine",
    ]
    assert sentences("यह पहला वाक्य है। यह दूसरा वाक्य है।") == [
        "यह पहला वाक्य है।",
        "यह दूसरा वाक्य है।",
    ]


def test_lowercase_continuation_is_not_a_boundary() -> None:
    assert sentences("The price rose 3.5 per cent. in May. Then it fell.") == [
        "The price rose 3.5 per cent. in May.",
        "Then it fell.",
    ]


def test_very_long_runs_are_cut() -> None:
    text = ", ".join(["word"] * 600)
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= 1000 for s, e in spans)


def test_long_runs_are_cut_after_a_comma_and_trimmed() -> None:
    text = ("Russia claims, Ukraine denies; observers doubt it all " * 60).strip()
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= 1000 for s, e in spans)
    pieces = [text[s:e] for s, e in spans]
    assert all(p == p.strip() for p in pieces)
    assert all(p.endswith((",", ";")) for p in pieces[:-1])
    assert " ".join(pieces) == text  # offsets point exactly at the trimmed pieces


def test_language_detection_on_our_languages() -> None:
    cases = {
        "en": "The government announced new sanctions against the regime on Monday.",
        "ru": "Правительство объявило о новых санкциях против режима в понедельник.",
        "uk": "Уряд оголосив про нові санкції проти режиму в понеділок, повідомляють джерела.",
        "bg": "Правителството обяви нови санкции срещу режима в понеделник, съобщиха източници.",
        "pt": "O governo anunciou novas sanções contra o regime na segunda-feira.",
        "hi": "सरकार ने सोमवार को शासन के खिलाफ नए प्रतिबंधों की घोषणा की।",
    }
    for expected, text in cases.items():
        code, confidence = detect_language(text)
        assert code == expected, (text, code)
        assert 0.0 < confidence <= 1.0


def test_language_of_text_without_letters_is_unknown() -> None:
    assert detect_language("12345 ... !!!") == (None, 0.0)


def test_a_dash_and_a_lower_case_word_after_a_quote_keep_its_attribution() -> None:
    for text, quote in [
        ("«Мы никогда не сдадимся!» — заявил Зеленский. Он также добавил.", "Он также добавил."),
        ("«Кто за это ответит?» — спросил журналист. Ответа нет.", "Ответа нет."),
        ("«Ми ніколи не здамося!» — заявив Зеленський. Далі буде.", "Далі буде."),
        ("«Това е лъжа.» – каза министърът. Той добави.", "Той добави."),
        ('"We will never surrender!" - said the president. He left.', "He left."),
        ("Он крикнул: «Стоять!» — и побежал. Все замерли.", "Все замерли."),
    ]:
        first = text[: text.index(quote) - 1]
        assert sentences(text) == [first, quote], text
    # an upper-case word after the dash is a new sentence (dialogue), and a plain full stop
    # before a dash still ends its sentence
    assert sentences("«Мы победим!» — Это сказал он.") == ["«Мы победим!»", "— Это сказал он."]
    assert sentences("Итоги года. — в первую очередь") == ["Итоги года.", "— в первую очередь"]


def test_missing_abbreviations_do_not_end_sentences() -> None:
    for text in [
        "NATO's top military official, Adm. Rob Bauer, said so.",
        "It was confirmed by Maj. Gen. Patrick Ryder on Monday.",
        "Brig. Gen. Pat Ryder told reporters.",
        "Resolution No. 2623 was adopted.",
        "Колонна прошла по пр. Мира.",
        "Вибух стався на вул. Шевченка.",
        "Студенти університету ім. Тараса Шевченка вийшли на акцію.",
        "डॉ. जयशंकर ने कहा कि भारत शांति चाहता है।",
        "The vote is on Mar. 5 in Kyiv.",
    ]:
        assert sentences(text) == [text], text


def test_words_that_look_like_abbreviations_end_sentences() -> None:
    assert sentences("O navio russo afundou no mar. A Ucrânia reivindicou o ataque.") == [
        "O navio russo afundou no mar.",
        "A Ucrânia reivindicou o ataque.",
    ]
    assert sentences("Запад больше не верит им. Россия теряет союзников.") == [
        "Запад больше не верит им.",
        "Россия теряет союзников.",
    ]
    assert sentences("He said no. Then he left.") == ["He said no.", "Then he left."]


def test_sentence_offsets_stay_exact_around_quotes_and_abbreviations() -> None:
    text = "«Ми не здамося!» — заявив він на вул. Шевченка.\r\nAdm. Rob Bauer spoke. No. 5 won."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == sentences(text)
    assert sentences(text) == [
        "«Ми не здамося!» — заявив він на вул. Шевченка.",
        "Adm. Rob Bauer spoke.",
        "No. 5 won.",
    ]


def test_links_handles_and_hashtags_do_not_decide_the_language() -> None:
    cases = {
        "Путин молодец https://t.me/readovkanews/71234": "ru",
        "Це все брехня https://t.me/readovkanews/71234": "uk",
        "Источник: https://t.me/rian_ru/12345 #СВО": "ru",
        "Это всё ложь, пишите на editor@example.com или @some_channel": "ru",
        "पूरी खबर पढ़ें https://www.aajtak.in/world/story/russia-ukraine-war-12345": "hi",
        "यह सब झूठ है #StandWithUkraine": "hi",
        "#СлаваУкраїні": "uk",  # only a hashtag: its word is read
    }
    for text, expected in cases.items():
        assert detect_language(text)[0] == expected, text
    assert detect_language("https://t.me/readovkanews/71234 @someone")[0] is None


def test_devanagari_vowel_signs_count_as_devanagari() -> None:
    # fewer Devanagari letters than Latin ones, but with the vowel signs it is mostly Hindi
    text = "मैं भी ठीक हूँ thank you"
    assert _is_devanagari(text) and detect_language(text) == ("hi", 1.0)
    assert script_of(text) == "DEVANAGARI"
    assert script_of("Все буде добре https://t.me/x/1") == "CYRILLIC"
    assert script_of("🔥 12") is None
