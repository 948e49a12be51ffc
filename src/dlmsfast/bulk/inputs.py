"""What a bulk run reads: the meters file (CSV), the keys file (TOML) and the
read plan (TOML or options).

meters.csv, one row per meter (``dlmsfast simulate --write-meters`` writes it)::

    id,url,framing,client,server,auth,security,key_id,referencing
    # a line whose first character (after spaces) is # is a comment
    m-0001,tcp://10.0.0.5:4059,wrapper,1,1,hls-gmac,authenc,k-0001,ln

Comment lines and blank (or space-only) lines are skipped; an error names the
line as an editor numbers it. Every value is checked before the first session
(framing ``wrapper``/``hdlc``; auth ``none``, ``lls``, ``hls-md5``,
``hls-sha1``, ``hls-gmac``, ``hls-sha256``; security ``none``, ``auth``,
``enc``, ``authenc``; a ``tcp://``, ``udp://`` or ``serial://`` URL;
referencing ``ln``/``sn``; in any case), and so is every key a meter needs: a ciphered
meter (security other than none, or hls-gmac) needs a key_id whose table has
ek and ak, a meter with lls or hls-md5/sha1/sha256 one with a password.

keys.toml, one table per key id; its contents are never logged, stored or shown
in a repr::

    ["k-0001"]
    ek = "000102..."            # block cipher key: 16 octets, 32 hex digits
    ak = "D0D1D2..."            # authentication key: 16 octets, 32 hex digits
    system_title = "4446430001D905C0"   # ours (the client's), 8 octets hex
    password = "12345678"       # LLS (or HLS-MD5/SHA) secret
    invocation_counter = 120000 # optional: the first IC to use with a meter of this
                                # key id whose IC the store does not know yet (a new
                                # store for meters another head-end has used)

plan.toml (every key optional; without a plan: the clock, three registers and
the load profile since the last reading)::

    clock = true                # boolean: read the clock (its time stamps the registers)
    sync_clock = 10             # seconds >= 0, or true (10) / false (never): set the
                                # clock when it is more than that off
    objects = ["3/1.0.1.8.0.255", "1/0.0.96.1.0.255:2"]   # strings CLASS/OBIS[:ATTR]
    [profile]                   # a table, or profile = false for none
    object = "1.0.99.1.0.255"
    since = "last"              # or from = "2026-01-01T00:00Z", to = "..." (strings
                                # or TOML date-times; a time without zone is UTC)

Each value is type-checked when the plan is read: a mistake is a UsageError
naming the key and the type it takes, before any session.
"""
from __future__ import annotations

import csv
import datetime as _dt
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional

from ..cosem.obis import Obis
from ..errors import ConfigurationError, DlmsError, UsageError
from ..session.settings import mechanism_of, security_bits
from ..transport.dial import FRAMINGS
from ..transport.url import parse_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser before it joined the standard library
    import tomli as tomllib

METER_COLUMNS = ("id", "url", "framing", "client", "server", "auth", "security", "key_id",
                 "referencing")
_KEY_FIELDS = ("ek", "ak", "system_title", "password", "invocation_counter")
# the octets each hex field of keys.toml holds (the engine's security suite 0)
_HEX_FIELDS = {"ek": 16, "ak": 16, "system_title": 8}
_PASSWORD_AUTHS = ("lls", "low", "hls-md5", "hls-sha1", "hls-sha256")


@dataclass(frozen=True, slots=True)
class MeterRow:
    """One meter of the meters file."""

    id: str
    url: str
    framing: str = "wrapper"
    client: int = 16
    server: int = 1
    auth: str = "none"
    security: str = "none"
    key_id: str = ""
    referencing: str = "ln"
    # where the row is (for messages): the file as given and its line
    source: str = field(default="", compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)

    @property
    def ciphered(self) -> bool:
        """Whether its association uses a SecurityContext (so ek, ak and ICs)."""
        return self.security != "none" or self.auth == "hls-gmac"

    def where(self, column: str) -> str:
        """``meters file 'm.csv' line 4, column key_id`` (for a message)."""
        return f"meters file {self.source!r} line {self.line}, column {column}"


def _toml_text(path) -> str:
    """A TOML file's text, with or without the byte order mark an editor on
    Windows may put first (tomllib refuses it)."""
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8-sig")


def _address(text: str, where: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ConfigurationError(f"{where}: {text!r} is not a number") from None
    if not 0 <= value <= 0x3FFF:
        raise ConfigurationError(f"{where}: {value} is out of range 0..16383")
    return value


def _skipped(fields: list[str]) -> bool:
    """A blank (or space-only) line, or a comment: ``#`` first after spaces."""
    if not any(f.strip() for f in fields):
        return True
    return fields[0].lstrip().startswith("#")


def read_meters(path) -> list[MeterRow]:
    """The rows of a meters CSV (header ``id,url,framing,client,server,auth,security,key_id``
    and optionally ``referencing``: ``ln`` or ``sn`` for meters that speak only short
    names; every column after url may be empty for its default). Ids must be unique;
    comment lines (``#`` first) and blank lines are skipped; every value is checked
    here (a ConfigurationError names the file, the line and the column)."""
    rows: list[MeterRow] = []
    seen: set[str] = set()
    source = str(path)
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte order mark,
        # which would otherwise become part of the first column's name
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the meters file: {exc}") from None
    with handle:
        reader = csv.reader(handle)
        header: Optional[list[str]] = None
        ended = 0  # the line the previous record ended on: a record starts after it
        try:
            for fields in reader:
                line, ended = ended + 1, reader.line_num
                if _skipped(fields):
                    continue
                if header is None:
                    header = [f.strip().lower() for f in fields]
                    missing = {"id", "url"} - set(header)
                    if missing:
                        raise ConfigurationError(
                            f"meters file {source!r} lacks the column(s) "
                            f"{', '.join(sorted(missing))}; columns: {', '.join(METER_COLUMNS)}")
                    continue
                if len(fields) > len(header) and any(f.strip() for f in fields[len(header):]):
                    # an unquoted comma in a value, or a column the header lacks
                    raise ConfigurationError(
                        f"meters file {source!r} line {line}, column {len(header) + 1}: "
                        f"{len(fields)} values for the {len(header)} columns of the header")
                rows.append(_meter_row(dict(zip(header, fields)), source, line, seen))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"meters file {source!r} line {reader.line_num}: "
                                     f"not CSV UTF-8: {exc}") from None
        if header is None:
            raise ConfigurationError(f"meters file {source!r} is empty; columns: "
                                     f"{', '.join(METER_COLUMNS)}")
    return rows


def _meter_row(record: dict[str, str], source: str, line: int, seen: set[str]) -> MeterRow:
    def value(column: str, default: str = "") -> str:
        return (record.get(column) or "").strip() or default

    def where(column: str) -> str:
        return f"meters file {source!r} line {line}, column {column}"

    meter_id, url = value("id"), value("url")
    if not meter_id or not url:
        raise ConfigurationError(f"{where('id' if not meter_id else 'url')}: id and url "
                                 "are required")
    if meter_id in seen:
        raise ConfigurationError(f"{where('id')}: meter id {meter_id!r} repeated")
    seen.add(meter_id)
    try:
        parse_url(url)
    except UsageError as exc:
        raise ConfigurationError(f"{where('url')}: {exc}") from None
    referencing = value("referencing", "ln").lower()
    if referencing not in ("ln", "sn"):
        raise ConfigurationError(f"{where('referencing')}: referencing {referencing!r} "
                                 "is ln (logical names) or sn (short names)")
    # any case, as referencing, auth and security (a spreadsheet may capitalise)
    framing = value("framing", "wrapper").lower()
    if framing not in FRAMINGS:
        raise ConfigurationError(f"{where('framing')}: framing {framing!r} is one of "
                                 f"{', '.join(FRAMINGS)}")
    auth, security = value("auth", "none"), value("security", "none")
    for column, text, check in (("auth", auth, mechanism_of), ("security", security,
                                                                security_bits)):
        try:
            check(text)
        except UsageError as exc:
            raise ConfigurationError(f"{where(column)}: {exc}") from None
    return MeterRow(
        id=meter_id, url=url, framing=framing,
        client=_address(value("client", "16"), where("client")),
        server=_address(value("server", "1"), where("server")),
        auth=auth.lower(), security=security.lower(), key_id=value("key_id"),
        referencing=referencing, source=source, line=line)


def _toml_lines(text: str) -> dict[tuple[str, str], int]:
    """(table, key) -> line of a simple TOML file such as keys.toml (one
    ``[table]`` header, then ``key = value`` lines), for messages; what this
    scan does not recognise is left out (the message then names no line)."""
    lines: dict[tuple[str, str], int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[\s*(?:\"([^\"]*)\"|'([^']*)'|([\w.-]+))\s*\]", line)
        if header:
            table = next(g for g in header.groups() if g is not None)
            lines.setdefault((table, ""), number)
            continue
        key = re.match(r"\s*(?:\"([^\"]*)\"|([\w-]+))\s*=", line)
        if key:
            lines.setdefault((table, next(g for g in key.groups() if g is not None)), number)
    return lines


class KeyRing(Mapping):
    """Key id -> {ek, ak, system_title, password, invocation_counter}; its repr names how many keys it
    holds, never what they are."""

    __slots__ = ("_keys", "_source", "_lines")

    def __init__(self, keys: Optional[Mapping[str, Mapping[str, Any]]] = None, *,
                 source: str = "", lines: Optional[Mapping[tuple[str, str], int]] = None) -> None:
        self._keys: dict[str, dict[str, Any]] = {}
        self._source = source
        self._lines = dict(lines or {})
        for key_id, entry in (keys or {}).items():
            key_id = str(key_id)
            if not isinstance(entry, Mapping):
                raise ConfigurationError(f"{self._where(key_id)}: [{key_id}] is not a table")
            unknown = set(entry) - set(_KEY_FIELDS)
            if unknown:
                raise ConfigurationError(f"{self._where(key_id, min(unknown))}: [{key_id}] has "
                                         f"unknown field(s) {', '.join(sorted(unknown))}; "
                                         f"fields: {', '.join(_KEY_FIELDS)}")
            counter = entry.get("invocation_counter")
            if counter is not None and (type(counter) is not int
                                        or not 0 <= counter <= 0xFFFFFFFF):
                raise ConfigurationError(f"{self._where(key_id, 'invocation_counter')}: "
                                         f"[{key_id}] invocation_counter must be an "
                                         f"integer 0..4294967295, got {counter!r}")
            for name, length in _HEX_FIELDS.items():
                if name in entry:
                    self._check_hex(key_id, name, entry[name], length)
            if "password" in entry and type(entry["password"]) is not str:
                raise ConfigurationError(f"{self._where(key_id, 'password')}: [{key_id}] "
                                         "password must be a string (in quotes)")
            self._keys[key_id] = dict(entry)

    def _where(self, key_id: str, name: str = "") -> str:
        """``keys file 'k.toml' line 3`` (the line when known), for a message."""
        text = f"keys file {self._source!r}" if self._source else "keys file"
        line = self._lines.get((key_id, name)) or self._lines.get((key_id, ""))
        return text if line is None else f"{text} line {line}"

    def _check_hex(self, key_id: str, name: str, value: Any, length: int) -> None:
        # the message never shows the value: it is (a piece of) a key
        where = f"{self._where(key_id, name)}: [{key_id}] {name}"
        if type(value) is not str:
            raise ConfigurationError(f"{where} must be a string of hex digits (in quotes), "
                                     f"got a {type(value).__name__}")
        try:
            octets = bytes.fromhex(value)
        except ValueError:
            raise ConfigurationError(f"{where} is not hex (0-9, A-F)") from None
        if len(octets) != length:
            raise ConfigurationError(f"{where} must be {length} octets ({2 * length} hex "
                                     f"digits), got {len(octets)}")

    @classmethod
    def load(cls, path) -> "KeyRing":
        try:
            text = _toml_text(path)
            data = tomllib.loads(text)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the keys file: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            # the parser's message may quote a line of the file: a key
            raise ConfigurationError(f"keys file {str(path)!r} is not valid TOML") from None
        return cls(data, source=str(path), lines=_toml_lines(text))

    def __getitem__(self, key_id: str) -> dict[str, Any]:
        return self._keys[key_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing({len(self._keys)} key ids)"

    def first_counter(self, meter: MeterRow) -> Optional[int]:
        """The keys file's ``invocation_counter`` for the meter's key id: the first
        IC to use when the store knows none for the meter (None: not given)."""
        entry = self._keys.get(meter.key_id) if meter.key_id else None
        counter = None if entry is None else entry.get("invocation_counter")
        return counter

    def subset(self, key_ids) -> "KeyRing":
        """The keys of these ids only (what one shard needs)."""
        return KeyRing({k: self._keys[k] for k in key_ids if k in self._keys},
                       source=self._source)

    def client_options(self, meter: MeterRow) -> dict[str, Any]:
        """AsyncClient's key options for ``meter``: a ConfigurationError naming the
        meters file's line and column (and no key material) when the meter needs
        a key the ring lacks: a key id not in the keys file, a ciphered meter
        without key id or whose key has no ek or ak, a password mechanism without
        password. The bulk engine asks it for every meter before any session."""
        if not meter.key_id:
            if meter.ciphered or meter.auth in _PASSWORD_AUTHS:
                need = "ek and ak" if meter.ciphered else "a password"
                raise ConfigurationError(f"{meter.where('key_id')}: meter {meter.id} "
                                         f"(auth {meter.auth}, security {meter.security}) "
                                         f"needs a key_id whose keys hold {need}")
            return {}
        entry = self._keys.get(meter.key_id)
        if entry is None:
            missing = "is not in the keys file" if self._keys else \
                "has no keys: no keys file was given (--keys)"
            raise ConfigurationError(f"{meter.where('key_id')}: meter {meter.id}: key id "
                                     f"{meter.key_id!r} {missing}")
        wanted = (("ek", "ak") if meter.ciphered else ()) + \
            (("password",) if meter.auth in _PASSWORD_AUTHS else ())
        lacking = [name for name in wanted if name not in entry]
        if lacking:
            raise ConfigurationError(f"{meter.where('key_id')}: meter {meter.id} (auth "
                                     f"{meter.auth}, security {meter.security}) needs "
                                     f"{' and '.join(lacking)} in [{meter.key_id}] of "
                                     "the keys file")
        options: dict[str, Any] = {}
        for name in ("ek", "ak", "system_title"):
            if name in entry:
                options[name] = entry[name]
        if "password" in entry:
            options["password"] = entry["password"]
        return options


@dataclass(frozen=True, slots=True)
class PlanObject:
    """One attribute of the plan: class, OBIS, attribute."""

    class_id: int
    obis: Obis
    attribute: int = 2

    @classmethod
    def parse(cls, text: str) -> "PlanObject":
        """``CLASS/OBIS[:ATTR]``, e.g. ``3/1.0.1.8.0.255`` or ``1/0.0.96.1.0.255:2``; the
        class is required (reading the object list of every meter costs a request)."""
        head, slash, tail = text.partition("/")
        if not slash or not head.strip().isdigit():
            raise UsageError(f"plan object {text!r}: write CLASS/OBIS[:ATTR], "
                             "e.g. 3/1.0.1.8.0.255")
        obis_text, colon, attribute = tail.rpartition(":")
        if not colon or not attribute.isdigit():
            obis_text, attribute = tail, "2"
        try:
            obis = Obis.parse(obis_text.strip())
        except DlmsError as exc:
            raise UsageError(f"plan object {text!r}: {exc}") from None
        return cls(int(head), obis, int(attribute))

    def __str__(self) -> str:
        return f"{self.class_id}/{self.obis}:{self.attribute}"


CLOCK_OBJECT = PlanObject(8, Obis(0, 0, 1, 0, 0, 255), 2)
DEFAULT_OBJECTS = tuple(PlanObject(3, Obis.parse(o)) for o in
                        ("1.0.1.8.0.255", "1.0.2.8.0.255", "1.0.32.7.0.255"))
DEFAULT_PROFILE = Obis(1, 0, 99, 1, 0, 255)


def parse_instant(text: str) -> _dt.datetime:
    """ISO 8601; ``Z`` for UTC; a time without zone is UTC."""
    try:
        value = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"not an ISO 8601 date-time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """What each session reads.

    - ``objects``: attributes read in one with-list request (registers with
      their scaler_unit); a Profile Generic's buffer (``7/OBIS:2``) among them
      is read whole on its own and stored as the load profile is, one reading
      per cell at its row's time (the JSON of its rows when it has no clock
      column);
    - ``clock``: read the clock in the same request; its time is the
      capture_time of the registers (else the reader's time);
    - ``sync_clock``: set the clock when it is more than this many seconds off
      (None: never);
    - ``profile``: a Profile Generic read by range: from the newest stored
      row (``since_last``: the rows after the last reading of this meter, the
      whole buffer the first time) or from ``start`` to ``end``.
    """

    objects: tuple[PlanObject, ...] = DEFAULT_OBJECTS
    clock: bool = True
    sync_clock: Optional[float] = None
    profile: Optional[Obis] = DEFAULT_PROFILE
    since_last: bool = True
    start: Optional[_dt.datetime] = None
    end: Optional[_dt.datetime] = None

    def __post_init__(self) -> None:
        if self.sync_clock is not None and not self.clock:
            raise UsageError("sync_clock needs the clock read (clock = true)")
        if self.profile is not None and self.since_last and (self.start or self.end):
            raise UsageError("the profile is read since the last reading or from/to, not both")
        if self.start is not None and self.end is not None and self.start > self.end:
            # a reversed range selects no row: say so rather than read nothing
            raise UsageError(f"the profile range ends ({self.end.isoformat()}) before it "
                             f"starts ({self.start.isoformat()})")
        if not self.objects and not self.clock and self.profile is None:
            raise UsageError("the plan reads nothing")

    @classmethod
    def load(cls, path) -> "ReadPlan":
        try:
            data = tomllib.loads(_toml_text(path))
        except OSError as exc:
            raise ConfigurationError(f"cannot read the plan: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"plan {str(path)!r} is not valid TOML: {exc}") from None
        try:
            return cls.from_mapping(data)
        except UsageError as exc:
            raise UsageError(f"plan {str(path)!r}: {str(exc).removeprefix('plan: ')}") from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "ReadPlan":
        """The plan from its TOML (or the options' equivalent): every value
        type-checked, a UsageError naming the key and the type it takes."""
        unknown = set(data) - {"objects", "clock", "sync_clock", "profile"}
        if unknown:
            raise UsageError(f"plan: unknown key(s) {', '.join(sorted(unknown))}; keys: "
                             "objects, clock, sync_clock, [profile]")
        objects = DEFAULT_OBJECTS
        if "objects" in data:
            listed = data["objects"]
            if not isinstance(listed, (list, tuple)) or not all(isinstance(o, str)
                                                                for o in listed):
                raise UsageError(f"plan: objects is a list of strings \"CLASS/OBIS[:ATTR]\", "
                                 f"got {_described(listed)}")
            objects = tuple(PlanObject.parse(o) for o in listed)
        clock = data.get("clock", True)
        if type(clock) is not bool:
            raise UsageError(f"plan: clock is true or false, got {_described(clock)}")
        sync = data.get("sync_clock")
        if sync is False:
            sync = None
        elif sync is True:
            sync = 10.0
        elif sync is not None and (type(sync) not in (int, float)
                                   or not 0 <= sync < math.inf):
            raise UsageError("plan: sync_clock is a number of seconds >= 0 (or true: 10, "
                             f"false: never), got {_described(sync)}")
        profile = data.get("profile", {"object": str(DEFAULT_PROFILE)})
        if profile is False:
            return cls(objects, clock, sync, None)
        if not isinstance(profile, Mapping):
            raise UsageError("plan: profile is a table [profile] (object, since, from, to) "
                             f"or false, got {_described(profile)}")
        unknown = set(profile) - {"object", "since", "from", "to"}
        if unknown:
            raise UsageError(f"plan: unknown key(s) in [profile]: {', '.join(sorted(unknown))}; "
                             "keys: object, since, from, to")
        for key in ("from", "to"):
            if key in profile and not isinstance(profile[key], (str, _dt.datetime)):
                raise UsageError(f"plan: profile {key} is an ISO 8601 date-time (a string or "
                                 f"a TOML date-time), got {_described(profile[key])}")
        start = profile.get("from")
        end = profile.get("to")
        since = profile.get("since", "last" if start is None and end is None else None)
        if since not in ("last", None):
            raise UsageError(f"plan: profile since is \"last\" (the only one known), "
                             f"got {_described(since)}")
        obis = profile.get("object", str(DEFAULT_PROFILE))
        if not isinstance(obis, str):
            raise UsageError(f"plan: profile object is an OBIS code string, got "
                             f"{_described(obis)}")
        try:
            parsed = Obis.parse(obis)
        except DlmsError as exc:
            raise UsageError(f"plan: profile object: {exc}") from None
        return cls(objects, clock, sync, parsed, since == "last",
                   _instant_of(start), _instant_of(end))


def _described(value: Any) -> str:
    """``'abc' (a string)``: a value and its TOML type, for a message."""
    kinds = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
             list: "an array", tuple: "an array", dict: "a table"}
    kind = kinds.get(type(value), "a date-time" if isinstance(value, (_dt.date, _dt.time))
                     else "a table" if isinstance(value, Mapping) else type(value).__name__)
    return f"{value!r} ({kind})"


def _instant_of(value: Any) -> Optional[_dt.datetime]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    return parse_instant(str(value))


__all__ = ["CLOCK_OBJECT", "DEFAULT_OBJECTS", "DEFAULT_PROFILE", "KeyRing", "METER_COLUMNS",
           "MeterRow", "PlanObject", "ReadPlan", "parse_instant", "read_meters"]
