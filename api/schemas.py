"""Shapes on the wire that are not simply the domain model.

Where the domain model fits it is used as it is (a lot is an :class:`allocator.model.Lot`, a
new provider an :class:`allocator.model.Provider`); here are the ``XCreate`` / ``XUpdate`` /
``XPublic`` families around it. Units and ``[lon, lat]`` as in docs/formats.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from allocator.model import (
    Assignment,
    Carer,
    Day,
    Gender,
    Id,
    LonLat,
    Offer,
    Package,
    Preferences,
    Provider,
    Shift,
    TravelMode,
    Urgency,
    Visit,
)
from api.states import State

ClientRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:/\-]+$"),
    Field(
        description="Pseudonymous client reference from the case-management system, such as "
        "MA-8102: letters, digits and _ . : / - only, so a name or address cannot be stored.",
        examples=["MA-8102"],
    ),
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- providers and carers ------------------------------------------------------------------


class ProviderUpdate(_In):
    """Fields of a provider to change; those left out stay as they are."""

    name: str | None = Field(default=None, min_length=1)
    lot_ids: list[Id] | None = Field(default=None, min_length=1)
    hourly_rate_gbp: float | None = Field(default=None, gt=0, le=500)
    works_adjacent_lots: bool | None = None


class ProviderPublic(Provider):
    """A provider, with the version to send back in ``If-Match`` when updating."""

    version: int


class CarerUpdate(_In):
    """Fields of a carer to change (shifts and daily capacity among them)."""

    base: LonLat | None = None
    shifts: list[Shift] | None = None
    max_working_min_per_day: int | None = Field(default=None, gt=0, le=1440)
    skills: list[Id] | None = None
    gender: Gender | None = None
    travel_mode: TravelMode | None = None


class CarerPublic(Carer):
    """A carer, with its version."""

    version: int


class RunStop(BaseModel):
    """One visit in a carer's run."""

    package_id: str
    visit_id: str
    label: str | None
    start_min: int
    end_min: int
    location: tuple[float, float]
    carer_ids: list[str]


class CarerRuns(BaseModel):
    """A carer's week: shifts and the visits in them, day by day."""

    carer_id: str
    provider_id: str
    runs: dict[Day, list[RunStop]]
    shifts: list[Shift]


# --- packages and referrals ---------------------------------------------------------------


class ReferralCreate(_In):
    """A new package of care waiting for a provider (docs/formats.md, Package)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "R-010",
                    "client_ref": "MA-9001",
                    "location": [-5.43206, 56.03796],
                    "lot_id": "mid-argyll",
                    "start_date": "2026-12-01",
                    "urgency": "urgent",
                    "visits": [
                        {
                            "id": "lunch",
                            "days": ["mon", "wed"],
                            "earliest_start_min": 690,
                            "latest_start_min": 750,
                            "duration_min": 30,
                        }
                    ],
                }
            ]
        },
    )

    id: Id
    client_ref: ClientRef
    location: LonLat
    lot_id: Id | None = Field(
        default=None, description="Framework lot; found from the lot polygons when omitted."
    )
    locality: str | None = Field(default=None, max_length=100)
    start_date: dt.date
    urgency: Urgency = Urgency.ROUTINE
    waiting_since: dt.datetime | None = Field(
        default=None, description="When the referral was received; now when omitted."
    )
    visits: list[Visit] = Field(min_length=1)
    preferences: Preferences = Field(default_factory=Preferences)
    accepts_part_package: bool = Field(
        default=False,
        description="The client (or family) agrees to start with the calls a provider can fit "
        "now while the other calls wait (a part package, started by the nightly).",
    )


class ReferralUpdate(_In):
    """Fields of a waiting referral to change (only while no offer is out)."""

    client_ref: ClientRef | None = None
    location: LonLat | None = None
    lot_id: Id | None = None
    locality: str | None = Field(default=None, max_length=100)
    start_date: dt.date | None = None
    urgency: Urgency | None = None
    waiting_since: dt.datetime | None = None
    visits: list[Visit] | None = Field(default=None, min_length=1)
    preferences: Preferences | None = None
    accepts_part_package: bool | None = None


class PackagePublic(Package):
    """A package of care (waiting referral or placed package) with where it is in its life."""

    state: State
    version: int
    offered_to_provider_id: str | None = Field(
        default=None, description="The provider an offer is out with, or that accepted it."
    )
    proposed_assignments: list[Assignment] = Field(
        default_factory=list, description="The runs proposed with the offer, if any."
    )
    hours_per_week: float = Field(description="Commissioned carer hours per week.")
    created_at: dt.datetime
    updated_at: dt.datetime


class PackageList(BaseModel):
    """A page of packages."""

    items: list[PackagePublic]
    total: int


class OfferToProvider(_In):
    """Send a waiting referral to one provider, with the runs proposed (from a ranked offer)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "provider_id": "argyll-homecare",
                    "assignments": [
                        {
                            "visit_id": "lunch",
                            "day": "mon",
                            "carer_ids": ["C-001"],
                            "start_min": 720,
                        }
                    ],
                    "note": "best offer: no added travel",
                }
            ]
        },
    )

    provider_id: Id
    assignments: list[Assignment] = Field(
        default_factory=list,
        description="Proposed runs, e.g. the assignments of the ranked offer; may be left "
        "for the provider to give when accepting.",
    )
    note: Reason | None = None


class Acceptance(_In):
    """A provider's yes; it may give its own runs instead of the proposed ones."""

    assignments: list[Assignment] | None = None
    note: Reason | None = None


class ReasonBody(_In):
    """Why (a decline, a withdrawal, the end of a package)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"reason": "care arranged by the family"}]},
    )

    reason: Reason


class RunsUpdate(_In):
    """New runs for a placed package (every visit occurrence, as in a plan)."""

    assignments: list[Assignment] = Field(min_length=1)
    note: Reason | None = None


class PlacementItem(_In):
    """One referral to place, with its provider and runs.

    Provider and runs may be left out for an accepted referral: those accepted are used.
    """

    referral_id: Id
    provider_id: Id | None = None
    assignments: list[Assignment] | None = None


class PlacementRequest(_In):
    """Place referrals: either each with its provider and runs (``placements``), or several
    at once by the joint placement (``referral_ids``), which decides providers and runs."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "placements": [
                        {
                            "referral_id": "R-010",
                            "provider_id": "argyll-homecare",
                            "assignments": [
                                {
                                    "visit_id": "lunch",
                                    "day": "mon",
                                    "carer_ids": ["C-001"],
                                    "start_min": 720,
                                }
                            ],
                        }
                    ]
                }
            ]
        },
    )

    placements: list[PlacementItem] = Field(default_factory=list, max_length=200)
    referral_ids: list[Id] = Field(default_factory=list, max_length=200)


class PlacementResult(BaseModel):
    """What was placed, and what could not be, with reasons."""

    placed: list[PackagePublic]
    unplaced: list[dict[str, Any]] = Field(default_factory=list)


class HistoryEntry(BaseModel):
    """One step of a package's life."""

    at: dt.datetime
    from_state: State | None
    to_state: State
    provider_id: str | None
    role: str | None
    key_id: str | None
    note: str | None


class OfferList(BaseModel):
    """Ranked offers for a referral: nothing is committed."""

    referral_id: str
    offers: list[Offer]


# --- import, reports, audit ---------------------------------------------------------------


class ImportResult(BaseModel):
    """How much a snapshot import stored."""

    lots: int
    providers: int
    carers: int
    packages: int
    referrals: int
    travel_points: int | None
    notices: list[str]


class WaitingGroup(BaseModel):
    """Waiting packages in one lot and urgency."""

    lot_id: str | None
    urgency: Urgency
    packages: int
    hours_per_week: float
    longest_wait_days: float
    longest_waiting_package_id: str


class WaitingReport(BaseModel):
    """Packages and hours of care waiting, by lot and urgency: the weekly figure."""

    as_of: dt.datetime
    packages: int
    hours_per_week: float
    longest_wait_days: float | None
    longest_waiting_package_id: str | None
    by_lot: dict[str, float] = Field(description="Hours per week waiting in each lot.")
    groups: list[WaitingGroup]


class AuditEntry(BaseModel):
    """A decision: who (key and role), when, on what inputs, and why."""

    id: int
    at: dt.datetime
    key_id: str | None
    role: str
    action: str
    subject_id: str | None
    inputs: dict[str, Any]
    why: dict[str, Any]
    outcome: dict[str, Any]


class AuditPage(BaseModel):
    """Audit entries, newest first; pass ``before_id`` to page back."""

    items: list[AuditEntry]
    next_before_id: int | None


class Health(BaseModel):
    """Liveness and database reachability."""

    status: Literal["ok"]
    database: str
    version: str


# --- the status page ----------------------------------------------------------------------


class StatusLot(BaseModel):
    """A lot on the status page."""

    id: str
    name: str
    polygon: dict[str, Any] | None
    waiting_packages: int
    waiting_hours: float
    provider_names: list[str]


class StatusProvider(BaseModel):
    """A provider on the status page's legend."""

    id: str
    name: str
    lot_names: list[str]


class StatusDot(BaseModel):
    """A client on the map: placed (with its provider) or waiting (with its urgency)."""

    package_id: str
    location: tuple[float, float]
    hours_per_week: float
    provider_id: str | None = None
    provider_name: str | None = None
    urgency: Urgency | None = None


class StatusOverview(BaseModel):
    """What the status page draws."""

    council: str
    waiting_hours: float
    lots: list[StatusLot]
    providers: list[StatusProvider]
    placed: list[StatusDot]
    waiting: list[StatusDot]


# --- re-optimisation jobs -----------------------------------------------------------------


class JobPublic(BaseModel):
    """A re-optimisation job: its state, progress and, once done, the moves it proposes."""

    id: str
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    params: dict[str, Any]
    progress: dict[str, Any] = Field(description="fraction (0..1), message and figures.")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    applied_at: dt.datetime | None
    error: str | None
    feasible: bool | None = None
    moves: list[dict[str, Any]] = Field(default_factory=list)
    kpis_before: dict[str, Any] | None = None
    kpis_after: dict[str, Any] | None = None


class ApplyRequest(_In):
    """Which moves to accept: every one (``package_ids`` left out) or those listed."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"package_ids": ["R-001"]}]},
    )

    package_ids: list[Id] | None = Field(default=None, max_length=10_000)


class ApplyResult(BaseModel):
    """The moves applied."""

    job_id: str
    applied: list[str]
