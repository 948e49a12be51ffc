"""What both roles share: the state, the ciphering of what is sent and the
deciphering of what is received (following the association's security policy),
and the reassembly of general-block-transfer.

Ciphering forms and the tags that say which one arrived::

    glo-         C8..CF (get/set/action ...), 21..38 (initiate, SN)   global key
    ded-         D0..D7, 41..58                                       dedicated key
    general-glo  DB  system-title  ciphered-content                   global key
    general-ded  DC  system-title  ciphered-content                   dedicated key
    general-ciphering  DD  transaction-id  titles  date-time  other  key-info  content

A side answers in the form the request came in. HLS f(StoC)/f(CtoS) checking
(the invocation counter rule that lets the answer share its carrier's counter)
and general-block-transfer (reassembly, acknowledgement) live here too.

The received form decides nothing about acceptance: the SecurityContext checks
the security control against the policy (SC bits the association set up) and
the invocation counter; a plain APDU in a ciphered association is refused here
(PolicyError), except ACSE APDUs and the peer's error reports, which are never
ciphered.
"""
from __future__ import annotations

from typing import Callable

from ..apdu import Conformance, GeneralBlockTransfer
from ..errors import ConfigurationError, PolicyError, ProtocolError
from ..security import SecurityContext, hls
from ..security.ciphered import DED_TAG, GLO_TAG
from ..security.mechanism import MechanismName
from ._state import Role, State, Trigger, next_state

FORM_OF_TAG: dict[int, str] = {
    **{tag: "glo" for tag in GLO_TAG.values()},
    **{tag: "ded" for tag in DED_TAG.values()},
    0xDB: "general-glo",
    0xDC: "general-ded",
    0xDD: "general-ciphering",
}
"""Ciphered APDU tag -> the ciphering form it is."""

# tag(1) + length(<=3) + SC(1) + IC(4) + tag(12); the general forms add the title
CIPHER_OVERHEAD = {"glo": 21, "ded": 21, "general-glo": 30, "general-ded": 30,
                   "general-ciphering": 64}

# Never ciphered: ACSE (their user-information is), the peer's error reports, and
# general-block-transfer (whose blocks carry a ciphered APDU).
_ALWAYS_PLAIN = frozenset({0x60, 0x61, 0x62, 0x63, 0x0E, 0xD8, 0xE0})
_PROTECTED_STATES = frozenset({State.HLS_PENDING, State.ASSOCIATED, State.RELEASE_SENT})

MAX_REASSEMBLED_LENGTH = 1 << 24
"""The most octets one answer or request may gather from blocks (GET/READ
datablocks, SET datablocks, ACTION pblocks, general-block-transfer): 16 MiB,
several times a year of 15-minute load profile with ten columns. Block numbers
run to 2**32, so without it a broken or hostile peer that never sends the last
block makes this side read, and hold, forever."""

MAX_BLOCKS = 1 << 16
"""The most blocks one answer or request may come in. Blocks may be empty, so
:data:`MAX_REASSEMBLED_LENGTH` alone bounds the memory, not the time; 65536
blocks of even 128-octet HDLC frames carry 8 MiB."""


def gathered(buffer: bytearray | None, data: bytes, block_number: int, what: str) -> bytearray:
    """``buffer`` (None for the first block) with one more block's ``data``; a
    ProtocolError naming ``what`` and the block once past the bounds above."""
    if block_number > MAX_BLOCKS:
        raise ProtocolError(f"{what}: block {block_number} is past the last block accepted "
                            f"({MAX_BLOCKS}); the peer never ends its blocks")
    if buffer is None:
        buffer = bytearray()
    if len(buffer) + len(data) > MAX_REASSEMBLED_LENGTH:
        raise ProtocolError(f"{what}: block {block_number} makes the whole longer than "
                            f"{MAX_REASSEMBLED_LENGTH} octets")
    buffer += data
    return buffer


class SessionBase:
    """State, keys and ciphering of one association (base of both roles)."""

    __slots__ = (
        "_role", "_state", "_context", "_security", "_sc", "_form", "conformance",
        "max_pdu_size", "peer_max_receive_pdu_size", "peer_system_title", "_peer_ic_before",
        "_gbt", "_gbt_sent", "_gbt_received", "on_plaintext",
    )

    def __init__(self, role: Role) -> None:
        self._role = role
        self._state = State.IDLE
        self._context: SecurityContext | None = None
        self._security = 0
        self._sc = 0
        self._form = "glo"
        self.conformance = Conformance(0)
        self.max_pdu_size = 0
        self.peer_max_receive_pdu_size = 0
        self.peer_system_title: bytes | None = None
        self._peer_ic_before: int | None = None
        self._gbt: bytearray | None = None
        self._gbt_sent = 0
        self._gbt_received = 0
        # a trace's view of what the ciphering hides: called with ("out", plain)
        # before it is ciphered and ("in", plain) once deciphered; keys never pass
        self.on_plaintext: Callable[[str, bytes], None] | None = None

    @property
    def state(self) -> State:
        """The association state (see :mod:`dlmsfast.session._state`)."""
        return self._state

    @property
    def security_context(self):
        """The SecurityContext in use (keys, counters), or None."""
        return self._context

    @property
    def security(self) -> int:
        """SC bits of the association: 0, 0x10 (auth), 0x20 (enc) or 0x30 (authenc)."""
        return self._security

    def _move(self, trigger: Trigger) -> None:
        self._state = next_state(self._role, self._state, trigger)

    def abort(self) -> None:
        """Forget the association (the link dropped): back to IDLE, nothing to send."""
        self._move(Trigger.ABORT)
        self._gbt = None

    # -- ciphering -----------------------------------------------------------

    def _keys(self) -> SecurityContext:
        """The SecurityContext, which every ciphered association has."""
        context = self._context
        if context is None:
            raise ConfigurationError("this association has no SecurityContext (keys)")
        return context

    def _protect(self, plain: bytes, form: str | None = None) -> bytes:
        """``plain`` ciphered as the association requires (as it is without security)."""
        if not self._security:
            return plain
        ciphered = self._keys().encrypt(plain, security_control=self._sc, form=form or self._form)
        if self.on_plaintext is not None:
            self.on_plaintext("out", plain)
        return ciphered

    def _open(self, data: bytes) -> tuple[bytes, str | None]:
        """(plaintext APDU, ciphering form or None) of a received APDU."""
        tag = data[0]
        form = FORM_OF_TAG.get(tag)
        if form is None:
            if self._security and tag not in _ALWAYS_PLAIN and self._state in _PROTECTED_STATES:
                raise PolicyError(
                    f"the association requires security 0x{self._security:02X}, "
                    f"the peer sent an unprotected APDU (tag 0x{tag:02X})")
            return data, None
        context = self._context
        if context is None:
            raise ProtocolError(f"ciphered APDU (tag 0x{tag:02X}) received, but this "
                                "association has no keys")
        self._peer_ic_before = context.peer_invocation_counter
        plain = context.decrypt(data)
        if self.on_plaintext is not None:
            self.on_plaintext("in", plain)
        return plain, form

    def _verify_hls(self, mechanism, response: bytes, challenge: bytes, peer_challenge: bytes,
                    secret: bytes | None, own_title: bytes | None) -> None:
        """Check the peer's HLS answer (f(StoC) on the server, f(CtoS) on the
        client) to the ``challenge`` this side sent; SecurityError when wrong."""
        if mechanism != MechanismName.HLS_GMAC:
            hls.verify(mechanism, response, challenge, secret=secret, context=self._context,
                       peer_challenge=peer_challenge, own_system_title=own_title,
                       peer_system_title=self.peer_system_title)
            return
        # The answer may carry the invocation counter of the ciphered APDU that
        # brought it (Gurux does so): it is checked against the counter accepted
        # before that APDU, and the larger of the two stays accepted.
        context = self._keys()
        accepted = context.peer_invocation_counter
        if self._security:
            context.peer_invocation_counter = self._peer_ic_before
        try:
            hls.verify(mechanism, response, challenge, context=context,
                       peer_system_title=self.peer_system_title)
        finally:
            latest = context.peer_invocation_counter
            if accepted is not None and (latest is None or latest < accepted):
                context.peer_invocation_counter = accepted

    # -- general block transfer ----------------------------------------------

    def _gbt_block(self, data: bytes) -> tuple[bytes | None, bytes | None]:
        """(whole APDU once the last block is in, acknowledgement to send or None)."""
        block = GeneralBlockTransfer.from_bytes(data)
        expected = 1 if self._gbt is None else self._gbt_received + 1
        if block.block_number != expected:
            self._gbt = None
            raise ProtocolError(f"general-block-transfer block {block.block_number} "
                                f"received, expected {expected}")
        try:
            self._gbt = gathered(self._gbt, block.block_data, block.block_number,
                                 "general-block-transfer")
        except ProtocolError:
            self._gbt = None
            raise
        self._gbt_received = block.block_number
        if block.last_block:
            whole = bytes(self._gbt)
            self._gbt = None
            return whole, None
        # Without streaming every block is acknowledged; with streaming, at the
        # end of each window the peer announced.
        if block.streaming and block.window and block.block_number % block.window:
            return None, None
        self._gbt_sent += 1
        ack = GeneralBlockTransfer(last_block=False, streaming=False, window=block.window or 1,
                                   block_number=self._gbt_sent & 0xFFFF,
                                   block_number_ack=block.block_number, block_data=b"")
        return None, ack.to_bytes()


__all__ = ["SessionBase", "FORM_OF_TAG", "CIPHER_OVERHEAD", "MAX_BLOCKS", "MAX_REASSEMBLED_LENGTH",
           "gathered"]
