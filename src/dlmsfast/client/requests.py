"""Every client request, written once: :class:`AsyncClient`.

The blocking :class:`~dlmsfast.client.blocking.Client` runs these same
coroutines; nothing here is repeated there. A request is one exchange::

    session.get(...) -> APDU -> connection -> meter
    meter -> APDU -> session.receive_apdu() -> [NeedToSend (sent at once) ..., result]

The sans-IO :class:`~dlmsfast.session.client.ClientSession` does the protocol
(AARQ/AARE, HLS pass 3/4, ciphering, block transfer, with-list batches); the
:class:`~dlmsfast.transport.connection.Connection` moves the octets with
deadlines. This module turns readings into Python values and keeps the
association's promises: ``close()`` always releases (RLRQ) and closes, and an
error that leaves the connection unusable closes it before it is raised.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as _dt
import time
from typing import Any, Callable, Iterable, Optional, Sequence

from .._util import reworded, shown
from ..apdu import AcseServiceUser
from ..axdr import Data, DataType, DateTime
from ..cosem.obis import Obis
from ..cosem.units import ScalerUnit
from ..errors import (
    AssociationRejected,
    AuthenticationError,
    ConfigurationError,
    DataAccessError,
    DlmsError,
    LocalProtocolError,
    ProtocolError,
    TagError,
    UsageError,
)
from ..errors import TimeoutError as DlmsTimeout
from ..security import SecurityContext
from ..security.mechanism import MechanismName
from ..session import State
from ..session import events as ev
from ..session.client import ClientSession
from ..session.errors import ObjectUndefined
from ..session.settings import AssociationSettings
from ..cosem import interface_class, make_object
from ..cosem.access import SN_OBJECT_LIST, object_list_type
from ..cosem.interface import scaler_unit_attribute
from ..cosem.descriptors import (
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    SelectiveAccessDescriptor,
)
from ..transport.connection import METER_SILENT, Connection, Trace
from ..transport.dial import connection_for
from ..hdlc import HdlcParameters, check_max_info_field_length
from .values import (
    CLOCK_CLASS,
    PROFILE_GENERIC_CLASS,
    Profile,
    Reading,
    Target,
    attribute_value,
    buffer_rows,
    keep_scalers,
    missing_scalers,
    now_utc,
    parse_target,
    plain_value,
    scaler_holder,
    scaler_unit_of,
)

ASSOCIATION_LN = Obis(0, 0, 40, 0, 0, 255)
# Attributes that grow with the meter's history or configuration: read_many asks
# each alone (get-request-normal, in blocks as long as it takes), never inside a
# with-list request, whose answer would then need blocks too. That form is the
# least served: gurux-dlms's server sends its first block as C4 03 without the
# DataBlock-G result tag and answers get-request-next with an empty APDU.
_LONG_ATTRIBUTES = frozenset({(7, 2), (12, 2), (15, 2)})  # buffer, object_list (SN, LN)
ASSOCIATION_SN = Obis(0, 0, 40, 0, 0, 255)
ASSOCIATION_SN_BASE = 0xFA00  # Association SN's own base name (Blue Book)
CLOCK = Obis(0, 0, 1, 0, 0, 255)
INVOCATION_COUNTER_OBJECT = "0.0.43.1.0.255"
DEFAULT_SYSTEM_TITLE = b"DLMSFAST"
PUBLIC_CLIENT = 16
# exception-response service-error deciphering-error: the meter's tag check failed
_DECIPHERING_ERROR = b"\x05"

SESSION_COUNTER_MARGIN = 0x10000
"""Invocation counters a session may need: a counter within this many of the last
(0xFFFFFFFF) is refused before anything is sent, as an exhausted one. Every
ciphered APDU we send takes one (the AARQ, each request, each block asked for of
a long answer, the RLRQ): a year of a 15-minute load profile, in blocks of one
row at worst, stays well within 65536. A meter never takes a counter back, so a
session cut short by the end of the range leaves keys that can do nothing; and
a counter this close to the end has at most some thousand sessions left: the
keys must be renewed now rather than in the middle of a reading."""
LAST_USABLE_COUNTER = 0xFFFFFFFF - SESSION_COUNTER_MARGIN

MAX_KEPT_NOTIFICATIONS = 1000
"""Notifications the meter pushed on the association are kept, the latest this
many (``AsyncClient.notifications``): a meter that floods them must not make the
client hold any amount of memory."""

_REFUSED_CIPHERING = frozenset({AcseServiceUser.NO_REASON_GIVEN,
                                AcseServiceUser.AUTHENTICATION_FAILURE})

REPLAY_HINT = ("give a higher one, or let the public client read the meter's first "
               "(invocation_counter='meter', --invocation-counter meter)")
"""What a refused ciphered AARQ's message advises about the counter, after
saying the meter may have seen it already: a caller that knows where its
counter came from (the bulk reader) says that in its place, not twice."""


class _Exhausted(Exception):
    """The meter's counter leaves no room: said as it is, not as a failed pre-read."""


_SECURITY_NAMES = {0x10: "auth", 0x20: "enc", 0x30: "authenc"}


def _counter_exhausted(what: str) -> str:
    return (f"{what} leaves no room for a session (the last usable is "
            f"{LAST_USABLE_COUNTER}: {SESSION_COUNTER_MARGIN} below 4294967295): the invocation "
            "counter is exhausted, the keys must be renewed (a new ek, then counters from 0)")


def _refusal_hint(settings: AssociationSettings, error: DlmsError,
                  pre_read: bool) -> Optional[str]:
    """What to check when the meter refused our association: which keys, titles
    or counter, by name only (never a key's value); None when there is nothing to add."""
    mechanism = settings.authentication
    if isinstance(error, AssociationRejected):
        diagnostic = error.diagnostic
        if settings.security and diagnostic in _REFUSED_CIPHERING:
            # the AARE's confirmed-service-error, named in the message by the Green
            # Book's value name (application-reference deciphering-error)
            if "deciphering-error" in str(error):
                return ("the meter could not decipher or authenticate our AARQ: check ek, ak "
                        "and our system title")
            password = " and the LLS password" if mechanism == MechanismName.LOW_LEVEL_SECURITY \
                else ""
            counter = ("" if pre_read else
                       "; if they are right, the meter may have seen this invocation counter "
                       f"already (a replay): {REPLAY_HINT}")
            if diagnostic == AcseServiceUser.NO_REASON_GIVEN:
                # our simulator and the Gurux meter both refuse a security level
                # other than their policy's so, and many meters wrong keys too
                ours = _SECURITY_NAMES.get(settings.security, f"0x{settings.security:02X}")
                return ("the meter refused our ciphered AARQ without saying why: check the "
                        f"security level first (ours: {ours}; security=..., --security: the "
                        "meter may require another, e.g. authenc), then ek, ak, our system "
                        f"title{password}{counter}")
            return f"the ciphered AARQ was refused: check ek, ak, our system title{password}{counter}"
        if diagnostic == AcseServiceUser.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED:
            # the context name says LN or SN, ciphered or not: one of the two is wrong
            other = "ln" if not settings.logical_name_referencing else "sn"
            if settings.security:
                return ("the meter may not accept ciphering from this client (try "
                        f"--security none), or it uses the other referencing (--referencing {other})")
            return ("the meter may require ciphering: give a security level (security=..., "
                    "--security auth|enc|authenc) with its keys (ek, ak), or it uses the other "
                    f"referencing (--referencing {other})")
        if diagnostic == AcseServiceUser.AUTHENTICATION_FAILURE and \
                mechanism == MechanismName.LOW_LEVEL_SECURITY:
            return "check the LLS password"
        return None
    if not isinstance(error, AuthenticationError):
        return None
    # HLS pass 3 (the meter checks our f(StoC)) or pass 4 (we check its f(CtoS))
    if mechanism == MechanismName.HLS_GMAC:
        return ("HLS-GMAC answers are GMACs under ek and ak over the system titles: check ek, "
                "ak, our system title and the meter's")
    if mechanism == MechanismName.HLS_SHA256:
        return "check the HLS secret (password) and the system titles, ours and the meter's"
    if mechanism in (MechanismName.HLS_MD5, MechanismName.HLS_SHA1):
        return "check the HLS secret (password)"
    return None


def secret_argument(value: Any, what: str) -> Optional[bytes]:
    """Keys and passwords from the caller: bytes, or text (``hex:...`` or plain hex
    for keys; ``hex:...`` or ASCII for passwords). Never echoed in errors."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if not isinstance(value, str):
        raise UsageError(f"{what} must be bytes or str, got {type(value).__name__}")
    text = value.strip()
    is_key = what != "password"
    if text.lower().startswith("hex:") or is_key:
        digits = text[4:] if text.lower().startswith("hex:") else text
        digits = digits.replace(" ", "").replace(":", "")
        try:
            return bytes.fromhex(digits)
        except ValueError:
            raise UsageError(f"{what} is not hexadecimal") from None
    return text.encode()


_DESCRIBED_LIMIT = 256
_described: dict[tuple, tuple] = {}


def _described_items(items: Sequence[tuple]) -> tuple:
    """(class_id, obis, attribute) items as with-list entries. A reader asks
    every meter for the same attributes, so each distinct list is described
    (and its arguments checked) once; only int classes and attributes and Obis
    instances are kept, for which an equal key means the same descriptors
    (True == 1 would not)."""
    key = tuple(items)
    entries = _described.get(key)
    if entries is None:
        entries = tuple(CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(c, o, a))
                        for c, o, a in key)
        if all(type(c) is int and type(o) is Obis and type(a) is int for c, o, a in key):
            if len(_described) >= _DESCRIBED_LIMIT:
                _described.clear()
            _described[key] = entries
    return entries


_SETTINGS_WORDS = (
    ("give security_context, or system_title, block_cipher_key and authentication_key",
     "give ek and ak (and system_title, ours, when not DLMSFAST), or security_context"),
    ("block_cipher_key", "ek"),
    ("authentication_key", "ak"),
)


def _in_client_words(message: str, security: Any, auth: Any) -> str:
    """A settings error as the Client's options name things (``ek``, ``ak``,
    ``system_title``), with the options that asked for keys."""
    if "needs keys" in message:
        message = f"security={shown(security)} with auth={shown(auth)} needs keys: " + \
            message.split(": ", 1)[1]
    for settings_name, option in _SETTINGS_WORDS:
        message = message.replace(settings_name, option)
    return message


def _check_key(key: Optional[bytes], what: str) -> None:
    if key is not None and len(key) not in (16, 32):
        raise ConfigurationError(f"{what} must be 16 octets (or 32 for suite 2), got {len(key)}")


class AsyncClient:
    """An association with one meter, for asyncio code.

    Options are those of ``dlmsfast read`` in snake_case::

        async with AsyncClient("tcp://127.0.0.1:4061", client=1, auth="hls-gmac",
                               security="authenc", ek=EK, ak=AK) as meter:
            energy = await meter.read("1.0.1.8.0.255")
            print(energy.scaled, energy.unit.symbol)

    - ``url``: ``tcp://host:port``, ``udp://host:port``, ``serial:///dev/ttyUSB0?baud=9600``
      (``&mode-e=1`` for an optical head).
    - ``framing``: ``wrapper`` (default over TCP/UDP) or ``hdlc`` (default on serial).
    - ``client`` (SAP, 16 public), ``server`` (logical address, 1), ``server_physical`` (HDLC).
    - ``auth``: ``none``, ``lls``, ``hls-md5``, ``hls-sha1``, ``hls-gmac``, ``hls-sha256``;
      ``password`` (str, or ``hex:...``, or bytes).
    - ``security``: ``none``, ``auth``, ``enc``, ``authenc``; ``ek``, ``ak`` (bytes or hex);
      ``system_title`` (ours, 8 octets; default ``DLMSFAST``); ``ciphering``:
      ``auto`` (general-glo where the meter offers it), ``glo``, ``general-glo``, ``ded``...
    - ``invocation_counter``: the first one to use, or ``"meter"``: read it first
      through the public client from ``0.0.43.1.0.255`` (IDIS) and use the next
      (with ``security_context``: that context's counter is moved up to it,
      never down).
    - ``timeout``: seconds per request, each block asked for (GET-next...)
      getting it anew; over HDLC, an answer whose segments keep coming (or our
      long request whose next window the meter keeps asking for) has it
      extended by another ``timeout`` at most 8 times per APDU
      (``transport.hdlc.MAX_EXTENSIONS``), so never more than 9 ``timeout``
      per APDU; notifications, UI frames and other addresses' frames never
      extend it. ``connect_timeout`` (seconds to open the
      connection; default the ``timeout``), ``max_pdu`` (our max receive PDU size),
      ``hdlc_max_info`` / ``hdlc_window`` (proposed in SNRM; the window 1..7),
      ``trace(direction, frame)``; a trace that also has a method
      ``plaintext(direction, apdu)`` gets each ciphered APDU's plaintext too
      (``"out"`` before it is ciphered, ``"in"`` once deciphered).
    - ``security_context``: a :class:`~dlmsfast.security.SecurityContext` to cipher
      with instead of one made from ``ek``/``ak``/``system_title`` (the bulk
      reader's, whose invocation counter is persisted through its write-ahead
      hook ``on_invocation_counter``).
    - ``referencing``: ``ln`` (logical names, the default) or ``sn``: short names
      for Association SN meters; objects are still named by OBIS, their base
      names come from the object list (attribute i = base name + 8(i-1)).

    One request at a time: concurrent tasks take turns. The client serves the
    event loop that opened it (a request from another loop is a UsageError:
    open a client in each ``asyncio.run()``). A request cancelled
    (``asyncio.timeout``, ``task.cancel()``) or interrupted (KeyboardInterrupt)
    while its answer is awaited gives the association up as a timeout does (the
    connection is closed, the next request says to open again), then the
    cancellation goes on; an answer is only ever taken by the request whose
    invoke id it carries.

    What the meter pushes on the association lands in ``notifications`` (the
    latest :data:`MAX_KEPT_NOTIFICATIONS`); a push never extends a request's
    timeout. An answer in blocks is bounded too (``session._core.MAX_BLOCKS``,
    ``MAX_REASSEMBLED_LENGTH``): a meter that never sends the last block is a
    ProtocolError, not an endless read.
    """

    def __init__(
        self,
        url: str,
        *,
        framing: Optional[str] = None,
        client: int = PUBLIC_CLIENT,
        server: int = 1,
        server_physical: Optional[int] = None,
        auth: str = "none",
        password: Any = None,
        security: str = "none",
        ek: Any = None,
        ak: Any = None,
        system_title: Any = None,
        timeout: float = 10.0,
        connect_timeout: Optional[float] = None,
        invocation_counter: int | str = 0,
        counter_object: str = INVOCATION_COUNTER_OBJECT,
        max_pdu: int = 0xFFFF,
        ciphering: str = "auto",
        hdlc_max_info: Optional[int] = None,
        hdlc_window: Optional[int] = None,
        trace: Optional[Trace] = None,
        challenge: Optional[bytes] = None,
        referencing: str = "ln",
        security_context: Optional[SecurityContext] = None,
    ) -> None:
        self.url = url
        self.framing = framing
        self.client = client
        self.server = server
        self.server_physical = server_physical
        self.timeout = timeout
        if connect_timeout is not None and (
                type(connect_timeout) not in (int, float) or not connect_timeout > 0):
            raise UsageError(f"connect_timeout is seconds > 0, got {shown(connect_timeout)}")
        self.connect_timeout = connect_timeout
        self.trace = trace
        self.counter_object = counter_object
        ek = secret_argument(ek, "ek")
        ak = secret_argument(ak, "ak")
        _check_key(ek, "ek")
        _check_key(ak, "ak")
        title = secret_argument(system_title, "system_title")
        if title is not None and len(title) != 8:
            raise ConfigurationError(f"system_title must be 8 octets, got {len(title)}")
        if invocation_counter != "meter" and (
                type(invocation_counter) is not int or not 0 <= invocation_counter <= 0xFFFFFFFF):
            raise UsageError("invocation_counter must be 0..4294967295 or 'meter'")
        if type(invocation_counter) is int and invocation_counter > LAST_USABLE_COUNTER:
            raise UsageError(_counter_exhausted(
                f"invocation_counter (--invocation-counter) {invocation_counter}"))
        self._pre_read_counter = invocation_counter == "meter"
        if referencing not in ("ln", "sn"):
            raise UsageError(f"referencing is 'ln' (logical names) or 'sn' (short names), "
                             f"got {shown(referencing)}")
        self._sn = referencing == "sn"
        self._base_names: Optional[dict[Obis, int]] = None
        # settings are checked now, so that a missing key is a ConfigurationError
        # before anything is sent; the secrets live in them only (their repr
        # hides them), not in a plain dict of this object's
        try:
            self._settings = AssociationSettings(
                authentication=auth, password=secret_argument(password, "password"),
                security=security, system_title=title or DEFAULT_SYSTEM_TITLE,
                block_cipher_key=ek, authentication_key=ak,
                invocation_counter=0 if self._pre_read_counter else invocation_counter,
                ciphering=ciphering, client_max_receive_pdu_size=max_pdu, challenge=challenge,
                logical_name_referencing=not self._sn, security_context=security_context)
            self._settings.make_context()
        except ConfigurationError as exc:
            raise reworded(exc, _in_client_words(str(exc), security, auth)) from None
        self._hdlc_parameters = None
        if hdlc_window is not None and (type(hdlc_window) is not int
                                        or not 1 <= hdlc_window <= 7):
            raise UsageError(f"hdlc_window is 1..7 (frames per window), got {shown(hdlc_window)}")
        if hdlc_max_info is not None:
            check_max_info_field_length(hdlc_max_info, "hdlc_max_info (--hdlc-max-info)")
        if hdlc_max_info is not None or hdlc_window is not None:
            info = hdlc_max_info or 128
            window = hdlc_window or 1
            self._hdlc_parameters = HdlcParameters(
                max_info_field_length_transmit=info, max_info_field_length_receive=info,
                window_size_transmit=window, window_size_receive=window)
        self._conn: Optional[Connection] = None
        # set by the blocking Client over TCP: blocking sockets, and the coroutines
        # below run to completion without suspending (no event loop)
        self._blocking_io = False
        self._lock = asyncio.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._broken: Optional[str] = None
        self._session: Optional[ClientSession] = None
        self.association: Optional[ev.Associated] = None
        self._classes: Optional[dict[Obis, int]] = None
        self._scalers: dict[Obis, ScalerUnit] = {}
        self.notifications: collections.deque = collections.deque(maxlen=MAX_KEPT_NOTIFICATIONS)

    # -- the exchange every request goes through --------------------------------

    async def _exchange(self, request: Callable[[ClientSession], bytes], what: str,
                        timeout: Optional[float] = None):
        """Send ``request(session)``; send what the session asks for by itself; return
        the result event. Errors other than one object's close the connection."""
        conn = self._conn
        session = self._session
        if self._broken is not None:
            raise LocalProtocolError(
                f"the association was {self._broken}: open it again "
                "(close(), then open(); or a new 'with' block)")
        if conn is None or session is None:
            raise LocalProtocolError("the client is not open: use 'with' or open() first")
        self._check_loop()
        async with self._lock:  # one exchange at a time: answers come back in order
            return await self._exchange_now(conn, session, request, what, timeout)

    async def _exchange_now(self, conn, session, request, what, timeout):
        data = b""
        seconds = conn.timeout if timeout is None else timeout
        try:
            if self._broken is not None:  # while waiting for the lock
                raise LocalProtocolError(f"the association was {self._broken}")
            conn.send(request(session))
            awaited = session.last_invoke_id
            deadline = time.monotonic() + seconds
            while True:
                # Notifications do not answer: the deadline stays that of the
                # request (or of the last block asked for), else a meter pushing
                # one a second would keep the request waiting forever.
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DlmsTimeout(f"{conn.peer} did not answer {what} within {seconds:g} s: "
                                      "it sent only notifications meanwhile")
                data = await conn.receive(seconds if left >= seconds else round(left, 3) or 0.001,
                                          what)
                result = None
                for event in session.receive_apdu(data):
                    kind = type(event)
                    if kind is ev.NeedToSend:
                        conn.send(event.apdu)
                        deadline = time.monotonic() + seconds
                    elif kind is ev.DataNotificationReceived or kind is ev.EventNotificationReceived:
                        self.notifications.append(event)
                    else:
                        result = event
                if result is not None:
                    answered = getattr(result, "invoke_id", awaited)
                    if answered != awaited:
                        raise ProtocolError(f"{conn.peer} answered invoke id {answered} while "
                                            f"{what} (invoke id {awaited}) was awaited")
                    return result
        except DataAccessError:
            raise  # one object failed; the association goes on
        except DlmsError as exc:
            # a transport failure, bad protection or a protocol fault: the
            # association cannot be trusted any more
            self._abort(f"closed after an earlier error ({type(exc).__name__}: {exc})")
            if data[:1] == b"\xd8" and data[2:3] == _DECIPHERING_ERROR:
                raise TagError(
                    f"the meter could not decipher or authenticate our request ({exc}): "
                    "wrong ek/ak or system title?") from None
            if isinstance(exc, TagError):
                # the meter's answer failed our check: its keys and title, as we hold them
                raise reworded(exc, (
                    f"the meter's answer to {what}: {exc}: check ak, ek and the meter's "
                    "system title (as its AARE gave it), or a line corrupting octets")) from None
            raise
        except BaseException as exc:
            # cancelled (asyncio.timeout, task.cancel()) or interrupted (Ctrl-C)
            # while the answer was awaited: it may still come, and would then be
            # taken as the answer to the next request. As after a timeout, the
            # association is given up.
            cause = type(exc).__name__
            if isinstance(exc, asyncio.CancelledError) and exc.args:
                cause = str(exc.args[0])  # the blocking Client's: what interrupted it
            self._abort(f"closed when {what} was interrupted ({cause})")
            raise

    def _abort(self, why: str) -> None:
        """Give the association up at once (the connection closed); ``why``
        completes "the association was ..." in the next request's error."""
        self._broken = why
        if self._session is not None:
            try:
                self._session.abort()
            except DlmsError:
                pass
        if self._conn is not None:
            self._conn.abort()

    def _check_loop(self) -> None:
        """An AsyncClient serves the event loop that opened it (its connection
        lives there); the blocking Client's TCP runs with no loop."""
        if self._blocking_io:
            return
        loop = asyncio.get_running_loop()
        if self._loop is not None and loop is not self._loop and self._conn is not None \
                and self.association is not None:
            raise UsageError(
                "this AsyncClient was opened in another event loop: it serves the loop that "
                "opened it (each asyncio.run() makes a new loop); open a client in this loop")

    def _used_counter(self) -> int:
        """The next invocation counter after this object's last association (0 before one)."""
        context = None if self._session is None else self._session.security_context
        return 0 if context is None else context.invocation_counter

    # -- opening and closing ----------------------------------------------------------

    async def open(self) -> "AsyncClient":
        """Connect and associate (HLS pass 3/4 included)."""
        if self.association is not None:
            raise LocalProtocolError("this client is open already: close() it first")
        self._check_loop()
        context = self._settings.security_context
        # this object's earlier association used counters up to the next one
        # its context would send: a new one goes on from there (the meter has
        # seen those, and refuses them as replays). A caller's context goes on
        # by itself.
        counter = self._used_counter()
        if self._pre_read_counter:
            try:
                counter = max(counter, await self._read_invocation_counter())
            except _Exhausted as exc:
                raise ConfigurationError(str(exc)) from None
            except DlmsError as exc:
                raise reworded(exc, (
                    f"reading the invocation counter {self.counter_object} through the public "
                    f"client {PUBLIC_CLIENT} first (invocation counter 'meter') failed: {exc}; "
                    "if this meter does not let the public client read it, give the counter "
                    "itself (invocation_counter=N, --invocation-counter N)")) from None
        if context is None:
            if counter > self._settings.invocation_counter:
                self._settings = dataclasses.replace(self._settings, invocation_counter=counter)
        elif counter > context.invocation_counter:
            # the caller's context (the bulk reader's, whose hook persists
            # each IC before use): moved forward only, never back
            context.invocation_counter = counter
        self._conn = connection_for(
            self.url, framing=self.framing, client=self.client, server=self.server,
            server_physical=self.server_physical, timeout=self.timeout,
            connect_timeout=self.connect_timeout, trace=self.trace,
            hdlc_parameters=self._hdlc_parameters, blocking=self._blocking_io)
        if not self._blocking_io:
            # a new loop (a later asyncio.run()) gets a lock of its own
            self._loop = asyncio.get_running_loop()
            self._lock = asyncio.Lock()
        try:
            await self._conn.open()
        except DlmsTimeout as exc:
            raise self._with_framing_hint(exc) from None
        self._session = ClientSession(self._settings)
        self._session.on_plaintext = getattr(self.trace, "plaintext", None)
        self._broken = None
        try:
            self.association = await self._exchange(ClientSession.associate,
                                                     "the association request (AARQ)")
        except DlmsTimeout as exc:
            await self._conn.close()
            exc = self._with_framing_hint(exc)
            if not self._settings.security:
                raise exc from None
            # a meter that cannot decipher the AARQ's InitiateRequest often says nothing
            raise DlmsTimeout(f"{exc} The AARQ was ciphered: wrong keys or a wrong "
                              "system title also leave meters silent") from None
        except DlmsError as exc:
            await self._conn.close()
            hint = _refusal_hint(self._settings, exc, self._pre_read_counter)
            if hint is not None:
                raise reworded(exc, f"{exc}: {hint}") from None
            raise
        except BaseException:
            await self._conn.close()
            raise
        return self

    def _with_framing_hint(self, error: DlmsTimeout) -> DlmsTimeout:
        """A meter that never answered (no octets at all) may speak the other
        framing: an HDLC meter ignores wrapper frames, a wrapper meter an SNRM.
        Over serial lines meters speak HDLC only: no hint there."""
        conn = self._conn
        if conn is None or METER_SILENT not in str(error) or \
                not self.url.lower().startswith("tcp:"):
            return error
        other, words = ("wrapper", "the wrapper") if conn.framing.name == "hdlc" \
            else ("hdlc", "HDLC")
        return reworded(error, f"{error} Or the meter frames with {words} on this port: try "
                               f"framing {other} (--framing {other})")

    async def _read_invocation_counter(self) -> int:
        """IDIS: the public client reads the counter the meter expects; ours starts after it."""
        public = AsyncClient(self.url, framing=self.framing, client=PUBLIC_CLIENT,
                             server=self.server, server_physical=self.server_physical,
                             timeout=self.timeout, connect_timeout=self.connect_timeout,
                             trace=self.trace, referencing="sn" if self._sn else "ln")
        public._blocking_io = self._blocking_io
        async with public:
            reading = await public.read(self.counter_object, class_id=1)
        if type(reading.value) is not int or not 0 <= reading.value <= 0xFFFFFFFF:
            raise DataAccessError(
                f"invocation counter {self.counter_object} holds {reading.value!r}, "
                "not a 32-bit counter")
        if reading.value >= LAST_USABLE_COUNTER:
            # the next counter is past the last usable one: no AARQ is sent with it
            raise _Exhausted(_counter_exhausted(
                f"the meter's invocation counter {self.counter_object} holds {reading.value}, "
                "which"))
        return reading.value + 1

    async def close(self) -> None:
        """Release the association (RLRQ), then close the link; never raises for a
        meter that has gone already."""
        conn, session = self._conn, self._session
        if conn is None:
            return
        if not self._blocking_io and self._loop is not None and \
                asyncio.get_running_loop() is not self._loop:
            # opened in another event loop (gone, or busy elsewhere): its
            # connection cannot be waited on from here, only dropped
            try:
                conn.abort()
            except RuntimeError:
                pass  # that loop is closed: its socket goes with its transport
            self.association = None
            return
        try:
            if session is not None and self.association is not None and \
                    session.state is State.ASSOCIATED:
                try:
                    await self._exchange(ClientSession.release, "the release request (RLRQ)",
                                         min(self.timeout, 2.0))
                except DlmsError:
                    pass
        finally:
            await conn.close(min(self.timeout, 2.0))
            self.association = None

    async def __aenter__(self) -> "AsyncClient":
        return await self.open()

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    @property
    def max_pdu_size(self) -> int:
        """The negotiated PDU size (what the meter accepts from us)."""
        return self._session.max_pdu_size if self._session is not None else 0

    # -- classes of objects -------------------------------------------------------

    async def _class_of(self, target: Target) -> int:
        if target.class_id is not None:
            return target.class_id
        if target.obis == ASSOCIATION_LN and not self._sn:
            return 15
        if self._classes is None:
            await self.object_list()
        class_id = self._classes.get(target.obis)
        if class_id is None:
            from ..session.errors import ObjectUndefined

            raise ObjectUndefined(f"{target.obis} is not in the meter's object list "
                                  "(check the OBIS code, or give its class)")
        return class_id

    async def _resolve(self, obj: Any) -> Target:
        target = parse_target(obj)
        return Target(await self._class_of(target), target.obis, target.attribute)

    # -- reading ------------------------------------------------------------------------

    async def get(self, class_id: int, obis: Any, attribute: int,
                  selection: Optional[SelectiveAccessDescriptor] = None, *,
                  plain: bool = False) -> Any:
        """One attribute as the meter sent it (a typed :class:`~dlmsfast.axdr.Data`;
        ``plain``: as :meth:`Data.to_plain` gives it, decoded without the typed
        tree where the answer came in blocks)."""
        if self._sn:
            (value,) = await self._read_short_names([(class_id, obis, attribute, selection)])
            if isinstance(value, DlmsError):
                raise value
            return value.to_plain() if plain else value
        (entry,) = _described_items(((class_id, obis, attribute),))
        descriptor = entry.cosem_attribute_descriptor
        result = await self._exchange(lambda s: s.get(descriptor, selection, plain=plain),
                                      f"get {class_id}/{descriptor.instance_id}/{attribute}")
        return result.value

    async def _short_name(self, obis: Any, member: int) -> int:
        obis = obis if isinstance(obis, Obis) else Obis.parse(obis)
        if obis == ASSOCIATION_SN:
            return ASSOCIATION_SN_BASE + 8 * (member - 1)
        if self._base_names is None:
            await self.object_list()
        base = self._base_names.get(obis)
        if base is None:
            from ..session.errors import ObjectUndefined

            raise ObjectUndefined(f"{obis} is not in the meter's short-name object list")
        return base + 8 * (member - 1)

    async def _read_short_names(self, items: Sequence[tuple]) -> list:
        """SN ReadRequest of (class_id, obis, attribute, selection) items; a Data
        or error each."""
        names, parameters = [], []
        for class_id, obis, attribute, selection in items:
            _check_sn_attribute(class_id, obis, attribute)
            names.append(await self._short_name(obis, attribute))
            parameters.append(None if selection is None else
                              (selection.access_selector, selection.access_parameters))
        what = "read of short name(s) " + ", ".join(f"0x{n:04X}" for n in names)
        result = await self._exchange(
            lambda s: s.read(names, parameters if any(parameters) else None), what)
        return list(result.values)

    async def get_many(self, items: Sequence[tuple]) -> list:
        """Several attributes, (class_id, obis, attribute) each, with-list in as few
        requests as the PDU size allows; each result a Data or a DataAccessError."""
        entries = _described_items(items)
        if not entries:
            return []
        descriptors = [e.cosem_attribute_descriptor for e in entries]
        if self._sn:
            return await self._read_short_names([(d.class_id, d.instance_id, d.attribute_id,
                                                  None) for d in descriptors])
        session = self._session
        if len(descriptors) == 1 or not (session.conformance
                                         & session.conformance.MULTIPLE_REFERENCES):
            results: list = []
            for d in descriptors:
                try:
                    results.append(await self.get(d.class_id, d.instance_id, d.attribute_id))
                except DataAccessError as exc:
                    results.append(exc)
            return results
        result = await self._exchange(lambda s: s.get_with_list(entries),
                                      f"get-with-list of {len(entries)} attributes")
        return list(result.values)

    async def read(self, obj: Any, attribute: Optional[int] = None, *,
                   class_id: Optional[int] = None) -> Reading:
        """Read ``"OBIS"`` (attribute 2) or ``"OBIS:ATTR"``; a register's value comes
        with its scaler_unit. The class comes from the object list unless given."""
        reading = (await self.read_many([parse_target(obj, attribute, class_id)]))[0]
        if isinstance(reading, DlmsError):
            raise reading
        return reading

    async def read_many(self, objects: Iterable[Any]) -> list:
        """Read several objects at once (with-list, batched to the PDU size); one
        :class:`Reading` or DlmsError per object, in order (an object the meter
        does not have, or whose answer does not read, fails alone). A scaled
        value comes with its scaler_unit, a profile's buffer as a :class:`Profile`
        whose value is unscaled (its capture_objects read in the with-list, the
        buffer and an object_list alone, in blocks; :meth:`read_profile` scales
        and selects)."""
        targets: list = []
        for obj in objects:
            target = parse_target(obj)
            try:
                targets.append(target if target.class_id is not None else
                               Target(await self._class_of(target), target.obis,
                                      target.attribute))
            except DataAccessError as exc:
                targets.append(exc)
        items: list[tuple] = []
        # what else each target needs, decided once: the answers are consumed
        # in the same order
        companions = [self._companion(t) if isinstance(t, Target) else None for t in targets]
        alone: dict[int, Any] = {}
        for number, (t, companion) in enumerate(zip(targets, companions)):
            if isinstance(t, Target):
                if (t.class_id, t.attribute) in _LONG_ATTRIBUTES:
                    alone[number] = t
                else:
                    items.append((t.class_id, t.obis, t.attribute))
                if companion is not None:
                    items.append((companion.class_id, companion.obis, companion.attribute))
        results = await self.get_many(items)
        for number, t in alone.items():
            try:
                alone[number] = await self.get(t.class_id, t.obis, t.attribute)
            except DataAccessError as exc:
                alone[number] = exc
        readings: list = []
        pos = 0
        for number, (t, companion) in enumerate(zip(targets, companions)):
            if not isinstance(t, Target):
                readings.append(t)
                continue
            if number in alone:
                value = alone[number]
            else:
                value = results[pos]
                pos += 1
            extra = None
            if companion is not None:
                extra = results[pos]
                pos += 1
            try:
                readings.append(self._reading(t, value, companion, extra))
            except DlmsError as exc:
                # what the meter sent for this object does not read (a malformed
                # scaler_unit): this object's result, the others stand
                readings.append(exc)
        return readings

    def _companion(self, target: Target) -> Optional[Target]:
        """The attribute read beside ``target`` to make sense of it: the
        scaler_unit of a scaled value (until known), the capture_objects of a
        profile's buffer."""
        if target.class_id == PROFILE_GENERIC_CLASS and target.attribute == 2:
            return Target(PROFILE_GENERIC_CLASS, target.obis, 3)
        if target.obis in self._scalers:
            return None
        return scaler_holder(target)

    def _reading(self, target: Target, value: Any, companion: Optional[Target], extra: Any):
        if isinstance(value, DlmsError):
            return value
        if target.class_id == PROFILE_GENERIC_CLASS and target.attribute == 2:
            return Reading(target.obis, target.attribute, target.class_id,
                           buffer_rows(target, value, extra), value)
        plain = attribute_value(target, value)
        if scaler_unit_attribute(target.class_id, target.attribute) is None:
            return Reading(target.obis, target.attribute, target.class_id, plain, value)
        if companion is not None and isinstance(extra, Data):
            self._scalers[target.obis] = scaler_unit_of(companion, extra)
        su = self._scalers.get(target.obis)
        if su is None:
            return Reading(target.obis, target.attribute, target.class_id, plain, value)
        return Reading(target.obis, target.attribute, target.class_id, plain, value,
                       su.scaler, su.unit, su.scale(plain))

    # -- profiles -------------------------------------------------------------------------

    async def read_profile(self, obis: Any, start: Optional[_dt.datetime] = None,
                           end: Optional[_dt.datetime] = None, *,
                           from_entry: Optional[int] = None, to_entry: Optional[int] = None,
                           scale: bool = True) -> Profile:
        """A Profile Generic buffer: whole, by time range (``start``/``end``, both
        inclusive, on the clock column; one end may be None) or by entry
        (``from_entry``/``to_entry``, 1-based, 0 = the newest). Rows come with
        named columns, timestamps and (``scale``) scaled register columns."""
        profile = make_object(PROFILE_GENERIC_CLASS, obis)
        if self._sn and self._classes is None:
            await self.object_list()  # short names need it for the base names anyway
        self._refuse_other_class(profile.logical_name)
        try:
            captures = await self.get(PROFILE_GENERIC_CLASS, profile.logical_name, 3)
        except ObjectUndefined:
            # the meter has no Profile Generic by that name; whether the object
            # is of another class only the object list says (read on this
            # failing path only, once per association)
            if self._classes is None:
                try:
                    await self.object_list()
                except DlmsError:
                    pass
                else:
                    self._refuse_other_class(profile.logical_name)
            raise
        profile.decode_attribute(3, captures)
        selection = None
        if start is not None or end is not None:
            if from_entry is not None or to_entry is not None:
                raise UsageError("read a profile by range or by entry, not both")
            selection = profile.range_access(_bound(start, low=True), _bound(end, low=False))
        elif from_entry is not None or to_entry is not None:
            selection = profile.entry_access(from_entry or 1, to_entry or 0)
        buffer = await self.get(7, profile.logical_name, 2, selection)
        if scale:
            wanted = missing_scalers(profile.capture_objects, self._scalers)
            if wanted:
                got = await self.get_many([(h.class_id, h.obis, h.attribute) for h in wanted])
                keep_scalers(wanted, got, self._scalers)
        # plain rows (the compiled to_plain walks the tree) are cosem's fast input
        rows = profile.rows(buffer.to_plain(), scalers=self._scalers if scale else None,
                            access=selection)
        return Profile(profile.logical_name, rows.columns, list(rows.rows))

    def _refuse_other_class(self, obis: Obis) -> None:
        """A profile asked of an object the object list (when read) says is of
        another class: say so, rather than the meter's "object undefined"."""
        class_id = None if self._classes is None else self._classes.get(obis)
        if class_id is None or class_id == PROFILE_GENERIC_CLASS:
            return
        known = interface_class(class_id)
        name = "an object" if known is None else \
            ("an " if known.blue_book_name[0] in "AEIOU" else "a ") + known.blue_book_name
        raise ObjectUndefined(f"{obis} is {name} (class {class_id}), not a Profile Generic "
                              f"(class {PROFILE_GENERIC_CLASS})")

    # -- object list, writing, methods, clock ---------------------------------------------

    async def object_list(self) -> list:
        """The objects of the current association (Association LN attribute 2), as
        cosem :class:`~dlmsfast.cosem.access.ObjectListElement` (class, version,
        logical name, access rights); with short names, Association SN's list
        (:class:`~dlmsfast.cosem.access.SnObjectListElement`, with base names)."""
        if self._sn:
            data = await self.get(12, ASSOCIATION_SN, 2)
            elements = list(SN_OBJECT_LIST.decode(data, "Association SN object_list"))
            self._classes = {e.logical_name: e.class_id for e in elements}
            self._base_names = {e.logical_name: e.base_name for e in elements}
            return elements
        data = await self.get(15, ASSOCIATION_LN, 2)
        error: Optional[DlmsError] = None
        # the list's layout depends on Association LN's version, which only the
        # list itself says: the common one first
        for version in (1, 3, 0):
            try:
                elements = list(object_list_type(version).decode(data, "object_list"))
                break
            except DlmsError as exc:
                error = exc
        else:
            raise error  # type: ignore[misc]
        self._classes = {e.logical_name: e.class_id for e in elements}
        return elements

    async def write(self, obj: Any, value: Any, attribute: Optional[int] = None, *,
                    class_id: Optional[int] = None) -> None:
        """Write an attribute. ``value`` is a :class:`~dlmsfast.axdr.Data`, or a plain
        value given the type the attribute has now (read first)."""
        target = await self._resolve(parse_target(obj, attribute, class_id))
        if not isinstance(value, Data):
            current = await self.get(target.class_id, target.obis, target.attribute)
            if current.type in (DataType.STRUCTURE, DataType.ARRAY):
                raise UsageError(f"{target} is a {current.type.blue_book_name}: give a Data")
            if isinstance(value, _dt.datetime):
                value = DateTime.from_datetime(value).to_bytes()
            value = Data(current.type, value)
        if self._sn:
            _check_sn_attribute(target.class_id, target.obis, target.attribute)
            name = await self._short_name(target.obis, target.attribute)
            result = await self._exchange(lambda s: s.write(name, value),
                                          f"write of short name 0x{name:04X}")
            if result.results[0] is not None:
                raise result.results[0]
            return
        descriptor = CosemAttributeDescriptor(target.class_id, target.obis, target.attribute)
        await self._exchange(lambda s: s.set(descriptor, value), f"set {target}")

    async def call(self, obj: Any, method: int, parameters: Any = None, *,
                   class_id: Optional[int] = None, returns: Optional[bool] = None) -> Any:
        """Invoke a method; ``parameters`` a Data, None, or an int (sent as integer).
        Returns what the method returned (plain), or None.

        With short names (``referencing="sn"``) the method is invoked at its
        short name (the object's base name + its class's offset of method 1 + 8
        per method) with the parameters (integer 0 when None: the Blue Book's
        ``data ::= integer(0)`` of methods without data), as the Green Book maps
        ACTION: a method that returns data by a ReadRequest with parameterized
        access (selector 0), whose answer is returned, any other by a
        WriteRequest, which returns nothing. Whether it returns data comes from
        the class's method table (the Blue Book's, e.g. Security Setup's
        export_certificate); ``returns`` says it for a method the tables do not
        know. With logical names ``returns`` changes nothing: the answer says."""
        if parameters is not None and not isinstance(parameters, Data):
            if type(parameters) is not int:
                raise UsageError("method parameters are a Data, None or an int")
            parameters = Data(DataType.INTEGER, parameters)
        if returns is not None and type(returns) is not bool:
            raise UsageError(f"returns is None, True or False, got {shown(returns)}")
        target = await self._resolve(parse_target(obj, 2, class_id))
        if self._sn:
            return await self._call_short_name(target, method, parameters, returns)
        descriptor = CosemMethodDescriptor(target.class_id, target.obis, method)
        result = await self._exchange(lambda s: s.action(descriptor, parameters),
                                      f"action {target.obis} method {method}")
        return None if result.return_value is None else plain_value(result.return_value)

    async def _call_short_name(self, target: Target, method: int,
                               parameters: Optional[Data], returns: Optional[bool]) -> Any:
        base = await self._short_name(target.obis, 1)
        obj = make_object(target.class_id, target.obis)
        name = obj.method_short_name(base, method)
        if returns is None:
            returns = obj.method(method).returns
        value = parameters if parameters is not None else Data(DataType.INTEGER, 0)
        what = f"method {method} of {target.obis} (short name 0x{name:04X})"
        if returns:
            read = await self._exchange(lambda s: s.read(name, ((0, value),)), what)
            (answer,) = read.values
            if isinstance(answer, DlmsError):
                raise answer
            return plain_value(answer)
        result = await self._exchange(lambda s: s.write(name, value), what)
        if result.results[0] is not None:
            raise result.results[0]
        return None

    async def read_clock(self) -> Any:
        """The meter's time (Clock 0.0.1.0.0.255 attribute 2), aware when it says its deviation."""
        return (await self.read(CLOCK, 2, class_id=CLOCK_CLASS)).value

    async def set_clock(self, when: Optional[_dt.datetime] = None) -> None:
        """Set the meter's clock (now, UTC, when not given)."""
        when = when or now_utc()
        octets = DateTime.from_datetime(when).to_bytes()
        await self.write(CLOCK, Data(DataType.OCTET_STRING, octets), 2, class_id=CLOCK_CLASS)


def _check_sn_attribute(class_id: int, obis: Any, attribute: int) -> None:
    """With short names an attribute is base name + 8 (attribute - 1): outside
    its class's attributes that names another object's member (and writes
    it). UsageError then; a class dlmsfast has no table for is taken on trust."""
    known = interface_class(class_id)
    if known is None:
        return
    indexes = sorted({a.index for a in known.attributes})
    if attribute not in indexes:
        raise UsageError(
            f"{obis}: {known.blue_book_name} (class {class_id}) has attributes "
            f"{indexes[0]}..{indexes[-1]}, not {shown(attribute)} (with short names it "
            "would name another object's attribute)")


def _bound(when: Optional[_dt.datetime], low: bool) -> _dt.datetime:
    if when is None:
        # an open end: the earliest or latest instant a date-time can say
        return (_dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) if low
                else _dt.datetime(2199, 12, 31, 23, 59, 59, tzinfo=_dt.timezone.utc))
    if not isinstance(when, _dt.datetime):
        raise UsageError(f"profile range bounds are datetimes, got {type(when).__name__}")
    return when


__all__ = ["AsyncClient", "MAX_KEPT_NOTIFICATIONS", "REPLAY_HINT", "secret_argument"]
