"""``ordered_map``: the thread-pool window loop of the land carbon, GEP and habitat engines.

Results come in the order of the items whatever order the threads finish in; at most
``threads + 1`` items are submitted ahead of the caller; a failure cancels what has not
started; progress is reported after the caller has handled each result.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from hesuan.land.raster import ordered_map


class _Recorder:
    """``work`` that notes which items started and finished (from the pool's threads)."""

    def __init__(self, fail_at: int | None = None, delay: float = 0.0) -> None:
        self.started: list[int] = []
        self.finished: list[int] = []
        self.lock = threading.Lock()
        self.fail_at, self.delay = fail_at, delay

    def __call__(self, item: int) -> int:
        with self.lock:
            self.started.append(item)
        # later items finish sooner: the pool completes them out of order
        time.sleep(self.delay * (item % 4))
        with self.lock:
            self.finished.append(item)
        if item == self.fail_at:
            raise ValueError(f"item {item}")
        return item * 10


def test_results_come_in_the_order_of_the_items():
    work = _Recorder(delay=0.002)
    items = list(range(23, -1, -1))
    got = list(ordered_map(work, items, threads=3))
    assert got == [(i, i * 10) for i in items]
    assert sorted(work.started) == sorted(items)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_at_most_threads_plus_one_items_run_ahead_of_the_caller(threads):
    work = _Recorder()
    ahead = []
    for i, (item, _) in enumerate(ordered_map(work, list(range(40)), threads)):
        assert item == i
        time.sleep(0.002)  # a slow caller: unbounded, the pool would run every item ahead
        with work.lock:
            ahead.append(len(work.started) - (i + 1))
    assert max(ahead) <= threads + 1
    assert max(ahead) >= 1  # the pool does work ahead of the caller


def test_a_failure_is_raised_at_its_turn_and_cancels_what_has_not_started():
    work = _Recorder(fail_at=2)
    taken = []
    with pytest.raises(ValueError, match="item 2"):
        for item, result in ordered_map(work, list(range(20)), threads=1):
            taken.append((item, result))
    assert taken == [(0, 0), (1, 10)]
    # at item 2's turn only item 3 was queued (threads + 1 ahead); it is cancelled or ran
    assert set(work.started) <= {0, 1, 2, 3}


def test_a_caller_that_stops_early_stops_the_pool():
    work = _Recorder(delay=0.01)
    with contextlib.closing(ordered_map(work, list(range(20)), threads=1)) as results:
        for item, _ in results:
            assert item == 0
            break
    with work.lock:
        assert set(work.started) <= {0, 1, 2}  # nothing submitted after the stop
        assert sorted(work.finished) == sorted(work.started)  # nothing still running


def test_progress_is_called_after_each_result_is_handled():
    events: list[tuple[str, int, int]] = []
    n = 7
    for item, _ in ordered_map(lambda x: x, list(range(n)), threads=2,
                               progress=lambda done, total: events.append(("done", done, total))):
        events.append(("handled", item, n))
    expected = []
    for i in range(n):
        expected += [("handled", i, n), ("done", i + 1, n)]
    assert events == expected


def test_stopping_cancels_the_submitted_items_that_have_not_started():
    # One thread: items 1 and 2 are submitted when the caller stops after item 0 (item 1
    # perhaps already running, held until a timer releases it). Item 2 must never start:
    # without the cancellation the pool's thread would take it up once item 1 is done.
    release = threading.Event()
    started: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item == 1:
            release.wait(5)
        return item

    timer = threading.Timer(0.2, release.set)
    timer.start()
    try:
        with contextlib.closing(ordered_map(work, list(range(6)), threads=1)) as results:
            for item, _ in results:
                assert item == 0
                break
    finally:
        timer.cancel()
        release.set()
    assert started in ([0], [0, 1])
