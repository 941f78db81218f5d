"""The simulation on a tiny world: the same stream for every policy, packages conserved every
day, runs that stay within every hard rule, and the command's outputs."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from allocator.evaluate import evaluate
from allocator.model import Snapshot
from allocator.reoptimise import ReoptimiseOptions
from api.cli import main
from benchmarks.simulate import (
    NIGHTLY_WITHOUT_HANDOVERS,
    DayRecord,
    Policy,
    SimulationSettings,
    Stream,
    all_policies,
    command_line,
    default_policies,
    make_stream,
    results_stem,
    run,
    settings_of,
    simulate,
    summary,
    time_to_go,
)
from tests.builders import current_plan

TINY = SimulationSettings(
    weeks=1,
    seed=4,
    clients=40,
    referrals_per_day=3,
    joint_time_limit_s=1,
    nightly_time_limit_s=1,
    nightly_solution_limit=10,
    progress=False,
)


@pytest.fixture(scope="module")
def stream() -> Stream:
    """A week's stream on a 40-client world; on day 2 the carer with most visits leaves."""
    drawn = make_stream(TINY)
    busiest = max(
        drawn.start.carers,
        key=lambda c: sum(c.id in a.carer_ids for p in drawn.start.packages for a in p.assignments),
    )
    return replace(drawn, leavers={2: [busiest.id]})


def test_stream_is_the_same_for_the_same_seed(stream: Stream) -> None:
    """Drawing again with the same seed gives the same arrivals, endings and carers leaving."""
    again = make_stream(TINY)
    assert again.arrivals == stream.arrivals
    assert again.ends == stream.ends
    assert again.start.model_dump() == stream.start.model_dump()
    assert sum(len(a) for a in stream.arrivals.values()) > 0


@pytest.mark.parametrize("policy", default_policies(TINY), ids=lambda p: p.name)
def test_packages_are_conserved_every_day_and_runs_stay_feasible(
    stream: Stream, policy: Policy
) -> None:
    """Every day: arrived = placed + waiting + ended, and the runs break no hard rule; the
    leaving carer's clients are re-covered or handed back, never lost."""
    seen: list[DayRecord] = []

    def check(record: DayRecord, state: Snapshot) -> None:
        assert record.arrived == record.placed + record.waiting + record.ended
        assert len(state.packages) == record.placed and len(state.referrals) == record.waiting
        result = evaluate(state, current_plan(state), stream.travel)
        assert result.is_feasible, result.violations[:3]
        seen.append(record)

    records = simulate(stream, policy, check=check)
    assert len(records) == 8 and len(seen) == 7
    assert records[0].arrived == stream.start_total
    assert records[-1].arrived == stream.start_total + sum(len(a) for a in stream.arrivals.values())
    assert records[2].carers == records[1].carers - 1
    assert sum(r.placed_today for r in records) > 0


def test_torbay_simulation_conserves_packages() -> None:
    """On Torbay's synthetic geography (its own travel model, not the embedded network) the
    referrals of the stream have travel times and packages are conserved every day."""
    torbay = replace(TINY, profile="torbay", clients=30)
    stream = make_stream(torbay)
    records = simulate(stream, default_policies(torbay)[0])
    assert all(r.arrived == r.placed + r.waiting + r.ended for r in records)
    assert records[-1].arrived > records[0].arrived


def test_simulate_command_writes_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`carealloc bench simulate --quick` prints the chosen policies' summary and the targets,
    logs each simulated week, and writes the day-by-day CSV and the markdown summary."""
    args = ["bench", "simulate", "--quick", "--clients", "30", "--weeks", "1", "--seed", "2"]
    policies = "status_quo,carealloc_offers"
    assert main([*args, "--policies", policies, "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "status_quo" in out and "carealloc_offers" in out and "nearest_provider" not in out
    # Not a terminal (a log, a batch job): a line a simulated week, not a progress bar.
    assert "status_quo: week 1 of 1 simulated" in err
    assert "carealloc_offers: week 1 of 1 simulated" in err
    assert "Issue #7's targets" in out
    csv_text = (tmp_path / "simulation_argyll_quick.csv").read_text(encoding="utf-8")
    assert len(csv_text.splitlines()) == 1 + 2 * 8
    report = (tmp_path / "simulation_argyll_quick.md").read_text(encoding="utf-8")
    assert "| carealloc_offers |" in report and "| status_quo |" in report


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--weeks", "0"),
        ("--clients", "0"),
        ("--nightly-time-limit", "x"),
        ("--policies", "best"),
        ("--handover-travel-cap", "-1"),
        ("--handover-travel-cap", "nan"),
        ("--workers", "0"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    """A bad option exits 2 naming it, without a traceback."""
    try:
        status = main(["bench", "simulate", option, value, "--out", str(tmp_path)])
    except SystemExit as exited:
        status = int(str(exited.code))
    assert status == 2
    assert option in capsys.readouterr().err


def test_policies_in_worker_processes_give_the_same_days_as_in_one() -> None:
    """--workers runs policies side by side; the daytime policies repeat exactly."""
    policies = default_policies(TINY)[:2]
    alone = run(replace(TINY, weeks=1), policies)
    side_by_side = run(replace(TINY, weeks=1, workers=2), policies)
    assert list(side_by_side.records) == ["status_quo", "nearest_provider"]
    assert side_by_side.records == alone.records
    assert any(r.placed_today for r in alone.records["status_quo"])


@pytest.fixture
def nights_told(monkeypatch: pytest.MonkeyPatch) -> list[ReoptimiseOptions]:
    """The options each night's re-optimisation is given (the re-optimisation itself is not
    run)."""
    import benchmarks.simulate as simulate_module

    told: list[ReoptimiseOptions] = []

    def record(snapshot: Snapshot, travel: object, options: ReoptimiseOptions, **_: object) -> None:
        told.append(options)

    monkeypatch.setattr(simulate_module, "reoptimise", record)
    return told


def test_the_nightly_without_handovers_is_chosen_by_name(
    nights_told: list[ReoptimiseOptions],
) -> None:
    """Not simulated by default; when chosen its nights leave handovers out, and otherwise
    run as carealloc_nightly's do."""
    assert NIGHTLY_WITHOUT_HANDOVERS not in [p.name for p in default_policies(TINY)]
    stream = make_stream(TINY)
    by_name = {p.name: p for p in all_policies(TINY)}
    for name in ("carealloc_nightly", NIGHTLY_WITHOUT_HANDOVERS):
        by_name[name].nightly(stream.start, stream.travel, 0)
    with_handovers, without = nights_told
    assert with_handovers.hand_over_visits and not without.hand_over_visits
    assert replace(without, hand_over_visits=True) == with_handovers


def test_the_handover_travel_cap_reaches_the_nights(nights_told: list[ReoptimiseOptions]) -> None:
    stream = make_stream(TINY)
    capped = replace(TINY, handover_travel_cap=45)
    [nightly] = [p for p in default_policies(capped) if p.name == "carealloc_nightly"]
    nightly.nightly(stream.start, stream.travel, 0)
    assert nights_told[0].handover_max_travel_per_care_hour == 45


def test_part_packages_start_clients_with_the_calls_that_fit() -> None:
    """With every client agreeing to a part package, the nightly starts some; the clients are
    still conserved every day (a client counts once, placed if any of their care started),
    the runs stay feasible, and the stream is otherwise the one drawn without the flag."""
    settings = replace(TINY, part_packages=1.0)
    stream = make_stream(settings)
    plain = make_stream(TINY)
    assert stream.ends == plain.ends and stream.leavers == plain.leavers
    assert [r.id for r in stream.start.referrals] == [r.id for r in plain.start.referrals]
    assert all(r.accepts_part_package for r in stream.start.referrals)
    assert not any(r.accepts_part_package for r in plain.start.referrals)

    def check(record: DayRecord, state: Snapshot) -> None:
        assert record.arrived == record.placed + record.waiting + record.ended
        roots = {p.id.split(".rest")[0] for p in state.packages}
        waiting = {r.id.split(".rest")[0] for r in state.referrals}
        assert (record.placed, record.waiting) == (len(roots), len(waiting - roots))
        assert record.started_in_part == len(waiting & roots)
        result = evaluate(state, current_plan(state), stream.travel)
        assert result.is_feasible, result.violations[:3]

    [nightly] = [p for p in default_policies(settings) if p.name == "carealloc_nightly"]
    records = simulate(stream, nightly, check=check)
    assert records[-1].started_in_part > 0
    # The rest of a part package waits: its hours still count as waiting.
    assert records[-1].hours_waiting > 0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--part-packages", "1.5", "--part-packages: must be between 0 and 1"),
        ("--max-moves", "-1", "--max-moves: '-1' is not a whole number"),
    ],
)
def test_a_dial_out_of_range_exits_2(
    capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "simulate", "--quick", option, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "stem"),
    [
        ([], "simulation_argyll"),
        (["--weeks", "12", "--nightly-time-limit", "20"], "simulation_argyll"),
        (["--handover-travel-cap", "30", "--part-packages", "1"], "simulation_argyll_cap30_part1"),
        (
            ["--part-packages", "1", "--handover-travel-cap", "30", "--nightly-time-limit", "60"],
            "simulation_argyll_cap30_part1_night60s",
        ),
        (["--weeks", "4", "--rota", "late-finish"], "simulation_argyll_late-finish_4weeks"),
        (["--max-moves", "5"], "simulation_argyll"),
        (
            ["--max-moves", "20", "--part-packages", "1", "--weeks", "4"],
            "simulation_argyll_part1_moves20_4weeks",
        ),
        (
            ["--quick", "--weeks", "1", "--nightly-time-limit", "60"],
            "simulation_argyll_quick_night60s",
        ),
    ],
)
def test_results_are_named_after_the_settings_so_no_run_overwrites_another(
    options: list[str], stem: str
) -> None:
    """A 4-week run or one with a longer night writes its own files, not the 12-week ones."""
    assert results_stem(command_line().parse_args(options)) == stem


def test_the_move_cap_reaches_the_nights(nights_told: list[ReoptimiseOptions]) -> None:
    assert settings_of(command_line().parse_args([])).nightly_max_moves == 5
    chosen = settings_of(command_line().parse_args(["--max-moves", "0"])).nightly_max_moves
    settings = replace(TINY, nightly_max_moves=chosen)
    [nightly] = [p for p in default_policies(settings) if p.name == "carealloc_nightly"]
    stream = make_stream(TINY)
    nightly.nightly(stream.start, stream.travel, 0)
    assert nights_told[0].max_moves == 0


def test_clients_moved_to_another_provider_are_counted_each_night(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nights that may move any client whose travel it lowers (no cost of a move): the
    clients each day's record says were moved are those whose provider changed overnight."""
    import benchmarks.simulate as simulate_module
    from allocator.reoptimise import reoptimise

    def eager(snapshot: Snapshot, travel: Any, options: ReoptimiseOptions, **kw: Any) -> Any:
        options = replace(options, max_moves=20, provider_move_cost_min=0.0)
        return reoptimise(snapshot, travel, options, **kw)

    monkeypatch.setattr(simulate_module, "reoptimise", eager)
    stream = make_stream(TINY)
    providers: list[dict[str, str | None]] = []

    def check(record: DayRecord, state: Snapshot) -> None:
        providers.append({p.id: p.provider_id for p in state.packages})

    [nightly] = [p for p in default_policies(TINY) if p.name == "carealloc_nightly"]
    records = simulate(stream, nightly, check=check)
    start = {p.id: p.provider_id for p in stream.start.packages}
    changed = [
        sum(1 for k, v in today.items() if k in before and before[k] not in (None, v))
        for before, today in itertools.pairwise([start, *providers])
    ]
    assert [r.moved_today for r in records[1:]] == changed
    assert sum(changed) > 0
    assert summary(records)["moved_total"] == sum(changed)


@pytest.mark.parametrize(
    ("elapsed_s", "done", "total", "said"),
    [
        (3773, 5, 12, "about 1 h 28 min to go"),
        (600, 1, 2, "about 10 min to go"),
        (20, 1, 2, "under a minute to go"),
        (600, 2, 2, ""),
        (0, 0, 12, ""),
    ],
)
def test_a_long_run_says_how_long_it_has_to_go(
    elapsed_s: float, done: int, total: int, said: str
) -> None:
    """Five weeks of twelve in 3,773 s: seven more at that pace are 5,282 s."""
    assert time_to_go(elapsed_s, done, total) == said
