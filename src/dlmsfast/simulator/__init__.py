"""Simulated meters for tests, demos and benchmarks: ``dlmsfast simulate``.

=============  ================================================================
module         owns
=============  ================================================================
``data``       the deterministic values (a function of meter index and time)
               and :func:`expected_readings`, what a meter must have answered
``meter``      the COSEM objects of a meter and the answers to GET/SET (and
               their short names, for meters that speak only those)
``faults``     the ``--faults`` syntax and which meters get which fault
``fleet``      :class:`MeterSimulator`: the meters on the server role of the
               sessions, one port per meter or many logical devices per port,
               TCP or UDP, logical or short names, no authentication to
               HLS-SHA-256; meters.csv and keys.toml for ``dlmsfast bulk``
``push``       the meters' pushes (Push Setup, IC 40): the data-notification,
               its ciphering and wrapper, the push method and the interval
=============  ================================================================

::

    config = FleetConfig(meters=3, base_port=0, auth="hls-gmac", security="authenc")
    async with MeterSimulator(config) as sim:
        spec, keys = sim.specs[0], sim.specs[0].keys()     # client address, hex keys
        async with AsyncClient(sim.url(0), client=spec.client, auth=spec.auth,
                               security=spec.security, ek=keys["ek"], ak=keys["ak"],
                               system_title=keys["system_title"]) as meter:
            reading = await meter.read("1.0.1.8.0.255")
            at = await meter.read_clock()
        assert reading.value == expected_register(0, "1.0.1.8.0.255", at).value

Public names: :class:`FleetConfig` (what a fleet is made of), :class:`MeterSimulator`
(``start``/``stop`` or ``async with``; ``specs``, ``url(k)``, ``write_meters``,
``write_keys``, ``sessions``), :func:`run_fleet` (serve until an event),
:func:`meter_specs`, :func:`meter_index`, :func:`expected_readings`,
:func:`expected_register`, :func:`expected_profile`, :func:`expected_events`,
:func:`parse_faults`, :func:`assign_faults`, :class:`MeterFaults`,
:func:`expected_push` (what a meter's push carries).
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
from .push import expected_push

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
    "expected_push",
    "expected_readings",
    "expected_register",
    "meter_index",
    "meter_specs",
    "parse_faults",
    "run_fleet",
]
