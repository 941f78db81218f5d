"""The carealloc CLI: help for every subcommand; user mistakes give a message, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import COMMAND_MODULES, main

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.mark.parametrize("command", COMMAND_MODULES)
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`carealloc COMMAND --help` prints usage and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"usage: carealloc {command}" in capsys.readouterr().out


def test_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A snapshot path that does not exist exits 2 naming the file."""
    assert main(["validate", "no-such-file.json"]) == 2
    err = capsys.readouterr().err
    assert "no-such-file.json is not valid" in err
    assert "file not found" in err
    assert "Traceback" not in err


def test_invalid_json_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Broken JSON exits 2 with the line and column."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"providers": [', encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_schema_violation_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A window ending before it starts is reported with the field path."""
    data = json.loads((EXAMPLES / "snapshot.json").read_text(encoding="utf-8"))
    data["referrals"][0]["visits"][1]["latest_start_min"] = 100
    bad = tmp_path / "snap.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "referrals[0] (R-001).visits[1] (lunch)" in err
    assert "time window ends before it starts" in err


def test_validate_accepts_the_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The worked example validates."""
    assert main(["validate", str(EXAMPLES / "snapshot.json")]) == 0
    assert "valid snapshot 'Mid Argyll worked example'" in capsys.readouterr().out


def test_validate_refuses_what_allocate_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without lots the six Argyll and Bute lots apply, so a provider naming another lot is
    refused by validate (exit 2, the field named), as allocate refuses it, not passed."""
    data = json.loads((EXAMPLES / "snapshot.json").read_text(encoding="utf-8"))
    data["lots"] = []
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(good)]) == 0
    assert "the six Argyll and Bute framework lots apply" in capsys.readouterr().out
    data["providers"][0]["lot_ids"] = ["0"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(bad)]) == 2
    assert "providers[0].lot_ids: unknown lot '0'" in capsys.readouterr().err
    assert main(["allocate", str(bad), "--out", str(tmp_path / "plan.json")]) == 2
    assert "providers[0].lot_ids: unknown lot '0'" in capsys.readouterr().err
    assert not (tmp_path / "plan.json").exists()


def test_evaluate_exit_status_follows_the_hard_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """0 for the feasible worked example; 1 once a visit is moved outside its window."""
    snapshot = str(EXAMPLES / "snapshot.json")
    assert main(["evaluate", snapshot, str(EXAMPLES / "plan.json"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["violations"] == []
    assert report["kpis"]["packages_placed"] == 3

    plan = json.loads((EXAMPLES / "plan.json").read_text(encoding="utf-8"))
    plan["placements"][2]["assignments"][1]["start_min"] = 800
    broken = tmp_path / "plan.json"
    broken.write_text(json.dumps(plan), encoding="utf-8")
    assert main(["evaluate", snapshot, str(broken)]) == 1
    assert "[time_window]" in capsys.readouterr().out
