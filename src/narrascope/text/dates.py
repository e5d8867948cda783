"""Calendar days from the dates users' files and texts carry.

Why a day number and not a datetime: the debunk matcher only asks how many days lie
between a document and a fact-check, for 10^5 debunks at once, so a date is read once
into a proleptic ordinal (``date.toordinal()``) and compared as an integer.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re

_YEAR = re.compile(r"\b(?:1[89]|2[01])\d\d\b")
_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%d.%m.%Y", "%Y/%m/%d")

# how a post embedded in a page signs off: "— Name (@handle) January 14, 2020" (X/Twitter's
# embed markup as text); the date is the post's own
_POST_SIGNATURE = re.compile(
    r"\(@\w{1,30}\)\s+((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? "
    r"\d{1,2}, (?:19|20)\d\d)"
)


@functools.lru_cache(maxsize=65_536)
def day_of(value: str | None) -> int | None:
    """The day a date string names (ISO first, then common written forms, then
    ``dateutil``), or None: no year in it, or no date at all. A string without a year
    ("Tuesday", "May 3") is None, not a day of this year."""
    if not value:
        return None
    text = " ".join(str(value).split())
    try:
        return _dt.date.fromisoformat(text[:10]).toordinal()
    except ValueError:
        pass
    if _YEAR.search(text) is None:
        return None
    for form in _FORMATS:
        try:
            return _dt.datetime.strptime(text, form).toordinal()
        except ValueError:
            continue
    from dateutil import parser

    try:
        return parser.parse(text, default=_dt.datetime(2000, 1, 1)).toordinal()
    except (ValueError, OverflowError):
        return None


def exact_day(value: str | None) -> int | None:
    """:func:`day_of`, but None for a date that pins no day ("2024", "March 2024"): a
    store's day filters and buckets must not file it under the first of the month."""
    day = day_of(value)
    if day is None:
        return None
    text = " ".join(str(value).split())
    try:
        _dt.date.fromisoformat(text[:10])
        return day
    except ValueError:
        pass
    for form in _FORMATS:
        try:
            _dt.datetime.strptime(text, form)
            return day
        except ValueError:
            continue
    from dateutil import parser

    # dateutil fills what the string leaves out from its default: another default,
    # another day, means the string named none
    other = parser.parse(text, default=_dt.datetime(2001, 2, 2)).toordinal()
    return day if other == day else None


def embedded_post_days(text: str) -> list[int]:
    """The days of the posts embedded in ``text`` (their signatures), in order."""
    out = []
    for match in _POST_SIGNATURE.finditer(text):
        day = day_of(match.group(1).replace(".", ""))
        if day is not None:
            out.append(day)
    return out
