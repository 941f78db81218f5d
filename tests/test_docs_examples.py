"""Every example in docs/ is loaded and checked: the documentation is a golden test."""

from __future__ import annotations

import json
import re
from pathlib import Path

from allocator.evaluate import evaluate
from allocator.io import read_plan, read_snapshot
from allocator.model import Plan, PlanChanges, Snapshot
from allocator.travel import TravelMatrix

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_worked_example_snapshot_and_plan_are_valid_and_feasible() -> None:
    """docs/examples/plan.json breaks no hard rule of docs/examples/snapshot.json."""
    snapshot = read_snapshot(DOCS / "examples" / "snapshot.json")
    plan = read_plan(DOCS / "examples" / "plan.json")
    assert snapshot.travel is not None
    result = evaluate(snapshot, plan, TravelMatrix.from_supplied(snapshot.travel))
    assert result.is_feasible, result.violations
    assert result.kpis.packages_placed == 3
    assert result.kpis.packages_unplaced == 1
    assert result.kpis.travel_min_per_week == 280.0


def test_json_blocks_in_formats_md_are_valid_fragments() -> None:
    """Each ```json block in docs/formats.md parses, and the snapshot/plan blocks validate."""
    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "docs/formats.md has no JSON examples"
    for block in blocks:
        data = json.loads(block)
        if "providers" in data:
            Snapshot.model_validate(data)
        elif "placements" in data:
            Plan.model_validate(data)
        elif "travel_min_per_week_saved" in data:
            PlanChanges.model_validate(data)
