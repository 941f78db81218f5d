"""Checking new runs before they are stored, with the independent evaluator.

A placement or a change of runs is accepted only when the evaluator (the definition of the
hard rules) finds no new violation for the packages changed and the carers whose days they
touch. Only those carers' days are evaluated: a sub-snapshot holds the changed packages,
every package sharing a touched carer, and the carers those packages name, so the check costs
the same for a council of ten carers or of a thousand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from allocator.evaluate import Violation, evaluate
from allocator.model import Placement, Plan, Problem, Snapshot, SolverInfo
from allocator.travel import TravelError, TravelMatrix
from api.prepare import travel_matrix
from api.problems import UnprocessableError
from api.tenants import TenantData
from geodata.errors import GeodataError

SuppliedTravel = Callable[[], TravelMatrix | None]


def travel_for(snapshot: Snapshot, supplied: SuppliedTravel) -> TravelMatrix:
    """Travel covering every point of ``snapshot``: the council's own matrices when they
    cover it, else :func:`api.prepare.travel_matrix` (the embedded geography)."""
    modes = sorted({c.travel_mode for c in snapshot.carers})
    matrix = supplied()
    not_covered = ""
    if matrix is not None:
        try:
            matrix.require(snapshot.points(), modes)
        except TravelError as error:
            not_covered = f"the council's travel times do not cover this ({error}) and "
        else:
            return matrix
    try:
        return travel_matrix(snapshot)
    except GeodataError as error:
        msg = f"{not_covered}{error}; import a snapshot whose travel section includes it"
        raise UnprocessableError(msg) from None


def _build(
    data: TenantData, packages: list[str], referrals: list[str], carers: set[str]
) -> Snapshot:
    """A snapshot of ``data`` holding only these packages, ``carers`` and the carers the
    packages involve."""
    chosen = [data.packages[p] for p in packages] + [data.referrals[r] for r in referrals]
    carer_ids = set(carers)
    for package in chosen:
        carer_ids |= {c for a in package.assignments for c in a.carer_ids}
        carer_ids |= set(package.preferences.declined_carer_ids)
    return Snapshot.model_validate(
        {
            "name": data.name,
            "skills": list(data.skills),
            "lots": list(data.lots.values()),
            "providers": list(data.providers.values()),
            "carers": [data.carers[c] for c in sorted(carer_ids) if c in data.carers],
            "packages": chosen[: len(packages)],
            "referrals": chosen[len(packages) :],
            "costs": data.costs,
            "policy": data.policy,
        }
    )


def _plan(snapshot: Snapshot, changes: Mapping[str, Placement]) -> Plan:
    placements = [
        changes.get(p.id)
        or Placement(package_id=p.id, provider_id=p.provider_id or "", assignments=p.assignments)
        for p in snapshot.packages
    ]
    placements += [changes[r.id] for r in snapshot.referrals]
    return Plan(
        snapshot_name=snapshot.name,
        created_at=dt.datetime.now(dt.UTC),
        solver=SolverInfo(name="carealloc-api"),
        placements=placements,
    )


def new_violations(
    before: TenantData,
    after: TenantData,
    supplied: SuppliedTravel,
    *,
    changes: Mapping[str, Placement] | None = None,
    placing: frozenset[str] = frozenset(),
    carers: frozenset[str] = frozenset(),
) -> list[Violation]:
    """Hard-rule violations that a change would add.

    Parameters
    ----------
    before, after
        The council's data before and after the change (the same object when only runs
        change: the new runs are in ``changes``).
    supplied
        Gives the council's own travel matrix, if any.
    changes
        New placement (provider and every assignment) per package id.
    placing
        The ids in ``changes`` that are waiting referrals being placed.
    carers
        Carers changed themselves (shifts, base, ...), whose runs must still fit.
    """
    changes = changes or {}
    touched = set(carers)
    touched |= {c for p in changes.values() for a in p.assignments for c in a.carer_ids}
    for pid in changes:
        if pid in before.packages:
            touched |= {c for a in before.packages[pid].assignments for c in a.carer_ids}
    sharing = {
        pid
        for pid, package in after.packages.items()
        if any(c in touched for a in package.assignments for c in a.carer_ids)
    }
    placed = sorted((sharing | set(changes)) - placing)
    old_snapshot = _build(before, [p for p in placed if p in before.packages], [], touched)
    new_snapshot = _build(after, placed, sorted(placing), touched)
    travel = travel_for(new_snapshot, supplied)
    old = evaluate(old_snapshot, _plan(old_snapshot, {}), travel).violations
    new = evaluate(new_snapshot, _plan(new_snapshot, changes), travel).violations
    seen = {(v.rule, v.message) for v in old}
    return [
        v
        for v in new
        if (v.package_id in changes or v.carer_id in touched) and (v.rule, v.message) not in seen
    ]


def raise_for_violations(violations: list[Violation]) -> None:
    """422 listing each hard rule the new runs would break."""
    if violations:
        problems = [
            Problem(path=v.package_id or v.carer_id or "", message=f"[{v.rule}] {v.message}")
            for v in violations
        ]
        msg = f"the runs break {len(violations)} hard rule(s); nothing was stored"
        raise UnprocessableError(msg, problems)
