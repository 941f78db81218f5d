"""Migrations, settings and the keys command."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.cli import main
from api.db import connect, migrate
from api.settings import Settings, get_settings
from api.tables import Base


def test_migrations_build_exactly_the_tables_the_code_uses(settings: Settings) -> None:
    """After migrating, Alembic finds no difference between the schema and the models."""
    db = connect(settings)
    try:
        migrate(db)
        migrate(db)
        with db.write_engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        db.dispose()


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """DATABASE_URL and CAREALLOC_* are read; postgresql:// URLs get the psycopg 3 driver."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/care")
    monkeypatch.setenv("CAREALLOC_MAX_BODY_BYTES", "2048")
    settings = get_settings()
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@db.example/care"
    assert settings.max_body_bytes == 2048
    monkeypatch.delenv("DATABASE_URL")
    settings = get_settings(data_dir=tmp_path)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'carealloc.db'}"


def test_keys_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """keys create prints the key once; list shows it without the secret; revoke disables it."""
    base = ["keys", "--data-dir", str(tmp_path)]
    assert main([*base, "create", "--tenant", "argyll-bute", "--role", "admin"]) == 0
    out = capsys.readouterr().out
    assert "created council 'argyll-bute'" in out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("ca_")
    key_id = secret.split("_")[1]
    assert main([*base, "list", "--tenant", "argyll-bute"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "active" in listing and secret not in listing
    assert main([*base, "revoke", key_id]) == 0
    assert main([*base, "list", "--tenant", "argyll-bute"]) == 0
    assert "revoked" in capsys.readouterr().out


def test_keys_mistakes_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A provider key without --provider, or revoking an unknown key, exits 2 with a message."""
    base = ["keys", "--data-dir", str(tmp_path)]
    assert main([*base, "create", "--tenant", "t", "--role", "provider"]) == 2
    assert "--provider is needed" in capsys.readouterr().err
    assert main([*base, "revoke", "0123456789ab"]) == 2
    assert "no key" in capsys.readouterr().err
