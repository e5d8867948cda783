"""One reading of a date for the whole package (review D1-D3): "dd.mm.yyyy" with a time is
day first and keeps its time, an epoch number is a date whether it comes as a number or
as its digits, and a date with an offset counts on its UTC day."""

from __future__ import annotations

import datetime as dt

import pytest

from narrascope.store.common import document_day, document_moment
from narrascope.text.dates import day_of, exact_day, has_time, moment


def iso(day: int | None) -> str | None:
    return None if day is None else dt.date.fromordinal(day).isoformat()


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.03.2024 14:35", utc(2024, 3, 12, 14, 35)),
        ("12.03.2024, 14:35", utc(2024, 3, 12, 14, 35)),
        ("05.03.2024 10:00", utc(2024, 3, 5, 10, 0)),
        ("01.02.2024 09:00:00", utc(2024, 2, 1, 9, 0)),
        ("13.03.2024 10:00", utc(2024, 3, 13, 10, 0)),
        ("12.03.2024", utc(2024, 3, 12)),
    ],
)
def test_a_dotted_date_with_a_time_is_day_first_and_keeps_its_time(
    value: str, expected: dt.datetime
) -> None:
    # dateutil read "12.03.2024 14:35" as 3 December: days 1-12 moved up to 11 months
    assert moment(value) == expected
    assert iso(day_of(value)) == iso(exact_day(value)) == expected.date().isoformat()
    assert document_day(value) == expected.date().isoformat()
    assert has_time(value) == (":" in value)


def test_a_dotted_date_that_names_no_day_is_none() -> None:
    assert exact_day("31.02.2024 10:00") is None and moment("31.02.2024") is None


@pytest.mark.parametrize(
    "value",
    [1711929600, "1711929600", 1711929600.0, 1711929600000, "1711929600000", "1.7119296e+18"],
)
def test_an_epoch_number_or_its_digits_is_one_moment(value: object) -> None:
    # the store left an epoch undated and campaigns dated only a JSON number
    assert moment(value) == utc(2024, 4, 1)
    assert document_day(value) == "2024-04-01"
    assert document_moment(value) == 1711929600.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024", None),  # a year, not 33 minutes after 1970
        (2024, None),
        ("20240305", "2024-03-05"),
        ("20240305103000", "2024-03-05"),  # a compact date, not an epoch in the year 2610
        ("99999", None),
    ],
)
def test_small_or_calendar_numbers_are_no_epoch(value: object, expected: str | None) -> None:
    assert document_day(value) == expected


def test_a_date_with_an_offset_counts_on_its_utc_day() -> None:
    # 23:30 in New York on 31 March is 04:30 UTC on 1 April, an hour after 06:00 in Moscow
    new_york, moscow = "2024-03-31T23:30:00-05:00", "2024-04-01T06:00:00+03:00"
    assert document_day(new_york) == document_day(moscow) == "2024-04-01"
    assert document_moment(new_york) - document_moment(moscow) == 1.5 * 3600
    assert document_day("2024-04-01T23:30:00") == "2024-04-01"  # no offset: UTC
    # a moment UTC cannot hold keeps its own day rather than failing
    assert document_day("9999-12-31T23:00:00-05:00") == "9999-12-31"
