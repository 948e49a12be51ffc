"""Simulated meters for tests, demos and benchmarks: ``dlmsfast simulate``.

=============  ================================================================
module         owns
=============  ================================================================
``data``       the deterministic values (a function of meter index and time)
               and :func:`expected_readings`, what a meter must have answered
``meter``      the COSEM objects of a meter and the answers to GET/SET
``faults``     the ``--faults`` syntax and which meters get which fault
``fleet``      :class:`MeterSimulator`: the meters on the server role of the
               sessions, one port per meter or many logical devices per port,
               meters.csv and keys.toml for ``dlmsfast bulk``
=============  ================================================================

::

    async with MeterSimulator(FleetConfig(meters=3, base_port=0, auth="hls-gmac",
                                          security="authenc")) as sim:
        spec = sim.specs[0]
        async with AsyncClient(sim.url(0), client=spec.client, auth=spec.auth,
                               security=spec.security, **keys_of(spec)) as meter:
            ...
"""
from __future__ import annotations

from .data import (
    CAPTURE_PERIOD,
    EPOCH,
    REGISTERS,
    ExpectedReading,
    expected_events,
    expected_profile,
    expected_readings,
    expected_register,
)
from .faults import KINDS as FAULT_KINDS
from .faults import MeterFaults, assign_faults, parse_faults
from .fleet import FleetConfig, MeterSimulator, MeterSpec, meter_index, meter_specs, run_fleet

__all__ = [
    "CAPTURE_PERIOD",
    "EPOCH",
    "FAULT_KINDS",
    "REGISTERS",
    "ExpectedReading",
    "expected_events",
    "FleetConfig",
    "MeterFaults",
    "MeterSimulator",
    "MeterSpec",
    "assign_faults",
    "expected_profile",
    "expected_readings",
    "expected_register",
    "meter_index",
    "meter_specs",
    "parse_faults",
    "run_fleet",
]
