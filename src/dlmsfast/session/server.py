"""The server role of an association: :class:`ServerSession` (what a meter does).

``receive_apdu(apdu)`` takes one whole APDU from the client and returns events.
The session answers by itself what needs no application: the AARE (following
the :class:`~dlmsfast.session.settings.AuthenticationPolicy`), HLS pass 4 after
checking f(StoC), get-request-next of a long answer, the acknowledgement of each
SET/ACTION block, the RLRE, a GET with a selective access the attribute does not
have (scope-of-access-violated), the refusal of an AARQ during an association,
and an exception-response to what it cannot process (deciphering error,
replayed counter, wrong state); those come back as
:class:`~dlmsfast.session.events.NeedToSend`. Requests for the application
come as GetRequested, GetListRequested, SetRequested, SetListRequested,
ActionRequested, ActionListRequested, ReadRequested, WriteRequested; it answers
each with ``respond_get`` / ``respond_set`` / ``respond_action`` /
``respond_read`` / ``respond_write``, which return the APDU to send: cut into
datablocks when longer than the client accepts, ciphered in the form the
request came in.
"""
from __future__ import annotations

from functools import lru_cache
from hmac import compare_digest
from typing import Any

from .._util import as_bytes
from ..apdu import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    AcseServiceUser,
    ActionResponseNextPblock,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithOptionalData,
    ActionResponseWithPblock,
    AssociationResult,
    AuthenticationValue,
    ConfirmedServiceError,
    ConfirmedServiceErrorService,
    Conformance,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    DataAccessResult,
    DataBlockG,
    DataBlockSA,
    DataNotification,
    EventNotificationRequest,
    ExceptionResponse,
    ExceptionServiceError,
    ExceptionStateError,
    GeneralBlockTransfer,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
    InitiateRequest,
    InitiateResponse,
    InvokeIdAndPriority,
    LongInvokeIdAndPriority,
    SetResponseDatablock,
    SetResponseLastDatablock,
    SetResponseLastDatablockWithList,
    SetResponseNormal,
    SetResponseWithList,
    get_response_normal_bytes,
    get_response_with_datablock_bytes,
    get_response_with_list_bytes,
    parse_apdu,
)
from ..apdu import DLMS_VERSION
from ..apdu.service import ServiceApdu
from ..apdu import ActionResult as ActionResultEnum
from ..apdu import ServiceError as InitiateServiceError
from ..axdr import Data, DataType, decode_typed
from ..cosem import selective_access_refused
from ..errors import (
    DecodeError,
    DlmsError,
    LocalProtocolError,
    ProtocolError,
    RemoteError,
    ReplayError,
    SecurityError,
    UsageError,
)
from ..security import hls, parse_ciphered
from ..security.mechanism import MechanismName
from . import events as ev
from ._core import CIPHER_OVERHEAD, FORM_OF_TAG, SessionBase, gathered
from ._state import Role, State, Trigger
from .client import NO_PDU_LIMIT, REPLY_TO_HLS_AUTHENTICATION, SN_REPLY_TO_HLS_OFFSET
from .settings import AuthenticationPolicy, ClientAccess, ServerSettings
from .sn import DataBlockResult, ReadRequest, ReadResponse, WriteRequest, WriteResponse

_HLS = frozenset({MechanismName.HLS_MD5, MechanismName.HLS_SHA1, MechanismName.HLS_GMAC,
                  MechanismName.HLS_SHA256})
_TITLED = frozenset({MechanismName.HLS_GMAC, MechanismName.HLS_SHA256})
_DATABLOCK_HEAD = 12  # C4 02 iip, last, number(4), choice, length(<=3)
_PBLOCK_HEAD = 11  # C7 02 iip, last, number(4), length(<=3)
_GBT_HEAD = 9  # E0, block-control, block-number(2), block-number-ack(2), length(<=3)
_NO_LONG_GET = DataAccessResult.NO_LONG_GET_IN_PROGRESS
# what a GET with a selective access the attribute does not have is answered:
# the access asked for lies outside what the attribute allows (jDLMS's server
# answers so too; see tests/test_session_server_rules.py for the evidence)
_SCOPE_VIOLATED = DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
_SN = -1  # key of the one short-name request (SN APDUs carry no invoke id)
MIN_PDU_SIZE = 64
"""The smallest client max receive PDU size accepted: below it no datablock fits.
0 is not below it: the Green Book gives 0 the meaning "no limit" (1..11 are
reserved), see :data:`~dlmsfast.session.client.NO_PDU_LIMIT`."""
# ServiceError values (Green Book xDLMS ASN.1): initiate (1, 3), application-reference (6)
_DLMS_VERSION_TOO_LOW = 1
_PDU_SIZE_TOO_SHORT = 3
_DECIPHERING_ERROR = 6


# A server's clients send the same plain requests over and over (a head-end reads
# the same objects from every meter; only the ciphering differs), and the decoded
# APDUs are immutable: short ones are decoded once. Errors are not kept (raised anew).
_REPEATED_MAX = 256


@lru_cache(maxsize=128)
def _decoded_get_request(plain: bytes) -> ServiceApdu:
    return parse_apdu(plain)


@lru_cache(maxsize=16)
def _decoded_initiate_request(plain: bytes) -> InitiateRequest:
    return InitiateRequest.from_bytes(plain)


@lru_cache(maxsize=64)
def _initiate_response(conformance: Conformance, max_receive_pdu_size: int,
                       vaa_name: int) -> bytes:
    """The InitiateResponse octets (the same for every association a server grants alike)."""
    return InitiateResponse(negotiated_conformance=conformance,
                            server_max_receive_pdu_size=max_receive_pdu_size,
                            vaa_name=vaa_name).to_bytes()


def _get_request(plain) -> ServiceApdu:
    if type(plain) is bytes and len(plain) <= _REPEATED_MAX:
        return _decoded_get_request(plain)
    return parse_apdu(plain)


def _initiate_request(plain) -> InitiateRequest:
    if type(plain) is bytes and len(plain) <= _REPEATED_MAX:
        return _decoded_initiate_request(plain)
    return InitiateRequest.from_bytes(plain)


def _out_of_scope(descriptor: CosemAttributeDescriptor, selection) -> bool:
    """A GET with a selective access the Blue Book rules out for that attribute
    (none at all, or not that access_selector)."""
    return selection is not None and selective_access_refused(
        descriptor.class_id, descriptor.attribute_id, selection.access_selector)


def _secret(access: ClientAccess) -> bytes | None:
    # the policy entry made a str password bytes
    return access.password if isinstance(access.password, bytes) else None


class _Open:
    """A request handed to the application, awaiting its respond_* call."""

    __slots__ = ("iip", "form", "block", "items")

    def __init__(self, iip: int, form: str | None, block: int = 0, items=None) -> None:
        self.iip = iip
        self.form = form
        self.block = block
        self.items = items


class _Blocks:
    """A long transfer in progress (our answer going out, or the client's request
    coming in)."""

    __slots__ = ("raw", "size", "block", "form", "iip", "head", "pos")

    def __init__(self, raw, size: int, form: str | None, iip: int, head=None) -> None:
        self.raw = raw
        self.size = size
        self.block = 0
        self.form = form
        self.iip = iip
        self.head = head
        self.pos = 0

    def next_chunk(self) -> tuple[bool, int, bytes]:
        """(last-block, block-number, raw-data) of the next block to send."""
        start = self.pos
        chunk = self.raw[start:start + self.size]
        self.pos = start + len(chunk)
        self.block += 1
        return self.pos >= len(self.raw), self.block, chunk


class ServerSession(SessionBase):
    """The server side of one association (sans-IO): one per client connection.

    ``ServerSession(ServerSettings(system_title=...), AuthenticationPolicy([...]),
    client_address=16)``; ``client_address`` is the client SAP the link saw
    (wrapper source port or HDLC client address), matched against the policy.
    """

    __slots__ = ("settings", "policy", "client_address", "_access", "_mechanism", "_ctos",
                 "_stoc", "_open_requests", "_long_get", "_long_action", "_incoming",
                 "_vaa_name", "_client_pdu", "_gbt_out", "_gbt_out_number")

    def __init__(self, settings: ServerSettings, policy: AuthenticationPolicy, *,
                 client_address: int | None = None) -> None:
        if not isinstance(settings, ServerSettings) or not isinstance(policy, AuthenticationPolicy):
            raise UsageError("ServerSession takes a ServerSettings and an AuthenticationPolicy")
        super().__init__(Role.SERVER)
        self.settings = settings
        self.policy = policy
        self.client_address = client_address
        self._access: ClientAccess | None = None
        self._mechanism = MechanismName.LOWEST_LEVEL
        self._ctos = b""
        self._stoc = b""
        self._open_requests: dict[int, _Open] = {}
        self._long_get: dict[int, _Blocks] = {}
        self._long_action: dict[int, _Blocks] = {}
        self._incoming: dict[int, _Blocks] = {}
        self._vaa_name = 0x0007 if settings.logical_name_referencing else 0xFA00
        self._client_pdu = 0
        self._gbt_out: list[bytes] | None = None
        self._gbt_out_number = 0

    # -- receiving -----------------------------------------------------------

    def receive_apdu(self, apdu) -> list[ev.Event]:
        """Handle one whole APDU from the client; return the events.

        Nothing the client sends makes this raise, except bytes that are not
        even an APDU (DecodeError): refused requests are answered (an
        exception-response in a NeedToSend) and reported (RequestRefused).
        """
        data = as_bytes(apdu)
        if not data:
            raise DecodeError("empty APDU", 0)
        try:
            plain, form = self._open(data)
        except SecurityError as exc:
            return self._refuse(exc, ExceptionServiceError.INVOCATION_COUNTER_ERROR
                                if self._replayed(data, exc)
                                else ExceptionServiceError.DECIPHERING_ERROR)
        except DlmsError as exc:
            return self._refuse(exc, ExceptionServiceError.OTHER_REASON)
        handler = _HANDLERS.get(plain[0])
        if handler is None:
            return self._refuse(ProtocolError(f"unknown or unexpected APDU tag 0x{plain[0]:02X}"),
                                ExceptionServiceError.SERVICE_NOT_SUPPORTED,
                                ExceptionStateError.SERVICE_UNKNOWN)
        try:
            return handler(self, plain, form)
        except RemoteError as exc:  # the client's bytes, never a reason to stop serving
            return self._refuse(exc, ExceptionServiceError.OTHER_REASON)

    def _replayed(self, data: bytes, error: SecurityError) -> bool:
        """Whether a refused ciphered APDU carried an invocation counter not above
        the last accepted one (the client must then be told the counter expected)."""
        if isinstance(error, ReplayError):
            return True
        last = self._context.peer_invocation_counter if self._context else None
        try:
            return last is not None and parse_ciphered(data).invocation_counter <= last
        except DlmsError:
            return False

    def _refuse(self, error: DlmsError, service_error: ExceptionServiceError,
                state_error: ExceptionStateError = ExceptionStateError.SERVICE_NOT_ALLOWED
                ) -> list[ev.Event]:
        counter = None
        if service_error is ExceptionServiceError.INVOCATION_COUNTER_ERROR:
            last = self._context.peer_invocation_counter if self._context else None
            counter = 0 if last is None else min(last + 1, 0xFFFFFFFF)
        answer = ExceptionResponse(state_error, service_error, counter).to_bytes()
        return [ev.NeedToSend(answer), ev.RequestRefused(error)]

    def _service_state(self, plain: bytes) -> list[ev.Event] | None:
        if self._state is State.ASSOCIATED:
            return None
        return self._refuse(ProtocolError(f"request 0x{plain[0]:02X} in state "
                                          f"{self._state.value}"),
                            ExceptionServiceError.OPERATION_NOT_POSSIBLE)

    # -- association ---------------------------------------------------------

    def _on_aarq(self, plain: bytes, form) -> list[ev.Event]:
        aarq = AARQ.from_bytes(plain)
        if self._state in (State.ASSOCIATED, State.HLS_PENDING):
            return self._aarq_in_association(aarq)
        U = AcseServiceUser
        access = self.policy.lookup(self.client_address)
        name = aarq.application_context_name
        if access is None:
            return self._reject(aarq, U.NO_REASON_GIVEN, "client address not accepted")
        if name.logical_name != self.settings.logical_name_referencing:
            return self._reject(aarq, U.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
                                "referencing (LN/SN) not served")
        mechanism = aarq.mechanism_name if aarq.mechanism_name is not None \
            else MechanismName.LOWEST_LEVEL
        if mechanism != access.authentication:
            return self._reject(aarq, U.AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED,
                                f"mechanism {mechanism.blue_book_name} not accepted")
        ui = aarq.user_information
        if not ui:
            return self._reject(aarq, U.NO_REASON_GIVEN, "no InitiateRequest")
        context = access.security_context
        title = aarq.calling_ap_title
        security = 0
        if ui[0] in FORM_OF_TAG:
            if not name.ciphered or context is None:
                return self._reject(aarq, U.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
                                    "ciphered InitiateRequest without a ciphered context")
            if title is None or len(title) != 8:
                return self._reject(aarq, U.CALLING_AP_TITLE_NOT_RECOGNIZED,
                                    "ciphering needs the client system title")
            security = parse_ciphered(ui).security_control.value & 0x30
            if access.security is not None and security != access.security:
                return self._reject(aarq, U.NO_REASON_GIVEN,
                                    f"security 0x{security:02X} not accepted")
            context.peer_system_title = title
            context.security_policy = security
            try:
                ui = context.decrypt(ui)
            except ReplayError as exc:
                # the AARQ's protection is what authenticates the client here, and a
                # counter not above the last accepted fails it: authentication-failure,
                # without deciphering-error, so that a client can tell the two apart
                # (the counter is checked before the tag: the keys may be wrong too)
                return self._reject(aarq, U.AUTHENTICATION_FAILURE, f"InitiateRequest: {exc}")
            except SecurityError as exc:
                # a wrong ek, ak or calling-AP-title: the GCM tag fails. ACSE says
                # authentication-failure; the Green Book's ServiceError names the
                # cause, application-reference deciphering-error, in the
                # confirmed-service-error the AARE carries as user-information
                return self._reject(aarq, U.AUTHENTICATION_FAILURE, f"InitiateRequest: {exc}",
                                    (InitiateServiceError.APPLICATION_REFERENCE,
                                     _DECIPHERING_ERROR))
        elif name.ciphered or access.security:
            return self._reject(aarq, U.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
                                "the association must be ciphered")
        elif context is not None and title is not None and len(title) == 8:
            context.peer_system_title = title
        try:
            initiate = _initiate_request(ui)
        except DecodeError as exc:
            return self._reject(aarq, U.NO_REASON_GIVEN, f"InitiateRequest: {exc}")
        if initiate.proposed_dlms_version_number < DLMS_VERSION:
            return self._reject(aarq, U.NO_REASON_GIVEN, "DLMS version too low",
                                (InitiateServiceError.INITIATE, _DLMS_VERSION_TOO_LOW))
        client_pdu = initiate.client_max_receive_pdu_size
        if 0 < client_pdu < MIN_PDU_SIZE:
            return self._reject(aarq, U.NO_REASON_GIVEN,
                                f"client max receive PDU size {client_pdu} < {MIN_PDU_SIZE}",
                                (InitiateServiceError.INITIATE, _PDU_SIZE_TOO_SHORT))
        if mechanism in _TITLED and (title is None or len(title) != 8):
            return self._reject(aarq, U.CALLING_AP_TITLE_NOT_RECOGNIZED,
                                f"{mechanism.blue_book_name} needs the client system title")
        if mechanism == MechanismName.HLS_GMAC and context is None:
            return self._reject(aarq, U.AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED,
                                "HLS-GMAC needs keys")
        value = aarq.calling_authentication_value
        if mechanism == MechanismName.LOW_LEVEL_SECURITY:
            if value is None or not access.password or not compare_digest(value.value,
                                                                           access.password):
                return self._reject(aarq, U.AUTHENTICATION_FAILURE, "wrong LLS password")
        elif mechanism in _HLS:
            if value is None or not value.value:
                return self._reject(aarq, U.AUTHENTICATION_REQUIRED, "no CtoS challenge")
            self._ctos = value.value
            self._stoc = self.settings.challenge()
        if initiate.dedicated_key is not None and context is not None and security:
            context.dedicated_key = initiate.dedicated_key
        granted = initiate.proposed_conformance & (access.conformance or self.settings.conformance)
        self.conformance = granted
        self._client_pdu = client_pdu
        self.peer_max_receive_pdu_size = client_pdu
        self.max_pdu_size = min(client_pdu or NO_PDU_LIMIT, self.settings.max_receive_pdu_size)
        self.peer_system_title = title
        self._access = access
        self._mechanism = mechanism
        self._context = context
        self._security = security
        self._sc = security | (context.security_suite if context is not None else 0)
        self._open_requests.clear()
        self._long_get.clear()
        self._long_action.clear()
        self._gbt_out = None
        self._incoming.clear()
        response = _initiate_response(granted, self.settings.max_receive_pdu_size, self._vaa_name)
        if security:
            response = self._keys().encrypt(response, security_control=self._sc, form="glo")
        fields: dict[str, Any] = {}
        own_title = context.system_title if context is not None else self.settings.system_title
        if own_title is not None and (security or mechanism in _TITLED):
            fields["responding_ap_title"] = own_title
        diagnostic = U.NULL
        if mechanism != MechanismName.LOWEST_LEVEL:
            fields["responder_acse_requirements"] = True
            fields["mechanism_name"] = mechanism
        if mechanism in _HLS:
            fields["responding_authentication_value"] = AuthenticationValue(self._stoc)
            diagnostic = U.AUTHENTICATION_REQUIRED
        aare = AARE(application_context_name=name, result=AssociationResult.ACCEPTED,
                    result_source_diagnostic=diagnostic, user_information=response, **fields)
        if mechanism in _HLS:
            self._move(Trigger.AARQ_ACCEPTED_HLS)
            return [ev.NeedToSend(aare.to_bytes())]
        self._move(Trigger.AARQ_ACCEPTED)
        return [ev.NeedToSend(aare.to_bytes()), self._associated()]

    def _aarq_in_association(self, aarq: AARQ) -> list[ev.Event]:
        """An AARQ while an association is established (or awaits HLS pass 3):
        refused, and the association kept as it is. Nothing of the AARQ is
        looked at (its keys, title, counter or password would otherwise change
        the running association's); the client re-associates after an RLRQ."""
        self._move(Trigger.AARQ_IN_ASSOCIATION)
        diagnostic = AcseServiceUser.NO_REASON_GIVEN
        aare = AARE(application_context_name=aarq.application_context_name,
                    result=AssociationResult.REJECTED_PERMANENT,
                    result_source_diagnostic=diagnostic)
        return [ev.NeedToSend(aare.to_bytes()),
                ev.AssociationRefused(diagnostic, f"AARQ while the association is "
                                      f"{self._state.value}: release it first",
                                      self.client_address)]

    def _associated(self) -> ev.Associated:
        return ev.Associated(self.conformance, self.max_pdu_size, self._client_pdu,
                             self._mechanism, self._security, self.peer_system_title,
                             self._vaa_name, self.client_address)

    def _reject(self, aarq: AARQ, diagnostic: AcseServiceUser, reason: str,
                initiate_error: tuple[InitiateServiceError, int] | None = None
                ) -> list[ev.Event]:
        """The AARE refusing; ``initiate_error`` (a ServiceError class and value of
        the Green Book: initiate dlms-version-too-low, application-reference
        deciphering-error...) adds a confirmed-service-error initiateError as its
        user-information."""
        self._move(Trigger.AARQ_REJECTED)
        self._context = None
        self._security = 0
        user_information = None
        if initiate_error is not None:
            service_error, value = initiate_error
            user_information = ConfirmedServiceError(
                service=ConfirmedServiceErrorService.INITIATE_ERROR,
                service_error=service_error, value=value).to_bytes()
        aare = AARE(application_context_name=aarq.application_context_name,
                    result=AssociationResult.REJECTED_PERMANENT,
                    result_source_diagnostic=diagnostic, user_information=user_information)
        return [ev.NeedToSend(aare.to_bytes()),
                ev.AssociationRefused(diagnostic, reason, self.client_address)]

    def _hls_pass3(self, parameters: Data | None, form, answer) -> list[ev.Event]:
        """Check f(StoC); ``answer(f(CtoS) or None)`` builds the plain response
        (action-response for LN, ReadResponse for SN), None meaning refused."""
        access = self._access
        assert access is not None  # pass 3 follows an accepted AARQ (HLS_PENDING)
        try:
            if parameters is None or parameters.type is not DataType.OCTET_STRING:
                raise SecurityError("reply_to_HLS_authentication without an octet-string")
            self._verify_hls(self._mechanism, parameters.value, self._stoc, self._ctos,
                             _secret(access), self._own_title())
        except SecurityError as exc:
            self._move(Trigger.HLS_FAILED)
            return [ev.NeedToSend(self._reply(answer(None), form)),
                    ev.AssociationRefused(AcseServiceUser.AUTHENTICATION_FAILURE,
                                          f"HLS pass 3: {exc}", self.client_address)]
        reply = hls.respond(self._mechanism, self._ctos, secret=_secret(access),
                            context=self._context, own_challenge=self._stoc,
                            own_system_title=self._own_title(),
                            peer_system_title=self.peer_system_title)
        self._move(Trigger.HLS_PASS3_OK)
        return [ev.NeedToSend(self._reply(answer(Data(DataType.OCTET_STRING, reply)), form)),
                self._associated()]

    def _own_title(self) -> bytes | None:
        if self._context is not None:
            return self._context.system_title
        return self.settings.system_title

    def _on_rlrq(self, plain: bytes, form) -> list[ev.Event]:
        rlrq = RLRQ.from_bytes(plain)
        if self._state not in (State.ASSOCIATED, State.HLS_PENDING):
            return self._refuse(ProtocolError(f"RLRQ in state {self._state.value}"),
                                ExceptionServiceError.OPERATION_NOT_POSSIBLE)
        ui = rlrq.user_information
        answer_ui = None
        if self._security:
            if ui and ui[0] in FORM_OF_TAG:
                try:
                    self._keys().decrypt(ui)
                except SecurityError as exc:
                    return self._refuse(exc, ExceptionServiceError.DECIPHERING_ERROR)
            response = _initiate_response(self.conformance, self.settings.max_receive_pdu_size,
                                          self._vaa_name)
            answer_ui = self._keys().encrypt(response, security_control=self._sc, form="glo")
        self._move(Trigger.RLRQ)
        self._open_requests.clear()
        self._long_get.clear()
        self._long_action.clear()
        self._gbt_out = None
        self._incoming.clear()
        return [ev.NeedToSend(RLRE(user_information=answer_ui).to_bytes()),
                ev.ReleaseRequested(rlrq.reason)]

    # -- requests ------------------------------------------------------------

    def _hold(self, iip: int, form, block: int = 0, items=None) -> None:
        self._open_requests[iip & 0x0F] = _Open(iip, form, block, items)

    def _on_get(self, plain: bytes, form) -> list[ev.Event]:
        refused = self._service_state(plain)
        if refused:
            return refused
        request = _get_request(plain)
        iip = plain[2]
        choice = plain[1]
        if choice == 1:
            if _out_of_scope(request.cosem_attribute_descriptor, request.access_selection):
                answer = GetResponseNormal(
                    invoke_id_and_priority=InvokeIdAndPriority.from_byte(iip),
                    result=_SCOPE_VIOLATED).to_bytes()
                return [ev.NeedToSend(self._reply(answer, form))]
            self._hold(iip, form)
            return [ev.GetRequested(iip & 0x0F, request.cosem_attribute_descriptor,
                                    request.access_selection)]
        if choice == 3:
            items = request.attribute_descriptor_list
            out_of_scope = frozenset(i for i, item in enumerate(items) if _out_of_scope(
                item.cosem_attribute_descriptor, item.access_selection))
            self._hold(iip, form, items=out_of_scope or None)
            return [ev.GetListRequested(iip & 0x0F, items)]
        return [ev.NeedToSend(self._next_get_block(iip, request.block_number, form))]

    def _next_get_block(self, iip: int, block_number: int, form) -> bytes:
        invoke_id = iip & 0x0F
        long = self._long_get.get(invoke_id)
        iip_object = InvokeIdAndPriority.from_byte(iip)
        if long is None or block_number != long.block:
            self._long_get.pop(invoke_id, None)
            answer = GetResponseWithDatablock(invoke_id_and_priority=iip_object,
                                              result=DataBlockG(True, block_number, _NO_LONG_GET))
            return self._reply(answer.to_bytes(), form)
        return self._reply(self._get_block(long, iip_object), long.form)

    def _get_block(self, long: _Blocks, iip: InvokeIdAndPriority) -> bytes:
        last, number, chunk = long.next_chunk()
        if last:
            self._long_get.pop(iip.invoke_id, None)
        return get_response_with_datablock_bytes(iip.value, last, number, chunk)

    def _room(self, form) -> int:
        room = self.max_pdu_size
        if self._security:
            room -= CIPHER_OVERHEAD[form or "glo"]
        return room

    def _reply(self, plain: bytes, form) -> bytes:
        if not self._security:
            return plain
        return self._keys().encrypt(plain, security_control=self._sc, form=form or "glo")

    def _take(self, request, kind: str) -> _Open:
        held = self._open_requests.pop(getattr(request, "invoke_id", _SN), None)
        if held is None:
            raise LocalProtocolError(f"no {kind} request with invoke id "
                                     f"{getattr(request, 'invoke_id', None)} awaits an answer")
        return held

    def respond_get(self, request, result) -> bytes:
        """The get-response to a GetRequested (``result``: a Data, a
        DataAccessResult, or bytes holding a value already A-XDR encoded, which
        a simulator may keep to skip encoding it again; not checked) or a
        GetListRequested (a Data, DataAccessResult or such bytes per item); cut
        into datablocks when longer than the client accepts. An item asked with
        a selective access the Blue Book rules out is answered
        scope-of-access-violated whatever its result here (a get-request-normal
        of that kind the session answers by itself)."""
        held = self._take(request, "get")
        iip = InvokeIdAndPriority.from_byte(held.iip)
        if isinstance(result, (bytes, bytearray)):
            plain = get_response_normal_bytes(held.iip, result)
        elif isinstance(request, ev.GetListRequested):
            results = tuple(result)
            if len(results) != len(request.items):
                raise UsageError(f"{len(request.items)} results expected, got {len(results)}")
            if held.items:
                results = tuple(_SCOPE_VIOLATED if i in held.items else item
                                for i, item in enumerate(results))
            if all(type(item) is bytes for item in results):
                plain = get_response_with_list_bytes(held.iip, results)
            else:
                plain = GetResponseWithList(invoke_id_and_priority=iip, result=tuple(
                    decode_typed(item) if type(item) is bytes else item
                    for item in results)).to_bytes()
        else:
            plain = GetResponseNormal(invoke_id_and_priority=iip, result=result).to_bytes()
        room = self._room(held.form)
        if len(plain) > room and self._gbt_granted():
            return self._send_in_gbt(self._reply(plain, held.form))
        if len(plain) > room:
            size = room - _DATABLOCK_HEAD
            if size < 1:
                raise LocalProtocolError(f"the client's PDU size {self.max_pdu_size} leaves no "
                                         "room for a datablock")
            # the blocks carry the Data (normal) or the SEQUENCE OF Get-Data-Result
            # (with-list): what follows the invoke id, less the normal's choice octet
            raw = plain[4:] if plain[1] == 1 else plain[3:]
            long = _Blocks(raw, size, held.form, held.iip)
            self._long_get[iip.invoke_id] = long
            plain = self._get_block(long, iip)
        return self._reply(plain, held.form)

    def _on_set(self, plain: bytes, form) -> list[ev.Event]:
        refused = self._service_state(plain)
        if refused:
            return refused
        request = parse_apdu(plain)
        iip = plain[2]
        invoke_id = iip & 0x0F
        choice = plain[1]
        if choice == 1:
            self._hold(iip, form)
            return [ev.SetRequested(invoke_id, request.cosem_attribute_descriptor,
                                    request.access_selection, request.value)]
        if choice == 4:
            self._hold(iip, form, items=request.attribute_descriptor_list)
            return [ev.SetListRequested(invoke_id, request.attribute_descriptor_list,
                                        request.value_list)]
        if choice == 2:
            head = (request.cosem_attribute_descriptor, request.access_selection)
            block = request.datablock
        elif choice == 5:
            head = request.attribute_descriptor_list
            block = request.datablock
        else:
            block = request.datablock
            head = None
        return self._set_block(iip, head, block, form)

    def _collect(self, iip: int, head, block: DataBlockSA, form, refuse, acknowledge):
        """Add one block of a long SET or ACTION request: (whole raw data and the
        head of the request once the last block is in, else None; events)."""
        invoke_id = iip & 0x0F
        iip_object = InvokeIdAndPriority.from_byte(iip)
        incoming = self._incoming.get(invoke_id)
        if head is not None:
            incoming = _Blocks(bytearray(), 0, form, iip, head)
            self._incoming[invoke_id] = incoming
        if incoming is None or block.block_number != incoming.block + 1:
            self._incoming.pop(invoke_id, None)
            return None, [ev.NeedToSend(self._reply(refuse(iip_object).to_bytes(), form))]
        try:
            incoming.raw = gathered(incoming.raw, block.raw_data, block.block_number,
                                    "the request's blocks")
        except ProtocolError:
            del self._incoming[invoke_id]
            raise
        incoming.block = block.block_number
        if not block.last_block:
            answer = acknowledge(invoke_id_and_priority=iip_object,
                                 block_number=block.block_number)
            return None, [ev.NeedToSend(self._reply(answer.to_bytes(), form))]
        del self._incoming[invoke_id]
        self._hold(iip, form, block=block.block_number)
        return (bytes(incoming.raw), incoming.head), []

    def _set_block(self, iip: int, head, block: DataBlockSA, form) -> list[ev.Event]:
        refuse = lambda iip_object: SetResponseLastDatablock(  # noqa: E731
            invoke_id_and_priority=iip_object, result=DataAccessResult.DATA_BLOCK_NUMBER_INVALID,
            block_number=block.block_number)
        whole, events = self._collect(iip, head, block, form, refuse, SetResponseDatablock)
        if whole is None:
            return events
        raw, head = whole
        if isinstance(head, tuple) and len(head) == 2 and not isinstance(
                head[0], CosemAttributeDescriptorWithSelection):
            return [ev.SetRequested(iip & 0x0F, head[0], head[1], decode_typed(raw))]
        # with-list: the blocks carry the SEQUENCE OF Data
        values = parse_apdu(b"\xC1\x04" + bytes((iip,)) + b"\x00" + raw).value_list
        self._open_requests[iip & 0x0F].items = head
        return [ev.SetListRequested(iip & 0x0F, head, values)]

    def respond_set(self, request, result=DataAccessResult.SUCCESS) -> bytes:
        """The set-response to a SetRequested (one DataAccessResult) or a
        SetListRequested (one per item)."""
        held = self._take(request, "set")
        iip = InvokeIdAndPriority.from_byte(held.iip)
        answer: ServiceApdu
        if isinstance(request, ev.SetListRequested):
            results = tuple(result) if not isinstance(result, DataAccessResult) else \
                (result,) * len(request.items)
            if held.block:
                answer = SetResponseLastDatablockWithList(invoke_id_and_priority=iip,
                                                          result=results,
                                                          block_number=held.block)
            else:
                answer = SetResponseWithList(invoke_id_and_priority=iip, result=results)
        elif held.block:
            answer = SetResponseLastDatablock(invoke_id_and_priority=iip, result=result,
                                              block_number=held.block)
        else:
            answer = SetResponseNormal(invoke_id_and_priority=iip, result=result)
        return self._reply(answer.to_bytes(), held.form)

    def _on_action(self, plain: bytes, form) -> list[ev.Event]:
        request = parse_apdu(plain)
        iip = plain[2]
        invoke_id = iip & 0x0F
        choice = plain[1]
        if (choice == 1 and self._state is State.HLS_PENDING
                and request.cosem_method_descriptor == REPLY_TO_HLS_AUTHENTICATION):
            iip_object = request.invoke_id_and_priority

            def answer(returned: Data | None) -> bytes:
                return ActionResponseNormal(
                    invoke_id_and_priority=iip_object, return_parameters=returned,
                    action_result=ActionResultEnum.OTHER_REASON if returned is None
                    else ActionResultEnum.SUCCESS).to_bytes()

            return self._hls_pass3(request.method_invocation_parameters, form, answer)
        refused = self._service_state(plain)
        if refused:
            return refused
        if choice == 1:
            self._hold(iip, form)
            return [ev.ActionRequested(invoke_id, request.cosem_method_descriptor,
                                       request.method_invocation_parameters)]
        if choice == 3:
            self._hold(iip, form, items=request.cosem_method_descriptor_list)
            return [ev.ActionListRequested(invoke_id, request.cosem_method_descriptor_list,
                                           request.method_invocation_parameters)]
        if choice == 2:
            return [ev.NeedToSend(self._next_action_block(iip, request.block_number, form))]
        if choice == 4:
            return self._action_block(iip, (request.cosem_method_descriptor,), request.pblock,
                                      form)
        if choice == 5:
            return self._action_block(iip, request.cosem_method_descriptor_list, request.pblock,
                                      form)
        return self._action_block(iip, None, request.pblock, form)

    def _action_block(self, iip: int, head, block: DataBlockSA, form) -> list[ev.Event]:
        refuse = lambda iip_object: ActionResponseNormal(  # noqa: E731
            invoke_id_and_priority=iip_object,
            action_result=ActionResultEnum.DATA_BLOCK_UNAVAILABLE)
        whole, events = self._collect(iip, head, block, form, refuse, ActionResponseNextPblock)
        if whole is None:
            return events
        raw, methods = whole
        if len(methods) == 1:
            return [ev.ActionRequested(iip & 0x0F, methods[0], decode_typed(raw))]
        # with-list: the pblocks carry the SEQUENCE OF Data
        parameters = parse_apdu(b"\xC3\x03" + bytes((iip,)) + b"\x00" + raw)
        self._open_requests[iip & 0x0F].items = methods
        return [ev.ActionListRequested(iip & 0x0F, methods,
                                       parameters.method_invocation_parameters)]

    def respond_action(self, request, result=ActionResultEnum.SUCCESS,
                       return_value: Data | None = None) -> bytes:
        """The action-response to an ActionRequested (``result`` and the optional
        returned Data), or to an ActionListRequested (``result``: one
        (ActionResult, Data or None) pair per method). Long answers go in pblocks."""
        held = self._take(request, "action")
        iip = InvokeIdAndPriority.from_byte(held.iip)
        if isinstance(request, ev.ActionListRequested):
            responses = tuple(ActionResponseWithOptionalData(r, v) for r, v in result)
            plain = ActionResponseWithList(invoke_id_and_priority=iip,
                                           list_of_responses=responses).to_bytes()
        else:
            plain = ActionResponseNormal(invoke_id_and_priority=iip, action_result=result,
                                         return_parameters=return_value).to_bytes()
        room = self._room(held.form)
        if len(plain) > room:
            size = room - _PBLOCK_HEAD
            long = _Blocks(plain[3:], size, held.form, held.iip)
            self._long_action[iip.invoke_id] = long
            plain = self._action_pblock(long, iip)
        return self._reply(plain, held.form)

    def _action_pblock(self, long: _Blocks, iip: InvokeIdAndPriority) -> bytes:
        last, number, chunk = long.next_chunk()
        if last:
            self._long_action.pop(iip.invoke_id, None)
        return ActionResponseWithPblock(invoke_id_and_priority=iip,
                                        pblock=DataBlockSA(last, number, chunk)).to_bytes()

    def _next_action_block(self, iip: int, block_number: int, form) -> bytes:
        invoke_id = iip & 0x0F
        iip_object = InvokeIdAndPriority.from_byte(iip)
        long = self._long_action.get(invoke_id)
        if long is None or block_number != long.block:
            self._long_action.pop(invoke_id, None)
            answer = ActionResponseNormal(invoke_id_and_priority=iip_object,
                                          action_result=ActionResultEnum.NO_LONG_ACTION_IN_PROGRESS)
            return self._reply(answer.to_bytes(), form)
        return self._reply(self._action_pblock(long, iip_object), long.form)

    # -- short names -----------------------------------------------------------

    def _on_read(self, plain: bytes, form) -> list[ev.Event]:
        if self._state is State.HLS_PENDING:
            request = ReadRequest.from_bytes(plain)
            parameters = request.parameters or (None,)
            if request.base_names == (self._vaa_name + SN_REPLY_TO_HLS_OFFSET,) and (
                    parameters[0] is not None):

                def answer(returned: Data | None) -> bytes:
                    return ReadResponse((returned if returned is not None
                                         else DataAccessResult.OTHER_REASON,)).to_bytes()

                return self._hls_pass3(parameters[0][1], form, answer)
        refused = self._service_state(plain)
        if refused:
            return refused
        request = ReadRequest.from_bytes(plain)
        if request.block_number is not None:
            return [ev.NeedToSend(self._next_read_block(request.block_number, form))]
        self._open_requests[_SN] = _Open(0, form)
        return [ev.ReadRequested(request.base_names, request.parameters or ())]

    def _next_read_block(self, block_number: int, form) -> bytes:
        long = self._long_get.get(_SN)
        if long is None or block_number != long.block:
            self._long_get.pop(_SN, None)
            answer = ReadResponse((DataAccessResult.NO_LONG_GET_IN_PROGRESS,))
            return self._reply(answer.to_bytes(), form)
        return self._reply(self._read_block(long), long.form)

    def _read_block(self, long: _Blocks) -> bytes:
        last, number, chunk = long.next_chunk()
        if last:
            self._long_get.pop(_SN, None)
        return ReadResponse((DataBlockResult(last, number, chunk),)).to_bytes()

    def _on_write(self, plain: bytes, form) -> list[ev.Event]:
        refused = self._service_state(plain)
        if refused:
            return refused
        request = WriteRequest.from_bytes(plain)
        self._open_requests[_SN] = _Open(0, form)
        return [ev.WriteRequested(request.base_names, request.values)]

    def respond_read(self, request: ev.ReadRequested, results) -> bytes:
        """The ReadResponse: one Data or DataAccessResult per base name."""
        held = self._take(request, "read")
        results = tuple(results)
        if len(results) != len(request.base_names):
            raise UsageError(f"{len(request.base_names)} results expected, got {len(results)}")
        plain = ReadResponse(results).to_bytes()
        room = self._room(held.form)
        if len(plain) > room and len(results) == 1 and isinstance(results[0], Data):
            # 0C 01 02, last, number(2), length(<=3)
            long = _Blocks(plain[3:], room - 9, held.form, 0)
            self._long_get[_SN] = long
            plain = self._read_block(long)
        return self._reply(plain, held.form)

    def respond_write(self, request: ev.WriteRequested, results) -> bytes:
        """The WriteResponse: one DataAccessResult per base name."""
        held = self._take(request, "write")
        results = tuple(results)
        if len(results) != len(request.base_names):
            raise UsageError(f"{len(request.base_names)} results expected, got {len(results)}")
        return self._reply(WriteResponse(results).to_bytes(), held.form)

    def data_notification(self, body: Data, *, long_invoke_id: int = 0,
                          date_time: bytes | None = None) -> bytes:
        """A data-notification (a push) to the associated client, protected as the
        association is: general-glo-ciphering, the one form a data-notification
        has (there is no glo- tag for it)."""
        if self._state is not State.ASSOCIATED:
            raise LocalProtocolError(f"data-notification needs an established association "
                                     f"(state {self._state.value})")
        plain = DataNotification(
            long_invoke_id_and_priority=LongInvokeIdAndPriority(long_invoke_id),
            date_time=date_time, notification_body=body).to_bytes()
        return self._reply(plain, "general-glo")

    def event_notification(self, descriptor: CosemAttributeDescriptor, value: Data, *,
                           time: bytes | None = None) -> bytes:
        """An event-notification-request (an attribute's new value, unconfirmed)
        to the associated client, ciphered as the association is."""
        if self._state is not State.ASSOCIATED:
            raise LocalProtocolError(f"event-notification needs an established association "
                                     f"(state {self._state.value})")
        plain = EventNotificationRequest(time=time, cosem_attribute_descriptor=descriptor,
                                         attribute_value=value).to_bytes()
        return self._reply(plain, "general-glo" if self.conformance
                           & self.conformance.GENERAL_PROTECTION else "glo")

    def _gbt_granted(self) -> bool:
        return bool(self.conformance & self.conformance.GENERAL_BLOCK_TRANSFER)

    def _send_in_gbt(self, apdu: bytes) -> bytes:
        """The first general-block-transfer block of a long (ciphered) answer; the
        others go out one by one as the client acknowledges (window 1)."""
        size = self.max_pdu_size - _GBT_HEAD
        self._gbt_out = [apdu[i:i + size] for i in range(0, len(apdu), size)]
        self._gbt_out_number = 0
        return self._next_gbt_block()

    def _next_gbt_block(self) -> bytes:
        blocks = self._gbt_out or []
        self._gbt_out_number += 1
        data = blocks.pop(0)
        last = not blocks
        if last:
            self._gbt_out = None
        return GeneralBlockTransfer(last_block=last, streaming=False, window=1,
                                    block_number=self._gbt_out_number, block_number_ack=0,
                                    block_data=data).to_bytes()

    def _on_gbt(self, plain: bytes, form) -> list[ev.Event]:
        if self._gbt_out is not None:
            received = GeneralBlockTransfer.from_bytes(plain)
            if received.block_data or received.block_number_ack != self._gbt_out_number:
                self._gbt_out = None
                raise ProtocolError(f"general-block-transfer acknowledgement of block "
                                    f"{received.block_number_ack}, block "
                                    f"{self._gbt_out_number} was sent")
            return [ev.NeedToSend(self._next_gbt_block())]
        whole, ack = self._gbt_block(plain)
        if whole is None:
            return [ev.NeedToSend(ack)] if ack is not None else []
        return self.receive_apdu(whole)


_HANDLERS = {
    0x60: ServerSession._on_aarq,
    0x62: ServerSession._on_rlrq,
    0xC0: ServerSession._on_get,
    0xC1: ServerSession._on_set,
    0xC3: ServerSession._on_action,
    0x05: ServerSession._on_read,
    0x06: ServerSession._on_write,
    0xE0: ServerSession._on_gbt,
}


__all__ = ["ServerSession"]
