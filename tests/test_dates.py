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
