"""Finding the addresses a meter answers at: ``dlmsfast read --probe-addresses``.

A meter addressed wrongly stays silent (HDLC frames for another address are
ignored; most wrapper meters ignore other wPorts). Each candidate is tried with
a short deadline and no authentication. A refusal proves that the meter listens
at that server address, not that it can be read there: only a candidate where an
association was made is recommended; after a refusal only that server
address's other clients are tried (the public client 16 is among them), and when
none associates the result says where the meter answered and how.

The candidates are the combinations of the usual client SAPs, server logical
addresses and (HDLC) physical addresses, the given addresses first, then the
others by how many of the given ones they change (one, then two...), changing
the server's addresses before the client's; at most :data:`MAX_CANDIDATES`,
each within :data:`MAX_CANDIDATE_TIMEOUT` seconds. A connection that fails
before any address is used (refused, unreachable, an optical head that does not
answer the sign-on) ends the probe at once: no address helps there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Optional

from ..errors import AssociationRejected, DlmsError, ProtocolError
from .requests import AsyncClient

# Client SAPs. 16: the public client every server has (the Green Book's reserved
# address 0x10, lowest-level security). 1: the client management process (the
# Green Book's reserved 0x01), the management client of IDIS and DSMR meters (HLS).
# 17 and 32: the reading clients meters commonly add, with LLS (17 in the interop
# meter of ../shared, 32 in several vendors' meters). Without authentication a
# client other than the public one is usually refused, and a refusal answers.
USUAL_CLIENTS = (16, 1, 17, 32)
# Server logical addresses. 1: the management logical device every meter has; 16
# and 17: the first logical devices after the reserved range (0x02..0x0F). 0 over
# the wrapper only, where some meters answer at wPort 0; in HDLC 0x00 is the
# no-station address (IEC 62056-46), which no meter answers.
USUAL_SERVERS = (1, 16, 17, 0)
_HDLC_NO_STATION = 0
# HDLC physical addresses: none (a one-octet server address), 16 and 17 (0x10,
# 0x11: the start of the range free for devices, and common factory settings), 1,
# and 256 (a two-octet address). Not the all-station address 0x3FFF: it is a
# broadcast, which servers do not answer with a connection (IEC 62056-46).
USUAL_PHYSICAL = (None, 16, 17, 1, 256)
MAX_CANDIDATES = 32
MAX_CANDIDATE_TIMEOUT = 1.0
"""Per candidate, seconds: a meter on a line it answers at replies in far less."""


@dataclass
class ProbeResult:
    """``addresses``: the options that reached the meter (client, server,
    server_physical), or None; ``tried``: one line per candidate saying what
    happened, then one naming the combination that answered."""

    addresses: Optional[dict] = None
    tried: list[str] = field(default_factory=list)


def _first(given, usual) -> list:
    return [given] + [u for u in usual if u != given]


def _candidates(framing: str, client: int, server: int,
                physical: Optional[int]) -> list[tuple[int, int, Optional[int]]]:
    """(client, server, physical) to try, the given first, at most MAX_CANDIDATES."""
    clients = _first(client, USUAL_CLIENTS)
    servers = _first(server, USUAL_SERVERS)
    if framing == "hdlc":
        servers = [s for s in servers if s != _HDLC_NO_STATION or s == server]
        physicals = _first(physical, USUAL_PHYSICAL)
    else:
        physicals = [None]
    given = (client, server, physical if framing == "hdlc" else None)
    combos = list(product(clients, servers, physicals))

    def nearness(combo: tuple) -> tuple:
        changed = sum(a != b for a, b in zip(combo, given))
        return changed, combo[0] != client  # the server's addresses first

    # sorted() is stable: within one nearness the usual lists' order stays
    return sorted(combos, key=nearness)[:MAX_CANDIDATES]


def _where(client: int, server: int, physical: Optional[int]) -> str:
    return f"client {client}, server {server}" + ("" if physical is None
                                                   else f", physical {physical}")


async def probe_addresses(url: str, *, framing: Optional[str] = None, client: int = 16,
                          server: int = 1, server_physical: Optional[int] = None,
                          timeout: float = 1.0) -> ProbeResult:
    """Try the usual client/server address combinations, the given ones first;
    stop at the first where an association is made. ``timeout``: per candidate
    (at most :data:`MAX_CANDIDATE_TIMEOUT`).

    A refusal (or an answer we cannot use) proves the meter listens at that
    server address, not that a reading can be made there: the probe goes on
    with that server address's other clients only, and when none associates,
    ``tried`` ends with where the meter answered and how."""
    from ..transport.url import parse_url

    framing = framing or parse_url(url).default_framing
    seconds = min(timeout, MAX_CANDIDATE_TIMEOUT)
    result = ProbeResult()
    answered: list[str] = []  # "the meter answers at ... but refuses the association (why)"
    queue = _candidates(framing, client, server, server_physical)
    while queue:
        c, s, p = queue.pop(0)
        where = _where(c, s, p)
        probe = AsyncClient(url, framing=framing, client=c, server=s, server_physical=p,
                            timeout=seconds)
        try:
            await probe.open()
        except (AssociationRejected, ProtocolError) as exc:
            how = ("refuses the association" if isinstance(exc, AssociationRejected)
                   else f"answers with {type(exc).__name__}")
            result.tried.append(f"{where}: answered, but {how} ({exc})")
            answered.append(f"the meter answers at {where} but {how} ({exc})")
            # the meter listens at this server address: only its other clients
            # are left to try (another server address would answer alike)
            queue = [combo for combo in queue if combo[1:] == (s, p)]
            continue
        except DlmsError as exc:
            result.tried.append(f"{where}: {type(exc).__name__}")
            if probe._conn is not None and not probe._conn.stream_open:
                # refused, unreachable, a silent optical head: no address helps
                result.tried.append(f"the connection itself fails at {url}: {exc}")
                return result
            continue
        await probe.close()
        result.tried.append(f"{where}: associated")
        result.addresses = {"client": c, "server": s, "server_physical": p}
        options = f"--client {c} --server {s}" + ("" if p is None else f" --server-physical {p}")
        result.tried.append(f"the meter associates at {where} ({options})")
        return result
    if answered:
        # nowhere associated: where it answered first (the given client's, if
        # it answered), which an authentication or keys may yet open
        result.tried.append(f"no association without authentication; {answered[0]}")
    return result


__all__ = ["probe_addresses", "ProbeResult", "USUAL_CLIENTS", "USUAL_SERVERS",
           "USUAL_PHYSICAL", "MAX_CANDIDATES", "MAX_CANDIDATE_TIMEOUT"]
