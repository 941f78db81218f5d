"""Errors for geography and travel a user can act on."""


class GeodataError(ValueError):
    """A place, point or network that geography cannot handle."""


class OutsideServiceAreaError(GeodataError):
    """Points too far from any lot (or from the travel network) to be served."""

    def __init__(self, points: list[tuple[float, float]], tolerance_km: float) -> None:
        self.points = points
        shown = ", ".join(f"[{lon:.5f}, {lat:.5f}]" for lon, lat in points[:5])
        more = f" and {len(points) - 5} more" if len(points) > 5 else ""
        msg = (
            f"{len(points)} point(s) lie outside the service area (more than {tolerance_km:g} km "
            f"from any lot): {shown}{more}; points are [lon, lat]"
        )
        super().__init__(msg)


class UnknownPlaceError(GeodataError):
    """A place name not in the gazetteer, with the nearest spellings."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown place {name!r}{hint}")
