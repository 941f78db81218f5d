"""Loading the embedded Argyll and Bute data files (see geodata/data/README.md)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata._project import BNG

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def wards_frame() -> gpd.GeoDataFrame:
    """The 11 council wards (2013) in British National Grid metres."""
    frame = gpd.read_file(DATA_DIR / "argyll_bute_wards_2013.geojson")
    return frame.to_crs(BNG)


@cache
def places_frame() -> pd.DataFrame:
    """Gazetteer places: name, lon, lat, population (NaN when unknown), kind, source."""
    return pd.read_csv(DATA_DIR / "places.csv", dtype={"name": str, "kind": str, "source": str})


@cache
def ferry_routes_frame() -> pd.DataFrame:
    """Ferry routes with terminals, crossing and boarding minutes and what they carry."""
    return pd.read_csv(DATA_DIR / "ferry_routes.csv")


@cache
def fixed_links_frame() -> pd.DataFrame:
    """Bridges and roads outside the council area that join parts of the land network."""
    return pd.read_csv(DATA_DIR / "fixed_links.csv")


@cache
def inland_barriers_frame() -> pd.DataFrame:
    """Vertices (in ``seq`` order) of lines across land that links may not cross."""
    return pd.read_csv(DATA_DIR / "inland_barriers.csv").sort_values(["name", "seq"], kind="stable")
