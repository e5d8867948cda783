"""The corpus store refuses a document without an id (E304), as it refuses any document
it cannot keep: stored under "" it could never be shown, linked or deleted, and the next
document without an id would replace it in silence. The rest of the batch is stored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from narrascope.doc import Document
from narrascope.errors import E_STORE_DOCUMENT
from narrascope.runner import run_batch
from narrascope.store import DocumentsNotSaved, Filters
from narrascope.store.common import SQLStore

TEXT = "The council approved the library budget on Tuesday after a long debate."


def test_a_document_without_an_id_is_refused_and_nothing_is_saved(store: SQLStore) -> None:
    with pytest.raises(DocumentsNotSaved) as caught:
        store.save([Document(TEXT, id="")])
    assert caught.value.code == E_STORE_DOCUMENT
    assert caught.value.failures == [("", caught.value.failures[0][1])]
    assert "no id" in caught.value.failures[0][1] and caught.value.saved == 0
    assert store.count() == 0 and store.get_document("") is None
    assert store.search(Filters(query="council")) == []


def test_the_rest_of_the_batch_is_stored(store: SQLStore) -> None:
    batch = [
        Document(TEXT, id="a"),
        Document("A second text about the river bridge.", id=""),
        Document("A third text about bread prices.", id="c"),
    ]
    with pytest.raises(DocumentsNotSaved) as caught:
        store.save(batch)
    assert [doc_id for doc_id, _ in caught.value.failures] == [""]
    assert caught.value.saved == 2
    assert sorted(h.id for h in store.search()) == ["a", "c"]


class PassThrough:
    """A stand-in pipeline that leaves documents as they come (a Pipeline gives a
    document without an id one of its own)."""

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 16) -> Iterator[Document]:
        return iter(docs)


def test_the_runner_reports_it_as_a_document_not_stored(store: SQLStore) -> None:
    errors: list[str] = []
    report = run_batch(
        [Document(TEXT, id="kept"), Document("No id at all, this one.", id="")],
        PassThrough(),
        out=None,
        fmt="jsonl",
        progress=False,
        store=store,
        on_error=lambda e: errors.append(f"{e.code} {e.reason}"),
    )
    assert report.processed == 1 and len(report.failed) == 1
    assert errors[0].startswith(f"{E_STORE_DOCUMENT} not stored: ") and "no id" in errors[0]
    assert [h.id for h in store.search()] == ["kept"]
