"""Where a command writes: an --out it cannot write is refused before the work starts, naming
the option, and a write that fails at the end is an error message, never a traceback."""

from __future__ import annotations

import argparse
import errno
import os
from pathlib import Path
from typing import Any

import pytest

import api.commands.allocate as allocate_command
from api.cli import main
from api.commands.args import output_file, output_folder

EXAMPLE = str(Path(__file__).resolve().parents[2] / "docs" / "examples" / "snapshot.json")


def _status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exited:
        return int(str(exited.code))


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A file where a folder is wanted."""
    path = tmp_path / "notes.txt"
    path.write_text("a broker's notes\n", encoding="utf-8")
    return path


FILE_COMMANDS = [
    ["generate", "--profile", "argyll", "--seed", "1", "--clients", "30"],
    ["allocate", EXAMPLE],
    ["reoptimise", EXAMPLE],
]
FOLDER_COMMANDS = [
    ["demo"],
    ["bench", "simulate", "--quick"],
    ["bench", "waiting"],
    ["bench", "nightly"],
    ["bench", "allocation"],
    ["bench", "geodata"],
    ["bench", "solomon", "--quick"],
    ["bench", "hhc", "--quick"],
    ["bench", "api"],
]


@pytest.mark.parametrize("command", FILE_COMMANDS, ids=lambda c: c[0])
def test_a_file_inside_a_file_is_refused_naming_out(
    command: list[str], a_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _status([*command, "--out", str(a_file / "plan.json")]) == 2
    err = capsys.readouterr().err
    assert "argument --out" in err and "is a file, not a folder" in err
    assert "Traceback" not in err
    assert a_file.read_text(encoding="utf-8") == "a broker's notes\n"


@pytest.mark.parametrize("command", FILE_COMMANDS, ids=lambda c: c[0])
def test_a_folder_given_as_the_file_is_refused(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _status([*command, "--out", str(tmp_path)]) == 2
    assert "give the name of a file to write" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", FOLDER_COMMANDS, ids=" ".join)
def test_results_folder_that_is_a_file_is_refused_before_the_run(
    command: list[str], a_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before this check a 3-hour simulation ran to the end and then failed to write."""
    assert _status([*command, "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert "argument --out" in err and "notes.txt is a file, not a folder" in err
    assert a_file.read_text(encoding="utf-8") == "a broker's notes\n"


def test_folders_that_do_not_exist_yet_are_accepted(tmp_path: Path) -> None:
    assert output_folder(str(tmp_path / "results" / "today")) == tmp_path / "results" / "today"
    assert output_file(str(tmp_path / "plans" / "plan.json")) == tmp_path / "plans" / "plan.json"


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="the superuser may write anywhere, so a folder it cannot write cannot be made",
)
def test_a_folder_without_permission_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(argparse.ArgumentTypeError, match="no permission to write in"):
        output_folder(str(locked / "results"))


def test_a_write_failing_at_the_end_is_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A disk filling up during the run: exit 2 naming the file and the reason."""
    out = tmp_path / "plan.json"

    def disk_full(path: Any, model: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(allocate_command, "write_model", disk_full)
    assert main(["allocate", EXAMPLE, "--time-limit", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"could not read or write {out}: " in err
    assert os.strerror(errno.ENOSPC) in err
    assert "Traceback" not in err


def test_a_refusal_with_no_file_says_what_the_system_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port already in use, say: not blamed on a file."""

    def port_in_use(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))

    monkeypatch.setattr(allocate_command, "prepare", port_in_use)
    assert main(["allocate", EXAMPLE, "--out", "plan.json"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"carealloc allocate: error: {os.strerror(errno.EADDRINUSE)}"
