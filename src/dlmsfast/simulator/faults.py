"""Fault injection: which simulated meters misbehave, and how.

The ``--faults`` syntax, items separated by commas::

    SPEC   ::= ITEM ("," ITEM)*
    ITEM   ::= KIND [":" VALUE] [":" SHARE | "@" METERS]
    SHARE  ::= NUMBER "%"                    a share of the fleet
    METERS ::= INDEX ("+" INDEX)*            0-based meter indexes, or ranges A-B
    VALUE  ::= DURATION | DURATION "-" DURATION   (latency, slow-drip only)
    DURATION ::= NUMBER ("ms" | "s")         ms when the unit is left out

    silent:2%,drop-mid-block:1%,latency:100-300ms:5%,refuse-association@3+7

=====================  ==================================================  ===========================
kind                   what the meter does                                 the client sees
=====================  ==================================================  ===========================
latency:D or D1-D2     waits D (or a seeded draw in D1..D2) before each    a slower session (or
                       answer                                              TimeoutError)
slow-drip[:D]          sends its answers one octet every D (default 20 ms) TimeoutError when slower
                                                                           than the client's timeout
silent                 accepts the connection, never answers (not SNRM)    TimeoutError
drop-mid-block         closes the connection when asked for the second     ConnectionLost
                       block of a long answer (GET with datablocks)
corrupt                inverts octet 8 of every frame it sends             wrapper: the APDU's first
                                                                           octet (DecodeError/
                                                                           ProtocolError); HDLC: the
                                                                           header check fails, frames
                                                                           are dropped (TimeoutError)
wrong-tag              flips the last octet of every ciphered APDU and of  SecurityError (tag mismatch);
                       HLS pass 4 (the GMAC tag of f(StoC))                AuthenticationError for an
                                                                           unciphered HLS-GMAC pass 4;
                                                                           none where nothing is ciphered
refuse-association     rejects every AARQ (rejected-permanent)             AssociationRejected
exception-response     answers every GET with exception-response           ServiceError
                       (service-not-allowed, operation-not-possible)
=====================  ==================================================  ===========================

A share picks round(share × N) meters (half up) from a permutation of the
fleet drawn from the seed; the items with a share take consecutive slices of
that one permutation, so they never overlap and the same seed always picks the
same meters. An item without a share or meters applies to every meter.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Optional

from ..errors import UsageError
from ..transport.server import WireBehaviour
from .._util import require, shown

KINDS = ("latency", "slow-drip", "silent", "drop-mid-block", "corrupt", "wrong-tag",
         "refuse-association", "exception-response")
_WITH_VALUE = {"latency", "slow-drip"}
DEFAULT_DRIP = 0.02
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")


@dataclass(frozen=True, slots=True)
class MeterFaults:
    """The faults of one meter (none by default)."""

    latency: Optional[tuple[float, float]] = None
    drip: float = 0.0
    silent: bool = False
    drop_mid_block: bool = False
    corrupt: bool = False
    wrong_tag: bool = False
    refuse_association: bool = False
    exception_response: bool = False

    def wire(self, seed: int = 0) -> WireBehaviour:
        return WireBehaviour(latency=self.latency, drip=self.drip, corrupt=self.corrupt,
                             silent=self.silent, seed=seed)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of fault this meter has, by their ``--faults`` names."""
        names = []
        for kind in KINDS:
            attribute = {"slow-drip": "drip"}.get(kind, kind.replace("-", "_"))
            if getattr(self, attribute):
                names.append(kind)
        return tuple(names)


NO_FAULTS = MeterFaults()


@dataclass(frozen=True, slots=True)
class FaultItem:
    """One item of a spec: ``kind``, its ``value`` (latency/drip seconds), and
    either ``share`` (0..1) or ``meters`` (indexes), or neither (every meter)."""

    kind: str
    value: Optional[tuple[float, float]] = None
    share: Optional[float] = None
    meters: Optional[tuple[int, ...]] = None
    text: str = field(default="", compare=False)


def _duration(text: str, what: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"{what}: {shown(text)} is not a duration (e.g. 100ms, 0.5s)")
    number = float(match.group(1))
    return number if match.group(2) == "s" else number / 1000.0


def parse_duration_range(text: str, what: str = "latency") -> tuple[float, float]:
    """``"100"``, ``"100ms"``, ``"0.1s"`` or ``"100-300ms"`` -> (min, max) seconds;
    ``what`` (the option or item it came from) starts a UsageError's message."""
    unit = ""
    for suffix in ("ms", "s"):
        if text.endswith(suffix):
            unit = suffix
            break
    low, sep, high = text[:len(text) - len(unit)].partition("-")
    low_s = _duration(low + unit, what)
    high_s = _duration(high + unit, what) if sep else low_s
    if high_s < low_s:
        raise UsageError(f"{what}: the range {shown(text)} goes down")
    return low_s, high_s


def _meters(text: str, item: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in text.split("+"):
        low, sep, high = part.partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            raise UsageError(f"--faults {shown(item)}: meters are indexes like 3+7+10-12, not {shown(text)}")
        out.extend(range(int(low), int(high) + 1) if sep else (int(low),))
    return tuple(out)


def check_latency(latency: object) -> None:
    """A latency is None or ``(min, max)`` seconds with 0 <= min <= max."""
    if latency is None:
        return
    if (not isinstance(latency, tuple) or len(latency) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in latency)
            or not 0 <= latency[0] <= latency[1]):
        raise UsageError(f"latency is (min, max) seconds, got {shown(latency)}")


def parse_faults(spec: str) -> list[FaultItem]:
    """The items of a ``--faults`` spec (see the module docstring); UsageError
    naming the item for anything else."""
    require(spec, (str, type(None)), "a --faults spec")
    items: list[FaultItem] = []
    for raw in (spec or "").split(","):
        text = raw.strip()
        if not text:
            continue
        head, at, meters_text = text.partition("@")
        parts = head.split(":")
        kind = parts[0].strip().lower()
        if kind not in KINDS:
            raise UsageError(f"--faults {shown(text)}: unknown kind {shown(kind)}; one of {', '.join(KINDS)}")
        rest = parts[1:]
        share = None
        if rest and rest[-1].strip().endswith("%"):
            number = rest.pop().strip()[:-1]
            try:
                share = float(number) / 100.0
            except ValueError:
                raise UsageError(f"--faults {shown(text)}: {shown(number)}% is not a share") from None
            if not 0.0 <= share <= 1.0:
                raise UsageError(f"--faults {shown(text)}: a share is 0..100%")
        value = None
        if rest:
            if kind not in _WITH_VALUE or len(rest) > 1:
                raise UsageError(f"--faults {shown(text)}: only latency and slow-drip take a value")
            value = parse_duration_range(rest[0].strip(), f"--faults {shown(text)}")
        elif kind == "latency":
            raise UsageError(f"--faults {shown(text)}: latency needs a duration (latency:100ms)")
        meters = None
        if at:
            if share is not None:
                raise UsageError(f"--faults {shown(text)}: give a share or meters, not both")
            meters = _meters(meters_text.strip(), text)
        items.append(FaultItem(kind, value, share, meters, text))
    return items


def _apply(faults: MeterFaults, item: FaultItem) -> MeterFaults:
    kind = item.kind
    if kind == "latency":
        return replace(faults, latency=item.value)
    if kind == "slow-drip":
        return replace(faults, drip=item.value[0] if item.value else DEFAULT_DRIP)
    flag: dict[str, Any] = {kind.replace("-", "_"): True}  # one of the boolean faults
    return replace(faults, **flag)


def assign_faults(items: list[FaultItem] | str, meters: int, seed: int = 0,
                  latency: Optional[tuple[float, float]] = None) -> dict[int, MeterFaults]:
    """Meter index -> its faults, for the meters that have some (``latency``:
    every meter's, from ``--latency``; an item's own latency replaces it)."""
    if isinstance(items, str):
        items = parse_faults(items)
    require(items, list, "fault items")
    for item in items:
        require(item, FaultItem, "a fault item")
    if type(meters) is not int or meters < 0:
        raise UsageError(f"meters is an int >= 0, got {shown(meters)}")
    if type(seed) is not int:
        raise UsageError(f"seed is an int, got {shown(seed)}")
    check_latency(latency)
    out: dict[int, MeterFaults] = {}
    if latency is not None:
        base = MeterFaults(latency=latency)
        out = {k: base for k in range(meters)}
    order = list(range(meters))
    random.Random(seed).shuffle(order)
    taken = 0
    chosen: Iterable[int]
    for item in items:
        if item.share is not None:
            count = int(item.share * meters + 0.5)
            if taken + count > meters:
                raise UsageError(f"--faults: the shares add up to more than the {meters} meters")
            chosen = order[taken:taken + count]
            taken += count
        elif item.meters is not None:
            beyond = [k for k in item.meters if k >= meters]
            if beyond:
                raise UsageError(f"--faults {shown(item.text)}: meter {beyond[0]} is not in a "
                                 f"fleet of {meters} (indexes 0..{meters - 1})")
            chosen = item.meters
        else:
            chosen = range(meters)
        for k in chosen:
            out[k] = _apply(out.get(k, NO_FAULTS), item)
    return out


__all__ = ["KINDS", "FaultItem", "MeterFaults", "NO_FAULTS", "assign_faults", "parse_faults",
           "parse_duration_range"]
