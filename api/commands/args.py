"""Argument types shared by the commands: each names the rule a bad value breaks."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def positive_seconds(text: str) -> float:
    """More than 0 seconds."""
    value = _number(text, "a number of seconds")
    if not value > 0:
        msg = "must be more than 0 seconds"
        raise argparse.ArgumentTypeError(msg)
    return value


def whole_number(text: str) -> int:
    """0, 1, 2, ..."""
    if not text.isdigit():
        msg = f"{text!r} is not a whole number of 0 or more"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def at_least_one(text: str) -> int:
    """1, 2, ..."""
    value = whole_number(text)
    if value < 1:
        msg = "must be at least 1"
        raise argparse.ArgumentTypeError(msg)
    return value


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        msg = f"{text!r} is not {what}"
        raise argparse.ArgumentTypeError(msg) from None


def seconds_up_to_an_hour(text: str) -> float:
    """More than 0 and at most 3600 seconds."""
    value = _number(text, "a number of seconds")
    if not 0 < value <= 3600:
        msg = "must be more than 0 and at most 3600 seconds"
        raise argparse.ArgumentTypeError(msg)
    return value


def _between(text: str, what: str, low: float, high: float, unit: str) -> float:
    value = _number(text, what)
    if not low <= value <= high:
        msg = f"must be between {low:g} and {high:g}{unit}"
        raise argparse.ArgumentTypeError(msg)
    return value


def ratio(text: str) -> float:
    """A number from 0.1 to 10 (carer hours over commissioned hours)."""
    return _between(text, "a number", 0.1, 10, "")


def share(text: str) -> float:
    """A share from 0 to 1."""
    return _between(text, "a number", 0, 1, "")


def travel_minutes_per_hour(text: str) -> float:
    """A cap on travel per hour of care: 0 to 600 minutes."""
    return _between(text, "a number of minutes", 0, 600, " minutes per hour of care")


def output_file(text: str) -> Path:
    """A file the command can write when its work is done: checked before the work starts, so
    a long run never ends in a write that fails."""
    path = Path(text)
    if path.is_dir():
        msg = f"{text} is a folder; give the name of a file to write"
        raise argparse.ArgumentTypeError(msg)
    if path.exists() and not os.access(path, os.W_OK):
        msg = f"no permission to write {text}"
        raise argparse.ArgumentTypeError(msg)
    _check_folder_writable(path.parent, text)
    return path


def output_folder(text: str) -> Path:
    """A folder the command can write its results into (made if missing): checked before the
    work starts."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        msg = f"{text} is a file, not a folder"
        raise argparse.ArgumentTypeError(msg)
    _check_folder_writable(path, text)
    return path


def _check_folder_writable(folder: Path, text: str) -> None:
    """The nearest folder that exists on the way to ``folder`` is one the user may write in."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        msg = f"cannot write {text}: {existing} is a file, not a folder"
        raise argparse.ArgumentTypeError(msg)
    if not os.access(existing, os.W_OK | os.X_OK):
        msg = f"cannot write {text}: no permission to write in {existing}"
        raise argparse.ArgumentTypeError(msg)


def add_plan_out(parser: argparse.ArgumentParser) -> None:
    """The ``--out PLAN.json`` of the commands that write a plan."""
    parser.add_argument(
        "--out",
        required=True,
        type=output_file,
        metavar="PLAN.json",
        help="where to write the plan",
    )
