"""The client role of an association: :class:`ClientSession`.

Each request method checks the state, allocates an invoke id and returns the
APDU to send (ciphered as the association requires). ``receive_apdu`` takes one
whole APDU from the peer and returns events; follow-ups the protocol makes the
client send by itself (HLS pass 3, get-request-next, the next block of a long
SET or ACTION, the next with-list batch, a general-block-transfer
acknowledgement) come back as :class:`~dlmsfast.session.events.NeedToSend`
events, to be sent in order. A request's failure is raised from ``receive_apdu``
after the session has forgotten the request, so the session stays usable.

HLS (Green Book 9.2.7.4)::

    AARQ  calling-authentication-value = CtoS  ->
                                               <-  AARE  responding-authentication-value = StoC
    ACTION 0.0.40.0.0.255 (class 15) method 1 reply_to_HLS_authentication(f(StoC))  ->
                                               <-  action-response  return-parameters = f(CtoS)
"""
from __future__ import annotations

import os
from typing import Any

from .._util import as_bytes, require, shown
from ..apdu import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    AcseServiceUser,
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ActionResponseWithList,
    ApplicationContextName,
    AssociationResult,
    AuthenticationValue,
    ConfirmedServiceError,
    Conformance,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    DataBlockSA,
    DataNotification,
    EventNotificationRequest,
    ExceptionResponse,
    GetRequestNext,
    GetRequestNormal,
    GetRequestWithList,
    GetResponseWithList,
    InitiateRequest,
    InitiateResponse,
    InvokeIdAndPriority,
    Priority,
    SelectiveAccessDescriptor,
    SetRequestNormal,
    SetRequestWithDatablock,
    SetRequestWithFirstDatablock,
    SetRequestWithList,
    SetRequestWithListAndFirstDatablock,
    parse_apdu,
)
from ..apdu import ActionResult as ActionResultEnum
from ..axdr import Data, DataType, decode, decode_typed, encode, encode_length
from ..cosem.obis import Obis
from ..errors import (
    AssociationRejected,
    AuthenticationError,
    DecodeError,
    DlmsError,
    LocalProtocolError,
    PolicyError,
    ProtocolError,
    SecurityError,
    ServiceError,
    UsageError,
)
from ..security import hls
from ..security.mechanism import MechanismName
from . import events as ev
from ._core import CIPHER_OVERHEAD, FORM_OF_TAG, SessionBase, gathered
from ._state import Role, State, Trigger, next_state
from .errors import AuthenticationFailed, access_error, object_name
from .settings import AssociationSettings
from .sn import DataBlockResult, ReadRequest, ReadResponse, WriteRequest, WriteResponse

ASSOCIATION_LN = "0.0.40.0.0.255"
REPLY_TO_HLS_AUTHENTICATION = CosemMethodDescriptor(15, Obis.parse(ASSOCIATION_LN), 1)
SN_REPLY_TO_HLS_OFFSET = 0x20 + (8 - 1) * 8
"""Association SN method 8 (reply_to_HLS_authentication): its short name is the
object's base name (the vaa-name, 0xFA00) + 0x58, the first method at 0x20 and
one every 8. With SN it is invoked by a ReadRequest with parameterized access,
which, unlike WriteRequest, brings f(CtoS) back."""
MIN_PEER_PDU_SIZE = 12
"""The smallest server-max-receive-pdu-size an AARE may grant (the least our own
settings accept too): the Green Book reserves 1..11 (a get-request-normal alone
takes 13 octets), and gives 0 the meaning "no limit" (:data:`NO_PDU_LIMIT`)."""
NO_PDU_LIMIT = 0xFFFF
"""The PDU size a max-receive-pdu-size of 0 ("no limit") stands for: the largest
the Unsigned16 field can give (and the most a wrapper frame carries)."""

_HLS = frozenset({MechanismName.HLS_MD5, MechanismName.HLS_SHA1, MechanismName.HLS_GMAC,
                  MechanismName.HLS_SHA256})
_AUTHENTICATION_DIAGNOSTICS = frozenset({
    AcseServiceUser.AUTHENTICATION_FAILURE, AcseServiceUser.AUTHENTICATION_REQUIRED,
})
_SUCCESS = DataAccessResult.SUCCESS
_INITIATE_REQUESTS: dict[tuple[int, int], bytes] = {}

# kinds of pending request
_GET, _GET_LIST, _SET, _SET_LIST, _ACTION, _ACTION_LIST, _HLS_PASS3, _READ, _WRITE = range(9)
_SERVICE = {_GET: "get", _GET_LIST: "get", _SET: "set", _SET_LIST: "set", _ACTION: "action",
            _ACTION_LIST: "action", _HLS_PASS3: "action", _READ: "read", _WRITE: "write"}


class _Pending:
    """One request awaiting its answer."""

    __slots__ = ("kind", "invoke_id", "descriptor", "raw", "block", "blocks", "batches",
                 "done", "items", "plain")

    def __init__(self, kind: int, invoke_id: int, descriptor: Any = None) -> None:
        self.kind = kind
        self.invoke_id = invoke_id
        self.descriptor = descriptor
        self.raw: bytearray | None = None
        self.block = 0
        self.blocks: list[bytes] = []
        self.batches: list[tuple] = []
        self.done: list[Any] = []
        self.items: Any = None
        self.plain = False


def _descriptor(value, cls, member: str):
    """A Cosem attribute/method descriptor given as itself or (class_id, obis, id)."""
    if isinstance(value, cls):
        return value
    if isinstance(value, tuple) and len(value) == 3:
        return cls(*value)
    raise UsageError(f"expected a {cls.__name__} or (class_id, obis, {member}), got {shown(value)}")


def _attribute(descriptor) -> CosemAttributeDescriptor:
    return _descriptor(descriptor, CosemAttributeDescriptor, "attribute_id")


def _method(descriptor) -> CosemMethodDescriptor:
    return _descriptor(descriptor, CosemMethodDescriptor, "method_id")


def _sequence(value, what: str) -> tuple:
    require(value, (list, tuple), what)
    return tuple(value)


def _sequence_of_data(values) -> bytes:
    return encode_length(len(values)) + b"".join(encode(value) for value in values)


def _chunks(raw: bytes, size: int) -> list[bytes]:
    return [raw[i:i + size] for i in range(0, len(raw), size)] or [b""]


class ClientSession(SessionBase):
    """The client side of one association (sans-IO).

    ``ClientSession(AssociationSettings(...))``; then ``associate()``, ``get()``,
    ``get_with_list()``, ``set()``, ``set_with_list()``, ``action()``,
    ``action_with_list()``, ``read()``/``write()`` (short names), ``release()``
    each return the APDU to send; ``receive_apdu(apdu)`` returns the events.
    After :class:`~dlmsfast.session.events.Associated`, ``conformance``,
    ``max_pdu_size`` (the largest APDU the server accepts), ``vaa_name`` and
    ``peer_system_title`` describe the association.
    """

    __slots__ = ("settings", "_mechanism", "_next_invoke_id", "_iip_base", "_pending",
                 "_ctos", "_stoc", "vaa_name", "_proposed", "_password", "last_invoke_id")

    def __init__(self, settings: AssociationSettings) -> None:
        if not isinstance(settings, AssociationSettings):
            raise UsageError("ClientSession takes an AssociationSettings")
        super().__init__(Role.CLIENT)
        self.settings = settings
        self._context = settings.make_context()
        self._security = settings.security
        self._sc = settings.security | (self._context.security_suite if self._context else 0)
        self._mechanism = settings.authentication
        self._next_invoke_id = settings.invoke_id
        # priority, confirmed service class
        self._iip_base = (0x80 if settings.priority == Priority.HIGH else 0) | 0x40
        self._pending: dict[int, _Pending] = {}
        # the invoke id of the request made last (-1: short names, which have
        # none): the result events of its answer carry it, and a caller waiting
        # for that answer takes no result carrying another
        self.last_invoke_id = -1
        self._ctos = b""
        self._stoc = b""
        self.vaa_name = 0
        self._proposed = Conformance(settings.proposed_conformance or 0)
        # the settings made a str password bytes
        self._password = settings.password if isinstance(settings.password, bytes) else b""

    @property
    def pending_invoke_ids(self) -> tuple[int, ...]:
        """Invoke ids of the requests still awaiting an answer."""
        return tuple(self._pending)

    # -- association ---------------------------------------------------------

    def associate(self) -> bytes:
        """The AARQ that starts the association."""
        after = next_state(Role.CLIENT, self._state, Trigger.SEND_AARQ)
        s = self.settings
        ciphered = bool(self._security)
        dedicated = None
        if ciphered and s.ciphering in ("ded", "general-ded"):
            suite = self._keys().security_suite
            dedicated = s.dedicated_key or os.urandom(32 if suite == 2 else 16)
        initiate = self._initiate_request(dedicated)
        if ciphered:
            context = self._keys()
            context.security_policy = self._security
            context.dedicated_key = dedicated
            user_information = context.encrypt(initiate, security_control=self._sc, form="glo")
        else:
            user_information = initiate
        if s.logical_name_referencing:
            name = (ApplicationContextName.LOGICAL_NAME_REFERENCING_WITH_CIPHERING if ciphered
                    else ApplicationContextName.LOGICAL_NAME_REFERENCING_NO_CIPHERING)
        else:
            name = (ApplicationContextName.SHORT_NAME_REFERENCING_WITH_CIPHERING if ciphered
                    else ApplicationContextName.SHORT_NAME_REFERENCING_NO_CIPHERING)
        mechanism = self._mechanism
        fields: dict[str, Any] = {}
        if mechanism != MechanismName.LOWEST_LEVEL:
            if mechanism in _HLS:
                self._ctos = s.challenge or os.urandom(16)
                value = self._ctos
            else:
                value = self._password
            fields = {"sender_acse_requirements": True, "mechanism_name": mechanism,
                      "calling_authentication_value": AuthenticationValue(value)}
        title = self._own_title()
        if title is not None and (ciphered or mechanism in (MechanismName.HLS_GMAC,
                                                            MechanismName.HLS_SHA256)):
            fields["calling_ap_title"] = title
        aarq = AARQ(application_context_name=name, user_information=user_information, **fields)
        self._pending.clear()
        self._state = after
        return aarq.to_bytes()

    def _initiate_request(self, dedicated: bytes | None) -> bytes:
        """The xDLMS InitiateRequest of the AARQ and the RLRQ. Without a dedicated
        key it is the same octets for every association with the same proposal:
        made once per (conformance, PDU size)."""
        size = self.settings.client_max_receive_pdu_size
        key = (int(self._proposed), size)
        octets = None if dedicated is not None else _INITIATE_REQUESTS.get(key)
        if octets is None:
            octets = InitiateRequest(proposed_conformance=self._proposed,
                                     client_max_receive_pdu_size=size,
                                     dedicated_key=dedicated).to_bytes()
            if dedicated is None:
                if len(_INITIATE_REQUESTS) >= 64:
                    _INITIATE_REQUESTS.clear()
                _INITIATE_REQUESTS[key] = octets
        return octets

    def _own_title(self) -> bytes | None:
        if self._context is not None:
            return self._context.system_title
        return self.settings.system_title

    def release(self) -> bytes:
        """The RLRQ (ciphered user-information where the association is ciphered)."""
        after = next_state(Role.CLIENT, self._state, Trigger.SEND_RLRQ)
        user_information = None
        if self._security:
            initiate = self._initiate_request(None)
            user_information = self._keys().encrypt(initiate, security_control=self._sc,
                                                    form="glo")
        self._state = after
        return RLRQ(user_information=user_information).to_bytes()

    # -- requests ------------------------------------------------------------

    def _allocate(self, kind: int, descriptor=None) -> _Pending:
        if self._state is not State.ASSOCIATED:
            raise LocalProtocolError(f"{_SERVICE[kind]} needs an established association "
                                     f"(state {self._state.value})")
        invoke_id = self._next_invoke_id
        if invoke_id in self._pending:
            raise LocalProtocolError(f"invoke id {invoke_id} is still awaiting its answer: "
                                     "16 requests are outstanding")
        self._next_invoke_id = (invoke_id + 1) & 0x0F
        pending = _Pending(kind, invoke_id, descriptor)
        return pending

    def _iip(self, invoke_id: int) -> InvokeIdAndPriority:
        return InvokeIdAndPriority.from_byte(self._iip_base | invoke_id)

    def _send(self, pending: _Pending, plain: bytes) -> bytes:
        data = self._protect(plain)
        self._pending[pending.invoke_id] = pending
        self.last_invoke_id = pending.invoke_id
        return data

    def _room(self) -> int:
        """Octets a plaintext APDU may take so that, ciphered, it fits the server's PDU."""
        room = self.max_pdu_size
        if self._security:
            room -= CIPHER_OVERHEAD[self._form]
        return room

    def get(self, descriptor, selection: SelectiveAccessDescriptor | None = None, *,
            plain: bool = False) -> bytes:
        """get-request-normal for one attribute; the answer is a GetResult (block
        transfer, if the server uses it, runs by itself through NeedToSend).
        ``plain``: the GetResult's value as :func:`~dlmsfast.axdr.decode` gives it
        (lists, tuples, no types); an answer in blocks is then decoded without
        building the typed tree (a long profile buffer read only for its values)."""
        descriptor = _attribute(descriptor)
        pending = self._allocate(_GET, descriptor)
        pending.plain = plain
        request = GetRequestNormal(invoke_id_and_priority=self._iip(pending.invoke_id),
                                   cosem_attribute_descriptor=descriptor,
                                   access_selection=selection).to_bytes()
        return self._send(pending, request)

    def get_with_list(self, items) -> bytes:
        """get-request-with-list. ``items``: descriptors, (descriptor, selection)
        pairs or CosemAttributeDescriptorWithSelection. Cut into batches that fit
        the server's PDU size (and ``max_list_items``); the next batch goes out by
        itself (NeedToSend) and one GetListResult gives every value in order."""
        entries = tuple(self._with_selection(item) for item in _sequence(items, "items"))
        if not entries:
            raise UsageError("get_with_list needs at least one attribute")
        pending = self._allocate(_GET_LIST)
        pending.items = entries
        pending.batches = self._batches(entries, 13)
        pending.done = []
        return self._send(pending, self._get_batch(pending))

    @staticmethod
    def _with_selection(item) -> CosemAttributeDescriptorWithSelection:
        if isinstance(item, CosemAttributeDescriptorWithSelection):
            return item
        if isinstance(item, tuple) and len(item) == 2 and not isinstance(item[0], int):
            return CosemAttributeDescriptorWithSelection(_attribute(item[0]), item[1])
        return CosemAttributeDescriptorWithSelection(_attribute(item))

    def _batches(self, entries, item_size: int) -> list[tuple]:
        limit = self.settings.max_list_items or len(entries)
        room = self._room() - 6
        batches: list[tuple] = []
        batch: list[CosemAttributeDescriptorWithSelection] = []
        used = 0
        for entry in entries:
            size = item_size + (0 if entry.access_selection is None else
                                1 + len(encode(entry.access_selection.access_parameters)))
            if batch and (len(batch) >= limit or used + size > room):
                batches.append(tuple(batch))
                batch, used = [], 0
            batch.append(entry)
            used += size
        batches.append(tuple(batch))
        return batches

    def _get_batch(self, pending: _Pending) -> bytes:
        batch = pending.batches.pop(0)
        pending.descriptor = batch
        return GetRequestWithList(invoke_id_and_priority=self._iip(pending.invoke_id),
                                  attribute_descriptor_list=batch).to_bytes()

    def set(self, descriptor, value: Data, selection: SelectiveAccessDescriptor | None = None
            ) -> bytes:
        """set-request-normal; a value too long for the server's PDU goes in
        datablocks (set-request-with-first-datablock, then NeedToSend per block)."""
        descriptor = _attribute(descriptor)
        pending = self._allocate(_SET, descriptor)
        iip = self._iip(pending.invoke_id)
        plain = SetRequestNormal(invoke_id_and_priority=iip, cosem_attribute_descriptor=descriptor,
                                 access_selection=selection, value=value).to_bytes()
        if len(plain) > self._room():
            plain = self._first_block(pending, encode(value), lambda block: (
                SetRequestWithFirstDatablock(
                    invoke_id_and_priority=iip, cosem_attribute_descriptor=descriptor,
                    access_selection=selection, datablock=block)))
        return self._send(pending, plain)

    def _first_block(self, pending: _Pending, raw: bytes, build) -> bytes:
        """Cut ``raw`` into the blocks of a long SET or ACTION; the first block's
        APDU, ``build(datablock)`` making it."""
        head = len(build(DataBlockSA(False, 1, b"")).to_bytes())
        room = self._room() - head - 2  # the raw-data length grows from 1 to 3 octets
        if room < 1:
            raise LocalProtocolError(f"the server's PDU size {self.max_pdu_size} leaves no room "
                                     "for a datablock")
        pending.blocks = _chunks(raw, room)
        pending.block = 1
        first = pending.blocks.pop(0)
        return build(DataBlockSA(not pending.blocks, 1, first)).to_bytes()

    def set_with_list(self, items, values) -> bytes:
        """set-request-with-list: one value per attribute (one request; the
        answer is a SetListResult)."""
        entries = tuple(self._with_selection(item) for item in _sequence(items, "items"))
        values = _sequence(values, "values")
        if len(entries) != len(values) or not entries:
            raise UsageError("set_with_list needs as many values as attributes (at least one)")
        pending = self._allocate(_SET_LIST, entries)
        iip = self._iip(pending.invoke_id)
        plain = SetRequestWithList(invoke_id_and_priority=iip, attribute_descriptor_list=entries,
                                   value_list=values).to_bytes()
        if len(plain) > self._room():
            # the blocks carry the SEQUENCE OF Data that follows the descriptors
            raw = _sequence_of_data(values)
            plain = self._first_block(pending, raw, lambda block: (
                SetRequestWithListAndFirstDatablock(
                    invoke_id_and_priority=iip, attribute_descriptor_list=entries,
                    datablock=block)))
        return self._send(pending, plain)

    def action(self, descriptor, parameters: Data | None = None) -> bytes:
        """action-request-normal; long parameters go in pblocks by themselves."""
        descriptor = _method(descriptor)
        pending = self._allocate(_ACTION, descriptor)
        iip = self._iip(pending.invoke_id)
        plain = ActionRequestNormal(invoke_id_and_priority=iip, cosem_method_descriptor=descriptor,
                                    method_invocation_parameters=parameters).to_bytes()
        if len(plain) > self._room():
            plain = self._first_block(pending, encode(parameters), lambda block: (
                ActionRequestWithFirstPblock(invoke_id_and_priority=iip,
                                             cosem_method_descriptor=descriptor, pblock=block)))
        return self._send(pending, plain)

    def action_with_list(self, descriptors, parameters) -> bytes:
        """action-request-with-list: one parameter Data per method."""
        methods = tuple(_method(d) for d in _sequence(descriptors, "descriptors"))
        parameters = _sequence(parameters, "parameters")
        if len(methods) != len(parameters) or not methods:
            raise UsageError("action_with_list needs one parameter per method (at least one)")
        pending = self._allocate(_ACTION_LIST, methods)
        iip = self._iip(pending.invoke_id)
        plain = ActionRequestWithList(invoke_id_and_priority=iip,
                                      cosem_method_descriptor_list=methods,
                                      method_invocation_parameters=parameters).to_bytes()
        if len(plain) > self._room():
            # the pblocks carry the SEQUENCE OF Data that follows the methods
            raw = _sequence_of_data(parameters)
            plain = self._first_block(pending, raw, lambda block: (
                ActionRequestWithListAndFirstPblock(
                    invoke_id_and_priority=iip, cosem_method_descriptor_list=methods,
                    pblock=block)))
        return self._send(pending, plain)

    def read(self, base_names, parameters=None) -> bytes:
        """Short-name ReadRequest of one or more base names (Association SN).
        ``parameters``: None, or one (selector, Data) or None per name for a
        parameterized access. The answer is a ReadResult."""
        names = (base_names,) if isinstance(base_names, int) else _sequence(base_names,
                                                                            "base_names")
        pending = self._allocate_sn(_READ, names)
        plain = ReadRequest(names, parameters).to_bytes()
        return self._send(pending, plain)

    def write(self, base_names, values) -> bytes:
        """Short-name WriteRequest; the answer is a WriteResult."""
        names = (base_names,) if isinstance(base_names, int) else _sequence(base_names,
                                                                            "base_names")
        values = (values,) if isinstance(values, Data) else _sequence(values, "values")
        pending = self._allocate_sn(_WRITE, names)
        plain = WriteRequest(names, values).to_bytes()
        return self._send(pending, plain)

    def _allocate_sn(self, kind: int, names) -> _Pending:
        # SN services carry no invoke id: one request at a time, kept under id -1
        if -1 in self._pending:
            raise LocalProtocolError("a short-name request is still awaiting its answer")
        pending = self._allocate(kind, names)
        self._next_invoke_id = (pending.invoke_id - 1) & 0x0F  # no id used
        pending.invoke_id = -1
        return pending

    # -- receiving -----------------------------------------------------------

    def receive_apdu(self, apdu) -> list[ev.Event]:
        """Handle one whole APDU from the server; return the events it gives.

        Raises the request's error (ServiceError, DataAccessError subclass,
        AssociationRejected, AuthenticationError) after forgetting the request;
        DecodeError for malformed bytes, SecurityError subclasses for bad
        protection, ProtocolError for an APDU the state does not expect.
        """
        data = as_bytes(apdu)
        if not data:
            raise DecodeError("empty APDU", 0)
        plain, _ = self._open(data)
        handler = _HANDLERS.get(plain[0])
        if handler is None:
            raise ProtocolError(f"unexpected APDU tag 0x{plain[0]:02X} for a client")
        return handler(self, plain)

    def _take(self, invoke_id: int, kinds) -> _Pending:
        pending = self._pending.get(invoke_id)
        if pending is None and len(self._pending) == 1:
            # Gurux servers answer a refused GET with invoke id 1 whatever the
            # request carried: with one request outstanding, the answer is its.
            pending = next(iter(self._pending.values()))
        if pending is None or pending.kind not in kinds:
            raise ProtocolError(f"answer with invoke id {invoke_id} matches no request of "
                                "that service")
        del self._pending[pending.invoke_id]
        return pending

    def _on_aare(self, plain: bytes) -> list[ev.Event]:
        if self._state is not State.AARQ_SENT:
            raise ProtocolError(f"AARE received in state {self._state.value}")
        aare = AARE.from_bytes(plain)
        if aare.result != AssociationResult.ACCEPTED:
            self._move(Trigger.AARE_REJECTED)
            diagnostic = aare.result_source_diagnostic
            message = (f"association {aare.result.blue_book_name}: "
                       f"{diagnostic.source} {diagnostic.blue_book_name}")
            detail = self._initiate_error(aare.user_information)
            if detail:
                message += f" ({detail})"
            if diagnostic in _AUTHENTICATION_DIAGNOSTICS:
                raise AuthenticationFailed(message, diagnostic)
            raise AssociationRejected(message, diagnostic)
        title = aare.responding_ap_title
        if title is not None and len(title) != 8:
            self._move(Trigger.AARE_REJECTED)
            raise ProtocolError(f"responding-AP-title of {len(title)} octets: a system title "
                                "has 8")
        self.peer_system_title = title
        context = self._context
        if context is not None and title is not None:
            context.peer_system_title = title
        elif self._security and self._keys().peer_system_title is None:
            self._move(Trigger.AARE_REJECTED)
            raise ProtocolError("the AARE gives no responding-AP-title: a ciphered "
                                "association needs the meter's system title (or set it in the "
                                "SecurityContext beforehand)")
        try:
            response = self._initiate_response(aare.user_information)
            size = response.server_max_receive_pdu_size
            if 0 < size < MIN_PEER_PDU_SIZE:
                raise ProtocolError(f"the AARE's server-max-receive-pdu-size {size} is below "
                                    f"{MIN_PEER_PDU_SIZE}: no request fits in it")
        except Exception:
            self._move(Trigger.AARE_REJECTED)
            raise
        self.conformance = response.negotiated_conformance
        self.max_pdu_size = response.server_max_receive_pdu_size or NO_PDU_LIMIT
        self.peer_max_receive_pdu_size = response.server_max_receive_pdu_size
        self.vaa_name = response.vaa_name
        form = self.settings.ciphering
        if form == "auto":
            form = "general-glo" if self.conformance & self.conformance.GENERAL_PROTECTION \
                else "glo"
        self._form = form
        if self._mechanism in _HLS:
            authentication = aare.responding_authentication_value
            if authentication is None:
                self._move(Trigger.AARE_REJECTED)
                raise ProtocolError("AARE accepted HLS without the StoC challenge")
            self._stoc = authentication.value
            self._move(Trigger.AARE_ACCEPTED_HLS)
            return [ev.NeedToSend(self._hls_pass3())]
        self._move(Trigger.AARE_ACCEPTED)
        return [self._associated()]

    def _associated(self) -> ev.Associated:
        return ev.Associated(self.conformance, self.max_pdu_size, self.max_pdu_size,
                             self._mechanism, self._security, self.peer_system_title,
                             self.vaa_name)

    def _initiate_error(self, user_information: bytes | None) -> str:
        if not user_information:
            return ""
        try:
            plain = user_information
            if plain[0] in FORM_OF_TAG and self._context is not None:
                plain = self._context.decrypt(plain)
            parsed = parse_apdu(plain)
        except DlmsError:  # the diagnostic is what matters; the detail is a bonus
            return ""
        if isinstance(parsed, ConfirmedServiceError):
            return (f"confirmed-service-error {parsed.service.blue_book_name}: "
                    f"{parsed.service_error.blue_book_name} {parsed.value_name or parsed.value}")
        return ""

    def _initiate_response(self, user_information: bytes | None) -> InitiateResponse:
        if not user_information:
            raise ProtocolError("AARE accepted without an InitiateResponse")
        plain = user_information
        if plain[0] in FORM_OF_TAG:
            if self._context is None:
                raise ProtocolError("ciphered InitiateResponse, but no keys")
            plain = self._context.decrypt(plain)
        elif self._security:
            raise PolicyError("the association is ciphered; the AARE's InitiateResponse is not")
        parsed = parse_apdu(plain)
        if isinstance(parsed, ConfirmedServiceError):
            raise AssociationRejected(
                f"initiate refused: {parsed.service_error.blue_book_name} "
                f"{parsed.value_name or parsed.value}", parsed)
        if not isinstance(parsed, InitiateResponse):
            raise ProtocolError(f"AARE user-information holds {type(parsed).__name__}, "
                                "not an InitiateResponse")
        return parsed

    def _hls_pass3(self) -> bytes:
        try:
            reply = hls.respond(self._mechanism, self._stoc, secret=self._password,
                                context=self._context, own_challenge=self._ctos,
                                own_system_title=self._own_title(),
                                peer_system_title=self.peer_system_title)
        except Exception:
            self._move(Trigger.HLS_FAILED)
            raise
        if not self.settings.logical_name_referencing:
            pending = _Pending(_HLS_PASS3, -1, self.vaa_name + SN_REPLY_TO_HLS_OFFSET)
            plain = ReadRequest((pending.descriptor,),
                                ((0, Data(DataType.OCTET_STRING, reply)),)).to_bytes()
        else:
            invoke_id = self._next_invoke_id
            self._next_invoke_id = (invoke_id + 1) & 0x0F
            pending = _Pending(_HLS_PASS3, invoke_id, REPLY_TO_HLS_AUTHENTICATION)
            plain = ActionRequestNormal(
                invoke_id_and_priority=self._iip(invoke_id),
                cosem_method_descriptor=REPLY_TO_HLS_AUTHENTICATION,
                method_invocation_parameters=Data(DataType.OCTET_STRING, reply)).to_bytes()
        # pass 3 runs before the dedicated key may be used: a ded- form falls back
        # to its global counterpart. (The Gurux meter takes general-glo here too,
        # and over small HDLC frames only general-glo, see shared/interop.)
        self._pending[pending.invoke_id] = pending
        self.last_invoke_id = pending.invoke_id
        form = {"ded": "glo", "general-ded": "general-glo"}.get(self._form, self._form)
        return self._protect(plain, form) if self._security else plain

    def _on_hls_pass4(self, refusal: str | None, returned) -> list[ev.Event]:
        """``refusal``: the server's result name when it refused f(StoC);
        ``returned``: what it sent back, f(CtoS) as an octet-string."""
        if refusal is not None:
            self._move(Trigger.HLS_FAILED)
            raise AuthenticationError(f"the server refused our f(StoC): {refusal}")
        if not isinstance(returned, Data) or returned.type is not DataType.OCTET_STRING:
            self._move(Trigger.HLS_FAILED)
            raise AuthenticationError("the server's HLS answer holds no f(CtoS) octet-string")
        try:
            self._verify_hls(self._mechanism, returned.value, self._ctos, self._stoc,
                             self._password, self._own_title())
        except SecurityError as exc:
            self._move(Trigger.HLS_FAILED)
            raise AuthenticationError(f"the server failed HLS authentication: {exc}") from None
        self._move(Trigger.HLS_PASS4_OK)
        return [self._associated()]

    def _on_rlre(self, plain: bytes) -> list[ev.Event]:
        if self._state is not State.RELEASE_SENT:
            raise ProtocolError(f"RLRE received in state {self._state.value}")
        rlre = RLRE.from_bytes(plain)
        ui = rlre.user_information
        self._move(Trigger.RLRE)
        self._pending.clear()
        if ui and ui[0] in FORM_OF_TAG and self._context is not None:
            self._context.decrypt(ui)
        return [ev.Released(rlre.reason)]

    def _on_get_response(self, plain: bytes) -> list[ev.Event]:
        response = parse_apdu(plain)
        invoke_id = plain[2] & 0x0F
        choice = plain[1]
        if choice == 1:
            pending = self._take(invoke_id, (_GET,))
            result = response.result
            if type(result) is Data:
                return [ev.GetResult(pending.invoke_id, pending.descriptor,
                                     result.to_plain() if pending.plain else result)]
            raise access_error(result, "get", pending.descriptor)
        if choice == 2:
            return self._on_get_block(invoke_id, response.result)
        pending = self._take(invoke_id, (_GET_LIST,))
        return self._get_list_results(pending, response.result)

    def _get_list_results(self, pending: _Pending, results) -> list[ev.Event]:
        batch = pending.descriptor
        if len(results) != len(batch):
            raise ProtocolError(f"get-response-with-list of {len(results)} results for "
                                f"{len(batch)} attributes")
        pending.done.extend(
            result if type(result) is Data
            else access_error(result, "get", entry.cosem_attribute_descriptor)
            for entry, result in zip(batch, results))
        if pending.batches:
            pending.raw = None
            pending.block = 0
            return [ev.NeedToSend(self._send(pending, self._get_batch(pending)))]
        return [ev.GetListResult(pending.invoke_id, pending.items, tuple(pending.done))]

    def _on_get_block(self, invoke_id: int, block) -> list[ev.Event]:
        pending = self._take(invoke_id, (_GET, _GET_LIST))
        if block.block_number != pending.block + 1:
            raise ProtocolError(f"get-response block {block.block_number} received, "
                                f"expected {pending.block + 1}")
        result = block.result
        if type(result) is not bytes:
            raise access_error(result, "get", pending.descriptor)
        pending.raw = gathered(pending.raw, result, block.block_number, "get-response-with-datablock")
        pending.block = block.block_number
        if not block.last_block:
            plain = GetRequestNext(invoke_id_and_priority=self._iip(pending.invoke_id),
                                   block_number=block.block_number).to_bytes()
            return [ev.NeedToSend(self._send(pending, plain))]
        raw = bytes(pending.raw)
        if pending.kind == _GET:
            return [ev.GetResult(pending.invoke_id, pending.descriptor,
                                 decode(raw) if pending.plain else decode_typed(raw))]
        # the blocks carry the with-list answer's SEQUENCE OF Get-Data-Result
        iip = bytes((self._iip_base | pending.invoke_id,))
        whole = GetResponseWithList.from_bytes(b"\xC4\x03" + iip + raw)
        return self._get_list_results(pending, whole.result)

    def _on_set_response(self, plain: bytes) -> list[ev.Event]:
        response = parse_apdu(plain)
        invoke_id = plain[2] & 0x0F
        choice = plain[1]
        if choice == 2:  # a block acknowledged: the next one
            return self._next_block(self._take(invoke_id, (_SET, _SET_LIST)), response,
                                    SetRequestWithDatablock, "datablock")
        if choice in (1, 3):
            pending = self._take(invoke_id, (_SET,))
            if response.result != _SUCCESS:
                raise access_error(response.result, "set", pending.descriptor)
            return [ev.SetResult(pending.invoke_id, pending.descriptor)]
        pending = self._take(invoke_id, (_SET_LIST,))
        results = response.result
        if len(results) != len(pending.descriptor):
            raise ProtocolError(f"set-response-with-list of {len(results)} results for "
                                f"{len(pending.descriptor)} attributes")
        return [ev.SetListResult(pending.invoke_id, pending.descriptor, tuple(
            None if result == _SUCCESS
            else access_error(result, "set", entry.cosem_attribute_descriptor)
            for entry, result in zip(pending.descriptor, results)))]

    def _next_block(self, pending: _Pending, ack, variant, field: str) -> list[ev.Event]:
        """The next block of a long SET or ACTION, once the server acknowledged one."""
        if ack.block_number != pending.block or not pending.blocks:
            raise ProtocolError(f"{ack.CHOICE_NAME} {ack.block_number} does not acknowledge "
                                f"block {pending.block}")
        pending.block += 1
        chunk = pending.blocks.pop(0)
        plain = variant(**{"invoke_id_and_priority": self._iip(pending.invoke_id),
                           field: DataBlockSA(not pending.blocks, pending.block, chunk)})
        return [ev.NeedToSend(self._send(pending, plain.to_bytes()))]

    def _on_action_response(self, plain: bytes) -> list[ev.Event]:
        response = parse_apdu(plain)
        invoke_id = plain[2] & 0x0F
        choice = plain[1]
        if choice == 1:
            pending = self._take(invoke_id, (_ACTION, _HLS_PASS3))
            if pending.kind == _HLS_PASS3:
                result = response.action_result
                return self._on_hls_pass4(
                    None if result == ActionResultEnum.SUCCESS
                    else f"action-result {result.blue_book_name}", response.return_parameters)
            return [self._action_result(pending, response.action_result,
                                        response.return_parameters)]
        if choice == 4:  # our pblock acknowledged: the next one
            return self._next_block(self._take(invoke_id, (_ACTION, _ACTION_LIST)), response,
                                    ActionRequestWithPblock, "pblock")
        if choice == 2:  # a long answer in pblocks
            pending = self._take(invoke_id, (_ACTION, _ACTION_LIST))
            block = response.pblock
            expected = 1 if pending.raw is None else pending.block + 1
            if block.block_number != expected:
                raise ProtocolError(f"action-response pblock {block.block_number} received, "
                                    f"expected {expected}")
            pending.raw = gathered(pending.raw, block.raw_data, block.block_number,
                                   "action-response-with-pblock")
            pending.block = block.block_number
            if not block.last_block:
                plain_next = ActionRequestNextPblock(
                    invoke_id_and_priority=self._iip(pending.invoke_id),
                    block_number=block.block_number).to_bytes()
                return [ev.NeedToSend(self._send(pending, plain_next))]
            raw = bytes(pending.raw)
            if pending.kind == _ACTION:
                # the pblocks carry the response-with-optional-data
                whole = parse_apdu(b"\xC7\x01" + bytes((self._iip_base | pending.invoke_id,)) + raw)
                return [self._action_result(pending, whole.action_result,
                                            whole.return_parameters)]
            whole = ActionResponseWithList.from_bytes(
                b"\xC7\x03" + bytes((self._iip_base | pending.invoke_id,)) + raw)
            return self._action_list(pending, whole)
        pending = self._take(invoke_id, (_ACTION_LIST,))
        return self._action_list(pending, response)

    def _action_result(self, pending: _Pending, result, returned) -> ev.ActionResult:
        if result != ActionResultEnum.SUCCESS:
            raise access_error(result, "action", pending.descriptor)
        if returned is not None and type(returned) is not Data:
            raise access_error(returned, "action", pending.descriptor)
        return ev.ActionResult(pending.invoke_id, pending.descriptor, returned)

    def _action_list(self, pending: _Pending, response) -> list[ev.Event]:
        responses = response.list_of_responses
        if len(responses) != len(pending.descriptor):
            raise ProtocolError(f"action-response-with-list of {len(responses)} results for "
                                f"{len(pending.descriptor)} methods")
        results: list[Data | DlmsError | None] = []
        for method, item in zip(pending.descriptor, responses):
            if item.result != ActionResultEnum.SUCCESS:
                results.append(access_error(item.result, "action", method))
            elif item.return_parameters is not None and type(item.return_parameters) is not Data:
                results.append(access_error(item.return_parameters, "action", method))
            else:
                results.append(item.return_parameters)
        return [ev.ActionListResult(pending.invoke_id, pending.descriptor, tuple(results))]

    def _on_read_response(self, plain: bytes) -> list[ev.Event]:
        response = ReadResponse.from_bytes(plain)
        pending = self._take(-1, (_READ, _HLS_PASS3))
        if pending.kind == _HLS_PASS3:
            (result,) = response.results[:1] or (None,)
            return self._on_hls_pass4(
                None if type(result) is Data else f"ReadResponse {result!r}", result)
        results = response.results
        if len(results) == 1 and type(results[0]) is DataBlockResult:
            return self._on_read_block(pending, results[0])
        if len(results) != len(pending.descriptor):
            raise ProtocolError(f"ReadResponse of {len(results)} results for "
                                f"{len(pending.descriptor)} names")
        return [ev.ReadResult(pending.descriptor, tuple(
            result if type(result) is Data else access_error(result, "read", name)
            for name, result in zip(pending.descriptor, response.results)))]

    def _on_read_block(self, pending: _Pending, block: DataBlockResult) -> list[ev.Event]:
        if len(pending.descriptor) != 1:
            raise ProtocolError("a read of several names answered in blocks (not supported)")
        if block.block_number != pending.block + 1:
            raise ProtocolError(f"ReadResponse block {block.block_number} received, expected "
                                f"{pending.block + 1}")
        pending.raw = gathered(pending.raw, block.raw_data, block.block_number,
                               "ReadResponse data-block-result")
        pending.block = block.block_number
        if not block.last_block:
            plain = ReadRequest((), None, block.block_number).to_bytes()
            return [ev.NeedToSend(self._send(pending, plain))]
        return [ev.ReadResult(pending.descriptor, (decode_typed(bytes(pending.raw)),))]

    def _on_write_response(self, plain: bytes) -> list[ev.Event]:
        pending = self._take(-1, (_WRITE,))
        response = WriteResponse.from_bytes(plain)
        if len(response.results) != len(pending.descriptor):
            raise ProtocolError(f"WriteResponse of {len(response.results)} results for "
                                f"{len(pending.descriptor)} names")
        return [ev.WriteResult(pending.descriptor, tuple(
            None if result == _SUCCESS else access_error(result, "write", name)
            for name, result in zip(pending.descriptor, response.results)))]

    def _on_exception(self, plain: bytes) -> list[ev.Event]:
        response = ExceptionResponse.from_bytes(plain)
        message = (f"exception-response: {response.state_error.blue_book_name}, "
                   f"{response.service_error.blue_book_name}")
        if response.invocation_counter is not None:
            message += f" (the server expects invocation counter {response.invocation_counter})"
        raise self._fail_pending(message)

    def _on_confirmed_service_error(self, plain: bytes) -> list[ev.Event]:
        error = ConfirmedServiceError.from_bytes(plain)
        raise self._fail_pending(
            f"confirmed-service-error {error.service.blue_book_name}: "
            f"{error.service_error.blue_book_name} {error.value_name or error.value}")

    def _fail_pending(self, message: str) -> DlmsError:
        """An error answer names no invoke id: it ends the oldest request (or the
        association being made)."""
        if self._state is State.AARQ_SENT:
            self._move(Trigger.AARE_REJECTED)
            return AssociationRejected(f"the AARQ was answered by {message}")
        if self._pending:
            invoke_id = next(iter(self._pending))
            pending = self._pending.pop(invoke_id)
            described = pending.descriptor
            if isinstance(described, tuple):
                described = ", ".join(object_name(getattr(d, "cosem_attribute_descriptor", d))
                                      for d in described)
            elif described is not None:
                described = object_name(described)
            message = (f"{_SERVICE[pending.kind]}"
                       f"{'' if described is None else ' ' + described} refused by {message}")
            if pending.kind == _HLS_PASS3:
                self._move(Trigger.HLS_FAILED)
                return AuthenticationError(f"HLS pass 3 {message}")
        return ServiceError(message)

    def _on_data_notification(self, plain: bytes) -> list[ev.Event]:
        notification = DataNotification.from_bytes(plain)
        return [ev.DataNotificationReceived(notification.long_invoke_id_and_priority.invoke_id,
                                            notification.date_time,
                                            notification.notification_body)]

    def _on_event_notification(self, plain: bytes) -> list[ev.Event]:
        notification = EventNotificationRequest.from_bytes(plain)
        return [ev.EventNotificationReceived(notification.time,
                                             notification.cosem_attribute_descriptor,
                                             notification.attribute_value)]

    def _on_gbt(self, plain: bytes) -> list[ev.Event]:
        whole, ack = self._gbt_block(plain)
        if whole is None:
            return [ev.NeedToSend(ack)] if ack is not None else []
        return self.receive_apdu(whole)


_HANDLERS = {
    0x61: ClientSession._on_aare,
    0x63: ClientSession._on_rlre,
    0xC4: ClientSession._on_get_response,
    0xC5: ClientSession._on_set_response,
    0xC7: ClientSession._on_action_response,
    0x0C: ClientSession._on_read_response,
    0x0D: ClientSession._on_write_response,
    0xD8: ClientSession._on_exception,
    0x0E: ClientSession._on_confirmed_service_error,
    0x0F: ClientSession._on_data_notification,
    0xC2: ClientSession._on_event_notification,
    0xE0: ClientSession._on_gbt,
}


__all__ = ["ClientSession", "NO_PDU_LIMIT", "REPLY_TO_HLS_AUTHENTICATION",
           "SN_REPLY_TO_HLS_OFFSET"]
