"""``narrascope serve``: the workspace web server (HTTP API and page) over a corpus database."""

from __future__ import annotations

import argparse
import os
import sys

TOKEN_ENV = "NARRASCOPE_TOKEN"


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="start the workspace web server: HTTP API and web page over a corpus database",
        description="Serve the corpus workspace (the page at /, the API under /api, its "
        "schema at /openapi.json). Binds to 127.0.0.1; any other address needs a token.",
    )
    p.add_argument(
        "--db",
        default="narrascope.db",
        metavar="PATH_OR_URL",
        help="corpus database: a SQLite file (created if missing) or a database URL "
        "(default: narrascope.db)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument(
        "--token",
        help=f"require this token on every request (default: ${TOKEN_ENV}); needed for any "
        "address other than loopback",
    )
    p.add_argument(
        "--max-body-mb",
        type=float,
        default=20.0,
        metavar="N",
        help="largest request body (uploads included) in MB (default: 20)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from narrascope.serve.security import LOOPBACK_HOSTS, is_loopback

    token = args.token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host) and not token:
        print(
            f"narrascope: error: refusing to serve on {args.host} without a token: anyone who "
            f"can reach it could read and change the database. Set --token or ${TOKEN_ENV}, "
            "or bind to 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    if args.max_body_mb <= 0:
        print("narrascope: error: --max-body-mb must be positive", file=sys.stderr)
        return 2
    import uvicorn

    from narrascope.serve import create_app

    app = create_app(
        args.db,
        token=token,
        max_body_bytes=int(args.max_body_mb * 1_000_000),
        # loopback without a token: only this machine's names, against DNS rebinding
        allowed_hosts=LOOPBACK_HOSTS if is_loopback(args.host) and not token else None,
    )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"narrascope: serving {args.db} at http://{shown}:{args.port}/"
        + ("?token=<token>" if token else ""),
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
