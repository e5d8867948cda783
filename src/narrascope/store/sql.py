"""Every SQL statement of the SQLite store, in one place, with bound parameters only.

Why one module: a second backend (PostgreSQL) needs only its own copy of this file — the
tables and columns are plain ANSI types (TEXT, INTEGER, REAL) and no statement depends on
SQLite except where marked (FTS5, ``strftime`` buckets, ``INSERT OR ...``). Values are
always ``?`` parameters; the only text ever put together is a choice among the constant
fragments below (filters, buckets), never a value.
"""

from __future__ import annotations

# Ordered migration steps: step n (1-based) brings the schema from version n-1 to n.
# Never edit a released step; append a new one. FTS is its own step because it is
# optional: the step is skipped when this Python's SQLite lacks FTS5 (search falls back
# to LIKE).
CORE_SCHEMA = [
    """CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL,
        text TEXT NOT NULL,
        language TEXT,
        source TEXT,
        url TEXT,
        date TEXT,
        path TEXT,
        analysed_at TEXT NOT NULL,
        record TEXT NOT NULL
    )""",
    """CREATE TABLE narratives (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        level TEXT NOT NULL,
        label TEXT NOT NULL,
        parent TEXT,
        score REAL NOT NULL
    )""",
    """CREATE TABLE evidence (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        level TEXT NOT NULL,
        label TEXT NOT NULL,
        span_start INTEGER NOT NULL,
        span_end INTEGER NOT NULL,
        score REAL NOT NULL
    )""",
    """CREATE TABLE entities (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        main_role TEXT,
        fine_roles TEXT NOT NULL,
        score REAL NOT NULL
    )""",
    """CREATE TABLE techniques (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        family TEXT,
        paragraph INTEGER NOT NULL,
        span_start INTEGER NOT NULL,
        span_end INTEGER NOT NULL,
        score REAL NOT NULL
    )""",
    "CREATE INDEX documents_language ON documents(language)",
    "CREATE INDEX documents_source ON documents(source)",
    "CREATE INDEX documents_date ON documents(date)",
    "CREATE INDEX narratives_doc ON narratives(doc_id)",
    "CREATE INDEX narratives_label ON narratives(label, score)",
    "CREATE INDEX evidence_doc ON evidence(doc_id)",
    "CREATE INDEX entities_doc ON entities(doc_id)",
    "CREATE INDEX entities_name ON entities(name)",
    "CREATE INDEX techniques_doc ON techniques(doc_id)",
    "CREATE INDEX techniques_label ON techniques(label)",
]
# SQLite-specific: full-text search over the document text.
FTS_SCHEMA = [
    "CREATE VIRTUAL TABLE documents_fts USING fts5(doc_id UNINDEXED, text)",
    "INSERT INTO documents_fts (doc_id, text) SELECT id, text FROM documents",
]
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("core tables and indexes", CORE_SCHEMA),
    ("full-text search (FTS5)", FTS_SCHEMA),
]

CREATE_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
GET_VERSION = "SELECT MAX(version) FROM schema_version"
SET_VERSION = "INSERT INTO schema_version (version) VALUES (?)"
HAS_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"

# The results of one document are removed before they are written again, so a re-save
# replaces them; documents rows are upserted (one row per id, ever).
DELETE_RESULTS = [
    "DELETE FROM narratives WHERE doc_id = ?",
    "DELETE FROM evidence WHERE doc_id = ?",
    "DELETE FROM entities WHERE doc_id = ?",
    "DELETE FROM techniques WHERE doc_id = ?",
]
DELETE_FTS = "DELETE FROM documents_fts WHERE doc_id = ?"
UPSERT_DOCUMENT = """INSERT INTO documents
    (id, content_hash, text, language, source, url, date, path, analysed_at, record)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        content_hash = excluded.content_hash, text = excluded.text,
        language = excluded.language, source = excluded.source, url = excluded.url,
        date = excluded.date, path = excluded.path, analysed_at = excluded.analysed_at,
        record = excluded.record"""
INSERT_NARRATIVE = (
    "INSERT INTO narratives (doc_id, level, label, parent, score) VALUES (?, ?, ?, ?, ?)"
)
INSERT_EVIDENCE = """INSERT INTO evidence (doc_id, level, label, span_start, span_end, score)
    VALUES (?, ?, ?, ?, ?, ?)"""
INSERT_ENTITY = (
    "INSERT INTO entities (doc_id, name, main_role, fine_roles, score) VALUES (?, ?, ?, ?, ?)"
)
INSERT_TECHNIQUE = """INSERT INTO techniques
    (doc_id, label, family, paragraph, span_start, span_end, score)
    VALUES (?, ?, ?, ?, ?, ?, ?)"""
INSERT_FTS = "INSERT INTO documents_fts (doc_id, text) VALUES (?, ?)"

GET_RECORD = "SELECT record FROM documents WHERE id = ?"
HAS_DOCUMENT = "SELECT 1 FROM documents WHERE id = ? AND content_hash = ?"
COUNT_DOCUMENTS = "SELECT COUNT(*) FROM documents"

# search(): WHERE fragments, each with its own parameters, joined with AND.
SEARCH_SELECT = "SELECT d.id, d.language, d.source, d.url, d.date FROM documents d"
SEARCH_ORDER = " ORDER BY d.date DESC, d.id LIMIT ? OFFSET ?"
WHERE_FTS = "d.id IN (SELECT doc_id FROM documents_fts WHERE documents_fts MATCH ?)"
WHERE_LIKE = "d.text LIKE ? ESCAPE '\\'"
WHERE_NARRATIVE = (
    "EXISTS (SELECT 1 FROM narratives n WHERE n.doc_id = d.id AND n.label = ? AND n.score >= ?)"
)
WHERE_ANY_SCORE = "EXISTS (SELECT 1 FROM narratives n WHERE n.doc_id = d.id AND n.score >= ?)"
WHERE_LANGUAGE = "d.language = ?"
WHERE_SOURCE = "d.source = ?"
WHERE_DATE_FROM = "substr(d.date, 1, 10) >= ?"
WHERE_DATE_TO = "substr(d.date, 1, 10) <= ?"
TOP_NARRATIVES = """SELECT label, score FROM narratives
    WHERE doc_id = ? AND level = 'narrative' ORDER BY score DESC, label"""

# stats(): the bucket of a document, per grouping (SQLite date functions; %W = week of
# the year, Monday first, 00-53).
BUCKETS = {
    "day": "substr(d.date, 1, 10)",
    "week": "strftime('%Y-W%W', substr(d.date, 1, 10))",
    "month": "substr(d.date, 1, 7)",
    "source": "d.source",
    "language": "d.language",
}
STATS = """SELECT {bucket} AS bucket, n.label, COUNT(DISTINCT d.id)
    FROM documents d JOIN narratives n ON n.doc_id = d.id
    WHERE n.level = 'narrative'
    GROUP BY bucket, n.label
    ORDER BY bucket IS NULL, bucket, COUNT(DISTINCT d.id) DESC, n.label"""
