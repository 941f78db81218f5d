"""Results tables: rows as CSV for machines, and as markdown, terminal text or HTML for people.

Two shapes: rows as mappings (one key per column), or a :data:`Table` of a header and rows of
ready-formatted cells.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from allocator.io import write_text_atomic

Table = tuple[list[str], list[list[str]]]
"""A header and rows of ready-formatted cells."""


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` (all with the first row's keys) as CSV, all at once: a run stopped while
    writing leaves the previous results, never half a file."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, text.getvalue())


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """``rows`` as the lines of a markdown table."""
    header = list(rows[0])
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(r[k]) for k in header) + " |" for r in rows),
    ]


def text_table(table: Table) -> str:
    """The table for a terminal: first column left, the others right-aligned."""
    header, rows = table
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def markdown(table: Table) -> str:
    """The table as markdown."""
    header, rows = table
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(table: Table) -> str:
    """The table as HTML."""
    header, rows = table
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
