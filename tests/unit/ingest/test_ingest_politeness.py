"""Per-host politeness and back-pressure policy: pure, on a clock the test moves."""

from __future__ import annotations

import pytest

from ingest.politeness import HostGate
from ingest.scheduler import stretch_for


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_at_most_n_fetches_to_one_host_and_others_unaffected() -> None:
    gate = HostGate(2, 0.0, clock=Clock())
    assert gate.try_start("a.example.org")
    assert gate.try_start("a.example.org")
    assert not gate.try_start("a.example.org")
    assert gate.reason("a.example.org") == "concurrency"
    assert gate.busy() == ["a.example.org"]
    assert gate.try_start("b.example.org")
    gate.done("a.example.org")
    assert gate.try_start("a.example.org")


def test_a_least_delay_between_two_starts_on_one_host() -> None:
    clock = Clock()
    gate = HostGate(5, 2.0, clock=clock)
    assert gate.try_start("a.example.org")
    gate.done("a.example.org")
    assert not gate.try_start("a.example.org")
    assert gate.reason("a.example.org") == "delay"
    clock.now += 2.0
    assert gate.try_start("a.example.org")


def test_retry_after_holds_the_whole_host_capped() -> None:
    clock = Clock()
    gate = HostGate(5, 0.0, max_hold_seconds=600, clock=clock)
    assert gate.hold("a.example.org", 99999999999999) == 600
    assert not gate.try_start("a.example.org")
    assert gate.reason("a.example.org") == "retry_after"
    clock.now += 599
    assert "a.example.org" in gate.busy()
    clock.now += 1
    assert gate.busy() == []
    assert gate.try_start("a.example.org")


def test_files_are_never_limited_and_idle_hosts_are_forgotten() -> None:
    clock = Clock()
    gate = HostGate(1, 1.0, clock=clock)
    assert all(gate.try_start("") for _ in range(5))
    for n in range(1000):
        gate.try_start(f"h{n}.example.org")
        gate.done(f"h{n}.example.org")
    clock.now += 1.0
    assert gate.busy() == []
    assert gate._hosts == {}


@pytest.mark.parametrize(
    ("lag", "stretch"), [(0, 1.0), (1000, 1.0), (1001, 2.001), (3000, 4.0), (10**9, 8.0)]
)
def test_back_pressure_stretch(lag: int, stretch: float) -> None:
    assert stretch_for(lag, 1000, 8.0) == pytest.approx(stretch)


def test_back_pressure_off() -> None:
    assert stretch_for(10**9, 0, 8.0) == 1.0
