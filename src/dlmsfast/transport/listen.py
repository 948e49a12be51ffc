"""Receiving pushed octets: serial ports, TCP and UDP push ports, capture files.

``listen(url)`` yields :class:`Received` chunks (the source they came from and
the octets) until the input ends or ``stop`` is set; it knows nothing of DLMS
(that is :mod:`dlmsfast.push`). URLs::

    serial:///dev/ttyUSB0?baud=2400&parity=N   a HAN/P1 port (pyserial, the
                                               ``serial`` extra); 8 data bits,
                                               parity N/E/O, stopbits 1/2
    tcp://HOST:PORT                            listen for meters that connect and push;
                                               binds where the user says (0.0.0.0 for all)
    udp://HOST:PORT                            one push per datagram
    file:PATH  or  -                           a capture (``-`` is standard input):
                                               hex text with any whitespace, separators
                                               and line breaks, or raw octets

Standard input is read as it arrives (a pipe from a serial reader or a
socket tool never ends), in bounded pieces: it is hex text when its first
octet that is not white space is a hex digit or ``#``, then each line is one
chunk (a line longer than 1 MiB of text is passed on in pieces cut at
separators), and a line that is not hex is passed on as its octets (the
decoder skips them as noise); otherwise it is raw octets, passed on as they
come (a stream of frames; a bare APDU must arrive whole, as it does from one
write).

The end of a TCP connection or of a file gives a chunk with ``ended=True``;
a datagram gives ``datagram=True`` (it is one whole unit).
"""
from __future__ import annotations

import os
import queue
import re
import selectors
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import PurePath
from typing import Callable, Iterator, Optional
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigurationError, ConnectionLost, UsageError
from .._util import as_bytes, require, shown
from .streams import line_error_reason, line_errors

_READ_SIZE = 65536
_POLL = 0.1
_HEX_TEXT = re.compile(rb"(?:0[xX])?[0-9A-Fa-f]{2}")
_SEPARATORS = re.compile(rb"[\s,:;|_\-\.]+")
_PARITIES = {"N": "N", "E": "E", "O": "O"}
_MAX_LINE = 1 << 20
_LINE_END = re.compile(rb"[\n#]")
_HEX_START = frozenset(b"0123456789ABCDEFabcdef#")


@dataclass(frozen=True, slots=True)
class ListenUrl:
    """A parsed listen URL (see the module docstring)."""

    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""
    baud: int = 2400
    parity: str = "N"
    stopbits: int = 1

    def __str__(self) -> str:
        if self.scheme in ("tcp", "udp"):
            return f"{self.scheme}://{self.host}:{self.port}"
        if self.scheme == "serial":
            return f"serial://{self.path}?baud={self.baud}&parity={self.parity}"
        return "-" if self.path == "-" else f"file:{self.path}"


@dataclass(frozen=True, slots=True)
class Received:
    """Octets from one source (``tcp:1.2.3.4:5678``, ``udp:...``, ``serial:...``, ``file:...``)."""

    source: str
    data: bytes
    ended: bool = False
    datagram: bool = False


def parse_url(text: str) -> ListenUrl:
    """Read a listen URL; a malformed one is a UsageError saying what is expected."""
    require(text, str, "a listen URL")
    if text == "-":
        return ListenUrl("file", path="-")
    if text.startswith("file:"):
        path = text[5:]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise UsageError("file: needs a path (file:capture.hex)")
        return ListenUrl("file", path=path)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("tcp", "udp"):
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise UsageError(f"{scheme} URL needs HOST:PORT ({scheme}://0.0.0.0:4059), got {shown(text)}")
        return ListenUrl(scheme, host=parts.hostname, port=port)
    if scheme == "serial":
        path = parts.path or parts.netloc
        if not path:
            raise UsageError("serial URL needs a device (serial:///dev/ttyUSB0?baud=2400)")
        query = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"baud", "parity", "stopbits"}
        if unknown:
            raise UsageError(f"unknown serial option(s) {sorted(unknown)}: baud, parity, stopbits")
        try:
            baud = int(query.get("baud", "2400"))
            stopbits = int(query.get("stopbits", "1"))
        except ValueError:
            raise UsageError("serial baud and stopbits are numbers") from None
        parity = query.get("parity", "N").upper()
        if parity not in _PARITIES or stopbits not in (1, 2) or baud <= 0:
            raise UsageError("serial parity is N, E or O; stopbits 1 or 2; baud positive")
        return ListenUrl("serial", path=path, baud=baud, parity=parity, stopbits=stopbits)
    raise UsageError(f"cannot listen on {shown(text)}: use serial://DEVICE?baud=N, tcp://HOST:PORT, "
                     "udp://HOST:PORT, file:PATH or -")


def capture_chunks(content: bytes) -> list[bytes]:
    """The octets of a capture file: hex text (one chunk per non-empty line, any
    separators) or, when it is not hex text, the raw octets as one chunk."""
    content = as_bytes(content, "a capture")
    lines = []
    for line in content.splitlines():
        line = line.split(b"#", 1)[0].strip()
        if not line:
            continue
        octets = _hex_line(line)
        if octets is None:
            return [content]
        lines.append(octets)
    return lines if lines else ([content] if content else [])


def _hex_line(line: bytes) -> Optional[bytes]:
    """The octets a line of hex text (any separators, 0x prefixes) spells, or
    None when it is not hex text."""
    compact = _SEPARATORS.sub(b"", line)
    if not compact or _HEX_TEXT.sub(b"", compact):
        return None
    return bytes.fromhex(re.sub(rb"0[xX]", b"", _SEPARATORS.sub(b" ", line))
                         .decode("ascii").replace(" ", ""))


class _IncomingCapture:
    """Standard input turned into chunks as it arrives (the module docstring
    says how): at most ``_MAX_LINE`` octets of text held back."""

    def __init__(self) -> None:
        self.text: Optional[bool] = None
        self.pending = b""
        self.in_comment = False

    def feed(self, data: bytes) -> list[bytes]:
        if self.text is None:
            start = data.lstrip()[:1]
            if not start:
                return []
            self.text = start[0] in _HEX_START
        if not self.text:
            return [data]
        chunks: list[bytes] = []
        buffer = self.pending + data
        while buffer:
            if self.in_comment:
                end = buffer.find(b"\n")
                if end < 0:
                    buffer = b""
                    break
                buffer, self.in_comment = buffer[end + 1:], False
                continue
            match = _LINE_END.search(buffer)
            if match is None:
                break
            self._line(buffer[:match.start()], chunks)
            buffer = buffer[match.end():]
            self.in_comment = match.group() == b"#"
        if len(buffer) > _MAX_LINE:
            # a very long line: the part up to its last separator goes now
            cut = max(buffer.rfind(bytes((c,))) for c in b" \t\r,:;|_-.") + 1
            if not cut:
                cut = len(buffer) - len(buffer) % 2
                cut -= 2 if buffer[cut - 2:cut] in (b"0x", b"0X") else 0
            self._line(buffer[:cut], chunks)
            buffer = buffer[cut:]
        self.pending = buffer
        return chunks

    def finish(self) -> list[bytes]:
        chunks: list[bytes] = []
        if not self.in_comment:
            self._line(self.pending, chunks)
        self.pending = b""
        return chunks

    @staticmethod
    def _line(line: bytes, chunks: list[bytes]) -> None:
        stripped = line.strip()
        if stripped:
            octets = _hex_line(stripped)
            chunks.append(line if octets is None else octets)


class CaptureWriter:
    """Appends frames to a capture file, one line of hex each (``--raw``): the
    format ``file:PATH`` reads back."""

    def __init__(self, path) -> None:
        require(path, (str, PurePath), "a capture path")
        try:
            self._file = open(path, "a", encoding="ascii")
        except OSError as exc:
            raise ConfigurationError(f"cannot open {str(path)!r}: {exc.strerror}") from None

    def write(self, frames) -> None:
        for frame in frames:
            self._file.write(frame.hex().upper() + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def listen(url: ListenUrl | str, *, stop: Optional[threading.Event] = None,
           idle_timeout: Optional[float] = None,
           on_ready: Optional[Callable[[str], None]] = None,
           reconnect: bool = False,
           on_lost: Optional[Callable[[Exception, float], None]] = None) -> Iterator[Received]:
    """Yield what arrives on ``url`` until the input ends, ``stop`` is set, or
    nothing has arrived for ``idle_timeout`` seconds. ``on_ready`` is called with
    the address actually bound (a port 0 becomes the port chosen).

    ``reconnect`` (serial ports only): a device that disappears (an unplugged
    adapter: ConnectionLost) or cannot be opened is opened again after
    :data:`RECONNECT_DELAYS` seconds (doubling, capped), each time said to
    ``on_lost(error, delay)``; its source gives ``ended=True`` when it is lost
    (what was cut short is the decoder's to say) and ``on_ready`` again when
    it is back. Without it, the loss ends the iteration with ConnectionLost."""
    if isinstance(url, str):
        url = parse_url(url)
    stop = stop or threading.Event()
    if reconnect and url.scheme != "serial":
        raise UsageError(f"reconnecting is for serial ports; {url} ends with its input, and a "
                         "tcp/udp listener outlives its connections")
    if url.scheme == "file" and url.path == "-":
        yield from _stdin(url, stop, idle_timeout, on_ready)
    elif url.scheme == "file":
        yield from _file(url, on_ready)
    elif url.scheme == "serial" and reconnect:
        yield from _serial_again(url, stop, idle_timeout, on_ready, on_lost)
    elif url.scheme == "serial":
        yield from _serial(url, stop, idle_timeout, on_ready)
    elif url.scheme == "tcp":
        yield from _tcp(url, stop, idle_timeout, on_ready)
    else:
        yield from _udp(url, stop, idle_timeout, on_ready)


def _file(url: ListenUrl, on_ready) -> Iterator[Received]:
    source = str(url)
    try:
        with open(url.path, "rb") as handle:
            content = handle.read()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {url.path!r}: {exc.strerror}") from None
    if on_ready:
        on_ready(source)
    for chunk in capture_chunks(content):
        yield Received(source, chunk)
    yield Received(source, b"", ended=True)


def _stdin(url: ListenUrl, stop, idle_timeout, on_ready) -> Iterator[Received]:
    if sys.stdin is None:
        raise ConfigurationError("there is no standard input to listen on")
    try:
        descriptor = sys.stdin.fileno()
    except (OSError, ValueError):
        raise ConfigurationError("standard input is not a file, pipe or terminal") from None
    source = str(url)
    # a reader thread, because a pipe cannot be polled on every platform; the
    # queue is short, so a fast writer waits for the decoder (bounded memory)
    arrived: queue.Queue = queue.Queue(maxsize=4)
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                # os.read on the descriptor: what has arrived, at least one octet;
                # and no lock of sys.stdin held by a thread left blocked at exit
                data = os.read(descriptor, _READ_SIZE)
            except (OSError, ValueError) as exc:
                data = b""
                item: object = ConnectionLost(f"standard input: {exc}")
            else:
                item = data
            while not done.is_set():
                try:
                    arrived.put(item, timeout=_POLL)
                    break
                except queue.Full:
                    continue
            if not data:
                return

    threading.Thread(target=read, name="dlmsfast-listen-stdin", daemon=True).start()
    capture = _IncomingCapture()
    try:
        if on_ready:
            on_ready(source)
        last = time.monotonic()
        while not stop.is_set():
            try:
                item = arrived.get(timeout=_POLL)
            except queue.Empty:
                if _idle(last, idle_timeout):
                    break
                continue
            if isinstance(item, ConnectionLost):
                raise item
            if not item:
                for chunk in capture.finish():
                    yield Received(source, chunk)
                break
            last = time.monotonic()
            for chunk in capture.feed(item):
                yield Received(source, chunk)
        yield Received(source, b"", ended=True)
    finally:
        done.set()


def _idle(last: float, idle_timeout: Optional[float]) -> bool:
    return idle_timeout is not None and time.monotonic() - last > idle_timeout


def _serial(url: ListenUrl, stop, idle_timeout, on_ready,
            last_seen: Optional[list] = None) -> Iterator[Received]:
    try:
        import serial  # pyserial: the ``serial`` extra
    except ImportError:
        raise ConfigurationError("listening on a serial port needs pyserial: "
                                 "pip install 'dlmsfast[serial]'") from None
    try:
        port = serial.Serial(url.path, baudrate=url.baud, bytesize=8, parity=url.parity,
                             stopbits=url.stopbits, timeout=_POLL)
    except line_errors() as exc:  # termios.error too: pyserial lets it through
        raise ConfigurationError(
            f"cannot open {url.path!r} at {url.baud} baud 8{url.parity}{url.stopbits}: "
            f"{line_error_reason(exc)}") from None
    source = f"serial:{url.path}"
    try:
        if on_ready:
            on_ready(str(url))
        seen = last_seen if last_seen is not None else [time.monotonic()]
        while not stop.is_set():
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError) as exc:
                raise ConnectionLost(f"{url.path}: {exc}") from None
            if data:
                seen[0] = time.monotonic()
                yield Received(source, data)
            elif _idle(seen[0], idle_timeout):
                break
        yield Received(source, b"", ended=True)
    finally:
        port.close()


RECONNECT_DELAYS = (1.0, 30.0)
"""The first wait before opening a lost serial device again, and the cap of
the doubling waits after it (seconds)."""


def _serial_again(url: ListenUrl, stop, idle_timeout, on_ready, on_lost) -> Iterator[Received]:
    """_serial, opened again whenever the device is lost or cannot be opened."""
    source = f"serial:{url.path}"
    delay, cap = RECONNECT_DELAYS
    wait = delay
    last = [time.monotonic()]

    def ready(where: str) -> None:
        nonlocal wait
        wait = delay  # opened: the next loss waits the first delay again
        if on_ready:
            on_ready(where)

    while not stop.is_set():
        opened = False
        try:
            for chunk in _serial(url, stop, idle_timeout, ready, last):
                opened = True
                yield chunk
            return  # stopped, or idle
        except (ConnectionLost, ConfigurationError) as exc:
            if isinstance(exc, ConfigurationError) and "pyserial" in str(exc):
                raise
            if opened:
                yield Received(source, b"", ended=True)
            if on_lost:
                on_lost(exc, wait)
            # an absent device counts as silence for --idle-timeout
            if stop.wait(wait) or _idle(last[0], idle_timeout):
                return
            wait = min(wait * 2, cap)


def _bind(url: ListenUrl, kind: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in url.host else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((url.host, url.port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot bind {url}: {exc.strerror}") from None
    return sock


def _tcp(url: ListenUrl, stop, idle_timeout, on_ready) -> Iterator[Received]:
    server = _bind(url, socket.SOCK_STREAM)
    server.listen(64)
    server.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ, None)
    peers: dict[socket.socket, str] = {}
    try:
        host, port = server.getsockname()[:2]
        if on_ready:
            on_ready(f"tcp://{host}:{port}")
        last = time.monotonic()
        while not stop.is_set():
            ready = selector.select(_POLL)
            if not ready and _idle(last, idle_timeout):
                break
            for key, _ in ready:
                if key.data is None:
                    try:
                        conn, address = server.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    peers[conn] = f"tcp:{address[0]}:{address[1]}"
                    selector.register(conn, selectors.EVENT_READ, peers[conn])
                    continue
                peer = key.fileobj
                assert isinstance(peer, socket.socket)
                try:
                    data = peer.recv(_READ_SIZE)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                last = time.monotonic()
                if data:
                    yield Received(key.data, data)
                else:
                    selector.unregister(peer)
                    peer.close()
                    del peers[peer]
                    yield Received(key.data, b"", ended=True)
        for conn, source in list(peers.items()):
            yield Received(source, b"", ended=True)
    finally:
        for conn in peers:
            conn.close()
        selector.close()
        server.close()


def _udp(url: ListenUrl, stop, idle_timeout, on_ready) -> Iterator[Received]:
    sock = _bind(url, socket.SOCK_DGRAM)
    sock.settimeout(_POLL)
    try:
        host, port = sock.getsockname()[:2]
        if on_ready:
            on_ready(f"udp://{host}:{port}")
        last = time.monotonic()
        while not stop.is_set():
            try:
                data, address = sock.recvfrom(_READ_SIZE)
            except socket.timeout:
                if _idle(last, idle_timeout):
                    break
                continue
            last = time.monotonic()
            yield Received(f"udp:{address[0]}:{address[1]}", data, datagram=True)
    finally:
        sock.close()


__all__ = ["RECONNECT_DELAYS", "CaptureWriter", "ListenUrl", "Received", "capture_chunks", "listen",
           "parse_url"]
