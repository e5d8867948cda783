"""Days read from the dates users' files and texts carry (the debunk matcher's dates)."""

from __future__ import annotations

import datetime as dt

import pytest

from narrascope.text.dates import day_of, embedded_post_days, exact_day


@pytest.mark.parametrize(
    "value",
    [
        "2015-05-26",
        "2015-05-26T08:30:00Z",
        "26 May 2015",
        "May 26, 2015",
        "26.05.2015",
        "Tue, 26 May 2015 10:00:00 GMT",
        " 26  May\n2015 ",
    ],
)
def test_written_forms_of_a_day(value: str) -> None:
    assert day_of(value) == dt.date(2015, 5, 26).toordinal()


@pytest.mark.parametrize("value", [None, "", "Tuesday", "May 3", "no date here", "2015-13-45"])
def test_no_day_without_a_year_or_a_date(value: str | None) -> None:
    assert day_of(value) is None


def test_embedded_posts_sign_with_their_day() -> None:
    text = (
        "The minister repeated it. Grain goes to the rich. pic.twitter.com/abc "
        "— Grain Watch (@grainwatch) January 14, 2020\n\nLater: "
        "It was never true. — Fact Desk (@factdesk) Sept. 2, 2021"
    )
    assert embedded_post_days(text) == [
        dt.date(2020, 1, 14).toordinal(),
        dt.date(2021, 9, 2).toordinal(),
    ]
    assert embedded_post_days("Signed — Anna (anna) January 14, 2020") == []  # no handle


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-02T10:00:00Z", "2024-03-02"),
        ("02.03.2024", "2024-03-02"),
        ("Tue, 05 Mar 2024 10:00:00 GMT", "2024-03-05"),
        ("2024", None),
        ("March 2024", None),
        ("2024-03", None),
        ("soon", None),
    ],
)
def test_an_exact_day_is_pinned_by_the_date_itself(value: str, expected: str | None) -> None:
    day = exact_day(value)
    assert (None if day is None else dt.date.fromordinal(day).isoformat()) == expected


@pytest.mark.parametrize(
    ("value", "expected", "timed"),
    [
        ("26 мая 2015", "2015-05-26T00:00", False),
        ("26 мая 2015 г.", "2015-05-26T00:00", False),
        ("вторник, 26 мая 2015 года в 14:35", "2015-05-26T14:35", True),
        ("26 травня 2015 р.", "2015-05-26T00:00", False),
        ("26 травня 2015 р., о 14:35", "2015-05-26T14:35", True),
        ("1 лютого 2024", "2024-02-01T00:00", False),
        ("26 май 2015 г.", "2015-05-26T00:00", False),  # Bulgarian
        ("3 септември 2024", "2024-09-03T00:00", False),
        ("26 de maio de 2015", "2015-05-26T00:00", False),
        ("26 de Maio de 2015 às 10:05", "2015-05-26T10:05", True),
        ("5 set. 2024", "2024-09-05T00:00", False),
        ("26 मई 2015", "2015-05-26T00:00", False),
        ("शनिवार, 23 मार्च 2024", "2024-03-23T00:00", False),
        ("23 दिसम्बर 2024", "2024-12-23T00:00", False),
    ],
)
def test_our_languages_month_names(value: str, expected: str, timed: bool) -> None:
    """What Russian, Ukrainian, Bulgarian, Portuguese and Hindi sites print under a post:
    such a record had no day, so no place on the timeline and no dated debunk match."""
    from narrascope.text.dates import has_time, moment

    found = moment(value)
    assert found is not None and found.strftime("%Y-%m-%dT%H:%M") == expected
    assert has_time(value) is timed


@pytest.mark.parametrize(
    "value",
    ["26 мая", "31 февраля 2024", "5 outside 2024", "26 мая 2015 и ещё текст", "мая 2015"],
)
def test_no_day_from_words_that_only_look_like_a_month(value: str) -> None:
    from narrascope.text.dates import moment

    assert moment(value) is None
