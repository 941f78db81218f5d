"""Reading and writing snapshots and plans as JSON, with errors a person can act on.

A bad file never produces a traceback: :class:`InputError` carries one :class:`Problem` per
broken rule, each naming the field path (``packages[3] (P-017).visits[0].latest_start_min``).
Writes go to a temporary file first and are renamed into place, so a crash never leaves a
half-written plan.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from allocator.model import CrossReferenceError, Plan, Problem, Snapshot

M = TypeVar("M", bound=BaseModel)


class InputError(ValueError):
    """An input file or document that cannot be used, with one problem per broken rule."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{source} is not valid:\n{lines}{more}")


def _label(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as ``a[3] (P-017).b``, naming ids found in the raw input."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and 0 <= step < len(node):
                node = node[step]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f" ({node['id']})"
            else:
                node = None
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts)


def problems_from_validation_error(error: ValidationError, raw: Any = None) -> list[Problem]:
    """One :class:`Problem` per pydantic error, with readable paths and messages."""
    return problems_from_errors(error.errors(include_url=False), raw)


def problems_from_errors(errors: Sequence[Any], raw: Any = None) -> list[Problem]:
    """One :class:`Problem` per item of pydantic's ``errors()`` list (or one shaped like it,
    as web frameworks pass on), locating each in the decoded input ``raw``."""
    problems: list[Problem] = []
    for item in errors:
        ctx = item.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, CrossReferenceError):
            problems.extend(cause.problems)
            continue
        message = str(item["msg"])
        message = message.removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a known field (check the spelling against docs/formats.md)"
        elif item["type"] == "missing":
            message = "is required"
        problems.append(Problem(path=_label(raw, tuple(item["loc"])), message=message))
    return problems


def parse_document(model: type[M], data: Any, source: str) -> M:
    """Validate already-decoded JSON ``data`` as ``model``, raising :class:`InputError`."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError(source, problems_from_validation_error(error, data)) from None


def read_json(path: str | Path) -> Any:
    """Decode a JSON file, raising :class:`InputError` for a missing file or bad JSON."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), [Problem(path="", message="file not found")]) from None
    except IsADirectoryError:
        raise InputError(
            str(path), [Problem(path="", message="is a directory, not a file")]
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            str(path), [Problem(path="", message=f"cannot be read ({error})")]
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        msg = f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        raise InputError(str(path), [Problem(path="", message=msg)]) from None


def read_snapshot(path: str | Path) -> Snapshot:
    """Load and validate a snapshot JSON file."""
    return parse_document(Snapshot, read_json(path), str(path))


def read_plan(path: str | Path) -> Plan:
    """Load and validate a plan JSON file."""
    return parse_document(Plan, read_json(path), str(path))


def to_json(model: BaseModel) -> str:
    """Serialise a snapshot, plan or other model as indented JSON, omitting nothing.

    A snapshot's supplied travel matrices are written one compact row per line: indenting
    every number would make a 1,000-point matrix several times larger.
    """
    if not isinstance(model, Snapshot) or model.travel is None:
        return model.model_dump_json(indent=2) + "\n"
    head = model.model_dump_json(indent=2, exclude={"travel"})
    travel = model.travel.model_dump(mode="json")
    parts = []
    for key, value in travel.items():
        if value is None:
            text = "null"
        elif key == "points":
            text = _rows(value, "    ")
        else:
            inner = ",\n".join(
                f'      "{name}": {"null" if rows is None else _rows(rows, "        ")}'
                for name, rows in value.items()
            )
            text = "{\n" + inner + "\n    }"
        parts.append(f'    "{key}": {text}')
    section = '  "travel": {\n' + ",\n".join(parts) + "\n  }"
    return head[: head.rindex("}")].rstrip() + ",\n" + section + "\n}\n"


def _rows(rows: list[Any], indent: str) -> str:
    lines = ",\n".join(indent + json.dumps(row, separators=(",", ":")) for row in rows)
    return "[\n" + lines + "\n" + indent[:-2] + "]"


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` all at once: a crash leaves the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_model(path: str | Path, model: BaseModel) -> None:
    """Write a model as JSON, atomically."""
    write_text_atomic(path, to_json(model))
