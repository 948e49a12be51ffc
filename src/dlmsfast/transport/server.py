"""The server side of the I/O: asyncio listeners on loopback that carry the
APDUs of server applications (the meter simulator) over the wrapper or HDLC.

::

    client ── TCP ──> _MeterConnection ──> wrapper splitter, or one HdlcLink
                      (asyncio.Protocol)     (server role) per logical device
    client ── UDP ──> _MeterDatagrams ──> a _MeterConnection per client address
                      (one socket a port)    and port (wrapper: a frame a datagram)
                                        ──> LogicalDevice.associate(client) -> Responder
                                        <── Responder(apdu) -> [APDU, ...] | None (drop)
           <── wire behaviour (latency, slow drip, corrupted octet) <── framed answer

One listening port (:class:`MeterPort`) serves one or many logical devices,
told apart by the server address (wrapper destination wPort, HDLC server
address), over TCP or (wrapper only, IEC 62056-47's UDP binding) over UDP,
where each client address and port counts as a connection of its own. A
:class:`Responder` is made per connection and client address, on the first
APDU it gets; it answers with the APDUs to send, or None to drop the
connection (a fault the application injects).

:class:`WireBehaviour` is what a device's wire does to its answers: a delay
before each answer (fixed or drawn from a range by a seeded generator), a
slow drip (one octet at a time), one octet inverted in each frame (offset 8:
the APDU's first octet under the wrapper, inside the header or LLC under HDLC,
whose check sequences then fail), or silence.

:func:`serve` opens every port on one event loop and returns a
:class:`MeterServer` to close. :class:`PushSender` carries what the devices
push to a head-end (UDP datagrams, or one TCP connection per push). Nothing
here knows COSEM.
"""
from __future__ import annotations

import asyncio
from collections import deque
import random
import resource
import socket
import struct
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Protocol, Sequence, cast

from ..errors import DlmsError, UsageError
from ..hdlc import HdlcParameters
from ..hdlc.link import ApduReceived, Connected, Disconnected, HdlcLink, LinkTimeout
from ..wrapper import WRAPPER_VERSION, WrapperStreamSplitter
from .._util import shown

Responder = Callable[[bytes], Optional[Sequence[bytes]]]
CORRUPT_OFFSET = 8
FRAMINGS = ("wrapper", "hdlc")
_WRAPPER_HEADER = struct.Struct(">HHHH")  # version, source wPort, destination wPort, length


@dataclass(frozen=True, slots=True)
class WireBehaviour:
    """How a device's wire treats its answers (all off by default).

    ``latency`` (min, max) seconds before each answer; ``drip`` seconds
    between octets (0: whole frames); ``corrupt`` inverts octet 8 of each
    frame; ``silent`` never answers (not even SNRM); ``seed`` seeds the
    latency draws.
    """

    latency: Optional[tuple[float, float]] = None
    drip: float = 0.0
    corrupt: bool = False
    silent: bool = False
    seed: int = 0

    @property
    def plain(self) -> bool:
        return self.latency is None and not self.drip and not self.corrupt


PLAIN_WIRE = WireBehaviour()


class LogicalDevice(Protocol):
    """What a port needs from a device: its server ``address``, its ``wire``
    and a responder per association (``None`` refuses the client address at
    the link: nothing is answered)."""

    address: int
    wire: WireBehaviour

    def associate(self, client_address: int) -> Optional[Responder]: ...


class MeterPort:
    """One listening port: its ``framing`` (``wrapper`` or ``hdlc``), the
    logical devices behind it by server address, and the HDLC parameters it
    can do (max information field and window)."""

    __slots__ = ("port", "framing", "devices", "hdlc_parameters", "udp")

    def __init__(self, port: int, framing: str, devices: Iterable[LogicalDevice], *,
                 hdlc_parameters: Optional[HdlcParameters] = None, udp: bool = False) -> None:
        if framing not in FRAMINGS:
            raise UsageError(f"framing must be wrapper or hdlc, got {shown(framing)}")
        if udp and framing != "wrapper":
            raise UsageError("over UDP the framing is the wrapper (IEC 62056-47)")
        self.port = port
        self.framing = framing
        self.devices = {device.address: device for device in devices}
        self.hdlc_parameters = hdlc_parameters
        self.udp = udp


class _Wire:
    """The answers of one device on one connection, in order, through its behaviour.

    Delayed writes wait in one queue, in the order they were sent and so of their
    times (``ready_at`` never goes back), under one timer: a timer per write is
    not enough, since uvloop rounds each one's delay to whole milliseconds from
    the moment it is made, so that two octets 0.2 ms apart could swap places and
    the client receive a damaged frame."""

    __slots__ = ("behaviour", "transport", "random", "ready_at", "queue", "timer")

    def __init__(self, behaviour: WireBehaviour, transport, seed: int) -> None:
        self.behaviour = behaviour
        self.transport = transport
        self.random = random.Random(seed)
        self.ready_at = 0.0
        self.queue: deque[tuple[float, bytes]] = deque()  # (when, octets) still to write
        self.timer: Optional[asyncio.TimerHandle | asyncio.Handle] = None

    def send(self, data: bytes) -> None:
        behaviour = self.behaviour
        if behaviour.plain:
            self.transport.write(data)
            return
        if behaviour.corrupt and len(data) > CORRUPT_OFFSET:
            damaged = bytearray(data)
            damaged[CORRUPT_OFFSET] ^= 0xFF
            data = bytes(damaged)
        loop = asyncio.get_running_loop()
        delay = 0.0
        if behaviour.latency is not None:
            low, high = behaviour.latency
            delay = low if high <= low else self.random.uniform(low, high)
        at = max(loop.time() + delay, self.ready_at)
        queue = self.queue
        if behaviour.drip:
            drip = behaviour.drip
            queue.extend((at + i * drip, data[i:i + 1]) for i in range(len(data)))
            self.ready_at = at + len(data) * drip
        else:
            queue.append((at, data))
            self.ready_at = at
        if self.timer is None:
            self.timer = loop.call_at(queue[0][0], self._due)

    def _due(self) -> None:
        """Write what is due, in order, and wait for the next."""
        self.timer = None
        queue = self.queue
        loop = asyncio.get_running_loop()
        # within uvloop's millisecond, so that a timer that fires a little early
        # does not spin until the exact time
        now = loop.time() + 0.001
        due = []
        while queue and queue[0][0] <= now:
            due.append(queue.popleft()[1])
        if due:
            self.transport.write(b"".join(due))
        if queue:
            self.timer = loop.call_at(queue[0][0], self._due)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()


class _MeterConnection(asyncio.Protocol):
    """One client connection to a port (either framing)."""

    def __init__(self, port: MeterPort, server: "MeterServer") -> None:
        self.port = port
        self.server = server
        self.transport: Optional[asyncio.Transport] = None
        self.responders: dict[tuple[int, int], Optional[Responder]] = {}
        self.wires: dict[int, _Wire] = {}
        self.wrapper = port.framing == "wrapper"
        # made on the first read that is not one whole frame (see _wrapper)
        self.splitter: Optional[WrapperStreamSplitter] = None
        self.links: dict[int, HdlcLink] = {}
        # when the client last sent a whole frame: octets that never make one (a
        # header announcing 65535 octets, then one octet now and then) keep
        # nothing open past the idle timeout
        self.last_data = time.monotonic()
        # Flow control: while the answers wait in the transport beyond its
        # high-water mark (the client does not read them), no request is read
        # or answered; wrapper frames already read wait here, in order. A client
        # that asks without reading then holds at most the high-water mark plus
        # one answer in the meter, and TCP holds the client back.
        self.paused = False
        self.backlog: list[tuple[int, int, bytes]] = []

    # -- asyncio callbacks -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (asyncio's and uvloop's TCP transports set TCP_NODELAY themselves;
        # uvloop's are stream transports without deriving from asyncio.Transport)
        self.transport = cast(asyncio.Transport, transport)
        self.server.connections.add(self)
        if not self.wrapper:
            for address, device in self.port.devices.items():
                if not device.wire.silent:
                    self.links[address] = HdlcLink("server", None, address,
                                                   parameters=self.port.hdlc_parameters)

    def connection_lost(self, exc) -> None:
        self.server.connections.discard(self)
        self.backlog.clear()
        for wire in self.wires.values():
            wire.cancel()
        self.wires.clear()
        self.responders.clear()

    def pause_writing(self) -> None:
        self.paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused = False
        backlog = self.backlog
        while backlog and not self.paused:
            if not self._wrapper_apdu(*backlog.pop(0)):
                return
        transport = self.transport
        if not self.paused and transport is not None and not transport.is_closing():
            transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        try:
            if self.wrapper:
                self._wrapper(data)
            else:
                self._hdlc(data)
        except DlmsError:
            # bytes no framing can make sense of: a real meter hangs up too
            self.drop()

    # -- framings ------------------------------------------------------------------

    def _send(self, device: LogicalDevice, data: bytes) -> None:
        if device.wire.plain:
            if self.transport is not None:
                self.transport.write(data)
        else:
            self._wire(device).send(data)

    def _wire(self, device: LogicalDevice) -> _Wire:
        wire = self.wires.get(device.address)
        if wire is None:
            seed = hash((device.wire.seed, device.address, id(self)))
            wire = self.wires[device.address] = _Wire(device.wire, self.transport, seed)
        return wire

    def _responder(self, device: LogicalDevice, client: int) -> Optional[Responder]:
        key = (device.address, client)
        try:
            return self.responders[key]
        except KeyError:
            responder = self.responders[key] = device.associate(client)
            return responder

    def _wrapper(self, data: bytes) -> None:
        splitter = self.splitter
        if (splitter is None and not self.paused and len(data) >= _WRAPPER_HEADER.size
                and data[0] == 0
                and data[1] == WRAPPER_VERSION
                and data[6] << 8 | data[7] == len(data) - _WRAPPER_HEADER.size):
            # A client sends one request and waits: a read is nearly always one whole
            # frame, taken as the splitter would take it without making one. Anything
            # else (a part, several, garbage) goes to the splitter from then on.
            _, client, server, _ = _WRAPPER_HEADER.unpack_from(data)
            self._wrapper_apdu(server, client, data[_WRAPPER_HEADER.size:])
            return
        if splitter is None:
            splitter = self.splitter = WrapperStreamSplitter()
        backlog = self.backlog
        for frame in splitter.feed(data):
            if self.paused or backlog:
                backlog.append((frame.destination_wport, frame.source_wport, frame.payload))
            elif not self._wrapper_apdu(frame.destination_wport, frame.source_wport,
                                        frame.payload):
                return

    def _wrapper_apdu(self, server: int, client: int, apdu: bytes) -> bool:
        """Answer one APDU that came in a wrapper frame; False once the connection dropped."""
        self.last_data = time.monotonic()
        device = self.port.devices.get(server)
        if device is None or device.wire.silent:
            return True
        responder = self._responder(device, client)
        if responder is None:
            return True
        answers = responder(apdu)
        if answers is None:
            self.drop()
            return False
        pack = _WRAPPER_HEADER.pack
        for answer in answers:
            self._send(device, pack(WRAPPER_VERSION, server, client, len(answer)) + answer)
        return True

    def _hdlc(self, data: bytes) -> None:
        devices = self.port.devices
        for address, link in self.links.items():
            link.receive_data(data)
            out = []
            for event in link.events():
                if isinstance(event, ApduReceived):
                    client = link.client.upper if link.client is not None else 16
                    responder = self._responder(devices[address], client)
                    if responder is None:
                        continue
                    answers = responder(event.apdu)
                    if answers is None:
                        self.drop()
                        return
                    for apdu in answers:
                        out.append(link.send_apdu(apdu))
                elif isinstance(event, (Connected, Disconnected, LinkTimeout)):
                    # the association lives no longer than its link, and an SNRM
                    # (Connected) opens a new one even over a link that was up
                    for key in [k for k in self.responders if k[0] == address]:
                        del self.responders[key]
            out.append(link.data_to_send())
            octets = b"".join(out)
            if octets:
                self.last_data = time.monotonic()  # a whole frame came (and is answered)
                self._send(devices[address], octets)

    def drop(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class _PeerTransport:
    """What a :class:`_MeterConnection` writes to for one UDP peer: each write
    one datagram to it; abort forgets the peer (its associations with it)."""

    __slots__ = ("endpoint", "address")

    def __init__(self, endpoint: "_MeterDatagrams", address) -> None:
        self.endpoint = endpoint
        self.address = address

    def write(self, data: bytes) -> None:
        transport = self.endpoint.transport
        if transport is not None:
            transport.sendto(data, self.address)

    def abort(self) -> None:
        self.endpoint.forget(self.address)


MAX_UDP_PEERS = 4096
"""Clients (address, port) one UDP port keeps at most: a new one beyond makes it
forget the one it heard from first (with no idle timeout, nothing else would)."""


class _MeterDatagrams(asyncio.DatagramProtocol):
    """One UDP port: a :class:`_MeterConnection` per client (address, port),
    made on its first datagram and kept until the idle sweep, a dropping fault
    or :data:`MAX_UDP_PEERS` newer clients forget it; each datagram is one
    wrapper frame."""

    def __init__(self, port: MeterPort, server: "MeterServer") -> None:
        self.port = port
        self.server = server
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.peers: dict[object, _MeterConnection] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, address) -> None:
        peer = self.peers.get(address)
        if peer is None:
            if len(self.peers) >= MAX_UDP_PEERS:
                self.forget(next(iter(self.peers)))
            peer = self.peers[address] = _MeterConnection(self.port, self.server)
            peer.connection_made(cast(asyncio.BaseTransport, _PeerTransport(self, address)))
        peer.data_received(data)

    def error_received(self, exc: Exception) -> None:
        # an ICMP port-unreachable for an answer to a client that has gone: nothing to do
        pass

    def forget(self, address) -> None:
        peer = self.peers.pop(address, None)
        if peer is not None:
            peer.connection_lost(None)

    def connection_lost(self, exc) -> None:
        for address in list(self.peers):
            self.forget(address)


class MeterServer:
    """The listeners of :func:`serve` and their open connections; a connection
    that brings nothing for ``idle_timeout`` seconds is closed (as a meter
    closes an idle one)."""

    def __init__(self, idle_timeout: Optional[float] = None) -> None:
        if idle_timeout is not None and (type(idle_timeout) not in (int, float)
                                         or not idle_timeout >= 0):
            raise UsageError(f"idle_timeout is None or seconds >= 0, got {shown(idle_timeout)}")
        self.listeners: list[asyncio.AbstractServer] = []
        self.endpoints: list[asyncio.DatagramTransport] = []
        self.connections: set[_MeterConnection] = set()
        self.ports: list[int] = []
        self.idle_timeout = idle_timeout
        self.idle_closed = 0
        self._sweeper: Optional[asyncio.TimerHandle] = None
        if idle_timeout:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise UsageError("a MeterServer with an idle_timeout is made on the running "
                                 "event loop it serves (in a coroutine, as serve() does)") from None
            self._sweeper = loop.call_later(idle_timeout / 4, self._sweep)

    def _sweep(self) -> None:
        assert self.idle_timeout  # the sweeper runs only with an idle_timeout
        oldest = time.monotonic() - self.idle_timeout
        for connection in [c for c in self.connections if c.last_data < oldest]:
            self.idle_closed += 1
            connection.drop()
        self._sweeper = asyncio.get_running_loop().call_later(self.idle_timeout / 4, self._sweep)

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for listener in self.listeners:
            listener.close()
        for connection in list(self.connections):
            connection.drop()
        for endpoint in self.endpoints:
            endpoint.close()
        for listener in self.listeners:
            await listener.wait_closed()
        self.listeners.clear()
        self.endpoints.clear()


def raise_file_limit() -> int:
    """Raise this process's open-file limit as far as allowed; return the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def _connection_factory(port: MeterPort, server: MeterServer) -> Callable[[], _MeterConnection]:
    return lambda: _MeterConnection(port, server)


def _datagrams_factory(port: MeterPort, server: MeterServer) -> Callable[[], _MeterDatagrams]:
    return lambda: _MeterDatagrams(port, server)


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands out to outgoing connections and to bind(0)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            low, high = map(int, handle.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


class _FreePorts:
    """Free ports for the listeners that ask for "any" (port 0), found by
    binding: below the kernel's ephemeral range, from a random start, skipping
    what is taken. bind(0) for thousands of listeners costs the kernel a search
    of the ephemeral range that grows with every port it holds (10,000
    listeners: 17 s of system time, against well under one here), and
    listeners there also narrow what outgoing connections on the machine can
    use. When no port below the range is free, the kernel chooses."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        low, _ = _ephemeral_range()
        self.low, self.high = 10_000, max(10_001, low)  # [low, high)
        self.next = random.randrange(self.low, self.high)
        self.misses = 0

    def bound(self, kind: int = socket.SOCK_STREAM) -> socket.socket:
        """A socket (TCP, or UDP for ``SOCK_DGRAM``) bound to a free port; a TCP
        one has SO_REUSEADDR set and is not yet listening."""
        span = self.high - self.low
        while self.misses < span:
            port = self.next
            self.next = self.low + (port + 1 - self.low) % span
            sock = socket.socket(self.family, kind)
            try:
                if kind == socket.SOCK_STREAM:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, port))
            except OSError:
                sock.close()
                self.misses += 1
                continue
            self.misses = 0
            return sock
        sock = socket.socket(self.family, kind)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        return sock


async def serve(ports: Sequence[MeterPort], host: str = "127.0.0.1", *,
                backlog: int = 256, idle_timeout: Optional[float] = None) -> MeterServer:
    """Listen on every port (loopback by default) in the running loop; connections
    idle for ``idle_timeout`` seconds are closed (None: never). A port of 0 is
    any free port (see :class:`_FreePorts`)."""
    loop = asyncio.get_running_loop()
    server = MeterServer(idle_timeout)
    free = _FreePorts(host)
    try:
        for port in ports:
            if port.udp:
                sock = free.bound(socket.SOCK_DGRAM) if port.port == 0 else None
                try:
                    endpoint, _ = await loop.create_datagram_endpoint(
                        _datagrams_factory(port, server), sock=sock,
                        local_addr=None if sock is not None else (host, port.port))
                except BaseException:
                    if sock is not None:
                        sock.close()
                    raise
                server.endpoints.append(endpoint)
                server.ports.append(endpoint.get_extra_info("sockname")[1])
                continue
            if port.port == 0:
                sock = free.bound()
                try:
                    listener = await loop.create_server(
                        _connection_factory(port, server), sock=sock, backlog=backlog)
                except BaseException:
                    sock.close()
                    raise
            else:
                listener = await loop.create_server(
                    _connection_factory(port, server), host, port.port,
                    reuse_address=True, backlog=backlog)
            server.listeners.append(listener)
            server.ports.append(listener.sockets[0].getsockname()[1])
    except BaseException:
        await server.close()
        raise
    return server


class PushSender:
    """Sends what devices push, on the running loop: over UDP every datagram
    from one socket bound to ``host`` (the sender's source address), over TCP
    one connection per push (connect, write, close), as a meter opens one to
    its head-end for each push. A push that cannot be delivered is counted in
    ``failed`` with ``last_error``, never raised: the device goes on."""

    def __init__(self, host: str = "127.0.0.1", timeout: float = 5.0) -> None:
        self.host = host
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self.last_error: Optional[str] = None
        self._udp: dict[int, socket.socket] = {}
        self._tasks: set[asyncio.Task] = set()

    def send(self, scheme: str, host: str, port: int, data: bytes) -> None:
        """Send ``data`` to ``scheme://host:port`` (``udp`` now, ``tcp`` in a task)."""
        if scheme == "udp":
            self._send_datagram(host, port, data)
        elif scheme == "tcp":
            task = asyncio.get_running_loop().create_task(self._send_stream(host, port, data))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            raise UsageError(f"pushes go over udp or tcp, got {shown(scheme)}")

    def _local(self, host: str) -> Optional[tuple[str, int]]:
        # the sender's own address where it is of the destination's family
        return (self.host, 0) if (":" in self.host) == (":" in host) else None

    def _failed(self, where: str, exc: BaseException) -> None:
        self.failed += 1
        self.last_error = f"{where}: {type(exc).__name__}: {exc}"

    def _send_datagram(self, host: str, port: int, data: bytes) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = self._udp.get(family)
        try:
            if sock is None:
                sock = socket.socket(family, socket.SOCK_DGRAM)
                sock.setblocking(False)
                self._udp[family] = sock
                local = self._local(host)
                if local is not None:
                    sock.bind(local)
            sock.sendto(data, (host, port))
        except OSError as exc:
            self._failed(f"udp://{host}:{port}", exc)
            return
        self.sent += 1

    async def _send_stream(self, host: str, port: int, data: bytes) -> None:
        writer = None
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, local_addr=self._local(host)), self.timeout)
            writer.write(data)
            await asyncio.wait_for(writer.drain(), self.timeout)
            self.sent += 1
        except (OSError, asyncio.TimeoutError) as exc:
            self._failed(f"tcp://{host}:{port}", exc)
        finally:
            if writer is not None:
                writer.close()
                try:
                    await writer.wait_closed()
                except OSError:
                    pass

    async def drain(self) -> None:
        """Wait until every TCP push under way has been delivered or has failed."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop the pushes under way and close the UDP sockets."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for sock in self._udp.values():
            sock.close()
        self._udp.clear()


__all__ = ["LogicalDevice", "MeterPort", "MeterServer", "PLAIN_WIRE", "PushSender", "Responder",
           "WireBehaviour", "raise_file_limit", "serve"]
