"""The build's database thread (scripts/db_worker.py): order, errors, stopping."""
import threading
import time

import pytest

from scripts.db_worker import DatabaseWorker


def _fail(error: Exception):
    raise error


def test_work_runs_in_submission_order_in_one_thread():
    worker = DatabaseWorker()
    seen: list[tuple[int, str]] = []
    try:
        for i in range(50):
            worker.submit(lambda i=i: (time.sleep(0.001 * (i % 3)), seen.append((i, threading.current_thread().name))))
        worker.join()
    finally:
        worker.close()
    assert [i for i, _ in seen] == list(range(50))
    assert len({name for _, name in seen}) == 1 and seen[0][1] != threading.current_thread().name


def test_the_first_failure_is_raised_on_join_and_on_the_next_submission():
    worker = DatabaseWorker()
    ran: list[int] = []
    try:
        worker.submit(ran.append, 1)
        worker.submit(_fail, RuntimeError("simulated: disk full"))
        worker.submit(_fail, ValueError("a later error"))
        with pytest.raises(RuntimeError, match="disk full"):
            worker.join()
        with pytest.raises(ValueError, match="later"):
            worker.join()  # each error once, in order
        worker.submit(_fail, KeyError("x"))
        deadline = time.monotonic() + 5
        while worker._pending and not worker._pending[0].done() and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(KeyError):
            worker.submit(ran.append, 2)  # the failure is seen before more work is queued behind it
    finally:
        worker.close()
    assert ran == [1]


def test_close_waits_for_the_running_work_and_drops_the_rest():
    worker = DatabaseWorker()
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def slow():
        started.set()
        release.wait(5)
        done.append("slow")

    worker.submit(slow)
    worker.submit(done.append, "never")
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    worker.close()
    assert done == ["slow"]
