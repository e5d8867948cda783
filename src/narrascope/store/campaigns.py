"""Near-duplicate campaigns stored in the corpus database, and a small API to read them.

Why in the corpus database, in tables of our own: ``narrascope campaigns --db corpus.db``
clusters that corpus, and the web view reads the clusters from where the documents are.
The tables carry their own schema version (``campaigns_schema``), so the corpus store's
migrations and ours never collide, and they are created on first save: opening a corpus
database, or reading campaigns from one that has none, never creates them.

The tables (SQLite and PostgreSQL alike: they are written through the corpus store's own
statement layer, :class:`narrascope.store.common.SQLStore`, which turns ``?`` into
``%s`` for psycopg and serialises use of its one connection):

* ``campaign_runs``: one row per save (run id, time, documents read, clusters, members,
  what was read, the clustering parameters as JSON). Kept: a small log of every run.
* ``campaigns``: the clusters of the **latest** run, one row per cluster id, with
  ``run_id`` (the latest run) and ``first_run`` (the run that first stored this id, kept
  across reruns: what a "new since" view needs).
* ``campaign_members``: each cluster's documents in order, earliest first (position 0).
* ``campaign_first_runs``: every cluster id ever stored with the run that first stored it,
  never cleared (schema version 2; a version-1 database gets it filled from ``campaigns``
  at its next save): a cluster absent from one run keeps its ``first_run`` (its STIX
  ``created``) when it comes back.

A save replaces the clusters of the previous run in one transaction, so a rerun never
duplicates and a reader sees either the old result or the new one. Cluster ids are those
of :func:`narrascope.corpus.campaigns.cluster_id` (a hash of the earliest member's document
id), so a cluster that persists keeps its id, its ``first_run`` and its STIX ids.
Unknown sources and dates are NULL in the tables and read back as ``"unknown"``.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from narrascope.corpus.campaigns import UNKNOWN, Campaign, CampaignMember, cluster_dict
from narrascope.errors import E_STORE_OPEN, E_STORE_UNSUPPORTED, E_STORE_VERSION, StoreError

SCHEMA_VERSION = 2
TABLES = (
    "campaigns_schema",
    "campaign_runs",
    "campaigns",
    "campaign_members",
    "campaign_first_runs",
)
ORDERS = ("size", "coordination")

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS campaigns_schema (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS campaign_runs (
        run_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        created TEXT NOT NULL,
        documents INTEGER NOT NULL,
        clusters INTEGER NOT NULL,
        members INTEGER NOT NULL,
        input TEXT,
        parameters TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS campaigns (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        first_run TEXT NOT NULL,
        size INTEGER NOT NULL,
        first_seen TEXT,
        last_seen TEXT,
        time_span_hours DOUBLE PRECISION,
        sources TEXT NOT NULL,
        source_count INTEGER NOT NULL,
        coordination DOUBLE PRECISION NOT NULL,
        coordinated_sources INTEGER NOT NULL,
        coordination_window_hours DOUBLE PRECISION,
        shared_passage TEXT NOT NULL,
        shared_by INTEGER NOT NULL,
        narratives TEXT NOT NULL,
        techniques TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS campaign_members (
        campaign_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        doc_id TEXT NOT NULL,
        source TEXT,
        date TEXT,
        url TEXT,
        similarity DOUBLE PRECISION NOT NULL,
        containment DOUBLE PRECISION NOT NULL,
        sha256 TEXT,
        narratives TEXT NOT NULL,
        techniques TEXT NOT NULL,
        PRIMARY KEY (campaign_id, position)
    )""",
    "CREATE INDEX IF NOT EXISTS campaigns_by_size ON campaigns (size DESC, coordination DESC)",
    "CREATE INDEX IF NOT EXISTS campaigns_by_coordination "
    "ON campaigns (coordination DESC, size DESC)",
    "CREATE INDEX IF NOT EXISTS campaign_members_by_doc ON campaign_members (doc_id)",
    "CREATE INDEX IF NOT EXISTS campaign_members_by_source "
    "ON campaign_members (source, campaign_id)",
    # version 2: never cleared, so an id missing from one run keeps its first run
    """CREATE TABLE IF NOT EXISTS campaign_first_runs (
        id TEXT PRIMARY KEY,
        first_run TEXT NOT NULL
    )""",
]
# version 1 to 2: what the latest run stored is all a version-1 database still knows
_FILL_FIRST_RUNS = (
    "INSERT INTO campaign_first_runs (id, first_run) SELECT id, first_run FROM campaigns"
    " WHERE id NOT IN (SELECT id FROM campaign_first_runs)"
)
# PostgreSQL: one schema creation at a time across processes (SQLite: BEGIN IMMEDIATE is)
_PG_LOCK = "SELECT pg_advisory_xact_lock(7224513062)"

_CAMPAIGN_COLUMNS = (
    "c.id, c.run_id, c.first_run, c.size, c.first_seen, c.last_seen, c.time_span_hours, "
    "c.sources, c.source_count, c.coordination, c.coordinated_sources, "
    "c.coordination_window_hours, c.shared_passage, c.shared_by, c.narratives, c.techniques, "
    "r.created, f.created"
)
_CAMPAIGN_FROM = (
    " FROM campaigns c LEFT JOIN campaign_runs r ON r.run_id = c.run_id"
    " LEFT JOIN campaign_runs f ON f.run_id = c.first_run"
)
_ORDER_BY = {
    "size": " ORDER BY c.size DESC, c.coordination DESC, c.id",
    "coordination": " ORDER BY c.coordination DESC, c.size DESC, c.id",
}
_ALL = 2**62  # LIMIT for "no limit" (PostgreSQL refuses -1)
_MEMBER_COLUMNS = (
    "doc_id, source, date, url, similarity, containment, sha256, narratives, techniques"
)


@dataclass
class CampaignRun:
    """One save: when, how many documents were read and clusters found, with what settings."""

    run_id: str
    created: str  # ISO 8601, UTC, seconds
    documents: int
    clusters: int
    members: int
    input: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "created": self.created,
            "documents": self.documents,
            "clusters": self.clusters,
            "members": self.members,
            "input": self.input,
            "parameters": dict(self.parameters),
        }


@dataclass
class StoredCampaign:
    """A stored cluster: what :class:`narrascope.corpus.Campaign` says, plus its runs.

    ``members`` is filled by :func:`get_campaign` (earliest first) and left empty by
    :func:`list_campaigns`; ``size`` is always the member count. ``stored`` is the time of
    the run that stored it, ``first_stored`` that of the run that first found this id.
    """

    id: str
    size: int
    first_seen: str
    last_seen: str
    time_span_hours: float | None
    sources: list[str]
    source_count: int
    coordination: float
    coordinated_sources: int
    coordination_window_hours: float | None
    shared_passage: str
    shared_by: int
    narratives: list[tuple[str, int]]
    techniques: list[tuple[str, int]]
    run_id: str
    first_run: str
    stored: str | None = None
    first_stored: str | None = None
    members: list[CampaignMember] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The same keys as ``Campaign.to_dict`` (``members`` empty from a list), plus the
        run fields."""
        return {
            **cluster_dict(self, size=self.size, source_count=self.source_count),
            "run_id": self.run_id,
            "first_run": self.first_run,
            "stored": self.stored,
            "first_stored": self.first_stored,
        }


# -- the database ------------------------------------------------------------------------


@contextlib.contextmanager
def _opened(db: Any, *, create: bool) -> Iterator[Any]:
    """The corpus store ``db`` names (a path, a sqlite:/// or postgresql:// URL), opened
    and closed here, or ``db`` itself when it is an open store (left open).

    A SQLite file that does not exist is an error when reading (``create`` False): opening
    it would create an empty corpus database.
    """
    from narrascope.store.common import SQLStore

    if isinstance(db, SQLStore):
        yield db
        return
    if not isinstance(db, str | Path):
        raise TypeError(f"db must be a path, a database URL or an open store, got {db!r}")
    target = str(db)
    if not create and "://" not in target and not Path(target).exists():
        raise StoreError(E_STORE_OPEN, f"no database at {target}")
    from narrascope.store import open_store

    store = open_store(target)
    try:
        if not isinstance(store, SQLStore):  # pragma: no cover - every backend is one
            raise StoreError(E_STORE_UNSUPPORTED, f"campaigns cannot be stored in {target}")
        yield store
    finally:
        store.close()


def _version(store: Any) -> int:
    """The campaign tables' schema version, 0 when there are none (nothing is created)."""
    if store._one(store.HAS_TABLE, ("campaigns_schema",)) is None:
        return 0
    row = store._one("SELECT version FROM campaigns_schema")
    version = int(row[0]) if row and row[0] is not None else 0
    if version > SCHEMA_VERSION:
        raise StoreError(
            E_STORE_VERSION,
            f"{store.where}: its campaign tables are version {version}, this narrascope "
            f"reads up to {SCHEMA_VERSION}; upgrade narrascope",
        )
    return version


def _create(store: Any) -> None:
    """Create the tables (inside the caller's transaction) when they are not there, or
    upgrade older ones."""
    if store.MIGRATION_LOCK:  # PostgreSQL
        store._exec(_PG_LOCK)
    if _version(store) == SCHEMA_VERSION:
        return
    for statement in _SCHEMA:
        store._exec(statement)
    store._exec(_FILL_FIRST_RUNS)
    store._exec("DELETE FROM campaigns_schema")
    store._exec("INSERT INTO campaigns_schema (version) VALUES (?)", (SCHEMA_VERSION,))


def has_campaigns(db: Any) -> bool:
    """Whether ``db`` holds campaign tables (a save happened); creates nothing."""
    with _opened(db, create=False) as store:
        return _version(store) > 0


def _known(value: str | None) -> str | None:
    return None if value is None or value == UNKNOWN else value


def _labels(pairs: Iterable[tuple[str, int]]) -> str:
    return json.dumps([[label, int(n)] for label, n in pairs], ensure_ascii=False)


def save_campaigns(
    db: Any,
    campaigns: Iterable[Campaign],
    *,
    documents: int,
    parameters: Mapping[str, Any] | None = None,
    input: str | None = None,
) -> CampaignRun:
    """Store ``campaigns`` as the latest result, replacing the previous one; the new run.

    One transaction: a failure leaves the previous result as it was. A cluster id stored
    before keeps its ``first_run``. ``documents`` is how many documents were clustered;
    ``parameters`` (JSON-able) and ``input`` (what was read) are kept with the run.
    """
    found = list(campaigns)
    run = CampaignRun(
        run_id=uuid.uuid4().hex[:16],
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        documents=int(documents),
        clusters=len(found),
        members=sum(c.size for c in found),
        input=input,
        parameters=dict(parameters or {}),
    )
    with _opened(db, create=True) as store:

        def write() -> None:
            _create(store)
            # every id ever stored, not only the previous run's: see campaign_first_runs
            first = dict(store._rows("SELECT id, first_run FROM campaign_first_runs"))
            store._exec("DELETE FROM campaign_members")
            store._exec("DELETE FROM campaigns")
            seq = store._one("SELECT COALESCE(MAX(seq), 0) + 1 FROM campaign_runs")[0]
            store._exec(
                "INSERT INTO campaign_runs (run_id, seq, created, documents, clusters, "
                "members, input, parameters) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    int(seq),
                    run.created,
                    run.documents,
                    run.clusters,
                    run.members,
                    run.input,
                    json.dumps(run.parameters, ensure_ascii=False, sort_keys=True),
                ),
            )
            store._exec_many(
                "INSERT INTO campaigns (id, run_id, first_run, size, first_seen, last_seen, "
                "time_span_hours, sources, source_count, coordination, coordinated_sources, "
                "coordination_window_hours, shared_passage, shared_by, narratives, techniques) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.id,
                        run.run_id,
                        first.get(c.id, run.run_id),
                        c.size,
                        _known(c.first_seen),
                        _known(c.last_seen),
                        c.time_span_hours,
                        json.dumps(c.sources, ensure_ascii=False),
                        c.source_count,
                        float(c.coordination),
                        int(c.coordinated_sources),
                        c.coordination_window_hours,
                        c.shared_passage,
                        int(c.shared_by),
                        _labels(c.narratives),
                        _labels(c.techniques),
                    )
                    for c in found
                ],
            )
            store._exec_many(
                "INSERT INTO campaign_first_runs (id, first_run) VALUES (?, ?)",
                [(c.id, run.run_id) for c in found if c.id not in first],
            )
            store._exec_many(
                "INSERT INTO campaign_members (campaign_id, position, doc_id, source, date, "
                "url, similarity, containment, sha256, narratives, techniques) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.id,
                        position,
                        m.id,
                        m.source,  # None: none given; a source named "unknown" is one
                        _known(m.date),
                        m.url,
                        float(m.similarity),
                        float(m.containment),
                        m.sha256,
                        json.dumps(list(m.narratives), ensure_ascii=False),
                        json.dumps(list(m.techniques), ensure_ascii=False),
                    )
                    for c in found
                    for position, m in enumerate(c.members)
                ],
            )

        store._write(write)
    return run


# -- reading -------------------------------------------------------------------------------


def _pairs(text: str | None) -> list[tuple[str, int]]:
    return [(str(label), int(n)) for label, n in json.loads(text or "[]")]


def _campaign(row: tuple[Any, ...]) -> StoredCampaign:
    return StoredCampaign(
        id=row[0],
        run_id=row[1],
        first_run=row[2],
        size=int(row[3]),
        first_seen=row[4] or UNKNOWN,
        last_seen=row[5] or UNKNOWN,
        time_span_hours=None if row[6] is None else float(row[6]),
        sources=list(json.loads(row[7])),
        source_count=int(row[8]),
        coordination=float(row[9]),
        coordinated_sources=int(row[10]),
        coordination_window_hours=None if row[11] is None else float(row[11]),
        shared_passage=row[12],
        shared_by=int(row[13]),
        narratives=_pairs(row[14]),
        techniques=_pairs(row[15]),
        stored=row[16],
        first_stored=row[17],
    )


def list_campaigns(
    db: Any,
    *,
    min_size: int = 2,
    source: str | None = None,
    order: Literal["size", "coordination"] = "size",
    limit: int | None = 50,
    offset: int = 0,
) -> list[StoredCampaign]:
    """The stored clusters of the latest run, without their members.

    ``min_size``: at least this many documents; ``source``: only clusters with a document
    from this source; ``order``: ``"size"`` (largest first, then most coordinated) or
    ``"coordination"`` (most coordinated first, then largest); ``limit`` None for all.
    A database without campaign tables gives an empty list (and is left as it was).
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    with _opened(db, create=False) as store:
        if not _version(store):
            return []
        where = " WHERE c.size >= ?"
        params: list[Any] = [int(min_size)]
        if source is not None:
            where += (
                " AND EXISTS (SELECT 1 FROM campaign_members m"
                " WHERE m.campaign_id = c.id AND m.source = ?)"
            )
            params.append(source)
        statement = "SELECT " + _CAMPAIGN_COLUMNS + _CAMPAIGN_FROM + where + _ORDER_BY[order]
        statement += " LIMIT ? OFFSET ?"
        params += [_ALL if limit is None else int(limit), int(offset)]
        return [_campaign(row) for row in store._rows(statement, params)]


def get_campaign(db: Any, cluster_id: str) -> StoredCampaign | None:
    """One stored cluster with its members (earliest first: doc id, source, date, url,
    similarity to the earliest text, narratives, techniques), or None."""
    with _opened(db, create=False) as store:
        if not _version(store):
            return None
        row = store._one(
            "SELECT " + _CAMPAIGN_COLUMNS + _CAMPAIGN_FROM + " WHERE c.id = ?", (cluster_id,)
        )
        if row is None:
            return None
        campaign = _campaign(row)
        campaign.members = [
            CampaignMember(
                id=m[0],
                source=m[1],
                date=m[2] or UNKNOWN,
                url=m[3],
                similarity=float(m[4]),
                containment=float(m[5]),
                sha256=m[6],
                narratives=list(json.loads(m[7])),
                techniques=list(json.loads(m[8])),
            )
            for m in store._rows(
                f"SELECT {_MEMBER_COLUMNS} FROM campaign_members WHERE campaign_id = ? "
                "ORDER BY position",
                (cluster_id,),
            )
        ]
        return campaign


def campaigns_of_document(db: Any, doc_id: str) -> list[str]:
    """The ids of the stored clusters holding this document (a document page's link)."""
    with _opened(db, create=False) as store:
        if not _version(store):
            return []
        rows = store._rows(
            "SELECT DISTINCT campaign_id FROM campaign_members WHERE doc_id = ? "
            "ORDER BY campaign_id",
            (doc_id,),
        )
        return [r[0] for r in rows]


def first_stored(db: Any) -> dict[str, str]:
    """Each stored cluster id with the time its id was first stored (a STIX ``created``)."""
    with _opened(db, create=False) as store:
        if not _version(store):
            return {}
        rows = store._rows(
            "SELECT c.id, f.created FROM campaigns c JOIN campaign_runs f ON f.run_id = c.first_run"
        )
        return {str(k): str(v) for k, v in rows}


def latest_run(db: Any) -> CampaignRun | None:
    """The run whose clusters are stored (the latest save), or None."""
    runs = list_runs(db, limit=1)
    return runs[0] if runs else None


def list_runs(db: Any, *, limit: int = 20) -> list[CampaignRun]:
    """The saves, newest first (the first is the one whose clusters are stored)."""
    with _opened(db, create=False) as store:
        if not _version(store):
            return []
        rows = store._rows(
            "SELECT run_id, created, documents, clusters, members, input, parameters "
            "FROM campaign_runs ORDER BY seq DESC LIMIT ?",
            (int(limit),),
        )
    return [
        CampaignRun(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), r[5], json.loads(r[6]))
        for r in rows
    ]
