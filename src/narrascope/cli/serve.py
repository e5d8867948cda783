"""``narrascope serve``: the workspace web server (HTTP API and page) over a corpus database."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from types import FrameType
from typing import Any

TOKEN_ENV = "NARRASCOPE_TOKEN"
# narrascope.serve.app.MIN_TOKEN_CHARS (a test keeps them equal): importing it here would
# load the web framework for every command
MIN_TOKEN_CHARS = 16
SHUTDOWN_GRACE_S = 2  # open requests get this long after SIGTERM, then they are cancelled
BACKLOG = 2048  # connections waiting to be accepted (uvicorn's default)


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="start the workspace web server: HTTP API and web page over a corpus database",
        description="Serve the corpus workspace (the page at /, the API under /api, its "
        "schema at /openapi.json). Binds to 127.0.0.1; any other address needs a token. "
        "Analysis runs in a small pool of worker threads: a short text is answered while a "
        "long one is analysed; a request whose client leaves, or that passes --timeout, is "
        "stopped at its next pipeline stage. Jobs are recorded next to the database and "
        "can be resumed after a restart. SIGTERM stops the server within seconds.",
    )
    p.add_argument(
        "--db",
        default="narrascope.db",
        metavar="PATH_OR_URL",
        help="corpus database: a SQLite file (created if missing) or a database URL "
        "(default: narrascope.db)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=_port, default=8000, help="port (default: 8000; 0: any free port)"
    )
    p.add_argument(
        "--token",
        help=f"require this token on every request (default: ${TOKEN_ENV}); needed for any "
        f"address other than loopback; at least {MIN_TOKEN_CHARS} characters",
    )
    p.add_argument(
        "--max-body-mb",
        type=float,
        default=20.0,
        metavar="N",
        help="largest request body (uploads included) in MB (default: 20)",
    )
    p.add_argument(
        "--max-text-mb",
        type=float,
        default=10.0,
        metavar="N",
        help="largest single text in MB of UTF-8, as `analyze --max-bytes` (default: 10); "
        "/api/analyze answers 413 above it, a job lists such a document as failed",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="time limit of one /api/analyze request (default: 120); past it the analysis "
        "is stopped and the answer is a 504. Jobs (POST /api/documents) have no limit",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="analysis threads sharing the loaded models (default: 2); long texts and jobs "
        "use all but one, so short texts never wait behind them",
    )
    p.add_argument(
        "--jobs-dir",
        metavar="DIR",
        help="where job records and their inputs are kept (default: <database file>.jobs "
        "next to a SQLite database; with PostgreSQL jobs are forgotten at exit unless set)",
    )
    p.set_defaults(run=run)


def _port(value: str) -> int:
    """An argparse ``type``: a TCP port, 0 (any free one) to 65535."""
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"a port from 0 to 65535, got {value!r}")
    return int(value)


def run(args: argparse.Namespace) -> int:
    from narrascope.serve.security import is_loopback

    token = args.token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host) and not token:
        print(
            f"narrascope: error: refusing to serve on {args.host} without a token: anyone who "
            f"can reach it could read and change the database. Set --token or ${TOKEN_ENV}, "
            "or bind to 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        print(
            f"narrascope: error: the token is {len(token)} characters long; use at least "
            f"{MIN_TOKEN_CHARS} (a short token can be guessed), e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(24))'",
            file=sys.stderr,
        )
        return 2
    for name in ("max_body_mb", "max_text_mb", "timeout", "workers"):
        if getattr(args, name) <= 0:
            option = "--" + name.replace("_", "-")
            print(f"narrascope: error: {option} must be positive", file=sys.stderr)
            return 2
    # the port first: a busy one is said before the database is opened (or created) and
    # before "serving" is printed; the server then runs on this very socket
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"narrascope: error: {_bind_problem(exc, args.host, args.port)}", file=sys.stderr)
        return 2
    try:
        return _run_bound(args, sock, token)
    finally:
        sock.close()


def _run_bound(args: argparse.Namespace, sock: socket.socket, token: str | None) -> int:
    from narrascope.serve import create_app
    from narrascope.serve.security import LOOPBACK_HOSTS, is_loopback

    app = create_app(
        args.db,
        token=token,
        max_body_bytes=int(args.max_body_mb * 1_000_000),
        max_text_bytes=int(args.max_text_mb * 1_000_000),
        timeout=args.timeout,
        workers=args.workers,
        jobs_dir=args.jobs_dir,
        # loopback without a token: only this machine's names, against DNS rebinding
        allowed_hosts=LOOPBACK_HOSTS if is_loopback(args.host) and not token else None,
    )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    port = sock.getsockname()[1]  # the one bound (--port 0 picks any free one)
    print(
        f"narrascope: serving {_shown_db(args.db)} at http://{shown}:{port}/"
        + ("?token=<token>" if token else ""),
        file=sys.stderr,
        flush=True,
    )
    _serve(app, args.host, port, sock)
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port``, bound as uvicorn binds one (IPv6 for an
    address with a colon; SO_REUSEADDR, so a restart need not wait for old connections).
    Listening at once: a client connecting after "serving" is printed waits in the
    backlog until uvicorn answers, never finds the port closed."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _bind_problem(exc: OSError, host: str, port: int) -> str:
    """What a failed bind means for the user, and what to do."""
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use (another server?); pick another with --port"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port}; pick one above 1023 with --port"
    reason = exc.strerror or str(exc)
    return f"cannot listen on {host}:{port} ({reason}); check --host and --port"


def _shown_db(db: str) -> str:
    """The database as the console may show it: a URL without its password (a terminal
    is read over shoulders, recorded and pasted into bug reports)."""
    if "://" not in db:
        return db
    from narrascope.store.postgres import redact

    return redact(db)


def _serve(app: Any, host: str, port: int, sock: socket.socket) -> None:
    """Run ``app`` under uvicorn on ``sock`` (bound to ``host:port``), telling it the
    moment SIGTERM or Ctrl-C arrives.

    Why: uvicorn first waits for open requests to end, and a request waiting for a long
    analysis would keep it waiting; told at once, the analyses stop at their next stage,
    those requests end with a 503 and the server is gone within seconds.
    """
    import numpy  # noqa: F401  (loads BLAS, so that its thread count can be set)
    import uvicorn
    from threadpoolctl import threadpool_limits

    # One BLAS thread per analysis: the workers share the cores. Measured on the 2-core
    # machine with a 2 MB text under analysis: a short analysis took up to 4.3 s with
    # OpenBLAS's two threads per matrix product, 0.76 s with one (the long text, too,
    # finished sooner: 78 s instead of 88 s).
    threadpool_limits(1, user_api="blas")

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            app.state.jobs.stop_soon()
            super().handle_exit(sig, frame)

        async def serve(self, sockets: list[socket.socket] | None = None) -> None:
            await super().serve(sockets or [sock])  # the socket bound before "serving"

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_GRACE_S
    )
    Server(config).run()
