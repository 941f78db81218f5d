"""Getting a snapshot ready for the optimisation core.

The core receives a complete snapshot (every package has its lot and locality) and a travel
matrix; it never computes geography. This module joins the two packages: lots and localities
from :mod:`geodata` (the embedded Argyll and Bute lots when a snapshot brings none of its own),
travel from the snapshot's ``travel`` section when the caller supplied one, else from the
embedded road and ferry network.
"""

from __future__ import annotations

import threading

from pydantic import ValidationError
from shapely.geometry import shape

from allocator.io import problems_from_validation_error
from allocator.model import Lot, Package, Problem, Snapshot
from allocator.travel import TravelMatrix
from geodata.errors import GeodataError
from geodata.gazetteer import argyll_gazetteer
from geodata.lots import LotIndex, argyll_lot_index, argyll_lots
from geodata.travel import TravelSource, embedded_source


def travel_matrix(snapshot: Snapshot, source: TravelSource | None = None) -> TravelMatrix:
    """Travel minutes and km between every carer base and package location of ``snapshot``.

    Parameters
    ----------
    snapshot
        Its ``travel`` section, when present, is used as given.
    source
        Where to compute travel otherwise; the embedded Argyll and Bute network by default.

    Raises
    ------
    geodata.errors.GeodataError
        When a point lies outside the area the source covers.
    """
    modes = sorted({"drive"} | {c.travel_mode for c in snapshot.carers})
    points = snapshot.points()
    if snapshot.travel is not None:
        travel = TravelMatrix.from_supplied(snapshot.travel)
        travel.require(points, modes)
        return travel
    source = source or embedded_source()
    minutes = {}
    km = {}
    for mode in modes:
        minutes[mode], km[mode] = source.matrix(points, mode)
    return TravelMatrix(points=tuple(points), minutes=minutes, km=km)


_KEPT_INDEXES = 8
_indexes: list[tuple[tuple[Lot, ...], LotIndex]] = []
_indexes_lock = threading.Lock()


def _lot_index(snapshot: Snapshot) -> LotIndex | None:
    if not snapshot.lots:
        return argyll_lot_index()
    lots = tuple(lot for lot in snapshot.lots if lot.polygon is not None)
    if not lots:
        return None
    # Projecting a council's lot polygons costs tens of milliseconds, and every new referral
    # without a lot needs the index. Lots are immutable and a council's data keeps the same
    # Lot objects until its lots change, so the index is kept for the same objects.
    with _indexes_lock:
        for kept, index in _indexes:
            if len(kept) == len(lots) and all(a is b for a, b in zip(kept, lots, strict=True)):
                return index
    index = LotIndex.from_lonlat(
        [lot.id for lot in lots],
        [lot.name for lot in lots],
        [shape(lot.polygon) for lot in lots if lot.polygon is not None],
    )
    with _indexes_lock:
        _indexes.insert(0, (lots, index))
        del _indexes[_KEPT_INDEXES:]
    return index


class FrameworkLotsError(GeodataError):
    """A snapshot without lots of its own names lots the embedded framework does not have."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        ids = ", ".join(info.id for info in argyll_lots())
        msg = (
            f"{problems[0]}; a snapshot without lots gets the six Argyll and Bute framework "
            f"lots ({ids}), so its providers and packages must name those, or the snapshot "
            "must bring its own lots"
        )
        super().__init__(msg)


def prepare_snapshot(snapshot: Snapshot, *, check_lot_ids: bool = True) -> Snapshot:
    """``snapshot`` with its lots, every package's ``lot_id`` and ``locality`` filled in.

    A snapshot without lots gets the six Argyll and Bute framework lots, and (unless
    ``check_lot_ids`` is false, for completing one package) the lot ids its providers and
    packages name are checked against them. Lots come from the package's location (points
    just offshore join the nearest lot); localities are the nearest gazetteer place in the
    lot, for packages inside Argyll and Bute.

    Raises
    ------
    geodata.errors.GeodataError
        A package outside every lot, or lots without polygons for a package with no lot_id.
    FrameworkLotsError
        The snapshot has no lots and a provider or package names a lot the embedded six lack.
    """
    lots = snapshot.lots or [
        Lot(
            id=info.id,
            name=info.name,
            polygon=info.polygon,
            adjacent_lot_ids=list(info.adjacent_lot_ids),
        )
        for info in argyll_lots()
    ]
    packages = snapshot.all_packages()
    missing_lot = [p for p in packages if p.lot_id is None]
    lot_ids: dict[str, str] = {}
    if missing_lot:
        index = _lot_index(snapshot)
        if index is None:
            msg = (
                f"package {missing_lot[0].id} has no lot_id and the snapshot's lots have no "
                "polygons to find it from; give each package a lot_id or each lot a polygon"
            )
            raise GeodataError(msg)
        found = index.lookup([p.location for p in missing_lot])
        lot_ids = {p.id: lot_id for p, lot_id in zip(missing_lot, found, strict=True)}

    localities: dict[str, str] = {}
    missing_locality = [p for p in packages if p.locality is None]
    if missing_locality:
        points = [p.location for p in missing_locality]
        inside = argyll_lot_index().positions(points) >= 0
        if inside.all():
            names = argyll_gazetteer().localities(points)
            localities = {p.id: n for p, n in zip(missing_locality, names, strict=True)}

    def complete(package: Package) -> Package:
        update: dict[str, str] = {}
        if package.id in lot_ids:
            update["lot_id"] = lot_ids[package.id]
        if package.id in localities:
            update["locality"] = localities[package.id]
        return package.model_copy(update=update) if update else package

    ready = snapshot.model_copy(
        update={
            "lots": lots,
            "packages": [complete(p) for p in snapshot.packages],
            "referrals": [complete(p) for p in snapshot.referrals],
        }
    )
    if check_lot_ids and not snapshot.lots:
        # Without lots, the snapshot's own validation could not check the lot ids it names.
        try:
            Snapshot.model_validate(dict(ready))
        except ValidationError as error:
            raise FrameworkLotsError(problems_from_validation_error(error)) from None
    return ready


def prepare(
    snapshot: Snapshot, source: TravelSource | None = None
) -> tuple[Snapshot, TravelMatrix]:
    """The completed snapshot and its travel matrix, ready for the optimisation core."""
    ready = prepare_snapshot(snapshot)
    return ready, travel_matrix(ready, source)
