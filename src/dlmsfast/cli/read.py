"""``dlmsfast read URL OBJECT...``: read objects, a load profile or the object list.

Exit status: 0 every object was read; 1 some object failed; 2 a usage mistake,
or no association could be made (read uses no other status). Every error is one
line on stderr (never a traceback); under --json, stdout holds one JSON object
also when no association could be made (``error``, ``exit_status`` and each
object asked for named with the error); a usage mistake is only its line. Keys and passwords are used, never echoed.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import enum
import json
import os
import sys
from typing import Any, Optional

from ..errors import DlmsError, UsageError
from ..client.requests import DEFAULT_SYSTEM_TITLE, secret_argument
from ..client.values import Profile
from ._options import KEY_LENGTHS, octets_wanted
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


def _class_id(text: str) -> int:
    value = _number(text)
    if not 0 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"an interface class is 0..65535, got {value}")
    return value


def _obis(text: str):
    from ..cosem.obis import Obis

    try:
        return Obis.parse(text)
    except DlmsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        epilog="exit status: 0 every object was read; 1 some object failed (each named "
               "with its error); 2 a usage mistake, or no association could be made "
               "(refused, unreachable, timed out, wrong password or keys) - read uses no "
               "other status. --json prints one JSON object on stdout, {\"meter\", "
               "\"results\": [...]}, each result naming its object, attribute and class_id "
               "with its value or its \"error\"; when no association could be made it "
               "holds \"error\" and \"exit_status\" too, and each object asked for is a "
               "result with that error (a usage mistake is only its line on stderr).",
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
    p.add_argument("--ek", metavar="HEX",
                   help="block cipher key (or DLMSFAST_EK, which is read only with --security "
                        "auth/enc/authenc or --auth hls-gmac, and ignored otherwise)")
    p.add_argument("--ak", metavar="HEX",
                   help="authentication key (or DLMSFAST_AK, read only when DLMSFAST_EK is)")
    p.add_argument("--system-title", metavar="HEX", help="our system title (8 octets)")
    p.add_argument("--keys-file", metavar="FILE",
                   help="the keys (ek, ak, system_title, password) in a TOML file: one "
                        "table per key id, as 'dlmsfast simulate --write-keys' writes and "
                        "'dlmsfast bulk' reads (--key-id chooses, unless there is one), or "
                        "flat 'ek = \"HEX\"' lines (quotes optional); or a JSON object")
    p.add_argument("--key-id", metavar="ID",
                   help="the table of --keys-file to use (the key_id of the meters file)")
    p.add_argument("--invocation-counter", type=_counter, metavar="N|meter",
                   help="first invocation counter (default: invocation_counter in "
                        "--keys-file, else 0); 'meter' reads it first from "
                        "0.0.43.1.0.255 through the public client (IDIS)")
    p.add_argument("--class", dest="class_id", type=_class_id, metavar="N",
                   help="interface class of the OBJECTs (default: from the object list)")
    p.add_argument("--profile", metavar="OBIS", type=_obis,
                   help="read this load profile's buffer")
    p.add_argument("--from", dest="start", type=_instant, metavar="ISO",
                   help="profile range start (inclusive); an ISO 8601 date-time without "
                        "an offset or Z is taken as UTC (2026-01-02T00:00 is "
                        "2026-01-02T00:00+00:00), not as the meter's local time")
    p.add_argument("--to", dest="end", type=_instant, metavar="ISO",
                   help="profile range end (inclusive); without an offset, UTC as --from")
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

def _keys_file(path: str, key_id: Optional[str]) -> dict[str, str]:
    """The names and values of a --keys-file: TOML, either one table per key id
    (what ``simulate --write-keys`` writes and ``bulk`` reads; ``key_id`` or the
    only table chooses) or flat ``ek = "HEX"`` lines; the same lines unquoted
    (``ek = HEX``); or a JSON object."""
    try:
        # utf-8-sig: a file saved by an editor that starts it with a BOM, as bulk reads it
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read the keys file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the keys file {path} is not UTF-8 text") from None
    if text.lstrip().startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            raise UsageError(f"keys file {path} is not valid JSON") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"keys file {path} is not a JSON object")
        return _no_key_id(path, key_id, {_name(k): str(v) for k, v in loaded.items()})
    document = _toml(text)
    if document is not None and any(isinstance(v, dict) for v in document.values()):
        return _keys_table(path, document, key_id)
    if document is not None and all(isinstance(v, str) for v in document.values()):
        return _no_key_id(path, key_id, {_name(k): v for k, v in document.items()})
    if any(line.lstrip().startswith("[") for line in text.splitlines()):
        # the parser's message may quote a line of the file: a key
        raise UsageError(f"keys file {path} is not valid TOML")
    keys = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise UsageError(f"keys file {path} line {number}: expected NAME = HEX")
        keys[_name(name)] = _unquoted(value.strip())
    return _no_key_id(path, key_id, keys)


def _unquoted(value: str) -> str:
    """A flat line's value without its quotes (optional, each line its own way)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _name(text: str) -> str:
    return str(text).strip().lower().replace("-", "_")


def _toml(text: str) -> Optional[dict[str, Any]]:
    """The TOML document, or None when the text is not TOML."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the same parser before it joined the standard library
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _keys_table(path: str, document: dict[str, Any], key_id: Optional[str]) -> dict[str, str]:
    """One table of a keys file of tables, read as ``dlmsfast bulk`` reads it."""
    from ..bulk.inputs import KeyRing
    from ..errors import ConfigurationError

    if not all(isinstance(v, dict) for v in document.values()):
        raise UsageError(f"keys file {path} has NAME = value lines outside its [tables]")
    try:
        ring = KeyRing(document)
    except ConfigurationError as exc:
        raise UsageError(f"keys file {path}: {str(exc).removeprefix('keys file: ')}") from None
    names = list(ring)
    if key_id is not None and key_id not in ring:
        raise UsageError(f"--key-id {key_id!r} is not a table of the keys file {path}; "
                         f"it has {_listed(names)}")
    if key_id is None and len(names) != 1:
        raise UsageError(f"the keys file {path} has {_listed(names)}: choose one with --key-id")
    return dict(ring[key_id if key_id is not None else names[0]])


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"[{n}]" for n in names[:10])
    return f"{len(names)} tables ({shown}{', ...' if len(names) > 10 else ''})"


def _no_key_id(path: str, key_id: Optional[str], keys: dict[str, str]) -> dict[str, str]:
    if key_id is not None:
        raise UsageError(f"--key-id chooses a table of a keys file of [tables]; "
                         f"{path} has none")
    return keys


_KEY_LENGTHS = {"ek": KEY_LENGTHS, "ak": KEY_LENGTHS, "system_title": (8,)}
_KEY_WHAT = {"ek": "block cipher key", "ak": "authentication key"}


def _key_options(args: argparse.Namespace) -> dict[str, Any]:
    """ek, ak, system_title and password as octets, from the options, else the
    keys file, else (ek, ak) the environment; each checked here and named as the
    user gave it, so that a missing or unusable key is a usage error before
    anything is sent. Also the first invocation_counter: the option's, else the
    keys file's, else 0."""
    if args.key_id is not None and not args.keys_file:
        raise UsageError("--key-id chooses a table of --keys-file: give --keys-file too")
    from_file = _keys_file(args.keys_file, args.key_id) if args.keys_file else {}
    found: dict[str, Any] = {"invocation_counter": args.invocation_counter}
    if found["invocation_counter"] is None:
        found["invocation_counter"] = _file_counter(from_file.get("invocation_counter", 0),
                                                    args.keys_file)
    given: dict[str, str] = {}
    keys_needed = args.security != "none" or args.auth == "hls-gmac"
    for name in ("ek", "ak", "system_title", "password"):
        value, source = getattr(args, name), "--" + name.replace("_", "-")
        if not value and from_file.get(name):
            value, source = from_file[name], f"{name} in --keys-file {args.keys_file}"
        if not value and name in ("ek", "ak") and keys_needed:
            # only then: keys left in the environment by another job must not
            # turn a plain public read into a ciphered one (or a failed one)
            source = f"DLMSFAST_{name.upper()}"
            value = os.environ.get(source)
        found[name] = _key_octets(name, value, source) if value else None
        given[name] = source
    if keys_needed and found["ek"] is None and found["ak"] is None:
        why = f"--security {args.security}" if args.security != "none" else f"--auth {args.auth}"
        raise UsageError(
            f"{why} needs keys: give --ek and --ak (or DLMSFAST_EK and DLMSFAST_AK, or ek and "
            "ak in --keys-file), and --system-title if the meter expects ours (default "
            f"{DEFAULT_SYSTEM_TITLE.hex().upper()}, 'DLMSFAST')")
    for name, partner in (("ek", "ak"), ("ak", "ek")):
        if found[name] is not None and found[partner] is None:
            raise UsageError(
                f"{given[name]} gives the {_KEY_WHAT[name]} but there is no "
                f"{_KEY_WHAT[partner]}: give --{partner} (or DLMSFAST_{partner.upper()}, or {partner} in "
                "--keys-file)")
    if args.auth in ("lls", "hls-md5", "hls-sha1", "hls-sha256") and found["password"] is None:
        raise UsageError(f"--auth {args.auth} needs --password (or password in --keys-file)")
    return found


def _file_counter(value: Any, path: str) -> int:
    """The keys file's invocation_counter (a table's is checked by KeyRing; a
    flat line's is text)."""
    try:
        counter = int(value)
    except ValueError:
        raise UsageError(f"invocation_counter in --keys-file {path} is not a number") from None
    if not 0 <= counter <= 0xFFFFFFFF:
        raise UsageError(f"invocation_counter in --keys-file {path} must be 0..4294967295")
    return counter


def _key_octets(name: str, value: str, source: str) -> bytes:
    """A key, title or password as octets; errors name ``source``, never the value."""
    try:
        octets = secret_argument(value, name)
    except UsageError:
        after = " after hex:" if name == "password" else ""
        raise UsageError(f"{source} is not hexadecimal{after}") from None
    assert octets is not None
    lengths = _KEY_LENGTHS.get(name)
    if lengths is not None and len(octets) not in lengths:
        raise UsageError(f"{source} must be {octets_wanted(lengths)}, got {len(octets)} octets")
    return octets


# --- values as JSON and text ------------------------------------------------------------

def json_value(value: Any) -> Any:
    """Plain JSON (cosem's one rule): octet-strings as hex, date-times as ISO 8601,
    exact decimals as numbers, units as symbols."""
    from ..cosem.jsonable import to_json

    return to_json(value)


def _text_value(value: Any) -> str:
    """A value as one readable line (never a Python repr): octet-strings as hex
    (and text when printable), date-times as ISO 8601 (a local one without an
    offset, as in JSON) or with ``*`` for the fields the meter left unspecified,
    structures as ``{name: value, ...}``, arrays as ``[...]``, empty values named."""
    import dataclasses

    from ..axdr import BitString, Date, DateTime, Time
    from ..cosem.obis import Obis

    if isinstance(value, (bytes, bytearray)):
        octets = bytes(value)
        if not octets:
            return "(empty octet-string)"
        shown = octets.hex().upper()
        if all(32 <= b < 127 for b in octets):
            shown += f' "{octets.decode()}"'
        return shown
    if isinstance(value, str):
        return value if value else "(empty string)"
    if isinstance(value, (DateTime, Date, Time)):
        meaning = json_value(value)
        return meaning if isinstance(meaning, str) else _clock_text(meaning)
    if isinstance(value, BitString):
        return str(value) if value.length else "(empty bit-string)"
    if isinstance(value, Obis):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "{" + ", ".join(f"{f.name}: {_text_value(getattr(value, f.name))}"
                               for f in dataclasses.fields(value)) + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "(empty array)"
        return "[" + ", ".join(_text_value(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, enum.IntFlag):  # a bit map: the names of its bits set
        names = [str(m.name).lower().replace("_", "-") for m in type(value)
                 if m.value and value & m == m]
        return "|".join(names) if names else str(int(value))
    shown = json_value(value)
    return shown if isinstance(shown, str) else json.dumps(shown)


def _clock_text(fields: dict[str, Any]) -> str:
    """A date, time or date-time's fields as ``YYYY-MM-DD hh:mm:ss``, ``*`` for
    each digit of a field not specified; its deviation and clock status named."""

    def part(name: str, width: int) -> str:
        field = fields.get(name)
        return "*" * width if field is None else f"{field:0{width}d}"

    shown = []
    if "year" in fields:
        shown.append(f"{part('year', 4)}-{part('month', 2)}-{part('day', 2)}")
    if "hour" in fields:
        shown.append(f"{part('hour', 2)}:{part('minute', 2)}:{part('second', 2)}")
    deviation = fields.get("deviation")
    if deviation is not None:
        shown.append(f"deviation {deviation} min")
    if fields.get("clock_status") is not None:
        shown.append(f"clock status {fields['clock_status']}")
    text = " ".join(shown)
    return f"{text} (* not specified)" if "*" in text else text


def _is_table(value: Any) -> bool:
    """An array of structures (an object list, capture objects...): one per line."""
    import dataclasses

    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(v, (list, tuple)) or (dataclasses.is_dataclass(v) and not isinstance(v, type))
        for v in value)


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
        elif _is_table(r["_value"]):
            print(f"{head}  {len(r['_value'])} entries")
            for entry in r["_value"]:
                print(f"  {_text_value(entry)}")
        else:
            print(f"{head}  {_text_value(r['_value'])}")


# --- the run -------------------------------------------------------------------------------

class _Tracer:
    """--trace: each frame as hex and one decoded line, on stderr.

    An LLS password (sent in clear, the AARQ's calling-authentication-value)
    is shown as ``**`` per octet: exactly those octets, found by reading the
    AARQ's structure, also where it is cut into HDLC segments; no other octet
    of any frame is hidden (an HLS secret is never sent). The HDLC segments
    after the first of a long APDU are named as such (they carry no LLC header
    and no APDU tag of their own). With keys, what each ciphered APDU carries
    is shown deciphered under it (``plaintext``, the client's hook); the keys
    never."""

    def __init__(self, password: Optional[bytes] = None) -> None:
        self._hidden = _PasswordOctets() if password else None
        self._segmenting = {"in": False, "out": False}
        self._plain_out: list[bytes] = []

    def __call__(self, direction: str, frame: bytes) -> None:
        frame = bytes(frame)
        continued = self._segmenting[direction]
        hidden = self._hidden_octets(direction, frame, continued)
        arrow = ">>" if direction == "out" else "<<"
        shown = frame.hex().upper()
        for at in hidden:
            shown = shown[:2 * at] + "**" + shown[2 * at + 2:]
        print(f"{arrow} {shown}", file=sys.stderr)
        text = describe_frame(frame, continued=continued)
        if text.startswith("HDLC I "):
            self._segmenting[direction] = " segmented" in text
        print(f"   {text}", file=sys.stderr)
        if direction == "out" and self._plain_out and not continued:
            # ciphered before it was framed: shown under the frame that starts it
            self._show_plain(self._plain_out.pop(0))

    def plaintext(self, direction: str, apdu: bytes) -> None:
        """The client's session: ``apdu`` as it is before ciphering (``out``) or
        once deciphered (``in``)."""
        if direction == "out":
            self._plain_out.append(bytes(apdu))
        else:
            self._show_plain(bytes(apdu))

    @staticmethod
    def _show_plain(apdu: bytes) -> None:
        from ..explain import translate
        from ..explain.render import node_lines

        print(f"   deciphered: {apdu.hex().upper()}", file=sys.stderr)
        try:
            decoded = translate(apdu, "apdu")
        except DlmsError as exc:
            print(f"     (not decoded: {exc})", file=sys.stderr)
            return
        for item in decoded.nodes:
            for line in node_lines(item, "     "):
                print(line, file=sys.stderr)

    def _hidden_octets(self, direction: str, frame: bytes, continued: bool) -> list[int]:
        """The offsets in ``frame`` of password octets (only an AARQ, which we send,
        carries one)."""
        if self._hidden is None or direction != "out":
            return []
        carried = _apdu_octets(frame, continued)
        if carried is None:
            return []
        start, end, first, more = carried
        return [start + at for at in self._hidden.feed(frame[start:end], first, more)]


def _apdu_octets(frame: bytes, continued: bool) -> Optional[tuple[int, int, bool, bool]]:
    """Where a frame's APDU octets are (start, end), whether they start an APDU
    and whether more segments follow; None for a frame that carries none."""
    from ..hdlc import HdlcFrame, split_llc

    if frame[:2] == b"\x00\x01" and len(frame) >= 8:
        return 8, len(frame), True, False  # a wrapper frame holds one whole APDU
    if frame[:1] != b"\x7e":
        return None
    try:
        parsed = HdlcFrame.from_bytes(frame)
    except DlmsError:
        return None
    information = parsed.information
    if parsed.control.kind.name != "I" or not information:
        return None
    # the information field is followed by the FCS (2 octets) and the closing flag
    end = len(frame) - 3
    start = end - len(information)
    if frame[start:end] != information:
        return None
    if not continued:
        _, apdu = split_llc(information)
        start = end - len(apdu)
    return start, end, not continued, parsed.segmented


# an AARQ is short: what is kept of one to find its password is bounded
_MAX_AARQ_KEPT = 4096


class _PasswordOctets:
    """Which octets of the APDUs we send are an LLS password, fed segment by
    segment: the contents of the AARQ's calling-authentication-value, found
    by walking the AARQ's BER elements::

        60 len  (tag len value)...  AC len  80 len  password...  BE len ...

    An element's header says where its contents are before they arrive, so
    the part of a password that a segment's end cuts off is hidden in the
    next segment too."""

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        self._apdu = bytearray()  # the current AARQ so far (until its password is found)
        self._received = 0  # octets of the current APDU so far
        self._span: Optional[tuple[int, int]] = None  # the password, [start, end)
        self._aarq = False

    def feed(self, octets: bytes, first: bool, more: bool) -> list[int]:
        """The offsets in ``octets`` (the next octets of an APDU; ``first``: they
        start it, ``more``: more segments follow) that are password octets."""
        if first:
            self._start()
            self._aarq = octets[:1] == b"\x60"
        begin, end = self._received, self._received + len(octets)
        if self._aarq and self._span is None and len(self._apdu) < _MAX_AARQ_KEPT:
            self._apdu += octets
            self._span = _password_span(bytes(self._apdu))
        hidden = [] if self._span is None else \
            [at - begin for at in range(max(self._span[0], begin), min(self._span[1], end))]
        if more:
            self._received = end
        else:
            self._start()
        return hidden


def _password_span(aarq: bytes) -> Optional[tuple[int, int]]:
    """Where the calling-authentication-value's contents are in an AARQ (or the
    start of one), [start, end); None when it has none or its header has not
    arrived yet."""
    header = _ber_length(aarq, 1)
    at = header[1] if header else len(aarq)
    while at < len(aarq):
        tag, element = aarq[at], _ber_length(aarq, at + 1)
        if element is None:
            return None
        length, contents = element
        if tag == 0xAC:  # [12] calling-authentication-value: a CHOICE, [0] charstring
            inner = _ber_length(aarq, contents + 1)
            if inner is None:
                return None
            return inner[1], inner[1] + inner[0]
        at = contents + length
    return None


def _ber_length(data: bytes, at: int) -> Optional[tuple[int, int]]:
    """(length, where the contents start) of the BER length at ``at``; None when
    it has not arrived (or is not one an AARQ uses)."""
    if at >= len(data):
        return None
    first = data[at]
    if first < 0x80:
        return first, at + 1
    size = first & 0x7F
    if not 1 <= size <= 2 or at + 1 + size > len(data):
        return None
    return int.from_bytes(data[at + 1:at + 1 + size], "big"), at + 1 + size


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


def _targets(args: argparse.Namespace) -> list:
    """The OBJECTs as what to read (class from --class, or None: from the object list)."""
    from ..client.values import parse_target

    targets = []
    for text in args.objects:
        target = parse_target(text, class_id=args.class_id)
        # a cosem-attribute-descriptor's attribute_id is an integer (-128..127),
        # and parse_target reads no sign
        if target.attribute > 127:
            raise UsageError(f"OBJECT {text!r}: attribute {target.attribute} is above 127, "
                             "the highest an attribute descriptor can name")
        targets.append(target)
    return targets


async def _read(args: argparse.Namespace, options: dict[str, Any],
                targets: list) -> tuple[int, dict]:
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
        readings = await client.read_many(targets) if targets else []
        for target, reading in zip(targets, readings):
            if isinstance(reading, DlmsError):
                failed = True
                results.append({"object": str(target.obis), "attribute": target.attribute,
                                "class_id": target.class_id, "error": _error_line(reading)})
                continue
            if isinstance(reading.value, Profile):  # a buffer read as OBIS:2
                result = _profile_result(reading.value)
                result["_rows"] = reading.value.rows
            else:
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
                results.append({"object": str(args.profile), "attribute": 2, "class_id": 7,
                                "error": _error_line(exc)})
            else:
                result = _profile_result(profile)
                result["_rows"] = profile.rows
                results.append(result)
    except DlmsError as exc:
        # the association is lost, or the object list everything else needed
        # could not be read: each object asked for and not yet answered is named
        failed = True
        answered = len(results)
        profile_done = answered > len(targets)
        results.extend(_unanswered(args, targets[answered:], _error_line(exc),
                                   profile=not profile_done, objects="objects" not in output))
    finally:
        await client.close()
    return (1 if failed else 0), output


def _unanswered(args: argparse.Namespace, targets: list, error: str, profile: bool = True,
                objects: bool = True) -> list[dict[str, Any]]:
    """One result per object asked for (OBJECTs, --profile, --objects: the
    association's object list) that ``error`` left unread."""
    asked = [(str(t.obis), t.attribute, t.class_id) for t in targets]
    if args.profile and profile:
        asked.append((str(args.profile), 2, 7))
    if args.list_objects and objects:
        asked.insert(0, (OBJECT_LIST_OWNER, 2, 12 if args.referencing == "sn" else 15))
    return [{"object": obis, "attribute": attribute, "class_id": class_id, "error": error}
            for obis, attribute, class_id in asked]


OBJECT_LIST_OWNER = "0.0.40.0.0.255"
"""The current association, whose object_list (attribute 2) --objects reads."""


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


def _failed_json(args: argparse.Namespace, error: str) -> int:
    """Exit status 2 (nothing was read); under --json, the one JSON object on
    stdout names the meter, the error and each object asked for with it."""
    if args.json:
        try:
            targets = _targets(args)
        except DlmsError:
            targets = []
        print(json.dumps({"meter": args.url, "error": error, "exit_status": 2,
                          "results": _unanswered(args, targets, error)}, ensure_ascii=False))
    return 2


def run(args: argparse.Namespace) -> int:
    if not args.objects and not args.profile and not args.list_objects:
        print("dlmsfast read: error: give an OBJECT, --profile or --objects", file=sys.stderr)
        return 2
    if (args.start or args.end) and not args.profile:
        print("dlmsfast read: error: --from/--to go with --profile", file=sys.stderr)
        return 2
    if args.start and args.end and args.start > args.end:
        print(f"dlmsfast read: error: --from {args.start.isoformat()} is after --to "
              f"{args.end.isoformat()}", file=sys.stderr)
        return 2
    try:
        # every argument is checked before a connection is opened: a typo is
        # reported as such, also when the meter would not answer
        targets = _targets(args)
        keys = _key_options(args)
        options = dict(
            framing=args.framing, client=args.client, server=args.server,
            server_physical=args.server_physical, auth=args.auth, security=args.security,
            timeout=args.timeout, connect_timeout=args.connect_timeout,
            max_pdu=args.max_pdu, hdlc_max_info=args.hdlc_max_info,
            referencing=args.referencing,
            trace=_Tracer(keys["password"] if args.auth == "lls" else None) if args.trace else None,
            **keys,
        )
        if args.probe_addresses:
            addresses = run_loop(_probe(args, options))
            if addresses is None:
                error = f"no usual client/server address combination associated at {args.url}"
                print(f"dlmsfast read: {error}", file=sys.stderr)
                return _failed_json(args, error)
            if args.auth != "none" or args.security != "none":
                # the probe goes without authentication; our client SAP goes with
                # the credentials given: only the server's addresses are taken
                print(f"probe: reading as client {args.client} (--auth/--security given) at "
                      f"server {addresses['server']}", file=sys.stderr)
                addresses = {k: v for k, v in addresses.items() if k != "client"}
            options.update(addresses)
        status, output = run_loop(_read(args, options, targets))
    except _NoAssociation as failure:
        hint = ""
        from ..transport.connection import ADDRESSES_SUSPECTED

        # only where the connection suspects the addresses: not for a silent optical
        # head, nor for a meter that answered before
        if ADDRESSES_SUSPECTED in str(failure.error) and not args.probe_addresses:
            hint = " (try --probe-addresses)"
        print(f"dlmsfast read: no association: {_error_line(failure.error)}{hint}",
              file=sys.stderr)
        return _failed_json(args, f"no association: {_error_line(failure.error)}")
    except DlmsError as exc:
        print(f"dlmsfast read: {_error_line(exc)}", file=sys.stderr)
        from . import EXIT_USAGE, exit_status

        # a usage mistake is the one line on stderr, as argparse's own
        return 2 if exit_status(exc) == EXIT_USAGE else _failed_json(args, _error_line(exc))
    except KeyboardInterrupt:
        print("dlmsfast read: interrupted", file=sys.stderr)
        return _failed_json(args, "interrupted")
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
