"""``carealloc serve``: run the REST API (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import uvicorn

from api.app import create_app
from api.settings import get_settings


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the REST API (docs at /docs, status page at /status)",
        description="Run the carealloc REST API. Settings come from the environment "
        "(CAREALLOC_DATA_DIR, DATABASE_URL or CAREALLOC_DATABASE_URL, ...); options override "
        "them. Without a database URL an embedded SQLite file under the data directory is used. "
        "The schema is migrated on start.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--database-url", help="e.g. postgresql://user@host/db")
    parser.add_argument("--data-dir", type=Path, help="folder for the embedded SQLite database")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (default 1; each caches data)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    settings = get_settings(database_url=args.database_url, data_dir=args.data_dir)
    print(f"carealloc serve: http://{args.host}:{args.port} (database {_safe(settings)})")
    if args.workers > 1:
        # Worker processes build their own app from the environment.
        os.environ["CAREALLOC_DATA_DIR"] = str(settings.data_dir)
        if settings.database_url:
            os.environ["CAREALLOC_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
        )
        return 0
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def _safe(settings: Any) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)
