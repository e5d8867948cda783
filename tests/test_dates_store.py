"""The corpus database files, filters and orders documents by one reading of their dates
(review D1-D3): "dd.mm.yyyy HH:MM" day first, epoch numbers dated, a date with an offset
on its UTC day, and "newest first" by the instant, not by the date's text. A database
stored under the old readings is read again when it is opened."""

from __future__ import annotations

from narrascope.doc import Annotation, Document
from narrascope.store import SCHEMA_VERSION, Filters, open_store, sql
from narrascope.store.common import SQLStore

# the step that reads every date's day and moment again (later steps run again too)
MOMENT_STEP = 1 + [steps for _, steps in sql.MIGRATIONS].index(sql.MOMENT_SCHEMA)

LABEL = "URW: Discrediting Ukraine"


def dated(doc_id: str, date: object, source: str = "chan") -> Document:
    text = f"Document {doc_id}: Kyiv is a puppet of the West."
    doc = Document(text=text, id=doc_id, language="en", meta={"source": source, "date": date})
    doc.groups["narratives"] = [Annotation(LABEL, 0.9)]
    return doc


# one text posted within 1.5 hours (04:30, 03:00 and 04:10 UTC on 1 April)
SAME_HOURS = [
    dated("ny", "2024-03-31T23:30:00-05:00"),
    dated("msk", "2024-04-01T06:00:00+03:00"),
    dated("utc", "2024-04-01T04:10:00Z"),
]
OTHERS = [
    dated("dotted", "12.03.2024 23:00"),  # 12 March, not 3 December
    dated("epoch", 1711929600),  # 2024-04-01T00:00:00Z, a JSON number
    dated("digits", "1711929600"),  # the same, as a CSV gives it
    dated("ms", "1711843200000"),  # 2024-03-31T00:00:00Z in milliseconds
]


def found(store: SQLStore, **filters: str) -> list[str]:
    return [h.id for h in store.search(Filters(**filters))]


def test_days_filters_and_order_follow_one_reading(store: SQLStore) -> None:
    store.save([*SAME_HOURS, *OTHERS])
    # newest first by the instant: ny (04:30Z), utc (04:10Z), msk (03:00Z), then midnight
    assert found(store) == ["ny", "utc", "msk", "digits", "epoch", "ms", "dotted"]
    assert found(store, date_from="2024-04-01") == ["ny", "utc", "msk", "digits", "epoch"]
    assert found(store, date_from="2024-03-12", date_to="2024-03-12") == ["dotted"]
    assert found(store, date_to="2024-03-31") == ["ms", "dotted"]
    months = [(r.bucket, r.documents) for r in store.stats("month")]
    assert months == [("2024-03", 2), ("2024-04", 5)]
    assert store.stats_undated() == 0
    days = dict(store._rows("SELECT id, day FROM documents"))
    assert days["ny"] == days["msk"] == "2024-04-01" and days["dotted"] == "2024-03-12"


def test_a_database_stored_under_the_old_readings_is_read_again(target: str) -> None:
    with open_store(target) as store:
        store.save([*SAME_HOURS, *OTHERS, dated("padded", "2024-05-01", source=" chan ")])

        def as_before() -> None:  # what the old code stored, and schema 7
            store._exec("UPDATE documents SET moment = NULL, source = ' chan ' WHERE id = 'padded'")
            for doc_id, day in [
                ("ny", "2024-03-31"),
                ("dotted", "2024-12-03"),
                ("epoch", None),
                ("digits", None),
            ]:
                store._exec("UPDATE documents SET day = ? WHERE id = ?", (day, doc_id))
            store._exec(f"DELETE FROM schema_version WHERE version > {MOMENT_STEP - 1}")

        store._write(as_before)
    with open_store(target) as store:
        assert store.version() == SCHEMA_VERSION
        days = dict(store._rows("SELECT id, day FROM documents"))
        assert days["ny"] == "2024-04-01" and days["dotted"] == "2024-03-12"
        assert days["epoch"] == days["digits"] == "2024-04-01"
        assert found(store, source="chan", date_from="2024-05-01") == ["padded"]
        assert found(store)[:3] == ["padded", "ny", "utc"]


def test_dates_with_our_languages_month_names_are_dated_and_read_again(target: str) -> None:
    """A Russian or Portuguese site's "23 марта 2024 г." had no day: stored undated, so
    off the timeline and out of every date filter. Opened again, such a database reads it."""
    local = [
        dated("ru", "23 марта 2024 г., 14:35"),
        dated("uk", "23 березня 2024 р."),
        dated("pt", "23 de março de 2024"),
    ]
    with open_store(target) as store:
        store.save([*local, dated("iso", "2024-03-22")])
        on_the_day = found(store, date_from="2024-03-23", date_to="2024-03-23")
        assert on_the_day[0] == "ru" and sorted(on_the_day) == ["pt", "ru", "uk"]  # 14:35 first

        def as_before() -> None:  # what the old code stored, and the schema before the step
            store._exec("UPDATE documents SET day = NULL, moment = NULL WHERE id <> 'iso'")
            step = 1 + [s for _, s in sql.MIGRATIONS].index(sql.LOCAL_MONTHS_SCHEMA)
            store._exec(f"DELETE FROM schema_version WHERE version > {step - 1}")

        store._write(as_before)
        assert store.stats_undated() == 3
    with open_store(target) as store:
        assert store.version() == SCHEMA_VERSION and store.stats_undated() == 0
        assert sorted(found(store, date_from="2024-03-23")) == ["pt", "ru", "uk"]
