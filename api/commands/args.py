"""Argument types shared by the commands: each names the rule a bad value breaks."""

from __future__ import annotations

import argparse


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
