"""Executors: every piece's result comes back, and a stop drops the unfinished ones."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from allocator.executor import ProcessExecutor, SerialExecutor, default_executor


def square(x: int) -> int:
    return x * x


_KEPT: list[object] = []


def square_holding_a_lock(x: int) -> int:
    """As a progress bar does, the worker keeps a lock of its own (a named semaphore)."""
    import multiprocessing

    _KEPT.append(multiprocessing.get_context("spawn").Lock())
    return x * x


def slow(x: int) -> int:
    time.sleep(30)
    return x


@pytest.mark.parametrize("executor", [SerialExecutor(), ProcessExecutor(2)])
def test_every_result_comes_back(executor: SerialExecutor | ProcessExecutor) -> None:
    assert sorted(executor.map_unordered(square, [1, 2, 3, 4])) == [1, 4, 9, 16]


def test_stopping_drops_unfinished_pieces_instead_of_waiting_for_them() -> None:
    done = list(ProcessExecutor(2).map_unordered(slow, [1, 2, 3], should_stop=lambda: True))
    assert done == []


def test_serial_stops_before_the_next_piece() -> None:
    calls: list[int] = []

    def record(x: int) -> int:
        calls.append(x)
        return x

    stop_after_first = SerialExecutor().map_unordered(
        record, [1, 2, 3], should_stop=lambda: bool(calls)
    )
    assert list(stop_after_first) == [1]


def test_worker_count_is_checked_and_chooses_the_executor() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ProcessExecutor(0)
    assert isinstance(default_executor(1), SerialExecutor)
    assert isinstance(default_executor(2), ProcessExecutor)


def test_finished_workers_exit_cleanly_without_leaked_semaphore_warnings() -> None:
    """When every piece is done the workers exit on their own instead of being killed, so a
    lock one of them held is released (killed, Python warns of leaked semaphores at exit)."""
    code = (
        "from allocator.executor import ProcessExecutor\n"
        "from tests.allocator.test_executor import square_holding_a_lock\n"
        "if __name__ == '__main__':\n"
        "    print(sorted(ProcessExecutor(2).map_unordered(square_holding_a_lock, [1, 2, 3])))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1, 4, 9]"
    assert "leaked semaphore" not in done.stderr
