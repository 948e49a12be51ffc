"""SecurityContext: the keys, system titles and invocation counters of one
association, and the ciphering and deciphering of every protected APDU form.

Green Book (DLMS UA 1000-2) 9.2.7.2, security suites 0 and 1 (AES-GCM-128)
and 2 (AES-GCM-256), 12-octet tags::

    IV  = system title of the sender (8) || IC (4, big-endian)
    SC 0x1n  authentication only:  AAD = SC || AK || APDU,  sent APDU || T
    SC 0x2n  encryption only:      no AAD, no tag,          sent C
    SC 0x3n  both:                 AAD = SC || AK,          sent C || T

    key: glo- and general-glo-ciphering  block cipher key (global unicast EK),
                                         or the broadcast key when SC bit 6 is set
         ded- and general-ded-ciphering  dedicated key (from the InitiateRequest)
         general-ciphering               as key-info says (identified or wrapped)

For general-ciphering with suites 1 and 2 the AAD also carries the header
fields (transaction-id, originator and recipient system titles, date-time,
other-information, each as an A-XDR octet string), as Gurux does.

The sender's invocation counter goes up by one per APDU, never wraps and is
never set back (an IV must not repeat under one key); a write-ahead hook
(``on_invocation_counter``) persists it before an APDU carrying it is
ciphered. The receiver keeps the last IC it accepted and rejects any IC that
is not above it (ReplayError), any wrong tag (TagError) and any APDU with
less protection than the policy (PolicyError). Keys never appear in reprs or
error messages.

Every rule (what may be sent, what is accepted, which key) is the compiled
core's (:class:`dlmsfast.security._gcm.CipheringCore`); this module adds
general-ciphering, the explain steps and the settings, and calls the core's
rules for them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union
from hmac import compare_digest

from . import _gcm
from .._util import octets_argument, shown
from ..errors import ConfigurationError, DecodeError, PolicyError, TagError, UsageError
from ._gcm import (
    MAX_INVOCATION_COUNTER,
    SC_AUTHENTICATION,
    SC_BROADCAST_KEY,
    SC_ENCRYPTION,
    TAG_LENGTH,
)
from .ciphered import (
    CipheredApdu,
    GeneralCiphering,
    GeneralDedCiphering,
    IdentifiedKey,
    SecurityControl,
    WrappedKey,
    octet_string,
    parse_ciphered,
)
from .keywrap import unwrap_key

FORMS = ("glo", "ded", "general-glo", "general-ded", "general-ciphering")

#: keys and system titles: octets, or the same as hex text
Octets = Union[bytes, bytearray, memoryview, str]

_KEY_LENGTH = {0: 16, 1: 16, 2: 32}
_FULL_PROTECTION = SC_AUTHENTICATION | SC_ENCRYPTION


def _octets(value, name: str, length: int) -> bytes:
    """bytes (or hex text) of exactly ``length`` octets: a wrong type is a
    UsageError (an int is refused: ``bytes(16)`` would be an all-zero key), a
    wrong length (empty included, never padded) a ConfigurationError."""
    if isinstance(value, str):
        try:
            value = bytes.fromhex(value)
        except ValueError:
            raise UsageError(f"{name} must be bytes or hex") from None
    value = octets_argument(value, name)
    if len(value) != length:
        raise ConfigurationError(f"{name} must be {length} octets, got {len(value)}")
    return value


def _key_bytes(value, name: str, length: int, *, optional: bool = False) -> bytes | None:
    if value is None:
        if optional:
            return None
        raise ConfigurationError(f"{name} is required")
    return _octets(value, name, length)


def _system_title_bytes(value, name: str) -> bytes | None:
    return None if value is None else _octets(value, name, 8)


def _iv(system_title: bytes, invocation_counter: int) -> bytes:
    return system_title + invocation_counter.to_bytes(4, "big")


@dataclass(frozen=True, slots=True)
class CipheringSteps:
    """Each step of ciphering or deciphering one APDU, for ``--explain``.

    ``aad`` holds the authentication key when SC says "authenticated", and
    ``plaintext`` may hold keys too (the dedicated key of a glo-initiateRequest,
    a secret being set), so both are left out of the repr, as AARQ leaves out
    its user-information; ``aad_layout`` names the parts of the AAD.
    """

    service: str
    security_control: SecurityControl
    invocation_counter: int
    system_title: bytes
    iv: bytes
    key_used: str
    aad_layout: str
    ciphertext: bytes
    plaintext: bytes = field(repr=False)
    computed_tag: bytes
    received_tag: bytes
    tag_ok: bool | None
    aad: bytes = field(default=b"", repr=False)


class SecurityContext(_gcm.CipheringCore):
    """Keys, system titles and invocation counters of one association.

    ``encrypt(apdu, *, security_control=None, form="glo", transaction_id=None,
    date_time=None, other_information=None, key_info=None)`` ciphers
    a plaintext xDLMS APDU with the next invocation counter. ``form``: "glo",
    "ded" (service-specific, tag from the APDU's first octet), "general-glo",
    "general-ded" or "general-ciphering" (then ``transaction_id`` defaults to
    the IC on 8 octets, ``date_time`` and ``other_information`` to empty, the
    recipient is the peer system title, and ``key_info`` says which key; None
    means the block cipher key). ``security_control`` defaults to 0x30 | suite.

    ``decrypt(data, *, system_title=None)`` deciphers and checks any ciphered
    APDU and returns the plaintext APDU: a wrong tag is a TagError, a
    replayed IC a ReplayError, an SC below the security policy a PolicyError,
    a malformed APDU a DecodeError. ``system_title`` overrides the peer system
    title for the IV (the general forms carry their own).

    Both run in the compiled core (:class:`dlmsfast.security._gcm.CipheringCore`) for
    glo-, ded-, general-glo- and general-ded-ciphering, one C call per APDU;
    this class adds general-ciphering, the explain steps and the settings.

    ``invocation_counter`` is the IC the next ciphered APDU will carry; it
    only moves forward (setting it lower is a UsageError: those ICs may have
    been used under the same key). ``on_invocation_counter`` is the
    write-ahead hook: called with an IC before any APDU carrying it is
    ciphered, it returns None (that IC is persisted) or an int limit (every IC
    below it is persisted: the hook is not called again before the counter
    reaches it, so a store can reserve blocks); when it raises, nothing is
    ciphered and the IC is not consumed. ``peer_invocation_counter`` is the
    last IC accepted from the peer (None before the first).

    Keys are bytes or hex strings; their length follows the security suite
    (16 octets for suites 0 and 1, 32 for suite 2). ``security_policy`` holds
    the SC bits (0x10 authentication, 0x20 encryption) every received APDU
    must carry. By default it is the protection this context sends (0x30):
    an APDU with less is refused, so a stripped tag cannot pass as
    "encryption only"; lowering it (e.g. ``security_policy=0x20``) is the
    caller's explicit choice.
    """

    __slots__ = ("_backend", "_ek", "_broadcast_key", "_dedicated_key", "_master_key")

    def __init__(
        self,
        *,
        system_title: Octets,
        # None is accepted to be refused with a ConfigurationError naming the
        # key (callers building a context from a settings file rely on it)
        block_cipher_key: Octets | None,
        authentication_key: Octets | None,
        peer_system_title: Octets | None = None,
        broadcast_key: Octets | None = None,
        dedicated_key: Octets | None = None,
        master_key: Octets | None = None,
        security_suite: int = 0,
        invocation_counter: int = 0,
        peer_invocation_counter: int | None = None,
        security_policy: int | None = None,
        backend: str | None = None,
        on_invocation_counter: Callable[[int], int | None] | None = None,
    ) -> None:
        if type(security_suite) is not int or security_suite not in _KEY_LENGTH:
            raise UsageError(f"security suite must be 0, 1 or 2, got {shown(security_suite)}")
        if backend is not None and backend not in _gcm.BACKENDS:
            raise UsageError(f"backend must be one of {_gcm.BACKENDS}, got {shown(backend)}")
        self._suite = security_suite
        self._backend = backend if backend is not None else _gcm.backend
        if system_title is None:
            raise ConfigurationError("system_title is required")
        self._system_title = _system_title_bytes(system_title, "system_title")
        self._peer_system_title = _system_title_bytes(peer_system_title, "peer_system_title")
        self.block_cipher_key = block_cipher_key
        self.authentication_key = authentication_key
        self.broadcast_key = broadcast_key
        self.dedicated_key = dedicated_key
        self.master_key = master_key
        self.invocation_counter = invocation_counter
        self.peer_invocation_counter = peer_invocation_counter
        self.security_policy = _FULL_PROTECTION if security_policy is None else security_policy
        self.on_invocation_counter = on_invocation_counter

    # -- properties ----------------------------------------------------------

    @property
    def system_title(self) -> bytes:
        return self._system_title

    @property
    def peer_system_title(self) -> bytes | None:
        return self._peer_system_title

    @peer_system_title.setter
    def peer_system_title(self, value) -> None:
        self._peer_system_title = _system_title_bytes(value, "peer_system_title")

    @property
    def security_suite(self) -> int:
        return self._suite

    @property
    def backend(self) -> str:
        return self._backend

    def _keyed(self, value, name: str, *, optional: bool = True):
        """(key, AesGcm keyed with it) for this suite; (None, None) when unset."""
        key = _key_bytes(value, name, _KEY_LENGTH[self._suite], optional=optional)
        return key, (None if key is None else _gcm.AesGcm(key, self._backend))

    # Changing a key leaves the invocation counters alone: the counter never
    # goes back, so an IV cannot repeat under a key that comes back; a fresh
    # key with fresh counters is a fresh SecurityContext.

    @property
    def authentication_key(self) -> bytes:
        return self._ak

    @authentication_key.setter
    def authentication_key(self, value) -> None:
        self._ak = _key_bytes(value, "authentication_key", _KEY_LENGTH[self._suite])

    @property
    def block_cipher_key(self) -> bytes:
        """The global unicast encryption key (EK)."""
        return self._ek

    @block_cipher_key.setter
    def block_cipher_key(self, value) -> None:
        self._ek, self._unicast = self._keyed(value, "block_cipher_key", optional=False)

    @property
    def broadcast_key(self) -> bytes | None:
        """The global broadcast encryption key, chosen by SC bit 6."""
        return self._broadcast_key

    @broadcast_key.setter
    def broadcast_key(self, value) -> None:
        self._broadcast_key, self._broadcast = self._keyed(value, "broadcast_key")

    @property
    def dedicated_key(self) -> bytes | None:
        return self._dedicated_key

    @dedicated_key.setter
    def dedicated_key(self, value) -> None:
        """Set from the InitiateRequest; None ends its use."""
        self._dedicated_key, self._dedicated = self._keyed(value, "dedicated_key")

    @property
    def master_key(self) -> bytes | None:
        """The master key (KEK) that unwraps keys of general-ciphering wrapped-key."""
        return self._master_key

    @master_key.setter
    def master_key(self, value) -> None:
        self._master_key = _key_bytes(value, "master_key", _KEY_LENGTH[self._suite],
                                      optional=True)

    @property
    def security_policy(self) -> int:
        """SC bits every received APDU must carry (0, 0x10, 0x20 or 0x30)."""
        return self._security_policy

    @security_policy.setter
    def security_policy(self, value: int) -> None:
        if type(value) is not int or value & ~_FULL_PROTECTION:
            raise UsageError("security_policy holds SC bits 0x10 (authentication) and "
                             f"0x20 (encryption) only, got {shown(value)}")
        self._security_policy = value

    @property
    def invocation_counter(self) -> int:
        """The IC of the next ciphered APDU; it moves forward only."""
        return self._invocation_counter

    @invocation_counter.setter
    def invocation_counter(self, value: int) -> None:
        self._set_invocation_counter(value)

    @property
    def on_invocation_counter(self):
        """The write-ahead hook (see the class docstring), or None."""
        return self._on_invocation_counter

    @on_invocation_counter.setter
    def on_invocation_counter(self, hook) -> None:
        self._set_on_invocation_counter(hook)

    @property
    def peer_invocation_counter(self) -> int | None:
        return None if self._peer_invocation_counter < 0 else self._peer_invocation_counter

    @peer_invocation_counter.setter
    def peer_invocation_counter(self, value: int | None) -> None:
        if value is None:
            self._peer_invocation_counter = -1
            return
        if type(value) is not int or not 0 <= value <= MAX_INVOCATION_COUNTER:
            raise UsageError(f"peer invocation counter must be 0..2**32-1, got {shown(value)}")
        self._peer_invocation_counter = value

    def __repr__(self) -> str:
        keys = ["EK", "AK"]
        if self._broadcast_key is not None:
            keys.append("broadcast")
        if self._dedicated_key is not None:
            keys.append("dedicated")
        if self._master_key is not None:
            keys.append("master")
        peer = self._peer_system_title.hex().upper() if self._peer_system_title else None
        return (
            f"SecurityContext(system_title={self._system_title.hex().upper()}, "
            f"peer_system_title={peer}, security_suite={self._suite}, "
            f"invocation_counter={self._invocation_counter}, "
            f"peer_invocation_counter={self.peer_invocation_counter}, "
            f"security_policy=0x{self._security_policy:02X}, "
            f"keys set: {', '.join(keys)}, backend={self._backend!r})"
        )

    # -- general-ciphering ---------------------------------------------------

    def _general_cipher(self, apdu: GeneralCiphering, *, received: bool):
        """(AesGcm, key name) as general-ciphering's key-info says. A key that
        cannot be had is this side's configuration when sending
        (ConfigurationError), the peer's refused protection when received
        (PolicyError), as in the compiled core's key choice."""
        refused = PolicyError if received else ConfigurationError
        key_info = apdu.key_info
        if key_info is None:
            return self._cipher_for(apdu.security_control.value, False, received)
        if isinstance(key_info, IdentifiedKey):
            if key_info.key_id == 0:
                return (self._cipher_for(0, False, received)[0],
                        "global unicast key (identified-key 0)")
            if key_info.key_id == 1:
                return self._cipher_for(SC_BROADCAST_KEY, False, received)
            raise refused(f"unknown identified key-id {key_info.key_id}")
        if isinstance(key_info, WrappedKey):
            if self._master_key is None:
                raise refused("wrapped-key needs the master key (KEK), which is not set")
            if key_info.kek_id != 0:
                raise refused(f"unknown kek-id {key_info.kek_id}")
            key = unwrap_key(self._master_key, key_info.key_ciphered_data)
            if len(key) != _KEY_LENGTH[self._suite]:
                raise refused("the wrapped key does not fit this security suite")
            return _gcm.AesGcm(key, self._backend), "wrapped key (unwrapped with the master key)"
        raise refused(
            "agreed-key needs an ECDH key agreement (suites 1 and 2), not supported here"
        )

    def _aad(self, sc: int, extra: bytes, plaintext_in_clear: bytes) -> tuple[bytes, str]:
        if not sc & SC_AUTHENTICATION:
            return b"", "none (no tag)"
        layout = "SC || AK"
        aad = bytes((sc,)) + self._ak
        if extra:
            aad += extra
            layout += " || general-ciphering header"
        if not sc & SC_ENCRYPTION:
            aad += plaintext_in_clear
            layout += " || plaintext"
        return aad, layout

    @staticmethod
    def _general_header(apdu: GeneralCiphering) -> bytes:
        if apdu.security_control.security_suite == 0:
            return b""
        return b"".join(octet_string(v) for v in (
            apdu.transaction_id, apdu.originator_system_title, apdu.recipient_system_title,
            apdu.date_time, apdu.other_information))

    def _encrypt_general(self, apdu, sc: int, form: str, transaction_id, date_time,
                         other_information, key_info) -> bytes:
        """general-ciphering (the other forms are built by the compiled core)."""
        if form not in FORMS:
            raise UsageError(f"form must be one of {FORMS}, got {shown(form)}")
        if form != "general-ciphering":
            raise UsageError("transaction_id, date_time, other_information and key_info "
                             "apply to general-ciphering only")
        if self._peer_system_title is None:
            raise ConfigurationError("general-ciphering needs the peer (recipient) system "
                                     "title")
        apdu = octets_argument(apdu, "APDU")
        fields = [None if v is None else octets_argument(v, name) for v, name in (
            (transaction_id, "transaction_id"), (date_time, "date_time"),
            (other_information, "other_information"))]
        if key_info is not None and not isinstance(key_info, (IdentifiedKey, WrappedKey)):
            raise UsageError("key_info must be an IdentifiedKey or a WrappedKey, "
                             f"got {type(key_info).__name__}")
        probe = GeneralCiphering(b"", self._system_title, self._peer_system_title, b"", b"",
                                 key_info, SecurityControl(sc), 0, b"", b"")
        cipher, _ = self._general_cipher(probe, received=False)
        ic = self._take_invocation_counter()
        transaction_id, date_time, other_information = fields
        shell = GeneralCiphering(
            ic.to_bytes(8, "big") if transaction_id is None else transaction_id,
            self._system_title, self._peer_system_title,
            date_time or b"", other_information or b"",
            key_info, SecurityControl(sc), ic, b"", b"",
        )
        info, tag = self._seal(cipher, sc, self._system_title, ic, self._general_header(shell),
                               apdu)
        return GeneralCiphering(
            shell.transaction_id, shell.originator_system_title, shell.recipient_system_title,
            shell.date_time, shell.other_information, key_info, shell.security_control, ic,
            info, tag,
        ).to_bytes()

    def _seal(self, cipher, sc, system_title, ic, extra, plaintext) -> tuple[bytes, bytes]:
        iv = _iv(system_title, ic)
        aad, _ = self._aad(sc, extra, plaintext)
        if sc & SC_ENCRYPTION:
            sealed = cipher.encrypt(iv, plaintext, aad, TAG_LENGTH if sc & SC_AUTHENTICATION else 0)
            if sc & SC_AUTHENTICATION:
                return sealed[:-TAG_LENGTH], sealed[-TAG_LENGTH:]
            return sealed, b""
        return plaintext, cipher.encrypt(iv, b"", aad)

    # -- deciphering ---------------------------------------------------------

    def _peer_title(self, system_title) -> bytes:
        title = _system_title_bytes(system_title, "system_title")
        if title is None:
            title = self._peer_system_title
        if title is None:
            raise ConfigurationError("the peer system title is unknown: pass system_title=")
        return title

    def _decrypt_general(self, data, system_title) -> bytes:
        # only general-ciphering comes here: the compiled core takes the others
        apdu = parse_ciphered(data)
        self._check_received(apdu.security_control.value, apdu.invocation_counter)
        steps = self._steps(apdu, system_title)
        if steps.tag_ok is False:
            raise TagError("authentication tag mismatch")
        self._accept_peer_invocation_counter(steps.invocation_counter)
        return steps.plaintext

    def explain_decrypt(self, data: bytes | bytearray | memoryview, *,
                        system_title: Octets | None = None) -> CipheringSteps:
        """The deciphering steps of ``data``, with ``tag_ok``; changes no counter
        and checks neither the policy nor replay (it explains, it accepts nothing).

        A wrong tag is reported (tag_ok False), not raised; a malformed APDU
        is a DecodeError.
        """
        return self._steps(parse_ciphered(data), system_title)

    def _steps(self, apdu, system_title) -> CipheringSteps:
        sc = apdu.security_control.value
        ic = apdu.invocation_counter
        extra = b""
        if isinstance(apdu, GeneralCiphering):
            cipher, key_used = self._general_cipher(apdu, received=True)
            title = apdu.originator_system_title
            extra = self._general_header(apdu)
        else:
            dedicated = isinstance(apdu, GeneralDedCiphering) or getattr(apdu, "dedicated",
                                                                         False)
            cipher, key_used = self._cipher_for(sc, dedicated, True)
            title = (None if isinstance(apdu, CipheredApdu) else apdu.system_title) \
                or self._peer_title(system_title)
        if len(title) != 8:
            raise DecodeError(f"system title must be 8 octets for the IV, got {len(title)}")
        iv = _iv(title, ic)
        plaintext = (cipher.decrypt(iv, apdu.ciphertext) if sc & SC_ENCRYPTION
                     else apdu.ciphertext)
        aad, layout = self._aad(sc, extra, plaintext)
        computed = b""
        tag_ok = None
        if sc & SC_AUTHENTICATION:
            computed = cipher.encrypt(iv, plaintext if sc & SC_ENCRYPTION else b"", aad)[
                -TAG_LENGTH:]
            tag_ok = compare_digest(computed, apdu.authentication_tag)
        return CipheringSteps(
            service=apdu.service, security_control=apdu.security_control,
            invocation_counter=ic, system_title=title, iv=iv, key_used=key_used,
            aad_layout=layout, ciphertext=apdu.ciphertext, plaintext=plaintext,
            computed_tag=computed, received_tag=apdu.authentication_tag, tag_ok=tag_ok,
            aad=aad,
        )

    def explain_encrypt(self, apdu, *, security_control: int | None = None,
                        form: str = "glo", invocation_counter: int | None = None,
                        **general) -> tuple[bytes, CipheringSteps]:
        """Cipher like :meth:`encrypt` and return (bytes, steps).

        ``invocation_counter`` moves the context's counter forward to that IC
        first (a lower one than the next is a UsageError, as when setting
        ``invocation_counter``); either way the IC used is consumed, so no
        two APDUs ever share an IC under one key.
        """
        if invocation_counter is not None:
            self.invocation_counter = invocation_counter
        data = self.encrypt(apdu, security_control=security_control, form=form, **general)
        steps = self.explain_decrypt(data, system_title=self._system_title)
        return data, steps
