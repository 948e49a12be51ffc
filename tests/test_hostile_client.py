"""The simulator's server role against clients that are broken or hostile
(real loopback sockets, the simulator in this process): garbage, a trickle
that never makes a frame, a client that asks without reading, many idle
connections. The meter stays bounded and keeps serving the others."""
from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest
import uvloop

from dlmsfast.apdu import CosemAttributeDescriptor
from dlmsfast.client.requests import AsyncClient
from dlmsfast.session import AssociationSettings, ClientSession
from dlmsfast.simulator import FleetConfig, MeterSimulator
from dlmsfast.transport import loop as loops
from dlmsfast.wrapper import WrapperFrame, WrapperStreamSplitter

from simfleet import FIXED_TIME

PROFILE = CosemAttributeDescriptor(7, "1.0.99.1.0.255", 2)


LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def run(coroutine, loop: str = "asyncio", timeout: float = 20.0):
    """On either loop: ``dlmsfast simulate`` runs on uvloop, the library on either."""
    return loops.run(asyncio.wait_for(coroutine, timeout), loop_factory=LOOPS[loop])


def _port(sim: MeterSimulator) -> int:
    return int(sim.url(0).rsplit(":", 1)[1])


async def _serves(sim: MeterSimulator) -> None:
    async with AsyncClient(sim.url(0), timeout=3) as client:
        assert (await client.read("1.0.1.8.0.255")).value is not None


@pytest.mark.parametrize("loop", LOOPS)
def test_a_trickle_that_never_makes_a_frame_is_closed_when_idle(loop):
    """A wrapper header announcing 65535 octets, then one octet every 0.1 s: the
    connection is idle (no whole frame) and the idle timeout closes it."""
    async def scenario():
        config = FleetConfig(meters=1, base_port=0, idle_timeout=0.4, fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            reader, writer = await asyncio.open_connection("127.0.0.1", _port(sim))
            writer.write(b"\x00\x01\x00\x10\x00\x01\xFF\xFF")
            started = time.monotonic()
            while not reader.at_eof() and time.monotonic() - started < 3:
                writer.write(b"\x00")
                await asyncio.sleep(0.1)
                if sim.server.idle_closed:
                    break
            closed_after = time.monotonic() - started
            writer.close()
            await _serves(sim)
            return sim.server.idle_closed, closed_after

    idle_closed, closed_after = run(scenario(), loop)
    assert idle_closed == 1
    assert closed_after < 1.5


def test_garbage_is_dropped_and_others_are_served():
    async def scenario():
        config = FleetConfig(meters=1, base_port=0, idle_timeout=0.4, fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            reader, writer = await asyncio.open_connection("127.0.0.1", _port(sim))
            writer.write(bytes(range(256)) * 20 + os.urandom(2000))
            await writer.drain()
            await _serves(sim)
            # closed at once (a bad wrapper version) or when idle: never kept
            await asyncio.wait_for(reader.read(), 2)
            writer.close()
            return len(sim.server.connections)

    assert run(scenario()) == 0


@pytest.mark.parametrize("loop", LOOPS)
def test_a_client_that_never_reads_holds_a_bounded_backlog_and_loses_nothing(loop):
    """5000 requests for a block of the load profile, none read: the meter
    stops reading requests once its answers pile up past the transport's
    high-water mark; when the client reads, every answer comes, in order."""
    requests = 5000

    async def scenario():
        config = FleetConfig(meters=1, base_port=0, idle_timeout=None, profile_rows=500,
                             fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            loop = asyncio.get_running_loop()
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", _port(sim)))
            session = ClientSession(AssociationSettings())
            splitter = WrapperStreamSplitter()
            await loop.sock_sendall(sock, WrapperFrame(1, 16, 1, session.associate()).to_bytes())
            while not (frames := splitter.feed(await loop.sock_recv(sock, 65536))):
                pass
            session.receive_apdu(frames[0].payload)
            request = WrapperFrame(1, 16, 1, session.get(PROFILE)).to_bytes()
            sending = asyncio.ensure_future(loop.sock_sendall(sock, request * requests))
            await asyncio.sleep(0.5)
            held = max(c.transport.get_write_buffer_size() for c in sim.server.connections)
            answers = 0
            while answers < requests:
                answers += len(splitter.feed(await loop.sock_recv(sock, 65536)))
            await sending
            sock.close()
            return held, answers

    held, answers = run(scenario(), loop)
    assert held <= 256 * 1024  # the high-water mark (64 KiB) and the answers of one read
    assert answers == requests


def test_many_idle_connections_do_not_stop_the_meter():
    async def scenario():
        config = FleetConfig(meters=1, base_port=0, idle_timeout=0.5, fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            loop = asyncio.get_running_loop()
            socks = []
            for _ in range(500):
                sock = socket.socket()
                sock.setblocking(False)
                await loop.sock_connect(sock, ("127.0.0.1", _port(sim)))
                socks.append(sock)
            await _serves(sim)
            await asyncio.sleep(1.0)  # twice the idle timeout: all reaped
            reaped = sim.server.idle_closed
            for sock in socks:
                sock.close()
            await _serves(sim)
            return reaped

    assert run(scenario()) >= 500


def test_a_set_in_endless_datablocks_is_refused_at_the_bound(monkeypatch):
    """set-request-with-datablock, never the last: refused (exception-response)
    past MAX_BLOCKS (scaled down here), and the association goes on."""
    from dlmsfast.apdu import (DataBlockSA, InvokeIdAndPriority, SetRequestWithDatablock,
                               SetRequestWithFirstDatablock)
    from dlmsfast.session import _core

    monkeypatch.setattr(_core, "MAX_BLOCKS", 50)
    iip = InvokeIdAndPriority(1)

    async def scenario():
        config = FleetConfig(meters=1, base_port=0, idle_timeout=None, fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            loop = asyncio.get_running_loop()
            sock = socket.socket()
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", _port(sim)))
            session = ClientSession(AssociationSettings())
            splitter = WrapperStreamSplitter()

            async def exchange(apdu: bytes) -> bytes:
                await loop.sock_sendall(sock, WrapperFrame(1, 16, 1, apdu).to_bytes())
                while not (frames := splitter.feed(await loop.sock_recv(sock, 65536))):
                    pass
                return frames[0].payload

            session.receive_apdu(await exchange(session.associate()))
            answer = await exchange(SetRequestWithFirstDatablock(
                invoke_id_and_priority=iip, cosem_attribute_descriptor=PROFILE,
                datablock=DataBlockSA(False, 1, bytes(100))).to_bytes())
            number = 1
            while answer[:2] == b"\xC5\x02":  # set-response-datablock: the next one
                number += 1
                answer = await exchange(SetRequestWithDatablock(
                    invoke_id_and_priority=iip,
                    datablock=DataBlockSA(False, number, bytes(100))).to_bytes())
            sock.close()
            await _serves(sim)
            return number, answer

    number, answer = run(scenario())
    assert number == 51
    assert answer[0] == 0xD8  # exception-response
