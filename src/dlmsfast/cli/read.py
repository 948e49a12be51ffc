"""``dlmsfast read URL OBJECT...``: read objects, a load profile or the object list.

Exit status: 0 every object was read; 1 some object failed; 2 a usage mistake,
or no association could be made. Every error is one line (never a traceback);
keys and passwords are used, never echoed.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
from typing import Any, Optional

from ..errors import DlmsError, UsageError
from ..client.requests import secret_argument
from ..transport.loop import run as run_loop

AUTHS = ("none", "lls", "hls-md5", "hls-sha1", "hls-gmac", "hls-sha256")
SECURITIES = ("none", "auth", "enc", "authenc")


def _number(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _counter(text: str) -> int | str:
    return "meter" if text == "meter" else _number(text)


def _instant(text: str) -> _dt.datetime:
    try:
        # Python 3.10's fromisoformat does not take the "Z" suffix
        value = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None
    # a time without an offset is taken as UTC, as meters keep UTC-based profiles
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "read", help="read objects from a meter (TCP, UDP or serial)",
        description="Read OBIS[:ATTR] objects (attribute 2 when omitted), a load profile "
                    "(--profile) or the object list (--objects) from a meter.",
    )
    p.add_argument("url", help="tcp://host:port, udp://host:port or "
                               "serial:///dev/ttyUSB0?baud=9600 (&mode-e=1 for an optical head)")
    p.add_argument("objects", nargs="*", metavar="OBJECT", help="OBIS or OBIS:ATTR")
    p.add_argument("--framing", choices=("wrapper", "hdlc"),
                   help="default: wrapper for tcp/udp, hdlc for serial")
    p.add_argument("--client", type=_number, default=16, help="client SAP (default 16, public)")
    p.add_argument("--server", type=_number, default=1, help="server logical address (default 1)")
    p.add_argument("--server-physical", type=_number, help="server physical address (HDLC)")
    p.add_argument("--auth", choices=AUTHS, default="none")
    p.add_argument("--password", help="LLS password or HLS secret (text, or hex:...)")
    p.add_argument("--security", choices=SECURITIES, default="none")
    p.add_argument("--ek", metavar="HEX", help="block cipher key (or DLMSFAST_EK)")
    p.add_argument("--ak", metavar="HEX", help="authentication key (or DLMSFAST_AK)")
    p.add_argument("--system-title", metavar="HEX", help="our system title (8 octets)")
    p.add_argument("--keys-file", metavar="FILE",
                   help="file with 'ek = HEX' and 'ak = HEX' lines (or a JSON object)")
    p.add_argument("--invocation-counter", type=_counter, default=0, metavar="N|meter",
                   help="first invocation counter; 'meter' reads it first from "
                        "0.0.43.1.0.255 through the public client (IDIS)")
    p.add_argument("--class", dest="class_id", type=_number, metavar="N",
                   help="interface class of the OBJECTs (default: from the object list)")
    p.add_argument("--profile", metavar="OBIS", help="read this load profile's buffer")
    p.add_argument("--from", dest="start", type=_instant, metavar="ISO",
                   help="profile range start (inclusive)")
    p.add_argument("--to", dest="end", type=_instant, metavar="ISO",
                   help="profile range end (inclusive)")
    p.add_argument("--objects", dest="list_objects", action="store_true",
                   help="print the association's object list")
    p.add_argument("--probe-addresses", action="store_true",
                   help="try the usual client/server addresses when the meter does not answer")
    p.add_argument("--referencing", choices=("ln", "sn"), default="ln",
                   help="logical names (default) or short names (Association SN meters)")
    p.add_argument("--max-pdu", type=_number, default=0xFFFF, help="our max receive PDU size")
    p.add_argument("--hdlc-max-info", type=_number, help="HDLC information field to propose")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for each answer (default 10)")
    p.add_argument("--connect-timeout", type=float, metavar="S",
                   help="seconds to wait for the connection (default: the --timeout)")
    p.add_argument("--trace", action="store_true",
                   help="print every frame in and out (stderr; the password shown as **)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)
    p.__class__ = _intermixed(type(p))
    return p


def _intermixed(base: type) -> type:
    """The parser class that lets OBJECTs and options come in any order
    (``read URL OBIS --json OBIS``): argparse fills a ``*`` positional only once
    unless parsing is intermixed."""

    class IntermixedParser(base):
        _intermixing = False

        def parse_known_args(self, args=None, namespace=None):
            if self._intermixing:
                return super().parse_known_args(args, namespace)
            self._intermixing = True
            try:
                return self.parse_known_intermixed_args(args, namespace)
            finally:
                self._intermixing = False

    return IntermixedParser


# --- keys ---------------------------------------------------------------------------

def _keys_file(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read the keys file {path}: {exc.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            raise UsageError(f"keys file {path} is not valid JSON") from None
        return {str(k).lower().replace("-", "_"): str(v) for k, v in loaded.items()}
    keys = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise UsageError(f"keys file {path} line {number}: expected NAME = HEX")
        keys[name.strip().lower().replace("-", "_")] = value.strip()
    return keys


def _key_options(args: argparse.Namespace) -> dict[str, Any]:
    from_file = _keys_file(args.keys_file) if args.keys_file else {}
    found = {}
    for name in ("ek", "ak", "system_title"):
        value = getattr(args, name) or from_file.get(name)
        if value is None and name != "system_title":
            value = os.environ.get(f"DLMSFAST_{name.upper()}")
        found[name] = value
    password = args.password or from_file.get("password")
    found["password"] = password
    return found


# --- values as JSON and text ------------------------------------------------------------

def json_value(value: Any) -> Any:
    """Plain JSON (cosem's one rule): octet-strings as hex, date-times as ISO 8601,
    exact decimals as numbers, units as symbols."""
    from ..cosem.jsonable import to_json

    return to_json(value)


def _text_value(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        octets = bytes(value)
        shown = octets.hex().upper()
        if octets and all(32 <= b < 127 for b in octets):
            shown += f' "{octets.decode()}"'
        return shown
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text_value(v) for v in value) + "]"
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return str(value)


def _reading_result(reading) -> dict[str, Any]:
    result = {"object": str(reading.object), "attribute": reading.attribute,
              "class_id": reading.class_id, "value": json_value(reading.value)}
    if isinstance(reading.value, (bytes, bytearray)) and reading.value and \
            all(32 <= b < 127 for b in reading.value):
        result["text"] = bytes(reading.value).decode()
    if reading.scaler is not None:
        result["scaler"] = reading.scaler
        result["unit"] = reading.unit.symbol if reading.unit.symbol is not None \
            else str(reading.unit)
        result["scaled"] = json_value(reading.scaled)
    return result


def _profile_result(profile) -> dict[str, Any]:
    return {
        "object": str(profile.object), "attribute": 2, "class_id": 7,
        "columns": [c.to_meaning() for c in profile.columns],
        "rows": [[json_value(v) for v in row] for row in profile.rows],
    }


def _error_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _print_text(results: list[dict[str, Any]]) -> None:
    for r in results:
        head = f"{r['object']}:{r['attribute']}"
        if "error" in r:
            continue
        if "rows" in r:
            names = [f"{c['object']}:{c['attribute']}" + (f" [{c['unit']}]" if c.get("unit") else "")
                     for c in r["columns"]]
            print(f"{head}  profile, {len(r['rows'])} rows")
            print("  " + " | ".join(names))
            for row in r["_rows"]:
                print("  " + " | ".join(_text_value(v) for v in row))
        elif "scaled" in r:
            print(f"{head}  {r['_scaled']} {r['unit']}  (value {r['value']}, scaler {r['scaler']})")
        else:
            print(f"{head}  {_text_value(r['_value'])}")


# --- the run -------------------------------------------------------------------------------

class _Tracer:
    """--trace: each frame as hex and one decoded line, on stderr. The password
    (LLS sends it in clear in the AARQ) is shown as ``**`` per octet; the HDLC
    segments after the first of a long APDU are named as such (they carry no
    LLC header and no APDU tag of their own)."""

    def __init__(self, password: Optional[bytes] = None) -> None:
        self._password = password
        self._segmenting = {"in": False, "out": False}

    def __call__(self, direction: str, frame: bytes) -> None:
        arrow = ">>" if direction == "out" else "<<"
        print(f"{arrow} {self._hex(bytes(frame))}", file=sys.stderr)
        continued = self._segmenting[direction]
        text = describe_frame(frame, continued=continued)
        if text.startswith("HDLC I "):
            self._segmenting[direction] = " segmented" in text
        print(f"   {text}", file=sys.stderr)

    def _hex(self, frame: bytes) -> str:
        shown = frame.hex().upper()
        secret = self._password
        if not secret:
            return shown
        start = frame.find(secret)
        while start >= 0:  # whole octets only, wherever the password sits
            shown = shown[:2 * start] + "**" * len(secret) + shown[2 * (start + len(secret)):]
            start = frame.find(secret, start + len(secret))
        return shown


def _address(address) -> str:
    """An HDLC address as logical/physical (a client address has no physical part)."""
    return str(address.upper) if address.lower is None else f"{address.upper}/{address.lower}"


def describe_frame(frame: bytes, continued: bool = False) -> str:
    """One line saying what a frame is (wrapper or HDLC, addresses, APDU kind);
    ``continued``: an HDLC I-frame that carries a later segment of an APDU."""
    from ..wrapper import payload_kind

    try:
        if frame[:1] == b"\x7e":
            from ..hdlc import HdlcFrame, split_llc

            parsed = HdlcFrame.from_bytes(frame)
            control = parsed.control
            text = (f"HDLC {control.kind.name} {_address(parsed.source)}->"
                    f"{_address(parsed.destination)}"
                    + (f" N(S)={control.ns}" if control.ns is not None else "")
                    + (f" N(R)={control.nr}" if control.nr is not None else "")
                    + (" segmented" if parsed.segmented else ""))
            if parsed.information and control.kind.name == "I":
                if continued:
                    text += " (continues the APDU)"
                else:
                    _, apdu = split_llc(parsed.information)
                    text += f" {payload_kind(apdu)}"
            return text
        if frame[:2] == b"\x00\x01" and len(frame) >= 8:
            source = int.from_bytes(frame[2:4], "big")
            destination = int.from_bytes(frame[4:6], "big")
            return f"wrapper {source}->{destination} {payload_kind(frame[8:])}"
    except DlmsError as exc:
        return f"undecodable frame: {exc}"
    return "IEC 62056-21 " + repr(frame)


async def _read(args: argparse.Namespace, options: dict[str, Any]) -> tuple[int, dict]:
    from ..client import AsyncClient

    output: dict[str, Any] = {"meter": args.url, "results": []}
    results = output["results"]
    client = AsyncClient(args.url, **options)
    try:
        await client.open()
    except DlmsError as exc:
        raise _NoAssociation(exc) from None
    failed = False
    try:
        if args.list_objects:
            entries = await client.object_list()
            # a short-name meter's list names each object's base name too
            output["objects"] = [{"class_id": e.class_id, "version": e.version,
                                  "object": str(e.logical_name),
                                  **({"base_name": e.base_name} if hasattr(e, "base_name")
                                     else {})} for e in entries]
        from ..client.values import parse_target

        targets = [parse_target(o, class_id=args.class_id) for o in args.objects]
        readings = await client.read_many(targets) if targets else []
        for target, reading in zip(targets, readings):
            if isinstance(reading, DlmsError):
                failed = True
                results.append({"object": str(target.obis), "attribute": target.attribute,
                                "class_id": target.class_id, "error": _error_line(reading)})
                continue
            result = _reading_result(reading)
            result["_value"], result["_scaled"] = reading.value, reading.scaled
            results.append(result)
        if args.profile:
            try:
                profile = await client.read_profile(args.profile, args.start, args.end)
            except DlmsError as exc:
                if client.association is None or not isinstance(exc, _object_errors()):
                    raise
                failed = True
                results.append({"object": args.profile, "attribute": 2, "class_id": 7,
                                "error": _error_line(exc)})
            else:
                result = _profile_result(profile)
                result["_rows"] = profile.rows
                results.append(result)
    except DlmsError as exc:
        failed = True
        results.append({"object": None, "attribute": None, "class_id": None,
                        "error": _error_line(exc)})
    finally:
        await client.close()
    return (1 if failed else 0), output


def _object_errors() -> tuple:
    from ..errors import DataAccessError

    return (DataAccessError,)


class _NoAssociation(Exception):
    def __init__(self, error: DlmsError) -> None:
        self.error = error


async def _probe(args: argparse.Namespace, options: dict[str, Any]) -> Optional[dict]:
    from ..client.probe import probe_addresses

    found = await probe_addresses(args.url, framing=args.framing, client=args.client,
                                  server=args.server, server_physical=args.server_physical,
                                  timeout=min(args.timeout, 2.0))
    for line in found.tried:
        print(f"probe: {line}", file=sys.stderr)
    return found.addresses


def run(args: argparse.Namespace) -> int:
    if not args.objects and not args.profile and not args.list_objects:
        print("dlmsfast read: error: give an OBJECT, --profile or --objects", file=sys.stderr)
        return 2
    if (args.start or args.end) and not args.profile:
        print("dlmsfast read: error: --from/--to go with --profile", file=sys.stderr)
        return 2
    try:
        keys = _key_options(args)
        options = dict(
            framing=args.framing, client=args.client, server=args.server,
            server_physical=args.server_physical, auth=args.auth, security=args.security,
            timeout=args.timeout, connect_timeout=args.connect_timeout,
            invocation_counter=args.invocation_counter,
            max_pdu=args.max_pdu, hdlc_max_info=args.hdlc_max_info,
            referencing=args.referencing,
            trace=_Tracer(secret_argument(keys["password"], "password")) if args.trace else None,
            **keys,
        )
        if args.probe_addresses:
            addresses = run_loop(_probe(args, options))
            if addresses is None:
                print("dlmsfast read: no usual client/server address combination answered "
                      f"at {args.url}", file=sys.stderr)
                return 2
            options.update(addresses)
        status, output = run_loop(_read(args, options))
    except _NoAssociation as failure:
        hint = ""
        from ..errors import TimeoutError as DlmsTimeout

        if isinstance(failure.error, DlmsTimeout) and not args.probe_addresses:
            hint = " (try --probe-addresses)"
        print(f"dlmsfast read: no association: {_error_line(failure.error)}{hint}",
              file=sys.stderr)
        return 2
    except DlmsError as exc:
        print(f"dlmsfast read: {_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dlmsfast read: interrupted", file=sys.stderr)
        return 2
    for result in output["results"]:
        if "error" in result:
            name = result["object"] or args.url
            print(f"dlmsfast read: {name}: {result['error']}", file=sys.stderr)
    if args.json:
        clean = {**output, "results": [{k: v for k, v in r.items() if not k.startswith("_")}
                                       for r in output["results"]]}
        print(json.dumps(clean, ensure_ascii=False))
    else:
        for entry in output.get("objects", ()):
            base = f"  base name 0x{entry['base_name']:04X}" if "base_name" in entry else ""
            print(f"{entry['object']}  class {entry['class_id']} version {entry['version']}{base}")
        _print_text(output["results"])
    return status


__all__ = ["add_parser", "run", "json_value", "describe_frame"]
