"""Meter URLs: where a meter is and how its octets travel.

    tcp://host:port                         TCP (wrapper by default, or HDLC)
    udp://host:port                         UDP datagrams (wrapper)
    serial:///dev/ttyUSB0?baud=9600         a serial port (HDLC)
    serial:///dev/ttyUSB0?mode-e=1          IEC 62056-21 optical head: sign-on at
                                            300 baud, then mode E hand-over to HDLC

Query options of serial URLs: ``baud`` (default 9600, or the rate the meter
proposes in mode E), ``mode-e`` (0/1), ``max-baud`` (mode E: never ask for more).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qsl, urlsplit

from ..errors import UsageError
from .._util import shown

SCHEMES = ("tcp", "udp", "serial")
DEFAULT_BAUD = 9600


@dataclass(frozen=True, slots=True)
class MeterUrl:
    """A parsed meter URL; ``str()`` gives it back in canonical form."""

    scheme: str
    host: str = ""
    port: int = 0
    device: str = ""
    baud: Optional[int] = None
    mode_e: bool = False
    max_baud: Optional[int] = None

    @property
    def default_framing(self) -> str:
        """``wrapper`` over IP, ``hdlc`` on a serial line."""
        return "hdlc" if self.scheme == "serial" else "wrapper"

    def __str__(self) -> str:
        if self.scheme == "serial":
            query = []
            if self.baud is not None:
                query.append(f"baud={self.baud}")
            if self.mode_e:
                query.append("mode-e=1")
            if self.max_baud is not None:
                query.append(f"max-baud={self.max_baud}")
            return f"serial://{self.device}" + (f"?{'&'.join(query)}" if query else "")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def _int_option(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"URL option {name} must be a number, got {shown(text)}") from None
    if value <= 0:
        raise UsageError(f"URL option {name} must be positive, got {value}")
    return value


def parse_url(url: str) -> MeterUrl:
    """Parse ``tcp://``, ``udp://`` or ``serial://`` URLs; a UsageError names the fault."""
    if not isinstance(url, str):
        raise UsageError(f"a meter URL is a str, got {type(url).__name__}")
    return _parse_str(str(url))


# A client parses its URL at every connection, urlsplit is some 10 us, and the
# result is immutable; errors are not cached (they are raised again).
@functools.lru_cache(maxsize=256)
def _parse_str(url: str) -> MeterUrl:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UsageError(
            f"meter URL {shown(url)}: scheme must be tcp://, udp:// or serial://"
        )
    if scheme == "serial":
        device = parts.path or parts.netloc
        if parts.netloc and parts.path:
            device = "//" + parts.netloc + parts.path if not parts.path.startswith("/") else parts.path
        if not device:
            raise UsageError(f"meter URL {shown(url)}: no serial device (serial:///dev/ttyUSB0)")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = set(options) - {"baud", "mode-e", "max-baud"}
        if unknown:
            raise UsageError(
                f"meter URL {shown(url)}: unknown option(s) {', '.join(sorted(unknown))} "
                "(baud, mode-e, max-baud)"
            )
        mode_e = options.get("mode-e", "0").lower() in ("1", "true", "yes", "on")
        baud = _int_option("baud", options["baud"]) if "baud" in options else None
        max_baud = _int_option("max-baud", options["max-baud"]) if "max-baud" in options else None
        return MeterUrl("serial", device=device, baud=baud, mode_e=mode_e, max_baud=max_baud)
    if parts.query:
        raise UsageError(f"meter URL {shown(url)}: {scheme}:// takes no options")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"meter URL {shown(url)}: the port must be 1..65535") from None
    if not parts.hostname or not port:
        raise UsageError(f"meter URL {shown(url)}: give host and port ({scheme}://host:port)")
    return MeterUrl(scheme, host=parts.hostname, port=port)


__all__ = ["MeterUrl", "parse_url", "DEFAULT_BAUD"]
