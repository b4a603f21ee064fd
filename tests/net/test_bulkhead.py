"""The bulkhead for fallback fetches: a few calls per FHIR server fetch at once, as many
again wait (until their deadline), and the rest are refused at once."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack

import pytest

from cds_b12.net.bulkhead import Bulkhead, NoSlot

FAR = 3600.0  # a deadline no test reaches


def later(seconds: float = FAR) -> float:
    return time.monotonic() + seconds


def refusal(bulkhead: Bulkhead, server: str, seconds: float = FAR) -> str:
    """Why a slot for ``server`` is refused (the test fails if one is given)."""
    try:
        with bulkhead.slot(server, later(seconds)):
            pytest.fail(f"a slot for {server} was given")
    except NoSlot as exc:
        return str(exc)


def test_a_full_server_refuses_at_once_when_its_waiting_line_is_full():
    bulkhead = Bulkhead(per_server=2, total=10)
    started = threading.Barrier(3)
    waiters: list[str] = []

    def wait_for_a_slot() -> None:
        started.wait()
        with bulkhead.slot("a", later()):
            waiters.append("got a slot")

    with ExitStack() as held:
        for _ in range(2):
            held.enter_context(bulkhead.slot("a", later()))
        threads = [threading.Thread(target=wait_for_a_slot) for _ in range(2)]
        for thread in threads:
            thread.start()
        started.wait()
        while bulkhead.busy()["waiting"] < 2:
            time.sleep(0.01)
        assert "already fetching from or waiting" in refusal(bulkhead, "a")
    for thread in threads:
        thread.join(timeout=30)
    assert waiters == ["got a slot", "got a slot"]
    assert bulkhead.busy() == {"fetching": 0, "waiting": 0}


def test_a_waiting_call_gives_up_at_its_deadline():
    bulkhead = Bulkhead(per_server=1, total=10)
    with bulkhead.slot("a", later()):
        assert "within the deadline" in refusal(bulkhead, "a", 0.2)
    assert bulkhead.busy() == {"fetching": 0, "waiting": 0}


def test_one_slow_server_leaves_slots_for_the_others():
    bulkhead = Bulkhead(per_server=1, total=3)
    with bulkhead.slot("slow", later()):
        with bulkhead.slot("other", later()):
            pass
        with bulkhead.slot("third", later()):
            pass


def test_the_total_is_a_cap_over_every_server():
    bulkhead = Bulkhead(per_server=5, total=2)
    with bulkhead.slot("a", later()), bulkhead.slot("b", later()):
        assert "already fetching for 2 calls" in refusal(bulkhead, "c")
    with bulkhead.slot("c", later()):
        assert bulkhead.busy() == {"fetching": 1, "waiting": 0}


def test_a_slot_is_given_back_when_the_fetch_fails():
    bulkhead = Bulkhead(per_server=1, total=1)
    with pytest.raises(RuntimeError), bulkhead.slot("a", later()):
        raise RuntimeError("the fetch broke")
    with bulkhead.slot("a", later()):
        pass
