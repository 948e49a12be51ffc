"""Finding the addresses a meter answers at: ``dlmsfast read --probe-addresses``.

A meter addressed wrongly stays silent (HDLC frames for another address are
ignored; most wrapper meters ignore other wPorts). Each candidate is tried with
a short deadline and no authentication: an association, or a refusal, both
prove that the meter listens there. The candidates are the given addresses
first, then the usual ones: server logical 1 (management logical device) or
0/16/17, with HDLC physical addresses none, 16, 17, 1 or 256.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..errors import AssociationRejected, DlmsError, ProtocolError
from .requests import AsyncClient

USUAL_SERVERS = (1, 0, 16, 17)
USUAL_PHYSICAL = (None, 16, 17, 1, 256)


@dataclass
class ProbeResult:
    """``addresses``: the options that reached the meter (server, server_physical),
    or None; ``tried``: one line per candidate saying what happened."""

    addresses: Optional[dict] = None
    tried: list[str] = field(default_factory=list)


def _candidates(framing: str, server: int, physical: Optional[int]) -> list[tuple]:
    servers = [server] + [s for s in USUAL_SERVERS if s != server]
    if framing != "hdlc":
        return [(s, None) for s in servers]
    physicals = [physical] + [p for p in USUAL_PHYSICAL if p != physical]
    seen, out = set(), []
    for s in servers[:2]:
        for p in physicals:
            if (s, p) not in seen:
                seen.add((s, p))
                out.append((s, p))
    return out


async def probe_addresses(url: str, *, framing: Optional[str] = None, client: int = 16,
                          server: int = 1, server_physical: Optional[int] = None,
                          timeout: float = 1.0) -> ProbeResult:
    """Try the usual server addresses with ``client``; stop at the first that answers."""
    from ..transport.url import parse_url

    framing = framing or parse_url(url).default_framing
    result = ProbeResult()
    for s, p in _candidates(framing, server, server_physical):
        where = f"client {client}, server {s}" + ("" if p is None else f", physical {p}")
        probe = AsyncClient(url, framing=framing, client=client, server=s, server_physical=p,
                            timeout=timeout)
        try:
            await probe.open()
        except AssociationRejected as exc:
            result.tried.append(f"{where}: answered, association refused ({exc})")
        except ProtocolError as exc:
            result.tried.append(f"{where}: answered ({type(exc).__name__}: {exc})")
        except DlmsError as exc:
            result.tried.append(f"{where}: {type(exc).__name__}")
            continue
        else:
            await probe.close()
            result.tried.append(f"{where}: associated")
        result.addresses = {"server": s, "server_physical": p}
        return result
    return result


__all__ = ["probe_addresses", "ProbeResult"]
