"""Engines, sessions and migrations.

SQLite (the embedded default) runs in WAL mode so reads never wait for a writer; write
transactions start with ``BEGIN IMMEDIATE`` so writers queue for the single write lock instead
of failing half-way. On PostgreSQL every write transaction locks its tenant's row
(``SELECT ... FOR UPDATE``, see :mod:`api.deps`), which serialises the writes of one council
and lets councils write in parallel. Alembic migrations ship inside the package and are
applied on start by :func:`migrate`.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from api.tables import CHANGED_VERSION

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_SQLITE_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Database:
    """A read engine and a write engine (the same one on PostgreSQL)."""

    url: str
    read_engine: Engine
    write_engine: Engine
    write_lock: AbstractContextManager[Any] = field(default_factory=nullcontext)
    """Held by a request's write transaction. On SQLite a lock of this process: its writers
    queue here and are handed the database's write lock in turn, rather than polling for it
    with SQLite's back-off (which lets one writer wait for seconds under load)."""

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded database."""
        return self.read_engine.dialect.name == "sqlite"

    def read_session(self) -> Session:
        """A session for reading; it never blocks a writer."""
        return _READ(bind=self.read_engine)

    def write_session(self) -> Session:
        """A session for one write transaction."""
        return _WRITE(bind=self.write_engine)

    def ping(self) -> None:
        """Raise unless the database answers."""
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


_READ = sessionmaker(expire_on_commit=False, autoflush=False)
_WRITE = sessionmaker(expire_on_commit=False, autoflush=False)


@event.listens_for(_WRITE, "before_flush")
def _stamp_changed_rows(session: Session, _context: Any, _instances: Any) -> None:
    """Mark every row a write adds or changes with the data version it will commit."""
    version = session.info.get(CHANGED_VERSION)
    if version is None:
        return
    for row in (*session.new, *session.dirty):
        if hasattr(row, CHANGED_VERSION):
            row.changed_version = version


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int, synchronous: str) -> Engine:
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def connect(settings: Settings) -> Database:
    """Engines for ``settings``' database; creates the data directory for SQLite."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        size = settings.db_pool_size
        return Database(
            url=url,
            write_lock=threading.Lock(),
            read_engine=_sqlite_engine(
                url, immediate=False, pool_size=size, synchronous=settings.sqlite_synchronous
            ),
            write_engine=_sqlite_engine(
                url, immediate=True, pool_size=size, synchronous=settings.sqlite_synchronous
            ),
        )
    engine = create_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size, pool_pre_ping=True
    )
    return Database(url=url, read_engine=engine, write_engine=engine)


def alembic_config(db: Database) -> Config:
    """An Alembic configuration pointing at the packaged migrations and ``db``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.write_engine
    return config


def migrate(db: Database) -> None:
    """Bring the schema up to the newest migration (a no-op when it is already there)."""
    command.upgrade(alembic_config(db), "head")
