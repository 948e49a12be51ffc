"""Byte streams to a meter: TCP, UDP and serial lines, on the running asyncio loop.

A stream moves octets and nothing else: what they mean is the framing's job
(:mod:`dlmsfast.transport.framing`). Every stream has the same small face::

    await stream.open(on_data, on_lost)   # on_data(bytes) per chunk received,
    stream.write(data)                    # on_lost(exc or None) once, at the end
    stream.close()

Callbacks rather than ``await read()``: received octets go straight from the
event loop into the sans-IO framing, with no task switch per chunk, which is
what keeps the client's CPU per session low.

The serial stream runs the port's file descriptor in the loop itself
(``add_reader``/``add_writer``, POSIX); pyserial only opens the port and sets
its line (baud, 7E1/8N1). Mode E (IEC 62056-21 optical head)::

    client --- "/?!\\r\\n" -------------------------------> meter   300 baud, 7E1
    client <-- "/MMM5ident\\r\\n" ------------------------- meter   '5': up to 9600 baud
    client --- ACK '2' Z '2' CR LF ----------------------> meter   protocol 2 (mode E),
                                                                  Z the chosen baud,
                                                                  '2' binary (HDLC)
    both switch to Z baud, 8N1; HDLC (SNRM/UA...) follows
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import sys
from typing import Any, Callable, Iterator, Optional

from ..errors import ConfigurationError, ConnectionLost, DecodeError, TimeoutError, TransportError

OnData = Callable[[bytes], None]
OnLost = Callable[[Optional[BaseException]], None]

# IEC 62056-21 baud rate identification (modes C and E): character -> baud.
MODE_E_BAUDS = {"0": 300, "1": 600, "2": 1200, "3": 2400, "4": 4800, "5": 9600, "6": 19200}
SIGN_ON = b"/?!\r\n"
ACK = 0x06
# How long a meter may take to send its identification after the sign-on
# (IEC 62056-21 allows up to 1.5 s, plus the message itself at 300 baud).
IDENTIFICATION_TIMEOUT = 3.0
IDENTIFICATION_MAX = 64


class _StreamProtocol(asyncio.Protocol):
    """Hands what asyncio receives straight to the owner's callbacks."""

    __slots__ = ("on_data", "on_lost")

    def __init__(self, on_data: OnData, on_lost: OnLost) -> None:
        self.on_data = on_data
        self.on_lost = on_lost

    def data_received(self, data: bytes) -> None:
        self.on_data(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.on_lost(exc)


class _DatagramProtocol(asyncio.DatagramProtocol):
    __slots__ = ("on_data", "on_lost")

    def __init__(self, on_data: OnData, on_lost: OnLost) -> None:
        self.on_data = on_data
        self.on_lost = on_lost

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_data(data)

    def error_received(self, exc: Exception) -> None:
        # An ICMP port-unreachable answer: nobody listens there.
        self.on_lost(exc)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.on_lost(exc)


class _IpStream:
    """What TCP and UDP streams share: the peer and closing the asyncio transport."""

    scheme = ""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._transport: Any = None

    @property
    def peer(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def _live_transport(self) -> Any:
        if self._transport is None or self._transport.is_closing():
            raise ConnectionLost(f"the connection to {self.peer} is closed")
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class TcpStream(_IpStream):
    """A TCP connection (``TCP_NODELAY`` is asyncio's default)."""

    scheme = "tcp"

    async def open(self, on_data: OnData, on_lost: OnLost) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._transport, _ = await loop.create_connection(
                lambda: _StreamProtocol(on_data, on_lost), self.host, self.port
            )
        except OSError as exc:
            raise TransportError(f"cannot connect to {self.peer}: {exc.strerror or exc}") from None

    def write(self, data: bytes) -> None:
        self._live_transport().write(data)


class _CallbackReader:
    """What the streams that read by themselves share (no asyncio transport to do
    it): one read handed to the owner's callbacks, and the end of the stream."""

    _on_data: Optional[OnData]
    _on_lost: Optional[OnLost]
    close: Callable[[], None]

    def _take(self, read: Callable[[], bytes]) -> None:
        try:
            data = read()
        except (BlockingIOError, socket.timeout):
            return  # nothing yet
        except OSError as exc:
            self._lost(exc)
            return
        if not data:
            self._lost(None)
            return
        assert self._on_data is not None
        self._on_data(data)

    def _lost(self, exc: Optional[BaseException]) -> None:
        on_lost = self._on_lost
        self.close()
        if on_lost is not None:
            on_lost(exc)


class BlockingTcpStream:
    """A TCP connection on a blocking socket, for the blocking client: no event
    loop at all. Octets go to ``on_data`` from :meth:`pump`, which the
    connection calls while it waits, so a round trip is one ``send`` and one
    ``recv`` and the process sleeps in ``recv`` until the meter answers (a
    loop would add an ``epoll_wait``, its callbacks and a task switch to every
    wake-up; against a slow meter that is most of the client's CPU).

    On Linux (``kernel_deadlines``) the socket stays in blocking mode and its
    deadlines are the kernel's (``SO_RCVTIMEO``, ``SO_SNDTIMEO``): Python's
    ``settimeout`` makes every ``recv`` and ``send`` a ``poll`` plus the call,
    and every change of the timeout an ``ioctl``. The receive timeout is set
    again only when a wait's time left differs from it by more than
    :data:`TIMEOUT_SLACK`. Elsewhere (Windows leaves a socket unusable after
    such a timeout, and takes milliseconds) Python's timeouts."""

    scheme = "tcp"
    blocking = True
    kernel_deadlines = sys.platform.startswith("linux")

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._socket: Optional[socket.socket] = None
        self._on_data: Optional[OnData] = None
        self._on_lost: Optional[OnLost] = None
        self._send_timeout = 0.0  # what SO_SNDTIMEO holds
        self._receive_timeout = 0.0  # what SO_RCVTIMEO holds now

    @property
    def peer(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def open_now(self, on_data: OnData, on_lost: OnLost, timeout: float,
                 connect_timeout: Optional[float] = None) -> None:
        """Connect within ``connect_timeout`` s (default ``timeout``); then every
        send and receive has ``timeout`` s."""
        seconds = timeout if connect_timeout is None else connect_timeout
        kernel = self.kernel_deadlines
        family = _address_family(self.host) if kernel else None
        try:
            if family is None:  # looked up, and connected with Python's timeout
                sock = socket.create_connection((self.host, self.port), seconds)
            else:
                sock = socket.socket(family, socket.SOCK_STREAM)
        except socket.timeout:
            raise TimeoutError(f"cannot connect to {self.peer} within {seconds:g} s "
                               "(connect timed out)") from None
        except OSError as exc:
            raise TransportError(f"cannot connect to {self.peer}: {exc.strerror or exc}") from None
        try:
            # requests are written whole; Nagle would hold the next one for an ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if kernel:
                if sock.gettimeout() is not None:  # create_connection's, or a default
                    sock.settimeout(None)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(timeout))
            if family is not None:
                # An address: a blocking connect bounded by the send timeout
                # (EINPROGRESS when it runs out), with no name lookup, no poll
                # and no SO_ERROR read: half the CPU of create_connection right
                # after a wait. (A signal handled in Python during the connect
                # leaves CPython waiting for the kernel's own SYN retries.)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(seconds))
                sock.connect((self.host, self.port))
            if kernel:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(timeout))
            else:
                sock.settimeout(timeout)
        except BlockingIOError:
            sock.close()
            raise TimeoutError(f"cannot connect to {self.peer} within {seconds:g} s "
                               "(connect timed out)") from None
        except OSError as exc:
            sock.close()
            raise TransportError(f"cannot connect to {self.peer}: {exc.strerror or exc}") from None
        self._send_timeout = self._receive_timeout = timeout
        self._socket, self._on_data, self._on_lost = sock, on_data, on_lost

    def pump(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for octets and hand them to ``on_data`` (or
        the end of the stream to ``on_lost``); returns quietly on a timeout."""
        sock = self._socket
        if sock is None:
            # never return at once here: the caller would spin until its deadline
            raise ConnectionLost(f"the connection to {self.peer} is closed")
        try:
            if abs(timeout - self._receive_timeout) > TIMEOUT_SLACK:
                # a zero timeval would mean "wait for ever"
                self._receive_timeout = max(timeout, 0.001)
                if self.kernel_deadlines:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                    _timeval(self._receive_timeout))
                else:
                    sock.settimeout(self._receive_timeout)
            data = sock.recv(65536)
        except (BlockingIOError, socket.timeout):
            return  # the receive timeout ran out
        except OSError as exc:
            self._lost(exc)
            return
        if data:
            assert self._on_data is not None  # set with the socket, by open()
            self._on_data(data)
        else:
            self._lost(None)

    def write(self, data: bytes) -> None:
        sock = self._socket
        if sock is None:
            raise ConnectionLost(f"the connection to {self.peer} is closed")
        try:
            sock.sendall(data)
        except (BlockingIOError, socket.timeout):
            # the send timeout ran out: the meter has not read what we sent before
            self._lost(None)
            raise TimeoutError(f"{self.peer} did not take our request within "
                               f"{self._send_timeout:g} s (its receive window stayed full)"
                               ) from None
        except OSError as exc:
            self._lost(exc)
            raise ConnectionLost(f"{self.peer} failed: {exc}") from None

    def _lost(self, exc: Optional[BaseException]) -> None:
        on_lost = self._on_lost
        self.close()
        if on_lost is not None:
            on_lost(exc)

    def close(self) -> None:
        self._on_lost = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _address_family(host: str) -> Optional[int]:
    """AF_INET or AF_INET6 when ``host`` is an IP address, None for a name."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return family
    return None


# How far a wait's time left may be from the socket's receive timeout before it
# is set again (one setsockopt): a wait may end this much late.
TIMEOUT_SLACK = 0.005
_TIMEVAL = struct.Struct("@ll")


def _timeval(seconds: float) -> bytes:
    whole = int(min(seconds, 1e9))  # "for ever" fits a timeval as some 30 years
    return _TIMEVAL.pack(whole, int((seconds - whole) * 1e6))


class UdpStream(_IpStream):
    """UDP datagrams to one peer: one wrapper frame per datagram."""

    scheme = "udp"

    async def open(self, on_data: OnData, on_lost: OnLost) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._transport, _ = await loop.create_datagram_endpoint(
                lambda: _DatagramProtocol(on_data, on_lost), remote_addr=(self.host, self.port)
            )
        except OSError as exc:
            raise TransportError(f"cannot open {self.peer}: {exc.strerror or exc}") from None

    def write(self, data: bytes) -> None:
        self._live_transport().sendto(data)


def line_errors() -> tuple[type[BaseException], ...]:
    """What opening and setting a serial line may raise: pyserial's own error,
    an OSError, a ValueError (a rate pyserial refuses) and termios.error, which
    is none of these (pyserial lets it through from tcsetattr)."""
    errors: tuple[type[BaseException], ...] = (OSError, ValueError, _import_serial().SerialException)
    try:
        import termios
    except ImportError:  # not POSIX
        return errors
    return errors + (termios.error,)


def line_error_reason(exc: BaseException) -> str:
    """The words of one of :func:`line_errors` (termios.error is (errno, text))."""
    if type(exc).__module__ == "termios" and len(exc.args) == 2:
        return str(exc.args[1])
    return str(exc)


def _import_serial():
    try:
        import serial  # pyserial
    except ImportError:
        raise ConfigurationError(
            "serial ports need pyserial: pip install 'dlmsfast[serial]'"
        ) from None
    return serial


class SerialStream(_CallbackReader):
    """A serial line (HDLC), optionally opened through an optical head in mode E."""

    def __init__(
        self,
        device: str,
        baud: Optional[int] = None,
        *,
        mode_e: bool = False,
        max_baud: Optional[int] = None,
        trace: Optional[Callable[[str, bytes], None]] = None,
    ) -> None:
        self.device = device
        self.baud = baud
        self.mode_e = mode_e
        self.max_baud = max_baud
        self.trace = trace
        self.identification: Optional[bytes] = None
        self._port: Any = None
        self._fd = -1
        self._on_data: Optional[OnData] = None
        self._on_lost: Optional[OnLost] = None
        self._pending = bytearray()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._awaiting_identification = False

    @property
    def peer(self) -> str:
        return f"serial://{self.device}"

    async def open(self, on_data: OnData, on_lost: OnLost) -> None:
        serial = _import_serial()
        self._loop = asyncio.get_running_loop()
        self._awaiting_identification = False
        try:
            if self.mode_e:
                with self._step(f"open {self.peer} at 300 baud 7E1 for the mode E sign-on"):
                    self._port = serial.Serial(
                        self.device, 300, bytesize=serial.SEVENBITS,
                        parity=serial.PARITY_EVEN, stopbits=serial.STOPBITS_ONE, timeout=0,
                    )
            else:
                with self._step(f"open {self.peer} at {self.baud or 9600} baud 8N1"):
                    self._port = serial.Serial(self.device, self.baud or 9600, timeout=0)
            with self._step(f"make {self.peer} non-blocking"):
                self._fd = self._port.fileno()
                os.set_blocking(self._fd, False)
            if self.mode_e:
                await self._mode_e_handover()
        except BaseException:
            self.close()
            raise
        self._on_data, self._on_lost = on_data, on_lost
        self._loop.add_reader(self._fd, self._readable)

    @contextlib.contextmanager
    def _step(self, step: str) -> Iterator[None]:
        """Every way a step of opening the line fails (pyserial's SerialException,
        OSError, termios.error, ValueError) as one TransportError naming the
        device and the step."""
        try:
            yield
        except line_errors() as exc:
            raise TransportError(f"cannot {step}: {line_error_reason(exc)}") from None

    def timed_out(self, seconds: float) -> Optional[TimeoutError]:
        """What to say when opening did not end within ``seconds`` (the caller's
        connect timeout, shorter than the sign-on's own): the optical head's
        silence while its identification message is awaited, else None."""
        if self._awaiting_identification:
            return self._no_identification(seconds)
        return None

    def _no_identification(self, seconds: float) -> TimeoutError:
        return TimeoutError(
            f"no identification message from the optical head on {self.peer} within "
            f"{seconds:g} s after the sign-on /?! (meter asleep, head misplaced, wrong port?)")

    # -- the IEC 62056-21 mode E hand-over ---------------------------------------

    async def _read_line(self, timeout: float) -> bytes:
        """Read the identification message (up to CR LF) at 300 baud."""
        loop = self._loop
        assert loop is not None
        line = bytearray()
        done = loop.create_future()

        def readable() -> None:
            try:
                chunk = os.read(self._fd, 256)
            except BlockingIOError:
                return
            except OSError as exc:
                if not done.done():
                    done.set_exception(ConnectionLost(f"{self.peer} failed during sign-on: {exc}"))
                return
            line.extend(chunk)
            if b"\r\n" in line or len(line) > IDENTIFICATION_MAX:
                if not done.done():
                    done.set_result(None)

        loop.add_reader(self._fd, readable)
        # kept when a shorter connect timeout cancels the wait: timed_out() says so
        self._awaiting_identification = True
        try:
            await asyncio.wait_for(done, timeout)
        except asyncio.TimeoutError:
            raise self._no_identification(timeout) from None
        finally:
            loop.remove_reader(self._fd)
        self._awaiting_identification = False
        end = line.find(b"\r\n")
        if end < 0:
            raise DecodeError(f"identification message longer than {IDENTIFICATION_MAX} octets", 0)
        return bytes(line[:end])

    async def _drain(self, what: str) -> None:
        import termios

        # The line must be quiet before the baud changes: wait until the UART
        # has sent everything (tcdrain blocks, so not on the loop's thread).
        assert self._loop is not None
        with self._step(f"wait until {what} has left {self.peer}"):
            await self._loop.run_in_executor(None, termios.tcdrain, self._fd)

    async def _mode_e_handover(self) -> None:
        # the trace sees the sign-on's messages both ways, as the connection's
        # frames: the request and the acknowledgement as they go out
        if self.trace is not None:
            self.trace("out", SIGN_ON)
        self._write_all(SIGN_ON, "the sign-on /?!")
        await self._drain("the sign-on /?!")
        ident = await self._read_line(IDENTIFICATION_TIMEOUT)
        if self.trace is not None:
            self.trace("in", ident + b"\r\n")
        if len(ident) < 5 or ident[:1] != b"/":
            raise DecodeError(f"not an IEC 62056-21 identification message: {ident!r}", 0)
        offered = chr(ident[4])
        if offered not in MODE_E_BAUDS:
            raise DecodeError(
                f"identification {ident!r} offers baud character {offered!r}, "
                "not a mode C/E rate (0..6)", 4,
            )
        self.identification = ident
        limit = self.max_baud or self.baud or MODE_E_BAUDS[offered]
        choice = max(
            (c for c, b in MODE_E_BAUDS.items() if c <= offered and b <= limit), default="0"
        )
        ack = bytes((ACK,)) + b"2" + choice.encode() + b"2\r\n"
        if self.trace is not None:
            self.trace("out", ack)
        self._write_all(ack, "the acknowledgement")
        await self._drain("the acknowledgement")
        self._switch_line(MODE_E_BAUDS[choice])

    def _switch_line(self, baud: int) -> None:
        """To ``baud``, 8N1, in one termios call: pyserial's setters change one
        field at a time, and an intermediate 8E1 is refused by some drivers."""
        import termios

        with self._step(f"switch {self.peer} to {baud} baud 8N1"):
            attrs = termios.tcgetattr(self._fd)
            attrs[4] = attrs[5] = getattr(termios, f"B{baud}")
            attrs[2] = (attrs[2] & ~(termios.CSIZE | termios.PARENB | termios.PARODD)) | termios.CS8
            termios.tcsetattr(self._fd, termios.TCSANOW, attrs)

    def _write_all(self, data: bytes, what: str) -> None:
        # Only for the few sign-on octets, before the loop owns the fd.
        view = memoryview(data)
        with self._step(f"send {what} on {self.peer}"):
            while view:
                try:
                    sent = os.write(self._fd, view)
                except BlockingIOError:
                    sent = 0
                view = view[sent:]

    # -- running in the loop -----------------------------------------------------

    def _readable(self) -> None:
        self._take(lambda: os.read(self._fd, 65536))

    def _writable(self) -> None:
        try:
            sent = os.write(self._fd, self._pending)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lost(exc)
            return
        del self._pending[:sent]
        if not self._pending and self._loop is not None:
            self._loop.remove_writer(self._fd)

    def write(self, data: bytes) -> None:
        if self._fd < 0:
            raise ConnectionLost(f"{self.peer} is closed")
        if not self._pending:
            try:
                sent = os.write(self._fd, data)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self._lost(exc)
                raise ConnectionLost(f"{self.peer} failed: {exc}") from None
            if sent == len(data):
                return
            data = data[sent:]
            assert self._loop is not None
            self._loop.add_writer(self._fd, self._writable)
        self._pending += data

    def close(self) -> None:
        if self._fd >= 0 and self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
        self._fd = -1
        self._on_lost = None
        self._pending.clear()
        if self._port is not None:
            try:
                self._port.close()
            except OSError:
                pass
            self._port = None


__all__ = ["TcpStream", "BlockingTcpStream", "UdpStream", "SerialStream", "MODE_E_BAUDS", "SIGN_ON"]
