"""Every SQL statement of the corpus database, for both backends, with bound parameters only.

Why one module: the two backends (SQLite, PostgreSQL) share the tables, the columns (plain
ANSI types: TEXT, INTEGER, REAL) and nearly every statement; what differs is marked
``SQLITE_`` or ``PG_`` (full-text search, the catalogue, locks). Values are always ``?``
parameters (the PostgreSQL backend turns them into ``%s``, so no statement may contain a
literal ``%`` or ``?``); the only text ever put together is a choice among the constant
fragments below (filters, buckets), never a value.
"""

from __future__ import annotations

import re

# Ordered migration steps: step n (1-based) brings the schema from version n-1 to n.
# Never edit a released step; append a new one to both backends' lists (their lengths are
# the schema version, and must stay equal). SQLite's FTS is its own step because it is
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
# Step 3: the index of step 2 kept the document id in an UNINDEXED column, so replacing a
# document scanned the whole index (saving 10,000 documents took 10-32 s). Its rows now
# carry the document's rowid, which the upsert keeps, so a replace is a key lookup.
FTS_ROWID_SCHEMA = [
    "DROP TABLE IF EXISTS documents_fts",
    "CREATE VIRTUAL TABLE documents_fts USING fts5(text)",
    "INSERT INTO documents_fts (rowid, text) SELECT rowid, text FROM documents",
]
# Step 4 (issue 23): search by word forms. The index holds a stemmed copy of each text,
# made in Python (store/stems.py: FTS5 cannot call a Python tokenizer), as tokens
# separated by blanks; FTS5's 'ascii' tokenizer splits on the blanks and leaves every
# token as it is (tokens hold letters, digits and marks only), so what FTS5 compares is
# exactly what PostgreSQL compares. A statement REINDEX_SEARCH in a step makes the
# backend rebuild the index there from the stored texts; appending a step
# [REINDEX_SEARCH] is how a change of stemming reaches existing databases.
REINDEX_SEARCH = "-- narrascope: rebuild the search index from the stored texts"
FTS_STEMMED_SCHEMA = [
    "DROP TABLE IF EXISTS documents_fts",
    "CREATE VIRTUAL TABLE documents_fts USING fts5(text, tokenize = 'ascii')",
    REINDEX_SEARCH,
]
# the same without FTS5: a plain table of stemmed copies, searched with LIKE (a scan)
PLAIN_STEMMED_SCHEMA = [
    "DROP TABLE IF EXISTS documents_fts",
    "CREATE TABLE documents_fts (text TEXT NOT NULL)",
    REINDEX_SEARCH,
]
# Step 5 (issue 24): reader threads. Each comment of a page is a row of ``comments`` (its
# span into the page's text, its structure, its hate and incitement readings), and the
# article's own readings are columns of ``documents``, so the corpus can be filtered and
# counted by them without reading records. ``incitement`` is 1/0 (INTEGER: SQLite has no
# BOOLEAN; NULL when not analysed). BACKFILL_THREADS makes the backend fill both from the
# JSON records already stored (documents saved with a thread before this step). The step
# may run again over its own work (a schema_version rewound, as tests do): its tables and
# indexes are IF NOT EXISTS, the backend skips a column that exists (ADD_COLUMN), and the
# backfill replaces the comment rows it writes.
BACKFILL_THREADS = "-- narrascope: fill comments and hate columns from the stored records"
ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+) ")
# the names of a table's columns (the cursor's description); a name, never a value
COLUMNS_OF = "SELECT * FROM {table} WHERE 1 = 0"
THREAD_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS comments (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        comment_id TEXT NOT NULL,
        parent TEXT,
        author TEXT,
        span_start INTEGER NOT NULL,
        span_end INTEGER NOT NULL,
        depth INTEGER NOT NULL,
        date TEXT,
        language TEXT,
        hate_label TEXT,
        hate_score REAL,
        hate_target TEXT,
        incitement INTEGER,
        incitement_score REAL
    )""",
    "CREATE INDEX IF NOT EXISTS comments_doc ON comments(doc_id)",
    "CREATE INDEX IF NOT EXISTS comments_hate ON comments(hate_label)",
    "ALTER TABLE documents ADD COLUMN hate_label TEXT",
    "ALTER TABLE documents ADD COLUMN hate_score REAL",
    "ALTER TABLE documents ADD COLUMN hate_target TEXT",
    "ALTER TABLE documents ADD COLUMN incitement INTEGER",
    "ALTER TABLE documents ADD COLUMN incitement_score REAL",
    BACKFILL_THREADS,
]
# Step 6 (issue 25): known debunks a document repeats. Each match of a record's
# ``debunks`` is a row of ``debunk_matches`` (the debunk's id, claim, verdict and url as the
# matcher wrote them, its score, and the span of the document that restates it: NULL when
# the document as a whole matched), so the corpus can be filtered by a debunk and count
# the documents that repeat any. Not ``debunks``: that name is the debunk database's
# (store/debunks.py), which may live in the same file. BACKFILL_DEBUNKS makes the backend
# fill it from the JSON records already stored; like step 5 it may run again over its
# own work (IF NOT EXISTS; the backfill replaces the rows it writes). The table is made
# with step 9's ``comment_id`` already, as the backfill writes it (step 9 then skips it).
BACKFILL_DEBUNKS = "-- narrascope: fill debunk_matches from the stored records"
DEBUNK_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS debunk_matches (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        debunk_id TEXT NOT NULL,
        claim TEXT,
        verdict TEXT,
        url TEXT,
        score REAL NOT NULL,
        span_start INTEGER,
        span_end INTEGER,
        comment_id TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS debunk_matches_doc ON debunk_matches(doc_id)",
    "CREATE INDEX IF NOT EXISTS debunk_matches_id ON debunk_matches(debunk_id)",
    BACKFILL_DEBUNKS,
]
# Step 7: the day of each document's date (ISO, 2024-03-02; NULL when the date names no
# day: "soon", "2024-02-30", none), read by ``narrascope.text.dates.day_of`` as dates are
# everywhere else ("02.03.2024" and "March 5, 2024" too). Date filters, buckets and the
# order compare it, never the date as given (kept for display): compared as text,
# "02.03.2024" came before 2023 and "March 5, 2024" after every day, and each made up a
# bucket of its own. BACKFILL_DAYS makes the backend fill it from the stored dates; like
# step 5 it may run again over its own work.
BACKFILL_DAYS = "-- narrascope: fill the day column from the stored dates"
DAY_SCHEMA = [
    "ALTER TABLE documents ADD COLUMN day TEXT",
    "CREATE INDEX IF NOT EXISTS documents_day ON documents(day)",
    BACKFILL_DAYS,
]
# Step 8: every document's day read again and its moment kept, as
# ``narrascope.text.dates`` reads dates everywhere: a "dd.mm.yyyy HH:MM" date had been read
# month first, an epoch number (digits or not) had no day, and a date with an offset
# counted on its own wall-clock day, where it now counts on its UTC day. ``moment`` is the
# date's instant (seconds since the epoch, UTC; NULL when it names no day): the order
# within a day compares it, not the date as given, which compared as text put
# "2024-04-01T06:00:00+03:00" (03:00 UTC) after "2024-04-01T04:10:00Z". The stored source
# is read again too, stripped and a blank one NULL (CSV exports pad it with blanks), as the
# clustering and the filters read it. BACKFILL_MOMENTS makes the backend do it; like step
# 5 it may run again over its own work. (DOUBLE PRECISION: PostgreSQL's REAL has six
# digits, too few for seconds; SQLite reads it as REAL, eight bytes.)
BACKFILL_MOMENTS = "-- narrascope: read every document's day, moment and source again"
MOMENT_SCHEMA = [
    "ALTER TABLE documents ADD COLUMN moment DOUBLE PRECISION",
    BACKFILL_MOMENTS,
]
# Step 9 (issue 25): known debunks a reader comment repeats. A comment's matches are rows
# of ``debunk_matches`` too, with the comment's id in ``comment_id`` (NULL: the article's,
# or the document's as a whole), so the debunk filter and the count of documents
# repeating known debunks take a document whose comment repeats one, and can say "in a
# comment". BACKFILL_DEBUNKS reads the stored records again; like step 5 the step may
# run again over its own work.
COMMENT_DEBUNK_SCHEMA = [
    "ALTER TABLE debunk_matches ADD COLUMN comment_id TEXT",
    BACKFILL_DEBUNKS,
]
# Step 10: the days and moments read again, now that a date may name its month in
# Russian, Ukrainian, Bulgarian, Portuguese or Hindi ("23 марта 2024 г.", "23 de março de
# 2024"): such documents had been stored undated.
LOCAL_MONTHS_SCHEMA = [BACKFILL_MOMENTS]
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("core tables and indexes", CORE_SCHEMA),
    ("full-text search (FTS5)", FTS_SCHEMA),
    ("full-text index keyed by row id", FTS_ROWID_SCHEMA),
    ("full-text index of stemmed words", FTS_STEMMED_SCHEMA),
    ("reader comments and hate/incitement readings", THREAD_SCHEMA),
    ("known debunks each document repeats", DEBUNK_SCHEMA),
    ("the day of each document's date", DAY_SCHEMA),
    ("the UTC day and moment of each document's date, its source stripped", MOMENT_SCHEMA),
    ("known debunks reader comments repeat", COMMENT_DEBUNK_SCHEMA),
    ("dates with month names in our other languages read again", LOCAL_MONTHS_SCHEMA),
]

# PostgreSQL: the same tables, every TEXT column in byte order (COLLATE "C") so sorting and
# comparing ids, dates and labels give what SQLite's BINARY collation gives, whatever the
# database's locale. Full text: an expression index on the 'simple' configuration (no
# stemming, no stop words: right for every language, Cyrillic and Devanagari included).
# '<>&./@:+-' become blanks first, so words are split where FTS5 splits them: PostgreSQL's
# parser would otherwise read "<script>alert(1)</script>" as an HTML tag and an ignored
# script body, and keep hosts, paths, e-mails and URLs ("x.test/news") as single words.
PG_CORE_SCHEMA = [statement.replace(" TEXT", ' TEXT COLLATE "C"') for statement in CORE_SCHEMA]
PG_SEARCH_SCHEMA = [
    """CREATE INDEX documents_fts ON documents
        USING GIN (to_tsvector('simple', translate(text, '<>&./@:+-', '         ')))""",
    # SQLite's narrascope_iso_week is a Python function (sqlite.py); this is its twin
    """CREATE FUNCTION narrascope_iso_week(day TEXT) RETURNS TEXT
        LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
        IF day IS NULL OR day !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
            RETURN NULL;
        END IF;
        RETURN to_char(to_date(day, 'YYYY-MM-DD'), 'IYYY-"W"IW');
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END
    $$""",
]
# Step 4: the stemmed copy of each text, as the text of a tsvector made in Python (so no
# text search parser, dictionary or locale touches a word), in its own table, with a GIN
# index on narrascope_words(words), its tsvector. Why a function and not a tsvector
# column: a tsvector of a news text is stored out of line (TOAST), which the planner does
# not price, so it read all of them rather than the index (120 ms for 10,000 texts);
# parsing a tsvector per row really is costly, and COST says so. plpgsql, as the planner
# would inline an SQL function and forget its cost. The index is built once the table is
# filled; it replaces step 2's 'simple' index.
PG_STEMMED_SCHEMA = [
    "DROP INDEX IF EXISTS documents_fts",
    """CREATE FUNCTION narrascope_words(words TEXT) RETURNS tsvector
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
    BEGIN
        RETURN words::tsvector;
    END
    $$""",
    """CREATE TABLE documents_search (
        doc_id TEXT COLLATE "C" PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        words TEXT NOT NULL
    )""",
    REINDEX_SEARCH,
    """CREATE INDEX documents_search_words ON documents_search
        USING GIN (narrascope_words(words))""",
]
PG_THREAD_SCHEMA = [
    statement if statement == BACKFILL_THREADS else statement.replace(" TEXT", ' TEXT COLLATE "C"')
    for statement in THREAD_SCHEMA
]
PG_DEBUNK_SCHEMA = [
    statement if statement == BACKFILL_DEBUNKS else statement.replace(" TEXT", ' TEXT COLLATE "C"')
    for statement in DEBUNK_SCHEMA
]
PG_COMMENT_DEBUNK_SCHEMA = [
    statement if statement == BACKFILL_DEBUNKS else statement.replace(" TEXT", ' TEXT COLLATE "C"')
    for statement in COMMENT_DEBUNK_SCHEMA
]
PG_DAY_SCHEMA = [
    statement if statement == BACKFILL_DAYS else statement.replace(" TEXT", ' TEXT COLLATE "C"')
    for statement in DAY_SCHEMA
]
PG_MIGRATIONS: list[tuple[str, list[str]]] = [
    ("core tables and indexes", PG_CORE_SCHEMA),
    ("full-text search (tsvector 'simple') and ISO weeks", PG_SEARCH_SCHEMA),
    ("nothing to do: SQLite's step 3 re-keys its FTS5 index", []),
    ("search index of stemmed words", PG_STEMMED_SCHEMA),
    ("reader comments and hate/incitement readings", PG_THREAD_SCHEMA),
    ("known debunks each document repeats", PG_DEBUNK_SCHEMA),
    ("the day of each document's date", PG_DAY_SCHEMA),
    ("the UTC day and moment of each document's date, its source stripped", MOMENT_SCHEMA),
    ("known debunks reader comments repeat", PG_COMMENT_DEBUNK_SCHEMA),
    ("dates with month names in our other languages read again", LOCAL_MONTHS_SCHEMA),
]

CREATE_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
GET_VERSION = "SELECT MAX(version) FROM schema_version"
SET_VERSION = "INSERT INTO schema_version (version) VALUES (?)"
SQLITE_HAS_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
SQLITE_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"
SQLITE_HAS_FTS5_INDEX = """SELECT 1 FROM sqlite_master
    WHERE name = 'documents_fts' AND instr(sql, 'VIRTUAL TABLE') > 0"""
PG_HAS_TABLE = "SELECT 1 WHERE to_regclass(?) IS NOT NULL"  # follows the search_path
# one migration at a time across processes (SQLite: BEGIN IMMEDIATE already is the lock)
PG_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(7224513061)"
SQLITE_BEGIN = "BEGIN IMMEDIATE"
PG_BEGIN = "BEGIN"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"
# one document of a batch: its failure is undone alone (same syntax in both backends)
SAVEPOINT = "SAVEPOINT narrascope_doc"
RELEASE = "RELEASE SAVEPOINT narrascope_doc"
ROLLBACK_TO = "ROLLBACK TO SAVEPOINT narrascope_doc"
# a whole batch written at once (statement by statement, all its documents' rows): when the
# database refuses one of them, the batch is undone to here and written a document at a time
BATCH_SAVEPOINT = "SAVEPOINT narrascope_batch"
BATCH_RELEASE = "RELEASE SAVEPOINT narrascope_batch"
BATCH_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT narrascope_batch"

# The results of one document are removed before they are written again, so a re-save
# replaces them; documents rows are upserted (one row per id, ever). The upsert comes
# first: it locks the id's row (or waits for another writer's insert of it), so two
# writers saving one id take turns and the second one's DELETEs see the first one's rows.
DELETE_RESULTS = [
    "DELETE FROM narratives WHERE doc_id = ?",
    "DELETE FROM evidence WHERE doc_id = ?",
    "DELETE FROM entities WHERE doc_id = ?",
    "DELETE FROM techniques WHERE doc_id = ?",
    "DELETE FROM debunk_matches WHERE doc_id = ?",
    "DELETE FROM comments WHERE doc_id = ?",
]
DELETE_COMMENTS = DELETE_RESULTS[-1]
DELETE_DEBUNK_MATCHES = DELETE_RESULTS[-2]
DELETE_DOCUMENT = "DELETE FROM documents WHERE id = ?"
# delete() locks the id first too (SQLite has no row locks: its BEGIN IMMEDIATE is the lock)
PG_LOCK_DOCUMENT = "SELECT 1 FROM documents WHERE id = ? FOR UPDATE"
DELETE_FTS = "DELETE FROM documents_fts WHERE rowid = (SELECT rowid FROM documents WHERE id = ?)"
UPSERT_DOCUMENT = """INSERT INTO documents
    (id, content_hash, text, language, source, url, date, day, moment, path, analysed_at,
     record, hate_label, hate_score, hate_target, incitement, incitement_score)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        content_hash = excluded.content_hash, text = excluded.text,
        language = excluded.language, source = excluded.source, url = excluded.url,
        date = excluded.date, day = excluded.day, moment = excluded.moment,
        path = excluded.path,
        analysed_at = excluded.analysed_at,
        record = excluded.record, hate_label = excluded.hate_label,
        hate_score = excluded.hate_score, hate_target = excluded.hate_target,
        incitement = excluded.incitement, incitement_score = excluded.incitement_score"""
# the article's readings alone (the step 5 backfill: the rest of the row is as stored)
SET_DOCUMENT_HATE = """UPDATE documents SET hate_label = ?, hate_score = ?, hate_target = ?,
    incitement = ?, incitement_score = ? WHERE id = ?"""
INSERT_COMMENT = """INSERT INTO comments
    (doc_id, comment_id, parent, author, span_start, span_end, depth, date, language,
     hate_label, hate_score, hate_target, incitement, incitement_score)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
INSERT_DEBUNK_MATCH = """INSERT INTO debunk_matches
    (doc_id, debunk_id, claim, verdict, url, score, span_start, span_end, comment_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
# BACKFILL_DAYS reads, a batch at a time in key order, the stored dates, and sets each day
SQLITE_BACKFILL_DAYS_BATCH = """SELECT rowid, id, date FROM documents
    WHERE rowid > ? ORDER BY rowid LIMIT ?"""
PG_BACKFILL_DAYS_BATCH = """SELECT id, id, date FROM documents
    WHERE (id > ? OR id = '' AND ? = '') ORDER BY id LIMIT ?"""
SET_DOCUMENT_DAY = "UPDATE documents SET day = ? WHERE id = ?"
# BACKFILL_MOMENTS reads, a batch at a time in key order, the stored dates and sources
SQLITE_BACKFILL_MOMENTS_BATCH = """SELECT rowid, id, date, source FROM documents
    WHERE rowid > ? ORDER BY rowid LIMIT ?"""
PG_BACKFILL_MOMENTS_BATCH = """SELECT id, id, date, source FROM documents
    WHERE (id > ? OR id = '' AND ? = '') ORDER BY id LIMIT ?"""
SET_DOCUMENT_MOMENT = "UPDATE documents SET day = ?, moment = ?, source = ? WHERE id = ?"
# BACKFILL_DEBUNKS reads, a batch at a time in key order, the records that may hold a match
SQLITE_BACKFILL_DEBUNKS_BATCH = """SELECT rowid, id, record FROM documents
    WHERE rowid > ? AND record LIKE ? ORDER BY rowid LIMIT ?"""
PG_BACKFILL_DEBUNKS_BATCH = """SELECT id, id, record FROM documents
    WHERE (id > ? OR id = '' AND ? = '') AND record LIKE ? ORDER BY id LIMIT ?"""
# BACKFILL_THREADS reads, a batch at a time in key order, the records that may hold a
# thread or a reading (the LIKE patterns are parameters; JSON decides, this only skips)
SQLITE_BACKFILL_BATCH = """SELECT rowid, id, record FROM documents
    WHERE rowid > ? AND (record LIKE ? OR record LIKE ? OR record LIKE ?)
    ORDER BY rowid LIMIT ?"""
PG_BACKFILL_BATCH = """SELECT id, id, record FROM documents
    WHERE (id > ? OR id = '' AND ? = '') AND (record LIKE ? OR record LIKE ? OR record LIKE ?)
    ORDER BY id LIMIT ?"""
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
# the search index: SQLite's row (FTS5 or plain) has the document's rowid, PostgreSQL's its id
SQLITE_INDEX_DOCUMENT = (
    "INSERT INTO documents_fts (rowid, text) SELECT rowid, ? FROM documents WHERE id = ?"
)
SQLITE_INDEX_ROW = "INSERT INTO documents_fts (rowid, text) VALUES (?, ?)"
PG_INDEX_DOCUMENT = """INSERT INTO documents_search (doc_id, words) VALUES (?, ?)
    ON CONFLICT (doc_id) DO UPDATE SET words = excluded.words"""
# REINDEX_SEARCH reads the stored texts a batch at a time, in key order after the last key
SQLITE_REINDEX_BATCH = """SELECT rowid, text, language FROM documents
    WHERE rowid > ? ORDER BY rowid LIMIT ?"""
PG_REINDEX_BATCH = """SELECT id, text, language FROM documents
    WHERE id > ? ORDER BY id LIMIT ?"""
PG_REINDEX_EMPTY_ID = "SELECT id, text, language FROM documents WHERE id = ''"

GET_RECORD = "SELECT record FROM documents WHERE id = ?"
# a batch of records by id: the ids travel as one parameter (a JSON array / an array)
SQLITE_GET_RECORDS = "SELECT id, record FROM documents WHERE id IN (SELECT value FROM json_each(?))"
PG_GET_RECORDS = "SELECT id, record FROM documents WHERE id = ANY(?)"
HAS_DOCUMENT = "SELECT 1 FROM documents WHERE id = ? AND content_hash = ?"
# what a batch about to be saved has stored already (one query; same id, hash and record:
# nothing to write)
SQLITE_GET_STORED = """SELECT id, content_hash, record FROM documents
    WHERE id IN (SELECT value FROM json_each(?))"""
PG_GET_STORED = "SELECT id, content_hash, record FROM documents WHERE id = ANY(?)"
COUNT_DOCUMENTS = "SELECT COUNT(*) FROM documents"

# search(): WHERE fragments, each with its own parameters, joined with AND.
SEARCH_SELECT = "SELECT d.id, d.language, d.source, d.url, d.date FROM documents d"
SEARCH_IDS = "SELECT d.id FROM documents d"
SEARCH_COUNT = "SELECT COUNT(*) FROM documents d"
# by UTC day (undated last), then by the date's instant (step 8), then by id
NEWEST_FIRST = " ORDER BY d.day DESC NULLS LAST, d.moment DESC NULLS LAST, d.id"
PAGE = " LIMIT ? OFFSET ?"
# Text search (store/query.py): the wanted terms as one expression, and the excluded ones
# as another whose documents are left out. The expressions are parameters, built by
# query.py from index tokens only; the LIKE form (SQLite without FTS5) puts together
# copies of LIKE_TOKENS, one pattern parameter each, joined with AND / OR and brackets.
SQLITE_WHERE_FTS = "d.rowid IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
SQLITE_WHERE_NOT_FTS = (
    "d.rowid NOT IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
)
SQLITE_WHERE_LIKE = "d.rowid IN (SELECT rowid FROM documents_fts f WHERE {match})"
SQLITE_WHERE_NOT_LIKE = "d.rowid NOT IN (SELECT rowid FROM documents_fts f WHERE {match})"
LIKE_TOKENS = "(' ' || f.text || ' ') LIKE ?"
PG_WHERE_FTS = """d.id IN (SELECT doc_id FROM documents_search
    WHERE narrascope_words(words) @@ ?::tsquery)"""
PG_WHERE_NOT_FTS = """d.id NOT IN (SELECT doc_id FROM documents_search
    WHERE narrascope_words(words) @@ ?::tsquery)"""
# which stemmers a query needs: the languages stored (the language index has them)
LANGUAGES = "SELECT DISTINCT language FROM documents"
# uncorrelated IN, not EXISTS: SQLite would run a correlated EXISTS through the (label,
# score) index once per document (seconds on 10,000 documents); this reads it once
WHERE_NARRATIVE = "d.id IN (SELECT doc_id FROM narratives WHERE label = ? AND score >= ?)"
WHERE_ANY_SCORE = "d.id IN (SELECT doc_id FROM narratives WHERE score >= ?)"
# Filters.hate: the article or any comment of the document flagged so. The readings
# are thresholded by the model already, so the label alone decides.
WHERE_HATE = {
    "hateful": """(d.hate_label = 'hateful'
        OR d.id IN (SELECT doc_id FROM comments WHERE hate_label = 'hateful'))""",
    "offensive": """(d.hate_label = 'offensive'
        OR d.id IN (SELECT doc_id FROM comments WHERE hate_label = 'offensive'))""",
    "incitement": """(d.incitement = 1
        OR d.id IN (SELECT doc_id FROM comments WHERE incitement = 1))""",
    "flagged": """(d.hate_label IN ('hateful', 'offensive') OR d.incitement = 1
        OR d.id IN (SELECT doc_id FROM comments
            WHERE hate_label IN ('hateful', 'offensive') OR incitement = 1))""",
}
# Filters.debunk: documents repeating this known debunk, or any ("any")
WHERE_DEBUNK = "d.id IN (SELECT doc_id FROM debunk_matches WHERE debunk_id = ?)"
WHERE_ANY_DEBUNK = "d.id IN (SELECT doc_id FROM debunk_matches)"
WHERE_LANGUAGE = "d.language = ?"
WHERE_SOURCE = "d.source = ?"
# the day (step 7), never the date as given: a date naming no day matches no date filter
WHERE_DATE_FROM = "d.day >= ?"
WHERE_DATE_TO = "d.day <= ?"
TOP_NARRATIVES = """SELECT label, score FROM narratives
    WHERE doc_id = ? AND level = 'narrative' ORDER BY score DESC, label"""

# stats(): the bucket of a document, per grouping. Weeks are ISO 8601 (2024-W09; the
# first days of January may belong to the previous year's last week), computed by
# narrascope_iso_week, which each backend provides. All from the day (step 7): a date that
# names no day is undated (the bucket None), as stats_undated counts it.
BUCKETS = {
    "day": "d.day",
    "week": "narrascope_iso_week(d.day)",
    "month": "substr(d.day, 1, 7)",
    "source": "d.source",
    "language": "d.language",
}
# which narrative rows are counted: every coarse narrative, or the one asked for
STATS_LEVEL = "n.level = 'narrative'"
STATS_LABEL = "n.label = ?"
STATS_SCORE = "n.score >= ?"
STATS = """SELECT bucket, label, documents FROM (
        SELECT {bucket} AS bucket, n.label AS label, COUNT(DISTINCT d.id) AS documents
        FROM documents d JOIN narratives n ON n.doc_id = d.id
        WHERE {where}
        GROUP BY 1, 2
    ) counted
    ORDER BY bucket IS NULL, bucket, documents DESC, label"""
# stats_undated(): the documents STATS would count but cannot place in time (no day: no
# date, an empty one, or one naming no day), each once however many labels
STATS_UNDATED = """SELECT COUNT(DISTINCT d.id)
    FROM documents d JOIN narratives n ON n.doc_id = d.id
    WHERE d.day IS NULL AND {where}"""

# stats(hate=True): per bucket, the documents and their comments, and how many of each
# are flagged; a document is flagged hateful (offensive, incitement) as Filters.hate
# selects it: its article or any of its comments. Comments count in their document's
# bucket (its date, source, language).
HATE_STATS = """SELECT * FROM (
    SELECT {bucket} AS bucket,
        COUNT(*),
        SUM(CASE WHEN d.hate_label = 'hateful' OR c.hateful > 0 THEN 1 ELSE 0 END),
        SUM(CASE WHEN d.hate_label = 'offensive' OR c.offensive > 0 THEN 1 ELSE 0 END),
        SUM(CASE WHEN d.incitement = 1 OR c.incitement > 0 THEN 1 ELSE 0 END),
        COALESCE(SUM(c.n), 0),
        COALESCE(SUM(c.hateful), 0),
        COALESCE(SUM(c.offensive), 0),
        COALESCE(SUM(c.incitement), 0)
    FROM documents d LEFT JOIN (
        SELECT doc_id, COUNT(*) AS n,
            SUM(CASE WHEN hate_label = 'hateful' THEN 1 ELSE 0 END) AS hateful,
            SUM(CASE WHEN hate_label = 'offensive' THEN 1 ELSE 0 END) AS offensive,
            SUM(CASE WHEN incitement = 1 THEN 1 ELSE 0 END) AS incitement
        FROM comments GROUP BY doc_id
    ) c ON c.doc_id = d.id{where}
    GROUP BY 1
    ) counted
    ORDER BY bucket IS NULL, bucket"""

# facets(): distinct values and how many documents carry each, most frequent first.
FACETS = {
    "language": """SELECT language, COUNT(*) FROM documents WHERE language IS NOT NULL
        GROUP BY language ORDER BY COUNT(*) DESC, language""",
    "source": """SELECT source, COUNT(*) FROM documents WHERE source IS NOT NULL
        GROUP BY source ORDER BY COUNT(*) DESC, source""",
    "narrative": """SELECT label, COUNT(DISTINCT doc_id) FROM narratives
        WHERE level = 'narrative' GROUP BY label ORDER BY COUNT(DISTINCT doc_id) DESC, label""",
    "subnarrative": """SELECT label, COUNT(DISTINCT doc_id) FROM narratives
        WHERE level = 'subnarrative' GROUP BY label
        ORDER BY COUNT(DISTINCT doc_id) DESC, label""",
    "debunk": """SELECT debunk_id, COUNT(DISTINCT doc_id) FROM debunk_matches
        GROUP BY debunk_id ORDER BY COUNT(DISTINCT doc_id) DESC, debunk_id""",
}
# debunk_summary(): each known debunk repeated in the corpus, with the claim, verdict and
# url the latest match wrote (MAX: one value per id, the same in both backends), how
# many documents repeat it, and how many of them in a reader comment
DEBUNK_SUMMARY = """SELECT debunk_id, MAX(claim), MAX(verdict), MAX(url), COUNT(DISTINCT doc_id),
        COUNT(DISTINCT CASE WHEN comment_id IS NOT NULL THEN doc_id END)
    FROM debunk_matches GROUP BY debunk_id
    ORDER BY COUNT(DISTINCT doc_id) DESC, debunk_id"""
# debunked_in_comments(): the documents a reader comment of which repeats a known debunk
DEBUNKED_IN_COMMENTS = """SELECT COUNT(DISTINCT doc_id) FROM debunk_matches
    WHERE comment_id IS NOT NULL"""
# stats(debunks=True): per bucket, the documents and those repeating any known debunk
DEBUNK_STATS = """SELECT * FROM (
    SELECT {bucket} AS bucket, COUNT(*),
        SUM(CASE WHEN d.id IN (SELECT doc_id FROM debunk_matches) THEN 1 ELSE 0 END)
    FROM documents d{where}
    GROUP BY 1
    ) counted
    ORDER BY bucket IS NULL, bucket"""
