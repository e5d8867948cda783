"""The web app served for real (uvicorn in a daemon thread, on a free loopback port), for
the browser and page tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import uvicorn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The real app under uvicorn in a daemon thread, on a free loopback port."""

    def __init__(self, app: Any, db: Path | None = None, port: int | None = None) -> None:
        self.db = db
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def get(self, path: str) -> Any:
        with urlopen(self.url + path, timeout=30) as res:
            return json.loads(res.read())


def watched_page(context: Any, base: str) -> tuple[Any, list[str]]:
    """A new page of ``context`` at ``base`` whose page errors, dialogs and console errors
    are collected in the returned list (each browser test asserts it stays empty, less the
    messages it expects in ``page.expected``)."""
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    pg.base = base
    pg.expected = []
    return pg, problems
