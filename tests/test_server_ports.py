"""transport.server's choice of "any free port" for the simulator's listeners:
below the kernel's ephemeral range, skipping ports that are taken."""
from __future__ import annotations

import asyncio
import socket

import pytest

from dlmsfast.transport.server import MeterPort, _ephemeral_range, _FreePorts, serve


def test_any_port_is_below_the_ephemeral_range_and_each_is_distinct():
    async def scenario():
        server = await serve([MeterPort(0, "wrapper", []) for _ in range(50)])
        try:
            return list(server.ports)
        finally:
            await server.close()

    ports = asyncio.run(scenario())
    low, _ = _ephemeral_range()
    assert len(set(ports)) == 50
    assert all(10_000 <= p < low for p in ports)


def test_a_taken_port_is_skipped():
    free = _FreePorts("127.0.0.1")
    taken = free.bound()  # a port now held by someone else
    port = taken.getsockname()[1]
    taken.listen(1)
    free.next = port  # start the search at it
    sock = free.bound()
    try:
        assert sock.getsockname()[1] != port
    finally:
        sock.close()
        taken.close()


def test_when_no_port_below_the_range_is_free_the_kernel_chooses():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    held = holder.getsockname()[1]
    free = _FreePorts("127.0.0.1")
    free.low, free.high, free.next = held, held + 1, held  # a range of one port, taken
    sock = free.bound()
    try:
        assert sock.getsockname()[1] not in (0, held)
        assert free.misses == 1
    finally:
        sock.close()
        holder.close()


@pytest.mark.parametrize("loop_name", ["uvloop", "asyncio"])
def test_a_dripping_or_delayed_wire_keeps_the_octets_in_order(loop_name):
    # uvloop rounds each timer's delay to whole milliseconds from the moment it is
    # made: with one timer per octet or per answer, octets swapped places (a damaged
    # frame, then a client waiting for octets that never came)
    import random as _random

    import uvloop

    from dlmsfast.transport.server import WireBehaviour, _Wire

    class Sink:
        def __init__(self) -> None:
            self.octets = bytearray()

        def write(self, data: bytes) -> None:
            self.octets += data

    answers = [_random.Random(n).randbytes(300) for n in range(6)]

    async def drive(behaviour: WireBehaviour) -> bytes:
        sink = Sink()
        wire = _Wire(behaviour, sink, seed=1)
        for answer in answers:  # back to back, as pipelined answers go
            wire.send(answer)
            await asyncio.sleep(0)
        while wire.queue:
            await asyncio.sleep(0.005)
        return bytes(sink.octets)

    loop = uvloop.new_event_loop() if loop_name == "uvloop" else asyncio.new_event_loop()
    try:
        dripped = loop.run_until_complete(drive(WireBehaviour(drip=0.0002)))
        delayed = loop.run_until_complete(drive(WireBehaviour(latency=(0.0001, 0.003))))
    finally:
        loop.close()
    assert dripped == b"".join(answers)
    assert delayed == b"".join(answers)
