from narrascope.text import detect_language, split_sentences


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
