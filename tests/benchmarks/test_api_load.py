"""The API load benchmark's pieces: its instance is feasible, its tallies are right."""

from __future__ import annotations

from benchmarks.api_load import _fuzz_failures, _percentiles, build_instance, check_instance


def test_a_small_load_instance_is_feasible() -> None:
    """The builder's placed runs break no hard rule (checked by the evaluator)."""
    data = build_instance(seed=3, carers=12, providers=3, packages=64, referrals=4)
    check_instance(data)
    assert len(data["packages"]) == 64
    assert len(data["travel"]["points"]) == len(data["travel"]["drive"]["minutes"])


def test_the_same_seed_builds_the_same_instance() -> None:
    """Seeded: two builds are identical."""
    size = {"carers": 6, "providers": 2, "packages": 30, "referrals": 2}
    assert build_instance(seed=5, **size) == build_instance(seed=5, **size)


def test_percentiles_of_ten_samples() -> None:
    """p50 is the median, p95 the 10th of ten sorted samples."""
    stats = _percentiles([float(x) for x in range(1, 11)])
    assert stats == {"n": 10, "p50_ms": 5.5, "p95_ms": 10.0, "p99_ms": 10.0, "max_ms": 10.0}


def test_schemathesis_failures_are_read_per_operation() -> None:
    """Failure blocks give each operation's 5xx statuses."""
    output = "\n".join(
        [
            "____ POST /v1/placements ____",
            "- ST101 Server error",
            "[501] Not Implemented:",
            "____ GET /v1/audit ____",
            "[500] Internal Server Error:",
        ]
    )
    assert _fuzz_failures(output) == {"POST /v1/placements": {501}, "GET /v1/audit": {500}}
