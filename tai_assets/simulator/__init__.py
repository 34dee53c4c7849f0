"""A seeded, deterministic stand-in for tai's three sources, served on loopback.

``Simulator(SimulatorConfig(seed=1), clock=ManualClock(start))``; ``with sim.serve() as r:``
gives ``r.udp_port`` (SA-MP query protocol) and ``r.http_base_url`` (``/api/user``,
``/api/worlds``). ``sim.faults`` holds the fault knobs, ``sim.stats`` the request counters and
``sim.truth`` the ground truth. ``python -m tai_assets.simulator --help`` runs it standalone.
"""

from tai_assets.simulator.clocks import AcceleratedClock, ManualClock
from tai_assets.simulator.config import SimulatorConfig
from tai_assets.simulator.core import RunningSimulator, Simulator
from tai_assets.simulator.faults import Faults, Stats
from tai_assets.simulator.truth import Truth

__all__ = [
    "AcceleratedClock",
    "Faults",
    "ManualClock",
    "RunningSimulator",
    "Simulator",
    "SimulatorConfig",
    "Stats",
    "Truth",
]
