"""Plausibility of the embedded Argyll and Bute network, places and snapshot preparation.

The +/-25% realism target is measured by benchmarks/geodata_travel.py; these tests check that
journeys take the right crossings and that nothing a client could live in is cut off.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from allocator.model import Lot, Snapshot
from api.prepare import FrameworkLotsError, prepare, prepare_snapshot, travel_matrix
from geodata.argyll import argyll_network
from geodata.errors import GeodataError, UnknownPlaceError
from geodata.gazetteer import argyll_gazetteer

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "snapshot.json"


def route(a: str, b: str, mode: str = "drive"):  # type: ignore[no-untyped-def]
    """The route between two gazetteer places."""
    places = argyll_gazetteer()
    return argyll_network().route(places.find(a).point, places.find(b).point, mode)


def test_oban_to_tobermory_takes_the_craignure_ferry() -> None:
    """Mull is reached from Oban on the Craignure ferry."""
    assert route("Oban", "Tobermory").ferries == ["Oban - Craignure (Mull)"]


def test_dunoon_to_rothesay_crosses_to_bute() -> None:
    """Bute is an island: the journey uses one of its ferries."""
    ferries = route("Dunoon", "Rothesay").ferries
    assert ferries and all("Bute" in f for f in ferries)


def test_connel_bridge_joins_benderloch_to_oban() -> None:
    """Benderloch is across Loch Etive from Oban: the bridge, not a ferry, under half an hour."""
    journey = route("Oban", "Benderloch")
    assert journey.ferries == [] and journey.minutes < 30


def test_drivers_do_not_take_the_passenger_only_dunoon_ferry_by_car() -> None:
    """Dunoon to Helensburgh by car never uses Gourock - Dunoon, which carries no cars."""
    assert "Gourock - Dunoon" not in route("Dunoon", "Helensburgh").ferries


def test_indicative_journeys_are_plausible() -> None:
    """The council's reference journeys come out within a third of their indicative minutes."""
    for a, b, minutes in (
        ("Oban", "Lochgilphead", 55),
        ("Lochgilphead", "Campbeltown", 75),
        ("Dunoon", "Inveraray", 57),
        ("Tobermory", "Craignure", 36),
        ("Helensburgh", "Arrochar", 27),
    ):
        assert abs(route(a, b).minutes / minutes - 1) < 1 / 3, (a, b)


def test_every_place_is_reachable_by_both_modes() -> None:
    """No gazetteer place is cut off: every pair has a drive and a walk route."""
    points = [p.point for p in argyll_gazetteer().places]
    for mode in ("drive", "walk"):
        minutes, _ = argyll_network().matrix(points, mode)
        assert np.isfinite(minutes).all(), mode


def test_an_islet_with_no_ferry_is_unreachable() -> None:
    """Scarba, uninhabited and without a ferry, cannot be reached."""
    scarba = (-5.706, 56.18)
    minutes, _ = argyll_network().matrix([argyll_gazetteer().find("Oban").point, scarba])
    assert np.isinf(minutes[0, 1])


def test_unknown_place_suggests_spellings() -> None:
    """'Lochgilpead' suggests Lochgilphead."""
    with pytest.raises(UnknownPlaceError) as caught:
        argyll_gazetteer().find("Lochgilpead")
    assert "Lochgilphead" in caught.value.suggestions


def example_without_geography() -> Snapshot:
    """The worked example with its travel, lots, lot ids and localities removed."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.pop("travel")
    data["lots"] = []
    for package in data["packages"] + data["referrals"]:
        package.pop("lot_id")
        package.pop("locality")
    return Snapshot.model_validate(data)


def test_prepare_fills_lots_lot_ids_and_localities() -> None:
    """A snapshot without geography gets the six lots and each package's lot and village."""
    ready = prepare_snapshot(example_without_geography())
    assert len(ready.lots) == 6
    assert {p.id: (p.lot_id, p.locality) for p in ready.all_packages()} == {
        "P-001": ("mid-argyll", "Kilmartin"),
        "P-002": ("kintyre", "Tarbert"),
        "R-001": ("mid-argyll", "Lochgilphead"),
        "R-002": ("kintyre", "Tarbert"),
    }


def test_prepare_refuses_lot_ids_the_embedded_lots_lack() -> None:
    """A snapshot without lots takes the six embedded ones, so a provider naming another lot
    is refused with the field and the lots it may name (its own validation could not tell)."""
    data = example_without_geography().model_dump(mode="json")
    data["providers"][1]["lot_ids"] = ["south-kintyre"]
    with pytest.raises(FrameworkLotsError) as raised:
        prepare_snapshot(Snapshot.model_validate(data))
    assert [str(p) for p in raised.value.problems] == [
        "providers[1].lot_ids: unknown lot 'south-kintyre'"
    ]
    assert "mid-argyll" in str(raised.value) and isinstance(raised.value, GeodataError)


def test_travel_matrix_defaults_to_the_embedded_network() -> None:
    """Without a travel section, every snapshot point gets finite drive minutes and km."""
    ready, travel = prepare(example_without_geography())
    points = ready.points()
    assert travel.points == tuple(points)
    assert np.isfinite(travel.minutes["drive"]).all()
    assert np.isfinite(travel.km["drive"]).all()


def test_supplied_travel_is_used_as_given() -> None:
    """A snapshot with its own travel section keeps those minutes."""
    snapshot = Snapshot.model_validate(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    travel = travel_matrix(snapshot)
    assert travel.minutes["drive"][0, 1] == 5


def test_package_outside_the_area_is_a_clear_error() -> None:
    """A referral in Glasgow cannot be given an Argyll lot."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.pop("travel")
    data["lots"] = []
    data["referrals"][0].pop("lot_id")
    data["referrals"][0]["location"] = [-4.25, 55.86]
    with pytest.raises(GeodataError, match="outside the service area"):
        prepare_snapshot(Snapshot.model_validate(data))


def test_a_councils_own_lots_are_indexed_once_and_changed_lots_afresh() -> None:
    """The index of a council's lot polygons is kept for the same lots and built again when
    the lots change (a lot's polygon moved), so lookups follow the new polygon."""
    from api.prepare import _lot_index
    from geodata.lots import argyll_lots

    lots = [Lot(id=info.id, name=info.name, polygon=info.polygon) for info in argyll_lots()]
    first = Snapshot.model_construct(lots=lots, providers=[], packages=[], referrals=[])
    again = Snapshot.model_construct(lots=list(lots), providers=[], packages=[], referrals=[])
    index = _lot_index(first)
    assert index is not None
    assert _lot_index(again) is index
    tarbert = (-5.414, 55.864)
    assert index.lookup([tarbert]) == ["kintyre"]
    # Kintyre's polygon given to Mid Argyll and the other way round: Tarbert changes lot.
    polygons = {lot.id: lot.polygon for lot in lots}
    swapped = [
        lot.model_copy(
            update={
                "polygon": polygons["mid-argyll"]
                if lot.id == "kintyre"
                else polygons["kintyre"]
                if lot.id == "mid-argyll"
                else lot.polygon
            }
        )
        for lot in lots
    ]
    changed = _lot_index(
        Snapshot.model_construct(lots=swapped, providers=[], packages=[], referrals=[])
    )
    assert changed is not index
    assert changed is not None and changed.lookup([tarbert]) == ["mid-argyll"]
