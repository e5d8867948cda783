"""PostgreSQL for the storage tests: the server named by ``NARRASCOPE_TEST_POSTGRES_URL``
(``.ci/setup-postgres.sh`` starts one), each test on a schema of its own. The fixtures
that use this are in conftest.py."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

PG_ENV = "NARRASCOPE_TEST_POSTGRES_URL"


def postgres_schema_url(admin: Any) -> Iterator[str]:
    """The test URL pointed at a fresh schema (search_path), dropped afterwards."""
    schema = "narrascope_test_" + uuid.uuid4().hex[:12]
    admin.execute(f'CREATE SCHEMA "{schema}"')
    url = os.environ[PG_ENV]
    joiner = "&" if "?" in url else "?"
    try:
        yield url + joiner + "options=" + quote(f"-csearch_path={schema}")
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
