"""Re-optimisation jobs: started, watched, stopped and applied through the API.

The re-optimiser itself belongs to the optimisation core; these tests run the job machinery
with a stand-in that keeps every run and places R-001 with the runs of docs/examples/plan.json.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from allocator.model import Plan, Snapshot
from allocator.travel import TravelMatrix
from api.commands.keys import add_key
from api.jobs import JobContext, fail_interrupted
from api.reoptimise import ReoptimisationParams
from api.security import Role
from api.settings import Settings
from api.solvers import Solvers
from api.tables import JobRow, utcnow
from tests.api.conftest import (
    Api,
    Council,
    example_council,
    example_snapshot,
    plan_assignments,
    running,
    stand_in_plan,
)

LONG_S = 500  # a time limit the stand-in treats as "run until stopped"


def stand_in(
    snapshot: Snapshot, travel: TravelMatrix, params: ReoptimisationParams, context: JobContext
) -> Plan:
    """Keep every run, place R-001 as the worked example does; with a long limit, wait to be
    stopped (at most 20 s)."""
    context.progress(0.5, "halfway", objective=123.0)
    if params.time_limit_s >= LONG_S:
        for _ in range(1000):
            if context.should_stop():
                break
            time.sleep(0.02)
    return stand_in_plan(snapshot, {"R-001": plan_assignments("R-001")})


@pytest.fixture
def jobs_api(settings: Settings) -> Iterator[Api]:
    """The app with the stand-in re-optimiser."""
    with running(settings, solvers=Solvers(reoptimiser=stand_in)) as started:
        yield started


@pytest.fixture
def jobs_council(jobs_api: Api) -> Council:
    """A council holding the worked example, on the app with the stand-in."""
    return example_council(jobs_api)


def _wait(api: Api, council: Council, job_id: str, *states: str) -> dict[str, Any]:
    for _ in range(1000):
        job: dict[str, Any] = api.client.get(
            f"/v1/reoptimisations/{job_id}", headers=council.broker
        ).json()
        if job["state"] in states:
            return job
        time.sleep(0.02)
    pytest.fail(f"job {job_id} never reached {states}")


def test_without_a_reoptimiser_starting_is_501(settings: Settings) -> None:
    """A server given no re-optimiser: 501 saying so, and no job stored."""
    with running(settings, solvers=Solvers()) as bare:
        council = example_council(bare)
        response = bare.client.post("/v1/reoptimisations", json={}, headers=council.broker)
        assert response.status_code == 501
        assert "without a re-optimiser" in response.json()["detail"]
        assert bare.client.get("/v1/reoptimisations", headers=council.broker).json() == []


def test_the_core_reoptimiser_runs_as_a_job_and_its_plan_is_feasible(
    api: Api, council: Council
) -> None:
    """The real nightly re-optimisation on the worked example: the job succeeds, its plan
    passes the evaluator, and the waiting referral it can place is offered as a move."""
    started = api.client.post(
        "/v1/reoptimisations", json={"time_limit_s": 5}, headers=council.broker
    )
    assert started.status_code == 202, started.text
    job = _wait(api, council, started.json()["id"], "succeeded", "failed")
    assert job["state"] == "succeeded", job["error"]
    assert job["feasible"] is True
    assert job["progress"]["fraction"] == 1.0
    plan = api.client.get(f"/v1/reoptimisations/{job['id']}/plan", headers=council.broker).json()
    assert plan["solver"]["name"] == "nightly-reoptimise"
    assert (
        plan["changes"]["travel_min_per_week_after"]
        <= plan["changes"]["travel_min_per_week_before"]
    )
    placed = {m["package_id"] for m in job["moves"] if m["kind"] == "newly_placed"}
    assert placed == set(plan["changes"]["newly_placed_package_ids"])


def test_a_job_runs_after_its_request_returned_and_its_moves_apply(
    jobs_api: Api, jobs_council: Council
) -> None:
    """POST answers 202 at once; the job finishes on its own; its move applies once."""
    started = jobs_api.client.post(
        "/v1/reoptimisations", json={"time_limit_s": 5}, headers=jobs_council.broker
    )
    assert started.status_code == 202
    job_id = started.json()["id"]
    assert started.headers["Location"] == f"/v1/reoptimisations/{job_id}"
    job = _wait(jobs_api, jobs_council, job_id, "succeeded", "failed")
    assert job["state"] == "succeeded", job["error"]
    assert job["feasible"] is True
    assert job["progress"]["fraction"] == 1.0 and job["progress"]["objective"] == 123.0
    assert [(m["package_id"], m["kind"]) for m in job["moves"]] == [("R-001", "newly_placed")]
    assert job["kpis_after"]["packages_placed"] == job["kpis_before"]["packages_placed"] + 1
    plan = jobs_api.client.get(f"/v1/reoptimisations/{job_id}/plan", headers=jobs_council.broker)
    assert plan.json()["solver"]["name"] == "stand-in"

    applied = jobs_api.client.post(
        f"/v1/reoptimisations/{job_id}/apply", json={}, headers=jobs_council.broker
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] == ["R-001"]
    referral = jobs_api.client.get("/v1/referrals/R-001", headers=jobs_council.broker).json()
    assert referral["state"] == "placed" and len(referral["assignments"]) == 28
    again = jobs_api.client.post(
        f"/v1/reoptimisations/{job_id}/apply", json={}, headers=jobs_council.broker
    )
    assert again.status_code == 409
    audit = jobs_api.client.get(
        "/v1/audit", params={"action": "reoptimisation.apply"}, headers=jobs_council.broker
    ).json()["items"]
    assert audit[0]["why"]["move"]["kind"] == "newly_placed"


def test_a_plan_made_before_an_import_is_not_applied_after_it(
    jobs_api: Api, jobs_council: Council
) -> None:
    """An import replaces the carers the job's runs were made with: applying is a 409 asking
    for a re-run, nothing is stored, and a job started after the import applies."""
    started = jobs_api.client.post("/v1/reoptimisations", json={}, headers=jobs_council.broker)
    job_id = _wait(jobs_api, jobs_council, started.json()["id"], "succeeded", "failed")["id"]
    snapshot = example_snapshot()  # C-002, who R-001's morning call needs, has left
    snapshot["carers"] = [c for c in snapshot["carers"] if c["id"] != "C-002"]
    imported = jobs_api.client.post("/v1/imports", json=snapshot, headers=jobs_council.admin)
    assert imported.status_code == 201, imported.text

    applied = jobs_api.client.post(
        f"/v1/reoptimisations/{job_id}/apply", json={}, headers=jobs_council.broker
    )
    assert applied.status_code == 409, applied.text
    assert "re-run" in applied.json()["detail"] and "import" in applied.json()["detail"]
    referral = jobs_api.client.get("/v1/referrals/R-001", headers=jobs_council.broker).json()
    assert referral["state"] == "received" and referral["assignments"] == []
    job = jobs_api.client.get(f"/v1/reoptimisations/{job_id}", headers=jobs_council.broker)
    assert job.json()["applied_at"] is None


def test_a_running_job_can_be_stopped_and_blocks_a_second_one(
    jobs_api: Api, jobs_council: Council
) -> None:
    """While one runs, a second POST is 409; DELETE stops it; DELETE again is 409."""
    job_id = jobs_api.client.post(
        "/v1/reoptimisations", json={"time_limit_s": LONG_S}, headers=jobs_council.broker
    ).json()["id"]
    _wait(jobs_api, jobs_council, job_id, "running")
    second = jobs_api.client.post("/v1/reoptimisations", json={}, headers=jobs_council.broker)
    assert second.status_code == 409
    stopped = jobs_api.client.delete(f"/v1/reoptimisations/{job_id}", headers=jobs_council.broker)
    assert stopped.status_code == 202
    job = _wait(jobs_api, jobs_council, job_id, "cancelled", "succeeded", "failed")
    assert job["state"] == "cancelled"
    assert [m["package_id"] for m in job["moves"]] == ["R-001"]  # the best plan found is kept
    late = jobs_api.client.delete(f"/v1/reoptimisations/{job_id}", headers=jobs_council.broker)
    assert late.status_code == 409


def test_applying_an_unknown_move_is_422_and_another_council_sees_no_job(
    jobs_api: Api, jobs_council: Council
) -> None:
    """Only proposed moves apply; jobs are private to their council."""
    job_id = jobs_api.client.post(
        "/v1/reoptimisations", json={"time_limit_s": 5}, headers=jobs_council.broker
    ).json()["id"]
    _wait(jobs_api, jobs_council, job_id, "succeeded")
    response = jobs_api.client.post(
        f"/v1/reoptimisations/{job_id}/apply",
        json={"package_ids": ["P-001"]},
        headers=jobs_council.broker,
    )
    assert response.status_code == 422
    other = jobs_api.council()
    assert (
        jobs_api.client.get(f"/v1/reoptimisations/{job_id}", headers=other.broker).status_code
        == 404
    )


def test_jobs_left_by_a_stopped_server_are_marked_failed(api: Api, council: Council) -> None:
    """A job whose server process is gone is failed on the next start, saying why."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    worker = f"{socket.gethostname()}:{int(dead.stdout)}"
    with api.db.write_session() as session, session.begin():
        session.add(
            JobRow(
                id="orphan",
                tenant_id=council.tenant_id,
                kind="reoptimisation",
                state="running",
                params={},
                progress={},
                cancel_requested=False,
                worker=worker,
                data_version=0,
                created_by="x",
                created_at=utcnow(),
            )
        )
    assert fail_interrupted(api.db) >= 1
    job = api.client.get("/v1/reoptimisations/orphan", headers=council.broker).json()
    assert job["state"] == "failed" and "interrupted" in job["error"]


def test_starting_needs_a_broker_or_admin(jobs_api: Api, jobs_council: Council) -> None:
    """A provider key cannot start a re-optimisation."""
    made, _ = add_key(
        jobs_api.db, jobs_council.tenant_id, Role.PROVIDER, provider_id="kintyre-care"
    )
    response = jobs_api.client.post(
        "/v1/reoptimisations", json={}, headers={"X-API-Key": made.secret_key}
    )
    assert response.status_code == 403


def test_a_negative_handover_travel_cap_is_422_naming_the_field(
    jobs_api: Api, jobs_council: Council
) -> None:
    """The council's dial is checked before a job starts; no job is stored."""
    response = jobs_api.client.post(
        "/v1/reoptimisations",
        json={"time_limit_s": 5, "handover_travel_cap": -5},
        headers=jobs_council.broker,
    )
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["path"] == "handover_travel_cap"
    assert "greater than or equal to 0" in problem["message"]
    assert jobs_api.client.get("/v1/reoptimisations", headers=jobs_council.broker).json() == []


def test_the_requests_dials_become_the_core_options() -> None:
    """What the nightly job asks for is what the optimisation core is told."""
    default = ReoptimisationParams().options(workers=2)
    assert (default.place_waiting, default.fit_waiting_in_runs, default.hand_over_visits) == (
        True,
        True,
        True,
    )
    assert default.handover_max_travel_per_care_hour is None and default.workers == 2
    dialled = ReoptimisationParams(
        time_limit_s=30, max_moves=4, make_room=False, handover_travel_cap=30
    ).options(workers=1)
    assert (dialled.time_limit_s, dialled.max_moves) == (30, 4)
    assert not dialled.fit_waiting_in_runs and not dialled.hand_over_visits
    assert dialled.place_waiting and dialled.handover_max_travel_per_care_hour == 30
    assert not ReoptimisationParams(place_waiting=False).options(workers=1).place_waiting


def test_a_part_package_started_by_the_nightly_applies_as_a_placement_and_a_new_referral(
    api: Api, council: Council
) -> None:
    """A Tarbert client needs a morning and an evening call; Kintyre's carer works mornings
    only. The client agreed to a part package: the real nightly starts the mornings, and
    applying it places the referral with those and stores the evenings as a new referral."""
    tarbert = [-5.41622, 55.86277]  # R-002's home, in the worked example's travel
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    referral = {
        "id": "R-010",
        "client_ref": "KT-3001",
        "location": tarbert,
        "lot_id": "kintyre",
        "start_date": "2026-11-30",
        "waiting_since": "2026-11-20T09:00:00Z",
        "visits": [
            {"id": "morning", "days": every_day, "earliest_start_min": 480,
             "latest_start_min": 540, "duration_min": 30},
            {"id": "evening", "days": every_day, "earliest_start_min": 1080,
             "latest_start_min": 1140, "duration_min": 30},
        ],
        "accepts_part_package": True,
    }  # fmt: skip
    created = api.client.post("/v1/referrals", json=referral, headers=council.broker)
    assert created.status_code == 201, created.text
    assert created.json()["accepts_part_package"] is True
    started = api.client.post(
        "/v1/reoptimisations", json={"time_limit_s": 5}, headers=council.broker
    )
    job = _wait(api, council, started.json()["id"], "succeeded", "failed")
    assert job["state"] == "succeeded", job["error"]
    assert job["feasible"] is True
    [move] = [m for m in job["moves"] if m["package_id"] == "R-010"]
    assert (move["kind"], move["rest_id"], move["to_provider_id"]) == (
        "started_in_part",
        "R-010.rest",
        "kintyre-care",
    )

    applied = api.client.post(
        f"/v1/reoptimisations/{job['id']}/apply",
        json={"package_ids": ["R-010"]},
        headers=council.broker,
    )
    assert applied.status_code == 200, applied.text
    placed = api.client.get("/v1/referrals/R-010", headers=council.broker).json()
    assert placed["state"] == "placed"
    assert [(v["id"], v["days"]) for v in placed["visits"]] == [("morning", every_day)]
    assert {(a["visit_id"], a["day"]) for a in placed["assignments"]} == {
        ("morning", d) for d in every_day
    }
    rest = api.client.get("/v1/referrals/R-010.rest", headers=council.broker).json()
    assert rest["state"] == "received" and rest["provider_id"] is None
    assert [(v["id"], v["days"]) for v in rest["visits"]] == [("evening", every_day)]
    assert rest["waiting_since"] == placed["waiting_since"]
    assert rest["client_ref"] == "KT-3001"
    history = api.client.get("/v1/referrals/R-010.rest/history", headers=council.broker).json()
    assert "the calls of R-010 that still wait" in history[0]["note"]


def test_a_referral_not_agreeing_to_a_part_package_waits_whole_through_the_api(
    jobs_api: Api, jobs_council: Council
) -> None:
    """The flag is the client's consent: it defaults to false and can be changed."""
    received = jobs_api.client.get("/v1/referrals/R-002", headers=jobs_council.broker).json()
    assert received["accepts_part_package"] is False
    changed = jobs_api.client.patch(
        "/v1/referrals/R-002", json={"accepts_part_package": True}, headers=jobs_council.broker
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["accepts_part_package"] is True
    assert not ReoptimisationParams(part_packages=False).options(workers=1).start_part_packages
    assert ReoptimisationParams().options(workers=1).start_part_packages
