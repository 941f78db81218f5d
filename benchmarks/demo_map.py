"""A self-contained HTML page with an SVG map of a plan: lot outlines, clients coloured by
provider, today's placements highlighted. No scripts, fonts or tiles are fetched: it opens
offline in any browser.

Coordinates are projected equirectangularly around the middle latitude (longitude scaled by
its cosine), which is true to within a percent or two over one council.
"""

from __future__ import annotations

import html
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from allocator.model import Plan, Snapshot

# Distinguishable colours (Kelly's and Tableau's, without greys), one per provider in order.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#f3c300",
    "#875692",
    "#f38400",
    "#008856",
    "#0067a5",
    "#b3446c",
    "#654522",
    "#8db600",
    "#e25822",
    "#2b3d26",
    "#a1caf1",
)
HEIGHT_PX = 900.0
MARGIN_PX = 12.0

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1400px; }
.layout { display: flex; gap: 1.5em; align-items: flex-start; flex-wrap: wrap; }
svg { border: 1px solid #ccc; background: #eef4f8; }
.lot { fill: #fbfbf6; stroke: #555; stroke-width: 1.4; }
.lot-label { font-size: 13px; fill: #555; text-anchor: middle; font-weight: 600; }
.client { stroke: none; fill-opacity: 0.7; }
.new { stroke: #000; stroke-width: 2; }
.link { stroke-width: 1.2; stroke-opacity: 0.8; }
.waiting { fill: #fff; stroke: #555; stroke-width: 1.2; }
.waiting-new { fill: #fff; stroke: #c00; stroke-width: 2; stroke-dasharray: 3 2; }
.base { fill-opacity: 0.55; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; }
ul.legend { list-style: none; padding: 0; }
"""


class _Projection:
    """[lon, lat] to SVG pixels, north up."""

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        self.lon0, self.lat1 = min(lons), max(lats)
        self.kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
        span_y = max(max(lats) - min(lats), 1e-6)
        self.scale = (HEIGHT_PX - 2 * MARGIN_PX) / span_y
        self.width = (max(lons) - self.lon0) * self.kx * self.scale + 2 * MARGIN_PX

    def __call__(self, point: Sequence[float]) -> tuple[float, float]:
        x = (point[0] - self.lon0) * self.kx * self.scale + MARGIN_PX
        y = (self.lat1 - point[1]) * self.scale + MARGIN_PX
        return round(x, 1), round(y, 1)


def _rings(polygon: dict[str, Any]) -> list[list[list[float]]]:
    if polygon["type"] == "Polygon":
        return list(polygon["coordinates"])
    return [ring for part in polygon["coordinates"] for ring in part]


def _path(rings: Iterable[list[list[float]]], project: _Projection) -> str:
    parts = []
    for ring in rings:
        xy = [project(p) for p in ring]
        parts.append("M" + " L".join(f"{x},{y}" for x, y in xy) + " Z")
    return " ".join(parts)


def _label_point(rings: list[list[list[float]]]) -> tuple[float, float]:
    """The vertex centre of the lot's largest ring (its mainland, as a rule)."""

    def area(ring: list[list[float]]) -> float:
        return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))) / 2

    ring = max(rings, key=area)
    return (
        sum(p[0] for p in ring) / len(ring),
        sum(p[1] for p in ring) / len(ring),
    )


def render_map(
    snapshot: Snapshot,
    plan: Plan,
    new_ids: Sequence[str],
    *,
    title: str,
    intro: Sequence[str] = (),
    tables: Sequence[tuple[str, str]] = (),
) -> str:
    """The page: a map of ``plan`` on ``snapshot``, the ``intro`` sentences and ``tables``
    (each a heading and ready HTML).

    Placed clients are dots in their provider's colour; ``new_ids`` placed by the plan are
    large dots ringed in black, with lines to their carers' bases; referrals still waiting are
    hollow (red dashed when new today). Hovering over a dot names the package.
    """
    colours = {p.id: PALETTE[k % len(PALETTE)] for k, p in enumerate(snapshot.providers)}
    names = {p.id: p.name for p in snapshot.providers}
    new = set(new_ids)
    placed = {p.package_id: p for p in plan.placements}
    points: list[tuple[float, float]] = [p.location for p in snapshot.all_packages()]
    points += [c.base for c in snapshot.carers]
    lot_rings = [(lot, _rings(lot.polygon)) for lot in snapshot.lots if lot.polygon]
    points += [(p[0], p[1]) for _, rings in lot_rings for ring in rings for p in ring]
    project = _Projection(points)

    svg: list[str] = []
    for lot, rings in lot_rings:
        svg.append(
            f'<path class="lot" d="{_path(rings, project)}"><title>{html.escape(lot.name)}'
            "</title></path>"
        )
    for lot, rings in lot_rings:
        x, y = project(_label_point(rings))
        half = 4.2 * len(lot.name)  # about half the label's width at 13 px bold
        x = min(max(x, half + 4), project.width - half - 4)
        svg.append(f'<text class="lot-label" x="{x}" y="{y}">{html.escape(lot.name)}</text>')
    for carer in snapshot.carers:
        x, y = project(carer.base)
        svg.append(
            f'<rect class="base" x="{x - 1.5}" y="{y - 1.5}" width="3" height="3" '
            f'fill="{colours[carer.provider_id]}"><title>carer {html.escape(carer.id)} '
            f"({html.escape(names[carer.provider_id])})</title></rect>"
        )
    bases = {c.id: c.base for c in snapshot.carers}
    for package in snapshot.all_packages():
        placement = placed.get(package.id)
        x, y = project(package.location)
        about = f"{package.id}, {package.weekly_hours:.1f} h/week, {package.locality or ''}"
        if placement is None:
            cls = "waiting-new" if package.id in new else "waiting"
            svg.append(
                f'<circle class="{cls}" cx="{x}" cy="{y}" r="3.5"><title>'
                f"{html.escape(about)}: waiting</title></circle>"
            )
            continue
        colour = colours[placement.provider_id]
        who = html.escape(f"{about}: {names[placement.provider_id]}")
        if package.id in new:
            for carer_id in sorted({c for a in placement.assignments for c in a.carer_ids}):
                bx, by = project(bases[carer_id])
                svg.append(
                    f'<line class="link" x1="{x}" y1="{y}" x2="{bx}" y2="{by}" stroke="{colour}"/>'
                )
            svg.append(
                f'<circle class="client new" cx="{x}" cy="{y}" r="6" fill="{colour}">'
                f"<title>{who} (new today)</title></circle>"
            )
        else:
            svg.append(
                f'<circle class="client" cx="{x}" cy="{y}" r="2.4" fill="{colour}">'
                f"<title>{who}</title></circle>"
            )

    served = Counter(p.provider_id for p in plan.placements)
    taken = Counter(p.provider_id for p in plan.placements if p.package_id in new)
    legend = "".join(
        f'<li><span class="swatch" style="background:{colours[p.id]}"></span>'
        f"{html.escape(p.name)}: {served[p.id]} clients"
        + (f", {taken[p.id]} new today" if taken[p.id] else "")
        + "</li>"
        for p in snapshot.providers
    )
    width = round(project.width, 1)
    body = [
        f"<h1>{html.escape(title)}</h1>",
        *[f"<p>{html.escape(line)}</p>" for line in intro],
        '<div class="layout">',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT_PX:g}" '
        f'viewBox="0 0 {width} {HEIGHT_PX:g}" role="img" aria-label="map">',
        *svg,
        "</svg>",
        "<div><h2>Key</h2><ul class='legend'>",
        "<li>large dot ringed in black: placed today, with lines to its carers' bases</li>",
        "<li>small dot: receiving care, coloured by provider; small square: a carer's base</li>",
        "<li>hollow dot: waiting (red dashed: referred today)</li>",
        "</ul><h2>Providers</h2>",
        f"<ul class='legend'>{legend}</ul></div>",
        "</div>",
    ]
    for heading, table in tables:
        body += [f"<h2>{html.escape(heading)}</h2>", table]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
