"""transport.server's choice of "any free port" for the simulator's listeners:
below the kernel's ephemeral range, skipping ports that are taken."""
from __future__ import annotations

import asyncio
import socket

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
