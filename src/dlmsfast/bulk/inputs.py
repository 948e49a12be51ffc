"""What a bulk run reads: the meters file (CSV), the keys file (TOML) and the
read plan (TOML or options).

meters.csv, one row per meter (``dlmsfast simulate --write-meters`` writes it)::

    id,url,framing,client,server,auth,security,key_id
    m-0001,tcp://10.0.0.5:4059,wrapper,1,1,hls-gmac,authenc,k-0001

keys.toml, one table per key id; its contents are never logged, stored or shown
in a repr::

    ["k-0001"]
    ek = "000102..."            # block cipher key (hex)
    ak = "D0D1D2..."            # authentication key (hex)
    system_title = "4446430001D905C0"   # ours (the client's), 8 octets hex
    password = "12345678"       # LLS (or HLS-MD5/SHA) secret
    invocation_counter = 120000 # optional: the first IC to use with a meter of this
                                # key id whose IC the store does not know yet (a new
                                # store for meters another head-end has used)

plan.toml (every key optional; without a plan: the clock, three registers and
the load profile since the last reading)::

    clock = true                # read the clock (its time stamps the registers)
    sync_clock = 10             # set the clock when it is more than 10 s off
    objects = ["3/1.0.1.8.0.255", "1/0.0.96.1.0.255:2"]   # CLASS/OBIS[:ATTR]
    [profile]
    object = "1.0.99.1.0.255"
    since = "last"              # or from = "2026-01-01T00:00Z", to = "..."
"""
from __future__ import annotations

import csv
import datetime as _dt
import sys
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional

from ..cosem.obis import Obis
from ..errors import ConfigurationError, DlmsError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser before it joined the standard library
    import tomli as tomllib

METER_COLUMNS = ("id", "url", "framing", "client", "server", "auth", "security", "key_id",
                 "referencing")
_KEY_FIELDS = ("ek", "ak", "system_title", "password", "invocation_counter")


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


def _read_toml(path) -> dict[str, Any]:
    """A TOML file, with or without the byte order mark an editor on Windows
    may put first (tomllib refuses it)."""
    with open(path, "rb") as handle:
        return tomllib.loads(handle.read().decode("utf-8-sig"))


def _address(text: str, what: str, line: int) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ConfigurationError(f"meters file line {line}: {what} {text!r} is not a number") from None
    if not 0 <= value <= 0x3FFF:
        raise ConfigurationError(f"meters file line {line}: {what} {value} is out of range")
    return value


def read_meters(path) -> list[MeterRow]:
    """The rows of a meters CSV (header ``id,url,framing,client,server,auth,security,key_id``
    and optionally ``referencing``: ``ln`` or ``sn`` for meters that speak only short
    names; every column after url may be empty for its default). Ids must be unique."""
    rows: list[MeterRow] = []
    seen: set[str] = set()
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte order mark,
        # which would otherwise become part of the first column's name
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the meters file: {exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = {"id", "url"} - set(reader.fieldnames or ())
        if missing:
            raise ConfigurationError(f"meters file {str(path)!r} lacks the column(s) "
                                     f"{', '.join(sorted(missing))}; columns: {', '.join(METER_COLUMNS)}")
        for line, record in enumerate(reader, start=2):
            meter_id = (record.get("id") or "").strip()
            url = (record.get("url") or "").strip()
            if not meter_id or not url:
                raise ConfigurationError(f"meters file line {line}: id and url are required")
            if meter_id in seen:
                raise ConfigurationError(f"meters file line {line}: meter id {meter_id!r} repeated")
            seen.add(meter_id)
            referencing = (record.get("referencing") or "").strip().lower() or "ln"
            if referencing not in ("ln", "sn"):
                raise ConfigurationError(f"meters file line {line}: referencing {referencing!r} "
                                         "is ln (logical names) or sn (short names)")
            rows.append(MeterRow(
                id=meter_id, url=url,
                framing=(record.get("framing") or "").strip() or "wrapper",
                client=_address((record.get("client") or "16").strip(), "client", line),
                server=_address((record.get("server") or "1").strip(), "server", line),
                auth=(record.get("auth") or "").strip() or "none",
                security=(record.get("security") or "").strip() or "none",
                key_id=(record.get("key_id") or "").strip(), referencing=referencing))
    return rows


class KeyRing(Mapping):
    """Key id -> {ek, ak, system_title, password, invocation_counter}; its repr names how many keys it
    holds, never what they are."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Optional[Mapping[str, Mapping[str, Any]]] = None) -> None:
        self._keys: dict[str, dict[str, Any]] = {}
        for key_id, entry in (keys or {}).items():
            if not isinstance(entry, Mapping):
                raise ConfigurationError(f"keys file: [{key_id}] is not a table")
            unknown = set(entry) - set(_KEY_FIELDS)
            if unknown:
                raise ConfigurationError(f"keys file: [{key_id}] has unknown field(s) "
                                         f"{', '.join(sorted(unknown))}")
            counter = entry.get("invocation_counter")
            if counter is not None and (type(counter) is not int
                                        or not 0 <= counter <= 0xFFFFFFFF):
                raise ConfigurationError(f"keys file: [{key_id}] invocation_counter must be an "
                                         f"integer 0..4294967295, got {counter!r}")
            self._keys[str(key_id)] = {name: value if name == "invocation_counter" else str(value)
                                       for name, value in entry.items()}

    @classmethod
    def load(cls, path) -> "KeyRing":
        try:
            data = _read_toml(path)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the keys file: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            # the parser's message may quote a line of the file: a key
            raise ConfigurationError(f"keys file {str(path)!r} is not valid TOML") from None
        return cls(data)

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
        return KeyRing({k: self._keys[k] for k in key_ids if k in self._keys})

    def client_options(self, meter: MeterRow) -> dict[str, Any]:
        """AsyncClient's key options for ``meter``: ConfigurationError when its key
        id is missing from the ring (named, without any key material)."""
        if not meter.key_id:
            return {}
        entry = self._keys.get(meter.key_id)
        if entry is None:
            raise ConfigurationError(f"meter {meter.id}: key id {meter.key_id!r} is not in "
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
      their scaler_unit);
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
            data = _read_toml(path)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the plan: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"plan {str(path)!r} is not valid TOML: {exc}") from None
        return cls.from_mapping(data)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "ReadPlan":
        unknown = set(data) - {"objects", "clock", "sync_clock", "profile"}
        if unknown:
            raise UsageError(f"plan: unknown key(s) {', '.join(sorted(unknown))}")
        objects = tuple(PlanObject.parse(str(o)) for o in data.get("objects", [])) \
            if "objects" in data else DEFAULT_OBJECTS
        sync = data.get("sync_clock")
        if sync is False:
            sync = None
        elif sync is True:
            sync = 10.0
        profile = data.get("profile", {"object": str(DEFAULT_PROFILE)})
        if profile is False:
            return cls(objects, bool(data.get("clock", True)), sync, None)
        if not isinstance(profile, Mapping):
            raise UsageError("plan: [profile] is a table (object, since, from, to) or false")
        start = profile.get("from")
        end = profile.get("to")
        since = profile.get("since", "last" if start is None and end is None else None)
        if since not in ("last", None):
            raise UsageError(f"plan: profile since = {since!r}; only \"last\" is known")
        try:
            obis = Obis.parse(str(profile.get("object", DEFAULT_PROFILE)))
        except DlmsError as exc:
            raise UsageError(f"plan: profile object: {exc}") from None
        return cls(objects, bool(data.get("clock", True)), sync, obis, since == "last",
                   _instant_of(start), _instant_of(end))


def _instant_of(value: Any) -> Optional[_dt.datetime]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    return parse_instant(str(value))


__all__ = ["CLOCK_OBJECT", "DEFAULT_OBJECTS", "DEFAULT_PROFILE", "KeyRing", "METER_COLUMNS",
           "MeterRow", "PlanObject", "ReadPlan", "parse_instant", "read_meters"]
