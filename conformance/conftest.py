"""Fixtures for the conformance tests: simulators started per test and killed after it.

At teardown the fixture fails the test if a simulator ever printed an access key secret, a
security token or a CAK (on stdout or stderr).
"""

import pytest

from simulator import DEFAULT_SEED, Sim


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """The SDK honours HTTP(S)_PROXY; calls to the simulator must stay on loopback."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def start_sim(tmp_path):
    """start_sim(*flags, seed=DEFAULT_SEED) -> Sim; every simulator is killed after the test."""
    started: list[Sim] = []

    def start(*flags: str, seed: str = DEFAULT_SEED) -> Sim:
        directory = tmp_path / f"sim{len(started)}"
        directory.mkdir()
        sim = Sim(directory, seed, tuple(flags))
        started.append(sim)
        return sim

    yield start
    leaks = []
    for sim in started:
        sim.stop()
        leaked = sim.leaked_secrets()
        if leaked:
            leaks.append(f"{' '.join(sim.argv[1:])}: printed {len(leaked)} secret(s) (first chars: "
                         f"{[s[:4] + '...' for s in leaked]})")
    assert not leaks, "the simulator's output contains secrets:\n" + "\n".join(leaks)


@pytest.fixture
def sim(start_sim) -> Sim:
    return start_sim()
