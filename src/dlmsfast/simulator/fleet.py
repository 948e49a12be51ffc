"""MeterSimulator: a fleet of simulated meters on loopback, on the server role
of dlmsfast's own sessions (:class:`~dlmsfast.session.ServerSession`) and
links (:class:`~dlmsfast.hdlc.link.HdlcLink` as server).

Meter k of a fleet of N with D logical devices per port::

    port            base_port + k // D           (D = 1: one TCP port per meter)
    server address  1 + k % D                    (wrapper wPort / HDLC logical address)
    framing         wrapper | hdlc | mixed       (mixed: by port, 12 ports of each in turn)
    transport       tcp | udp                    (udp: the wrapper, a frame a datagram)
    auth            none | lls | hls-md5 | hls-sha1 | hls-gmac | hls-sha256 | mixed
                                                 (mixed: none, lls, hls-gmac by k mod 3)
    security        none | auth | enc | authenc | mixed  (mixed: k // 3 mod 4)
    referencing     ln | sn | mixed              (logical or short names; mixed: k // 24 mod 2)
    client address  16 (none, unciphered), 2 (none, ciphered), 17 (LLS), 1 (HLS);
                    the public client 16 (no authentication, no ciphering) is always
                    accepted besides, for the IDIS invocation-counter pre-read
    keys            per meter, from the seed (see :mod:`dlmsfast.simulator.data`)

Each meter keeps one server-side SecurityContext for its association across
connections, so its own invocation counter only increases and a replayed or
old client counter is refused (exception-response invocation-counter-error).

``push_to`` (``udp://H:P`` or ``tcp://H:P``) is where the meters' Push Setup
sends; ``push_interval`` makes every meter push every so many seconds (see
:mod:`dlmsfast.simulator.push`). The push method (ACTION) sends one push.

``write_meters(path)`` and ``write_keys(path)`` write the files ``dlmsfast bulk``
reads: meters.csv with the columns ``id,url,framing,client,server,auth,
security,key_id,referencing`` and keys.toml with one table per key id (``ek``, ``ak``,
``system_title`` -- the client's --, and ``password``: the LLS password or
the HLS secret of HLS-MD5/SHA-1/SHA-256).
"""
from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as _dt
import gc
import time as _time
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

from ..apdu import (
    ActionResult,
    Conformance,
    DataAccessResult,
    ExceptionResponse,
    ExceptionServiceError,
    ExceptionStateError,
)
from ..axdr import Data, DataType, encode
from ..cosem import selective_access_refused
from ..cosem.descriptors import SelectiveAccessDescriptor
from ..errors import DlmsError, UsageError
from ..hdlc import HdlcParameters, check_max_info_field_length
from ..security import SecurityContext
from ..security.ciphered import DED_TAG, GLO_TAG
from ..session import (
    AuthenticationPolicy,
    ClientAccess,
    ServerSession,
    ServerSettings,
)
from ..session import events as ev
from ..session.settings import SECURITY_BITS
from ..transport.server import MeterPort, MeterServer, WireBehaviour, raise_file_limit, serve
from . import data as d
from .faults import NO_FAULTS, MeterFaults, assign_faults, check_latency, parse_faults
from .meter import DEFAULT_PUSH_DESTINATION, AssociationView, Catalog, MeterModel
from .push import Pusher, invoke_method, push_destination, push_spread
from .._util import require, shown

FRAMINGS = ("wrapper", "hdlc", "mixed")
AUTHS = ("none", "lls", "hls-md5", "hls-sha1", "hls-gmac", "hls-sha256", "mixed")
SECRET_AUTHS = ("hls-md5", "hls-sha1", "hls-sha256")  # HLS with a shared secret
SECURITIES = ("none", "auth", "enc", "authenc", "mixed")
REFERENCINGS = ("ln", "sn", "mixed")
TRANSPORTS = ("tcp", "udp")
_CIPHERED_TAGS = frozenset(GLO_TAG.values()) | frozenset(DED_TAG.values()) | {0xDB, 0xDC, 0xDD}
_EXCEPTION = ExceptionResponse(ExceptionStateError.SERVICE_NOT_ALLOWED,
                               ExceptionServiceError.OPERATION_NOT_POSSIBLE).to_bytes()
PUBLIC_CLIENT = 16
_GC_GEN0 = 20_000  # allocations between gen-0 collections while serving
_PUBLIC_ACCESS = ClientAccess(client_address=PUBLIC_CLIENT)  # no keys: one for the fleet


@lru_cache(maxsize=4)
def _conformance(general_protection: bool, short_names: bool = False) -> Conformance:
    """What the meters offer (computed once: each meter makes its settings on its
    first association, in the middle of serving)."""
    conformance = ServerSettings(logical_name_referencing=not short_names).conformance
    if not general_protection:
        conformance &= ~conformance.GENERAL_PROTECTION
    return conformance


def meter_index(meter_id: str) -> int:
    """The index of a meter from its id in meters.csv (``sim-00042`` -> 42)."""
    require(meter_id, str, "a meter id")
    prefix, _, digits = meter_id.rpartition("-")
    if prefix != "sim" or not digits.isdigit():
        raise UsageError(f"not a simulated meter's id: {shown(meter_id)} (sim-NNNNN)")
    return int(digits)


def client_address_for(auth: str, security: str) -> int:
    """The client SAP of a meter's association for its authentication and security."""
    if auth.startswith("hls-"):
        return 1
    if auth == "lls":
        return 17
    return PUBLIC_CLIENT if security == "none" else 2


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """What a fleet is made of (the options of ``dlmsfast simulate``).

    ``latency`` (min, max) seconds before every answer of every meter;
    ``faults`` a ``--faults`` spec (see :mod:`dlmsfast.simulator.faults`);
    ``fixed_time`` an instant every meter's clock stays at (None: real time);
    ``max_pdu`` the meters' max receive PDU size; ``hdlc_max_info`` and
    ``hdlc_window`` what the HDLC meters grant; ``general_protection`` whether
    the meters offer it (clients then use general-glo-ciphering); ``challenge``
    a fixed HLS StoC (reproducible transcripts; random when None);
    ``idle_timeout`` seconds after which a silent connection is closed;
    ``push_to`` where the meters push (``udp://H:P`` or ``tcp://H:P``; None:
    the Push Setup's default, TCP 127.0.0.1:4059), ``push_interval`` seconds
    between the pushes of each meter (None: only when the push method is called);
    ``local_time`` the meters' date-times (clock, profiles) without deviation
    (0x8000, not specified), as meters set to a local time send them.
    """

    meters: int = 1
    base_port: int = 4061
    framing: str = "wrapper"
    auth: str = "none"
    security: str = "none"
    devices_per_port: int = 1
    profile_rows: int = 96
    latency: Optional[tuple[float, float]] = None
    faults: str = ""
    seed: int = 0
    fixed_time: Optional[_dt.datetime] = None
    max_pdu: int = 1024
    hdlc_max_info: int = 128
    hdlc_window: int = 1
    general_protection: bool = True
    host: str = "127.0.0.1"
    challenge: Optional[bytes] = field(default=None, repr=False)
    idle_timeout: Optional[float] = 120.0
    push_to: Optional[str] = None
    push_interval: Optional[float] = None
    referencing: str = "ln"
    transport: str = "tcp"
    local_time: bool = False

    def __post_init__(self) -> None:
        for name in ("meters", "base_port", "devices_per_port", "profile_rows", "seed",
                     "max_pdu", "hdlc_max_info", "hdlc_window"):
            value = getattr(self, name)
            if type(value) is not int:
                raise UsageError(f"{name} must be an int, got {shown(value)}")
        for name in ("framing", "auth", "security", "faults", "host", "referencing", "transport"):
            require(getattr(self, name), str, name)
        check_latency(self.latency)
        require(self.fixed_time, (_dt.datetime, type(None)), "fixed_time")
        require(self.challenge, (bytes, type(None)), "challenge")
        require(self.local_time, bool, "local_time")
        if self.idle_timeout is not None and (type(self.idle_timeout) not in (int, float)
                                              or not self.idle_timeout > 0):
            raise UsageError(f"idle_timeout is None or seconds > 0, got {shown(self.idle_timeout)}")
        if self.meters < 1:
            raise UsageError("a fleet has at least one meter")
        for name, value, allowed in (("framing", self.framing, FRAMINGS),
                                     ("auth", self.auth, AUTHS),
                                     ("security", self.security, SECURITIES),
                                     ("referencing", self.referencing, REFERENCINGS),
                                     ("transport", self.transport, TRANSPORTS)):
            if value not in allowed:
                raise UsageError(f"{name} must be one of {', '.join(allowed)}, got {shown(value)}")
        if self.transport == "udp" and self.framing != "wrapper":
            raise UsageError("over UDP the framing is the wrapper (IEC 62056-47), not "
                             f"{shown(self.framing)}")
        if not 1 <= self.devices_per_port <= 100:
            raise UsageError("devices_per_port must be 1..100")
        if not 1 <= self.profile_rows <= 100_000:
            raise UsageError("profile_rows must be 1..100000")
        if not 12 <= self.max_pdu <= 0xFFFF:  # a server's max receive PDU size
            raise UsageError(f"max_pdu must be 12..65535, got {self.max_pdu}")
        if not 1 <= self.hdlc_window <= 7:
            raise UsageError(f"hdlc_window must be 1..7, got {self.hdlc_window}")
        check_max_info_field_length(self.hdlc_max_info, "hdlc_max_info (--hdlc-max-info)")
        if self.base_port and not 1 <= self.base_port <= 65535 - self.ports + 1:
            raise UsageError(f"{self.ports} ports from {self.base_port} do not fit below 65536")
        parse_faults(self.faults)
        if self.push_to is not None:
            push_destination(self.push_to)
        if self.push_interval is not None:
            if type(self.push_interval) not in (int, float) or not self.push_interval > 0:
                raise UsageError(f"push_interval is None or seconds > 0, got "
                                 f"{shown(self.push_interval)}")
            if self.push_to is None:
                raise UsageError("push_interval needs push_to (where the meters push)")

    @property
    def ports(self) -> int:
        return -(-self.meters // self.devices_per_port)


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """Meter ``index`` as a client must address it, with its keys (never in reprs)."""

    index: int
    id: str
    port: int
    server: int
    framing: str
    auth: str
    security: str
    client: int
    faults: MeterFaults
    referencing: str = "ln"
    transport: str = "tcp"

    @property
    def key_id(self) -> str:
        return self.id if (self.auth != "none" or self.security != "none") else ""

    def url(self, host: str = "127.0.0.1", port: Optional[int] = None) -> str:
        return f"{self.transport}://{host}:{self.port if port is None else port}"

    def keys(self, seed: int = 0) -> dict:
        """ek, ak, system_title (the client's) as hex, password for LLS."""
        out = {"ek": d.block_cipher_key(self.index, seed).hex().upper(),
               "ak": d.authentication_key(self.index, seed).hex().upper(),
               "system_title": d.client_system_title(self.index).hex().upper()}
        if self.auth == "lls":
            out["password"] = d.lls_password(self.index, seed).decode()
        elif self.auth in SECRET_AUTHS:
            out["password"] = d.hls_secret(self.index, seed).decode()
        return out


def meter_specs(config: FleetConfig) -> list[MeterSpec]:
    """Every meter of the fleet, in index order."""
    require(config, FleetConfig, "config")
    faults = assign_faults(config.faults, config.meters, config.seed, config.latency)
    width = max(5, len(str(config.meters - 1)))
    specs = []
    for k in range(config.meters):
        port_index = k // config.devices_per_port
        framing = config.framing if config.framing != "mixed" else (
            ("wrapper", "hdlc")[(port_index // 12) % 2])
        auth = config.auth if config.auth != "mixed" else ("none", "lls", "hls-gmac")[k % 3]
        security = config.security if config.security != "mixed" else (
            ("none", "auth", "enc", "authenc")[(k // 3) % 4])
        # by 24s: with framing (by 12 ports) and auth x security (by 12 meters), every
        # combination appears in 48 meters
        referencing = config.referencing if config.referencing != "mixed" else (
            ("ln", "sn")[(k // 24) % 2])
        specs.append(MeterSpec(
            index=k, id=f"sim-{k:0{width}d}",
            port=config.base_port + port_index if config.base_port else 0,
            server=1 + k % config.devices_per_port, framing=framing, auth=auth,
            security=security, client=client_address_for(auth, security),
            faults=faults.get(k, NO_FAULTS), referencing=referencing,
            transport=config.transport))
    return specs


class SimulatedMeter:
    """One logical device of the fleet (what :class:`~dlmsfast.transport.server.MeterPort`
    serves): its policy and keys, its objects, its faults."""

    __slots__ = ("spec", "address", "wire", "model", "faults", "_policy", "_settings",
                 "_context", "config", "sessions", "pusher")

    def __init__(self, spec: MeterSpec, config: FleetConfig, catalog: Catalog, clock) -> None:
        self.spec = spec
        self.config = config
        self.address = spec.server
        self.faults = spec.faults
        self.wire = spec.faults.wire(config.seed * 1_000_003 + spec.index) \
            if spec.faults is not NO_FAULTS else WireBehaviour()
        self._context: Optional[SecurityContext] = None
        self._policy: Optional[AuthenticationPolicy] = None
        self._settings: Optional[ServerSettings] = None
        self.model = MeterModel(spec.index, catalog, clock, self._last_counter)
        self.sessions = 0
        self.pusher: Optional[Pusher] = None

    def _last_counter(self) -> Optional[int]:
        return None if self._context is None else self._context.peer_invocation_counter

    def _make_policy(self) -> tuple[AuthenticationPolicy, ServerSettings]:
        spec, config = self.spec, self.config
        k = spec.index
        title = d.server_system_title(k)
        ciphered = spec.security != "none" or spec.auth == "hls-gmac"
        if ciphered:
            self._context = SecurityContext(
                system_title=title,
                block_cipher_key=d.block_cipher_key(k, config.seed),
                authentication_key=d.authentication_key(k, config.seed),
                invocation_counter=1)
        entries = [_PUBLIC_ACCESS] if spec.client != PUBLIC_CLIENT else []
        entries.append(ClientAccess(
            client_address=spec.client, authentication=spec.auth,
            password=(d.lls_password(k, config.seed) if spec.auth == "lls" else
                      d.hls_secret(k, config.seed) if spec.auth in SECRET_AUTHS else None),
            security=SECURITY_BITS[spec.security], security_context=self._context))
        if self.faults.refuse_association:
            entries = []
        policy = self._policy = AuthenticationPolicy(entries)
        challenge = config.challenge
        short_names = spec.referencing == "sn"
        settings = ServerSettings(
            system_title=title, max_receive_pdu_size=config.max_pdu,
            conformance=_conformance(config.general_protection, short_names),
            logical_name_referencing=not short_names)
        if challenge is not None:  # a fixed challenge (tests): else the default's random ones
            settings = dataclasses.replace(settings, challenge=lambda: challenge)
        self._settings = settings
        return policy, settings

    def push_context(self) -> Optional[SecurityContext]:
        """The SecurityContext of the meter's association (None when it is not
        ciphered): pushes take their invocation counters from it too."""
        if self._policy is None:
            self._make_policy()
        return self._context

    def associate(self, client_address: int) -> "Association":
        policy, settings = self._policy, self._settings
        if policy is None or settings is None:
            policy, settings = self._make_policy()
        self.sessions += 1
        return Association(self, ServerSession(settings, policy,
                                               client_address=client_address),
                           AssociationView(client_address, self.address))


class Association:
    """The application of one association: answers the session's requests from
    the meter's objects, and injects the meter's faults."""

    __slots__ = ("meter", "session", "view", "drop_next", "max_pdu")

    def __init__(self, meter: SimulatedMeter, session: ServerSession,
                 view: AssociationView) -> None:
        self.meter = meter
        self.session = session
        self.view = view
        self.drop_next = False
        self.max_pdu = 0

    def __call__(self, apdu: bytes) -> Optional[list[bytes]]:
        if self.drop_next:
            return None
        try:
            events = self.session.receive_apdu(apdu)
        except DlmsError:
            return None
        meter = self.meter
        faults = meter.faults
        model = meter.model
        session = self.session
        view = self.view
        out: list[bytes] = []
        pass4 = -1
        for event in events:
            # isinstance narrows the event for the type checker; against `type(event) is`
            # it costs 2 ns on the first branch, 16 on GetRequested (the hot one) and
            # up to 140 on the last: nothing beside a session's answer
            if isinstance(event, ev.NeedToSend):
                out.append(event.apdu)
            elif isinstance(event, ev.GetRequested):
                if faults.exception_response:
                    out.append(_EXCEPTION)
                    continue
                descriptor = event.descriptor
                value = model.get(descriptor.class_id, descriptor.instance_id,
                                  descriptor.attribute_id, event.access_selection, view)
                if faults.drop_mid_block and isinstance(value, bytes) and \
                        len(value) + 32 > self.max_pdu:
                    self.drop_next = True
                out.append(session.respond_get(event, value))
            elif isinstance(event, ev.GetListRequested):
                if faults.exception_response:
                    out.append(_EXCEPTION)
                    continue
                values = []
                for item in event.items:
                    descriptor = item.cosem_attribute_descriptor
                    values.append(model.get_octets(descriptor.class_id, descriptor.instance_id,
                                                   descriptor.attribute_id,
                                                   item.access_selection, view))
                out.append(session.respond_get(event, values))
            elif isinstance(event, ev.Associated):
                view.mechanism = int(event.mechanism)
                view.ciphered = bool(event.security)
                view.client_title = event.peer_system_title or b""
                self.max_pdu = event.max_pdu_size
                if int(event.mechanism) >= 2 and out:
                    pass4 = len(out) - 1
            elif isinstance(event, ev.SetRequested):
                descriptor = event.descriptor
                result = model.set(descriptor.class_id, descriptor.instance_id,
                                   descriptor.attribute_id, event.value)
                out.append(session.respond_set(event, result))
            elif isinstance(event, ev.SetListRequested):
                out.append(session.respond_set(event, [
                    model.set(i.cosem_attribute_descriptor.class_id,
                              i.cosem_attribute_descriptor.instance_id,
                              i.cosem_attribute_descriptor.attribute_id, value)
                    for i, value in zip(event.items, event.values)]))
            elif isinstance(event, ev.ActionRequested):
                method = event.descriptor
                out.append(session.respond_action(event, invoke_method(
                    meter, method.class_id, method.instance_id, method.method_id,
                    event.parameters)))
            elif isinstance(event, ev.ActionListRequested):
                # each method as if called alone (the push, too)
                out.append(session.respond_action(event, [
                    (invoke_method(meter, method.class_id, method.instance_id, method.method_id,
                                   parameters), None)
                    for method, parameters in zip(event.descriptors, event.parameters)]))
            elif isinstance(event, ev.ReadRequested):
                if faults.exception_response:
                    out.append(_EXCEPTION)
                    continue
                parameters = event.parameters or (None,) * len(event.base_names)
                results = [self._read_short_name(name, parameter)
                           for name, parameter in zip(event.base_names, parameters)]
                if faults.drop_mid_block and any(
                        isinstance(r, Data) and len(encode(r)) + 32 > self.max_pdu
                        for r in results):
                    self.drop_next = True  # after the first data-block-result
                out.append(session.respond_read(event, results))
            elif isinstance(event, ev.WriteRequested):
                out.append(session.respond_write(event, [
                    self._write_short_name(name, value)
                    for name, value in zip(event.base_names, event.values)]))
        if faults.wrong_tag:
            out = [_flip_last(apdu) if (apdu and apdu[0] in _CIPHERED_TAGS) or i == pass4
                   else apdu for i, apdu in enumerate(out)]
        return out


    def _read_short_name(self, name: int, parameter) -> Data | DataAccessResult:
        """A short-name read: an attribute (``parameter``: its selective access,
        (selector, parameters)), or a method invoked with parameters
        (parameterized access), whose answer is null-data on success."""
        target = self.meter.model.catalog.names.get(name)
        if target is None:
            return DataAccessResult.OBJECT_UNDEFINED
        kind, class_id, obis, index = target
        if kind == "method":
            if parameter is None:
                # a method is invoked by a read with parameterized access only: a
                # plain read of its name names no attribute
                return DataAccessResult.OBJECT_UNDEFINED
            return _method_answer(invoke_method(self.meter, class_id, obis, index,
                                                parameter[1]), _NULL)
        selection = None
        if parameter is not None:
            try:
                selection = SelectiveAccessDescriptor(*parameter)
            except DlmsError:
                return DataAccessResult.OTHER_REASON
            if selective_access_refused(class_id, index, selection.access_selector):
                # as the session answers a GET of the kind (logical names)
                return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
        return self.meter.model.get_data(class_id, obis, index, selection, self.view)

    def _write_short_name(self, name: int, value: Data) -> DataAccessResult:
        """A short-name write: an attribute's new value, or a method invoked."""
        target = self.meter.model.catalog.names.get(name)
        if target is None:
            return DataAccessResult.OBJECT_UNDEFINED
        kind, class_id, obis, index = target
        if kind == "method":
            return _method_answer(invoke_method(self.meter, class_id, obis, index, value),
                                  DataAccessResult.SUCCESS)
        return self.meter.model.set(class_id, obis, index, value)


_NULL = Data(DataType.NULL_DATA, None)


def _method_answer(result: ActionResult, success):
    """An ActionResult as a short-name answer: ``success``, else the
    data-access-result of the same code (the two tables share their codes)."""
    if result is ActionResult.SUCCESS:
        return success
    try:
        return DataAccessResult(int(result))
    except ValueError:
        return DataAccessResult.OTHER_REASON


def _flip_last(apdu: bytes) -> bytes:
    return apdu[:-1] + bytes((apdu[-1] ^ 0x01,))


class MeterSimulator:
    """A fleet of simulated meters served by the running event loop.

    ::

        async with MeterSimulator(FleetConfig(meters=100, base_port=20000,
                                              auth="hls-gmac", security="authenc")) as sim:
            sim.write_meters("meters.csv"); sim.write_keys("keys.toml")
            ...                                  # read them
        expected_readings(7, at=...)             # what meter 7 answered

    ``indexes`` serves only those meters of the fleet (a worker's shard);
    ``base_port=0`` lets the system pick free ports (see :attr:`ports`).
    """

    def __init__(self, config: FleetConfig, indexes: Optional[Iterable[int]] = None) -> None:
        self.config = config
        self.specs = meter_specs(config)
        if indexes is None:
            self.indexes = list(range(config.meters))
        else:
            if not isinstance(indexes, Iterable) or isinstance(indexes, (str, bytes)):
                raise UsageError(f"indexes are meter indexes (ints), got {shown(indexes)}")
            self.indexes = list(indexes)
            for k in self.indexes:
                if type(k) is not int or not 0 <= k < config.meters:
                    raise UsageError(f"not a meter index of this fleet: {shown(k)}")
        fixed = config.fixed_time
        if fixed is not None:
            seconds = fixed.timestamp()
            self.clock = lambda: seconds
        else:
            self.clock = _time.time
        self.catalogs: dict[tuple[str, str], Catalog] = {}
        self.meters: dict[int, SimulatedMeter] = {}
        self.server: Optional[MeterServer] = None
        self.pusher: Optional[Pusher] = None
        self.port_of: dict[int, int] = {}

    def _catalog(self, security: str, referencing: str) -> Catalog:
        catalog = self.catalogs.get((security, referencing))
        if catalog is None:
            # Association LN's xDLMS_context_info: what the meters offer
            conformance = _conformance(self.config.general_protection, referencing == "sn")
            push_to = self.config.push_to
            catalog = self.catalogs[(security, referencing)] = Catalog(
                self.config.profile_rows, SECURITY_BITS[security], self.config.max_pdu,
                int(conformance),
                push_destination(push_to) if push_to else DEFAULT_PUSH_DESTINATION,
                push_spread(self.config.push_interval), short_names=referencing == "sn",
                local_time=self.config.local_time)
        return catalog

    def _ports(self) -> list[MeterPort]:
        config = self.config
        grouped: dict[int, list[SimulatedMeter]] = {}
        for k in self.indexes:
            spec = self.specs[k]
            meter = SimulatedMeter(spec, config, self._catalog(spec.security, spec.referencing),
                                   self.clock)
            self.meters[k] = meter
            grouped.setdefault(k // config.devices_per_port, []).append(meter)
        parameters = HdlcParameters(config.hdlc_max_info, config.hdlc_max_info,
                                    config.hdlc_window, config.hdlc_window)
        return [MeterPort(meters[0].spec.port, meters[0].spec.framing, meters,
                          hdlc_parameters=parameters, udp=meters[0].spec.transport == "udp")
                for _, meters in sorted(grouped.items())]

    async def start(self) -> "MeterSimulator":
        """Listen on every port of this shard."""
        raise_file_limit()
        ports = self._ports()
        self.server = await serve(ports, self.config.host, idle_timeout=self.config.idle_timeout)
        for port, actual in zip(ports, self.server.ports):
            for meter in port.devices.values():
                assert isinstance(meter, SimulatedMeter)  # what _ports() put there
                self.port_of[meter.spec.index] = actual
        self.pusher = Pusher(self.meters.values(), self.config)
        for meter in self.meters.values():
            meter.pusher = self.pusher
        if self.config.push_interval is not None:
            self.pusher.every(self.config.push_interval)
        return self

    async def stop(self) -> None:
        if self.pusher is not None:
            await self.pusher.close()
            for meter in self.meters.values():
                meter.pusher = None
        if self.server is not None:
            await self.server.close()
            self.server = None

    async def __aenter__(self) -> "MeterSimulator":
        return await self.start()

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    @property
    def sessions(self) -> int:
        """Associations begun so far on this shard's meters."""
        return sum(m.sessions for m in self.meters.values())

    def url(self, index: int) -> str:
        """The URL of meter ``index`` (with the port actually bound)."""
        spec = self.specs[index]
        return spec.url(self.config.host, self.port_of.get(index))

    def write_meters(self, path, indexes: Optional[Sequence[int]] = None) -> None:
        """meters.csv: ``id,url,framing,client,server,auth,security,key_id,referencing``."""
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("id", "url", "framing", "client", "server", "auth", "security",
                             "key_id", "referencing"))
            for k in indexes if indexes is not None else range(self.config.meters):
                spec = self.specs[k]
                writer.writerow((spec.id, self.url(k), spec.framing, spec.client, spec.server,
                                 spec.auth, spec.security, spec.key_id, spec.referencing))

    def write_keys(self, path, indexes: Optional[Sequence[int]] = None) -> None:
        """keys.toml: one table per key id with ek, ak, system_title (the client's)
        and password (LLS). The file holds secrets: it is made readable by its owner only."""
        import os

        lines = ["# dlmsfast simulate: the keys of the simulated fleet (test keys only)", ""]
        for k in indexes if indexes is not None else range(self.config.meters):
            spec = self.specs[k]
            if not spec.key_id:
                continue
            lines.append(f'["{spec.key_id}"]')
            for name, value in spec.keys(self.config.seed).items():
                lines.append(f'{name} = "{value}"')
            lines.append("")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines))


async def run_fleet(config: FleetConfig, indexes: Optional[Iterable[int]] = None,
                    ready=None, stop: Optional[asyncio.Event] = None) -> int:
    """Serve until ``stop`` is set; ``ready(simulator)`` once listening. Returns the
    number of associations served."""
    simulator = MeterSimulator(config, indexes)
    await simulator.start()
    # Serving allocates short-lived containers (sessions, events, answers) and keeps
    # what start() made (the meters, their keys and objects) for good: frozen, those
    # are never walked again by the collector, and a larger gen-0 threshold collects
    # the same garbage in fewer passes (the collector's share of the CPU: ~4 -> ~1 %).
    # Put back as found: run_fleet may run in the caller's process.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_GC_GEN0, *thresholds[1:])
    try:
        if ready is not None:
            ready(simulator)
        if stop is None:
            stop = asyncio.Event()
        await stop.wait()
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        await simulator.stop()
    return simulator.sessions


__all__ = ["AUTHS", "FRAMINGS", "FleetConfig", "MeterSimulator", "MeterSpec", "REFERENCINGS",
           "SECURITIES", "TRANSPORTS",
           "SimulatedMeter", "client_address_for", "meter_index", "meter_specs", "run_fleet"]
