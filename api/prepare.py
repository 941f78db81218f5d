"""Getting a snapshot ready for the optimisation core: travel times for all its points."""

from __future__ import annotations

from allocator.model import Snapshot
from allocator.travel import TravelMatrix
from api.errors import NotBuiltYetError


def travel_matrix(snapshot: Snapshot) -> TravelMatrix:
    """Travel minutes and km between every carer base and package location of ``snapshot``.

    Uses the snapshot's own ``travel`` section when the caller supplied one.
    """
    if snapshot.travel is not None:
        travel = TravelMatrix.from_supplied(snapshot.travel)
        travel.require(snapshot.points(), sorted({c.travel_mode for c in snapshot.carers}))
        return travel
    msg = (
        "this snapshot has no 'travel' section, and computing travel times from the embedded "
        "geography is not built yet (issue #3); supply travel times as in docs/formats.md"
    )
    raise NotBuiltYetError(msg)
