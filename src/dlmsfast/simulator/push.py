"""Simulated meters that push: the data-notification a meter's Push Setup
(0.0.25.9.0.255, IC 40) describes, protected as the meter's association is,
in a wrapper frame, sent where the Push Setup's attribute 3 says; when a
client invokes the push method (ACTION method 1) and, with ``push_interval``,
every so many seconds.

What one push carries (attribute 2, :data:`~dlmsfast.simulator.meter.PUSH_OBJECTS`)::

    data-notification  0F
      long-invoke-id-and-priority   the meter's push number (24 bits), unconfirmed
      date-time                     absent (00): the clock is in the body
      notification-body  structure {
        push_object_list            array of {class-id, OBIS, attribute, data-index}
        logical device name         octet-string(16)
        clock time                  octet-string(12), UTC
        A+ value, A+ scaler_unit    double-long-unsigned, {integer 0, enum Wh}
        A- value, A- scaler_unit    double-long-unsigned, {integer 0, enum Wh}
        U  value, U  scaler_unit    long-unsigned, {integer -1, enum V}
      }

Every value is what a GET of the same attribute answers at that moment (one
source: :class:`~dlmsfast.simulator.meter.MeterModel`), so
:mod:`dlmsfast.simulator.data` says what a push holds. When the meter's
association is ciphered (``security`` auth, enc or authenc), the push is
general-glo-ciphered with that security control, the meter's system title and
keys and the invocation counter of the very SecurityContext its associations
answer with: a push never reuses an IC. Always general-glo, whether or not
the fleet offers general-protection to its clients: data-notification has no
service-specific glo- tag (Green Book ciphered APDUs), and the general form
carries the system title a receiver needs to pick the meter's keys.

Wrapper framing over TCP and UDP (IEC 62056-47)::

    00 01 | source wPort: the meter's logical device SAP (its server address)
          | destination wPort: 0x0066, the push client SAP
          | length | APDU

The source wPort is the pushing logical device's SAP, as in every frame a
server sends. The destination is the client SAP the push is for: Push Setup
version 1 names it in attribute 9 (push_client_SAP, IEC 62056-6-2); this
version-0 Push Setup has no such attribute, so the push goes to 0x66 (102),
the push client SAP of the IDIS companion specification (we found no public
text of it to cite here: the value is the one IDIS head-ends listen with).
Receivers such as ``dlmsfast listen`` accept any wPort. The push goes over the
transport attribute 3 names whatever framing the meter's port serves its
associations with (an HDLC port's meters push wrapper frames too).

A meter's faults (:mod:`dlmsfast.simulator.faults`) apply to its pushes as to
its answers: ``silent`` never pushes, ``wrong-tag`` flips the last octet (the
tag) of a ciphered push, ``corrupt`` inverts octet 8 of the frame (the APDU's
first octet); latency and slow drip are about answers and do not apply.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
from typing import TYPE_CHECKING, Iterable, Optional

from ..apdu import ActionResult, DataNotification, LongInvokeIdAndPriority
from ..axdr import Data, DataType
from ..cosem.classes.push_setup import MessageType, SendDestinationAndMethod, TransportService
from ..errors import DlmsError, UsageError
from ..session.settings import SECURITY_BITS
from ..transport.server import CORRUPT_OFFSET, PushSender
from ..transport.url import parse_url
from ..wrapper import WrapperFrame
from .._util import require, shown
from . import data as d
from .meter import PUSH_OBJECTS, PUSH_SETUP

if TYPE_CHECKING:
    from .fleet import FleetConfig, MeterSpec, SimulatedMeter

PUSH_CLIENT_SAP = 0x66
PUSH_METHOD = 1
_SCHEMES = {TransportService.TCP: "tcp", TransportService.UDP: "udp"}
_NULL = Data(DataType.NULL_DATA, None)


def push_destination(url: str) -> SendDestinationAndMethod:
    """The Push Setup's send_destination_and_method for ``udp://H:P`` or
    ``tcp://H:P``: that transport, "H:P" as octets, A-XDR encoded APDUs."""
    require(url, str, "a push URL")
    parsed = parse_url(url)
    if parsed.scheme not in ("tcp", "udp"):
        raise UsageError(f"pushes go to udp://HOST:PORT or tcp://HOST:PORT, got {shown(url)}")
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    service = TransportService.UDP if parsed.scheme == "udp" else TransportService.TCP
    return SendDestinationAndMethod(service, f"{host}:{parsed.port}".encode("ascii"),
                                    MessageType.A_XDR_ENCODED_XDLMS_APDU)


def push_spread(interval: Optional[float]) -> int:
    """Push Setup's randomisation_start_interval (long-unsigned seconds) for a push
    interval: each meter's periodic push lies that far at most into the interval."""
    return 0 if interval is None else min(int(interval), 0xFFFF)


def destination_address(destination: SendDestinationAndMethod) -> tuple[str, str, int]:
    """(scheme, host, port) of a send_destination_and_method this simulator can serve."""
    scheme = _SCHEMES.get(destination.transport_service)
    if scheme is None or destination.message != MessageType.A_XDR_ENCODED_XDLMS_APDU:
        raise UsageError(f"the simulator pushes A-XDR APDUs over TCP or UDP, not "
                         f"{destination.transport_service.name} / {destination.message.name}")
    text = destination.destination.decode("ascii", "replace")
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"a push destination is HOST:PORT, got {shown(text)}")
    return scheme, host.strip("[]"), int(port)


def expected_push(k: int, at: _dt.datetime) -> list[d.ExpectedReading]:
    """What a push of meter k at time ``at`` carries after its push_object_list,
    in order: the logical device name, the clock (``at``, whole seconds), then
    value (attribute 2) and (scaler, unit code) (attribute 3) of A+, A- and U."""
    # expected_register checks k and at first (a UsageError for a wrong argument)
    registers = [d.expected_register(k, str(item.logical_name), at) for item in PUSH_OBJECTS
                 if item.class_id == 3 and item.attribute_index == 2]
    when = at.replace(microsecond=0)
    out = [d.ExpectedReading("0.0.42.0.0.255", 2, when, d.logical_device_name(k).decode()),
           d.ExpectedReading("0.0.1.0.0.255", 2, when, when)]
    for reading in registers:
        scaler, unit = next((s, u) for o, s, u, _, _ in d.REGISTERS if o == reading.object)
        out.append(reading)
        out.append(d.ExpectedReading(reading.object, 3, reading.capture_time, (scaler, unit)))
    return out


def write_push_keys(path, specs: Iterable["MeterSpec"], seed: int = 0) -> int:
    """The keys file of ``dlmsfast listen --keys-file`` (JSON, one entry per
    ciphered meter, named by its system title: ``ek``, ``ak``) for the meters
    ``specs`` of a fleet seeded ``seed``; returns the entries written. The file
    holds secrets: it is made readable by its owner only."""
    table = {}
    for spec in specs:
        if spec.security != "none":
            table[d.server_system_title(spec.index).hex().upper()] = {
                "ek": d.block_cipher_key(spec.index, seed).hex().upper(),
                "ak": d.authentication_key(spec.index, seed).hex().upper()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(table, handle, indent=1)
    return len(table)


def push_body(meter: "SimulatedMeter") -> Data:
    """The notification-body: the value of each attribute of :data:`PUSH_OBJECTS`
    as a GET answers it now (null-data for one the meter cannot give)."""
    model = meter.model
    values = []
    for item in PUSH_OBJECTS:
        value = model.get_data(item.class_id, item.logical_name, item.attribute_index)
        values.append(value if isinstance(value, Data) else _NULL)
    return Data(DataType.STRUCTURE, tuple(values))


def push_apdu(meter: "SimulatedMeter", number: int = 0) -> bytes:
    """Meter's data-notification number ``number``, ciphered when its association is."""
    plain = DataNotification(
        long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=number & 0xFFFFFF),
        date_time=None, notification_body=push_body(meter)).to_bytes()
    bits = SECURITY_BITS[meter.spec.security]
    context = meter.push_context()
    if not bits or context is None:
        return plain
    return context.encrypt(plain, security_control=bits | context.security_suite,
                           form="general-glo")


def push_frame(meter: "SimulatedMeter", number: int = 0) -> bytes:
    """:func:`push_apdu` in its wrapper frame (meter SAP -> push client SAP), as
    the meter sends it: with its wrong-tag and corrupt faults."""
    apdu = push_apdu(meter, number)
    faults = meter.faults
    if faults.wrong_tag and apdu[0] != DataNotification.TAG:
        apdu = apdu[:-1] + bytes((apdu[-1] ^ 0x01,))
    frame = WrapperFrame(1, meter.spec.server, PUSH_CLIENT_SAP, apdu).to_bytes()
    if faults.corrupt:
        frame = frame[:CORRUPT_OFFSET] + bytes((frame[CORRUPT_OFFSET] ^ 0xFF,)) \
            + frame[CORRUPT_OFFSET + 1:]
    return frame


class Pusher:
    """The pushes of a fleet shard's meters, on the running event loop.

    :meth:`push` sends one push of a meter now; :meth:`every` makes each
    meter push every ``interval`` seconds, meter k first at ``interval·k/N``
    (N the fleet's meters) so that a fleet's pushes are spread over the
    interval, not sent at once: the deterministic stand-in for the random
    delay the Push Setup's randomisation_start_interval allows (which reads
    the interval, whole seconds). A push that fails is not sent again
    (number_of_retries 0). ``pushes`` counts the pushes made, ``sender``
    (:class:`~dlmsfast.transport.server.PushSender`) those delivered and failed.
    """

    def __init__(self, meters: Iterable["SimulatedMeter"], config: "FleetConfig") -> None:
        self.meters = list(meters)
        self.config = config
        self.sender = PushSender(config.host)
        self.pushes = 0
        self.errors = 0
        self._numbers: dict[int, int] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}

    def push(self, meter: "SimulatedMeter") -> None:
        """Build meter's next push and send it where its Push Setup says (a
        silent meter sends nothing)."""
        if meter.faults.silent:
            return
        number = self._numbers.get(meter.spec.index, 0)
        try:
            scheme, host, port = destination_address(meter.model.catalog.push_destination)
            frame = push_frame(meter, number)
        except DlmsError:
            # e.g. an exhausted invocation counter: that meter can push no more
            self.errors += 1
            return
        self._numbers[meter.spec.index] = number + 1
        self.pushes += 1
        self.sender.send(scheme, host, port, frame)

    def every(self, interval: float) -> None:
        """Push from every meter every ``interval`` seconds, spread over the interval."""
        if type(interval) not in (int, float) or not interval > 0:
            raise UsageError(f"a push interval is seconds > 0, got {shown(interval)}")
        loop = asyncio.get_running_loop()
        start = loop.time()
        for meter in self.meters:
            at = start + interval * meter.spec.index / self.config.meters
            self._timers[meter.spec.index] = loop.call_at(at, self._tick, meter, at, interval)

    def _tick(self, meter: "SimulatedMeter", at: float, interval: float) -> None:
        self.push(meter)
        loop = asyncio.get_running_loop()
        at += interval
        now = loop.time()
        if at <= now:
            # a loop that fell behind skips the pushes it missed rather than bursting
            at += interval * ((now - at) // interval + 1)
        self._timers[meter.spec.index] = loop.call_at(at, self._tick, meter, at, interval)

    async def close(self) -> None:
        """Stop the periodic pushes; let those under way finish (or fail) first."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        try:
            await asyncio.wait_for(self.sender.drain(), self.sender.timeout)
        except asyncio.TimeoutError:
            pass
        await self.sender.close()


def invoke_method(meter: "SimulatedMeter", class_id: int, obis, method: int,
                  parameters: Optional[Data]) -> ActionResult:
    """The result of an ACTION on the meter: Push Setup's push (method 1, whose
    parameter is integer(0)) sends one push once the answer is on its way;
    every other method of the meter's objects is denied; a method of an object
    the meter does not have is object-undefined, or object-class-inconsistent
    when the logical name is another class's (as a GET of it is)."""
    missing = meter.model.missing(class_id, obis)
    if missing is not None:
        return ActionResult(int(missing))  # the two tables share these codes
    if (class_id, obis, method) != (40, PUSH_SETUP, PUSH_METHOD):
        return ActionResult.READ_WRITE_DENIED
    # null-data stands for no parameters where a list must carry one per method
    if parameters is not None and parameters.type is not DataType.NULL_DATA and not (
            parameters.type is DataType.INTEGER and parameters.value == 0):
        return ActionResult.TYPE_UNMATCHED
    pusher = meter.pusher
    if pusher is None:
        return ActionResult.TEMPORARY_FAILURE
    # after the action-response: that answer is ciphered first, with the lower IC
    asyncio.get_running_loop().call_soon(pusher.push, meter)
    return ActionResult.SUCCESS


__all__ = ["PUSH_CLIENT_SAP", "Pusher", "destination_address", "expected_push", "invoke_method",
           "push_apdu", "push_spread", "write_push_keys",
           "push_body", "push_destination", "push_frame"]
