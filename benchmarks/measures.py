"""Measures shared by the demo, the benchmarks and the simulation, read from carers' runs."""

from __future__ import annotations

from collections.abc import Collection

from allocator.model import Plan
from allocator.runs import RunsView, Stop


def added_travel_by_carer_day(
    view: RunsView, plan: Plan, package_ids: Collection[str]
) -> dict[tuple[int, str], float]:
    """Travel minutes a week the plan's placements of ``package_ids`` add to each carer's day.

    All of them are put into a copy of the runs together, so two new packages sharing a carer's
    day are measured as that day's real added travel, not the sum of each alone.

    Returns
    -------
    dict
        (carer index in ``view``, day) to added travel minutes on that day of the week.
    """
    after = view.copy()
    touched: set[tuple[int, str]] = set()
    for placement in plan.placements:
        if placement.package_id not in package_ids:
            continue
        package = view.snapshot.package(placement.package_id)
        point = view.point_of(package)
        for a in placement.assignments:
            duration = package.visit(a.visit_id).duration_min
            stop = Stop(a.start_min, a.start_min + duration, point, package.id, a.visit_id)
            for carer_id in a.carer_ids:
                carer = view.carer_index[carer_id]
                after.insert(carer, a.day, stop)
                touched.add((carer, a.day))
    return {(c, d): after.travel_min(c, d) - view.travel_min(c, d) for c, d in sorted(touched)}
