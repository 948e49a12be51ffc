"""From a meter URL and addresses to a ready :class:`Connection` (not yet opened)."""
from __future__ import annotations

from typing import Optional

from ..errors import UsageError
from ..hdlc import HdlcParameters
from .connection import Connection, Trace, WrapperFraming
from .streams import BlockingTcpStream, SerialStream, TcpStream, UdpStream
from .url import MeterUrl, parse_url
from .._util import shown

FRAMINGS = ("wrapper", "hdlc")


def connection_for(
    url: str | MeterUrl,
    *,
    framing: Optional[str] = None,
    client: int = 16,
    server: int = 1,
    server_physical: Optional[int] = None,
    timeout: float = 10.0,
    connect_timeout: Optional[float] = None,
    trace: Optional[Trace] = None,
    hdlc_parameters: Optional[HdlcParameters] = None,
    hdlc_retries: Optional[int] = None,
    blocking: bool = False,
) -> Connection:
    """A :class:`Connection` to the meter at ``url``; ``await conn.open()`` connects.

    ``framing`` defaults to ``wrapper`` over TCP/UDP and ``hdlc`` on serial
    lines. ``hdlc_retries`` (how often the link repeats a frame the meter did
    not answer) defaults to 0 over TCP, which loses nothing, and 2 on serial lines.
    ``connect_timeout`` (seconds, default ``timeout``) bounds opening the stream.
    ``blocking`` (TCP only): a blocking socket and no event loop, for the
    blocking client (see :class:`~dlmsfast.transport.streams.BlockingTcpStream`).
    """
    parsed = url if isinstance(url, MeterUrl) else parse_url(url)
    framing = framing or parsed.default_framing
    if framing not in FRAMINGS:
        raise UsageError(f"framing must be wrapper or hdlc, got {shown(framing)}")
    if parsed.scheme == "udp" and framing != "wrapper":
        raise UsageError("UDP carries the wrapper only (IEC 62056-47)")
    if parsed.scheme == "serial" and framing != "hdlc":
        raise UsageError("a serial line carries HDLC (IEC 62056-46), not the wrapper")
    if blocking and parsed.scheme != "tcp":
        raise UsageError(f"a blocking stream is TCP only, not {parsed.scheme}")
    if parsed.scheme == "tcp":
        stream = BlockingTcpStream(parsed.host, parsed.port) if blocking else \
            TcpStream(parsed.host, parsed.port)
    elif parsed.scheme == "udp":
        stream = UdpStream(parsed.host, parsed.port)
    else:
        stream = SerialStream(parsed.device, parsed.baud, mode_e=parsed.mode_e,
                              max_baud=parsed.max_baud, trace=trace)
    if framing == "wrapper":
        framer = WrapperFraming(client, server)
    else:
        from .hdlc import HdlcFraming

        retries = hdlc_retries if hdlc_retries is not None else (
            2 if parsed.scheme == "serial" else 0)
        framer = HdlcFraming(client, server, server_physical, parameters=hdlc_parameters,
                             max_retries=retries)
    return Connection(stream, framer, timeout=timeout, connect_timeout=connect_timeout,
                      trace=trace)


__all__ = ["connection_for", "FRAMINGS"]
