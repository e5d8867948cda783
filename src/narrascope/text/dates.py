"""Calendar days and moments from the dates users' files and texts carry.

Why one module: the corpus database's ``day`` column (stats buckets, ``--from/--to``, the
order of ``search``), campaigns' first/last seen and coordination, the STIX export and
the debunk matcher must agree on when a document was posted, so every one of them reads
a date here, one way:

* **ISO 8601** first, with its time and offset. A date with an offset counts on its
  **UTC day** ("2024-03-31T23:30:00-05:00" is 04:30 UTC on 1 April, so 1 April); a date
  without one is read as UTC.
* **"dd.mm.yyyy"** is day first, with or without a time after it ("12.03.2024 14:35",
  "12.03.2024, 14:35" are 12 March at 14:35): the form of Russian, Ukrainian and
  Bulgarian news sites, which ``dateutil`` would read month first once a time follows.
* **An epoch number** (a JSON number, or its digits as a CSV gives them) from 10^8 on
  (1973): seconds, or milliseconds from 10^11 on (then microseconds, nanoseconds). A
  smaller number is no epoch time ("2024" is a year); 12 or 14 digits that read as
  ``YYYYMMDDHHMM[SS]`` are that date.
* Then common written forms ("26 May 2015", "May 26, 2015"), the same day-month-year
  form with the month in Russian, Ukrainian, Bulgarian, Portuguese or Hindi ("23 марта
  2024 г.", "23 березня 2024 р., 14:35", "23 de março de 2024", "23 मार्च 2024": what
  their sites and channels print, which ``dateutil`` does not read), then ``dateutil``.

A string without a year ("Tuesday", "May 3") names no day, not a day of this year; one
that names no single day ("2024", "March 2024") is a day for :func:`day_of` (the debunk
matcher's coarse distance) but none for :func:`exact_day` and :func:`moment`.

Why a day number: the debunk matcher only asks how many days lie between a document and
a fact-check, for 10^5 debunks at once, so a date is read once into a proleptic ordinal
(``date.toordinal()``) and compared as an integer.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import math
import re
from typing import Any, NamedTuple

_YEAR = re.compile(r"\b(?:1[89]|2[01])\d\d\b")
_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%Y/%m/%d")
# "12.03.2024", "12.03.2024 14:35", "12.03.2024, 14:35:10 +03:00": day first, whatever
# else follows
_DOTTED = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)"
    r"(?:,?\s*(?:T\s*)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)
# Month names of our other languages, by the stem their forms share (genitive "марта",
# nominative "март", "березня"/"березень", "março", "मार्च"), month by month.
_MONTH_STEMS = (
    ("январ", "січ", "януари", "janeiro", "jan", "जनवरी"),
    ("феврал", "лют", "февруари", "fevereiro", "fev", "फरवरी", "फ़रवरी"),
    ("март", "берез", "março", "marco", "mar", "मार्च"),
    ("апрел", "квіт", "април", "abril", "abr", "अप्रैल", "अप्रेल"),
    ("ма[йя]", "травн", "травень", "maio", "mai", "मई"),
    ("июн", "червн", "червень", "юни", "junho", "jun", "जून"),
    ("июл", "лип", "юли", "julho", "jul", "जुलाई"),
    ("август", "серп", "agosto", "ago", "अगस्त"),
    ("сентябр", "верес", "септември", "setembro", "set", "सितंबर", "सितम्बर"),
    ("октябр", "жовт", "октомври", "outubro", "out", "अक्टूबर"),
    ("ноябр", "листопад", "ноември", "novembro", "nov", "नवंबर", "नवम्बर"),
    ("декабр", "груд", "декември", "dezembro", "dez", "दिसंबर", "दिसम्बर"),
)
_MONTH_OF = [
    # a stem takes its endings; a Portuguese abbreviation ("set", "out") only a dot, so
    # that "5 outside 2024" is no date
    (
        re.compile(
            "|".join(s + (r"\.?" if len(s) == 3 and s.isascii() else r"\w*\.?") for s in stems),
            re.I,
        ),
        n,
    )
    for n, stems in enumerate(_MONTH_STEMS, 1)
]
# "[weekday,] 23 марта 2024 [г.|года|р.|року][, в|о|às 14:35]", "23 de março de 2024"
_LOCAL_WRITTEN = re.compile(
    r"(?:[^\s\d,]+,?\s+)?(\d{1,2})\.?\s+(?:de\s+)?([^\s\d,]+)\s+(?:de\s+)?(\d{4})"
    r"(?:\s*(?:г|р|года|року|год|рік)\.?)?"
    r"(?:,?\s*(?:в|о|у|às|as|at)?\s*(\d{1,2}):(\d{2}))?",
    re.I,
)
# an epoch number as text: digits, a float's decimals or exponent ("1.7095968e+18")
_EPOCH_TEXT = re.compile(r"\d+(?:\.\d*)?(?:[eE][+]?\d+)?")
EPOCH_FROM = 1e8  # below: a year or a count, not seconds since 1970 (10^8 s is 1973)
# An epoch number this large is no count of seconds (10^11 s is the year 5138) but of
# milliseconds (10^11 ms is 1973): JavaScript's Date.now() and most platforms' APIs give
# those; larger still, microseconds or nanoseconds.
MILLISECONDS_FROM = 1e11
# digits that are a compact calendar date rather than an epoch time, by length
_COMPACT = {12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}

# how a post embedded in a page signs off: "— Name (@handle) January 14, 2020" (X/Twitter's
# embed markup as text); the date is the post's own
_POST_SIGNATURE = re.compile(
    r"\(@\w{1,30}\)\s+((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? "
    r"\d{1,2}, (?:19|20)\d\d)"
)


def epoch_seconds(value: float) -> float | None:
    """Seconds since the epoch from an epoch number in seconds, ms, µs or ns; None for
    a number that is no epoch time (below :data:`EPOCH_FROM`, not finite)."""
    if not math.isfinite(value) or value < EPOCH_FROM:
        return None
    seconds = float(value)
    while seconds >= MILLISECONDS_FROM:
        seconds /= 1000
    return seconds


def _text(value: Any) -> str:
    """A date value as the text it is read from: a number as its digits (an int-valued
    float without ".0"), so that 1711929600 and "1711929600" read alike."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return " ".join(str(value).split())


def _compact(text: str) -> _dt.datetime | None:
    form = _COMPACT.get(len(text))
    if form is None or not text.isdigit() or not "18" <= text[:2] <= "21":
        return None
    try:
        return _dt.datetime.strptime(text, form)
    except ValueError:
        return None


def _dotted(match: re.Match[str]) -> _dt.datetime | None:
    day, month, year, hour, minute, second, offset = match.groups()
    try:
        moment = _dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:  # 31.02.2024, 25:00
        return None
    if offset:
        if offset == "Z":
            return moment.replace(tzinfo=_dt.UTC)
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        shift = _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return moment.replace(tzinfo=_dt.timezone(sign * shift))
    return moment


def _local_written(text: str) -> _dt.datetime | None:
    """A day-month-year date with the month in one of our other languages, or None."""
    found = _LOCAL_WRITTEN.fullmatch(text)
    if found is None:
        return None
    day, word, year, hour, minute = found.groups()
    month = next((n for pattern, n in _MONTH_OF if pattern.fullmatch(word)), None)
    if month is None:
        return None
    try:
        return _dt.datetime(int(year), month, int(day), int(hour or 0), int(minute or 0))
    except ValueError:  # 31 февраля, 25:00
        return None


class _Reading(NamedTuple):
    moment: _dt.datetime  # naive: UTC
    exact: bool  # it pins one day ("March 2024" does not)
    timed: bool  # it gives a time of day, not a bare day


@functools.lru_cache(maxsize=65_536)
def _read(text: str) -> _Reading | None:
    """What a date text names, or None: no date, or no year in it."""
    if not text:
        return None
    if _EPOCH_TEXT.fullmatch(text):
        compact = _compact(text)
        if compact is not None:
            return _Reading(compact, True, True)
        seconds = epoch_seconds(float(text))
        if seconds is not None:
            return _Reading(_dt.datetime.fromtimestamp(seconds, _dt.UTC), True, True)
    try:
        found = _dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        try:
            _dt.date.fromisoformat(text)
        except ValueError:
            return _Reading(found, True, True)
        return _Reading(found, True, False)
    try:  # an ISO day with something after it that is no ISO time
        day = _dt.date.fromisoformat(text[:10])
        return _Reading(_dt.datetime.combine(day, _dt.time()), True, False)
    except ValueError:
        pass
    dotted = _DOTTED.match(text)
    if dotted is not None:
        found = _dotted(dotted)
        return None if found is None else _Reading(found, True, dotted.group(4) is not None)
    if _YEAR.search(text) is None:
        return None
    for form in _FORMATS:
        try:
            return _Reading(_dt.datetime.strptime(text, form), True, False)
        except ValueError:
            continue
    local = _local_written(text)
    if local is not None:
        return _Reading(local, True, ":" in text)
    from dateutil import parser

    try:
        found = parser.parse(text, default=_dt.datetime(2000, 1, 1))
        # dateutil fills what the string leaves out from its default: another default,
        # another day, means the string named none
        other = parser.parse(text, default=_dt.datetime(2001, 2, 2))
    except (ValueError, OverflowError):
        return None
    timed = ":" in text or found.time() != _dt.time()
    return _Reading(found, found.date() == other.date(), timed)


def _utc_day(moment: _dt.datetime) -> int:
    """The UTC day of a moment (its own day when UTC cannot hold it: year 1 or 9999)."""
    if moment.tzinfo is not None:
        with contextlib.suppress(OverflowError):
            moment = moment.astimezone(_dt.UTC)
    return moment.toordinal()


def day_of(value: Any) -> int | None:
    """The day a date names (see the module docstring), or None: no year in it, or no
    date at all. "March 2024" is its first day here (:func:`exact_day` says None)."""
    if value is None or isinstance(value, bool):
        return None
    reading = _read(_text(value))
    return None if reading is None else _utc_day(reading.moment)


def exact_day(value: Any) -> int | None:
    """:func:`day_of`, but None for a date that pins no day ("2024", "March 2024"): a
    store's day filters and buckets must not file it under the first of the month."""
    if value is None or isinstance(value, bool):
        return None
    reading = _read(_text(value))
    return None if reading is None or not reading.exact else _utc_day(reading.moment)


def moment(value: Any) -> _dt.datetime | None:
    """The moment a date names, timezone-aware (UTC when it gives no offset), or None
    when it pins no day. A day without a time is its midnight UTC; a ``datetime`` or
    ``date`` is taken as it is (naive = UTC)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, _dt.datetime):
        found = value
    elif isinstance(value, _dt.date):
        found = _dt.datetime(value.year, value.month, value.day)
    else:
        reading = _read(_text(value))
        if reading is None or not reading.exact:
            return None
        found = reading.moment
    return found if found.tzinfo is not None else found.replace(tzinfo=_dt.UTC)


def has_time(value: Any) -> bool:
    """Whether a date gives a time of day ("2024-03-05T10:00Z", "12.03.2024 14:35", an
    epoch number), not a bare day ("2024-03-05", "05.03.2024", "March 5, 2024")."""
    if isinstance(value, _dt.datetime):
        return True
    if value is None or isinstance(value, bool | _dt.date):
        return False
    reading = _read(_text(value))
    return reading is not None and reading.timed


def embedded_post_days(text: str) -> list[int]:
    """The days of the posts embedded in ``text`` (their signatures), in order."""
    out = []
    for match in _POST_SIGNATURE.finditer(text):
        day = day_of(match.group(1).replace(".", ""))
        if day is not None:
            out.append(day)
    return out
