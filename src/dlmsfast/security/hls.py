"""Authentication mechanisms of the association (Green Book 9.2.7.4).

LLS (mechanism 1) sends the password in the AARQ. HLS (2..7) is a four-pass
exchange: the client sends CtoS in the AARQ, the server StoC in the AARE;
then the client sends f(StoC) with reply_to_HLS_authentication and the
server answers f(CtoS). Each party computes f over the challenge it
received::

    3  HLS-MD5      f(X) = MD5(X || secret)
    4  HLS-SHA-1    f(X) = SHA-1(X || secret)
    5  HLS-GMAC     f(X) = SC || IC || GMAC(SC || AK || X)
                    IV = system title of the party computing f || IC,
                    SC = 0x10 | security suite, key = block cipher key
    6  HLS-SHA-256  client: f(StoC) = SHA-256(secret || ST-C || ST-S || StoC || CtoS)
                    server: f(CtoS) = SHA-256(secret || ST-S || ST-C || CtoS || StoC)

Mechanism 6 is thus SHA-256(secret || own ST || peer ST || received
challenge || own challenge) from either side, which is how :func:`respond`
and :func:`verify` treat it. Mechanism 2 is manufacturer specific and
mechanism 7 (ECDSA) needs suite 1/2 certificates: neither is offered here.
Comparisons are constant-time; a failed check is a SecurityError whose
message carries no secret.
"""
from __future__ import annotations

import hashlib
from hmac import compare_digest

from . import _gcm
from .._util import octets_argument
from ..errors import SecurityError, UsageError
from .ciphered import SC_AUTHENTICATION
from .context import SecurityContext
from .mechanism import MechanismName

GMAC_SECURITY_CONTROL = SC_AUTHENTICATION  # authentication only
_GMAC_RESPONSE_LENGTH = 1 + 4 + 12


AuthenticationMechanism = MechanismName
"""mechanism-name id (OID 2.16.756.5.8.2.<id>): the ACSE enumeration, one for both layers."""


def hls_md5(challenge: bytes, secret: bytes) -> bytes:
    return hashlib.md5(bytes(challenge) + bytes(secret)).digest()


def hls_sha1(challenge: bytes, secret: bytes) -> bytes:
    return hashlib.sha1(bytes(challenge) + bytes(secret)).digest()


def hls_sha256(secret: bytes, own_system_title: bytes, peer_system_title: bytes,
               received_challenge: bytes, own_challenge: bytes) -> bytes:
    return hashlib.sha256(
        bytes(secret) + bytes(own_system_title) + bytes(peer_system_title)
        + bytes(received_challenge) + bytes(own_challenge)
    ).digest()


def hls_gmac(challenge: bytes, *, system_title: bytes, invocation_counter: int,
             block_cipher_key: bytes, authentication_key: bytes, security_suite: int = 0,
             backend: str | None = None) -> bytes:
    """SC || IC || GMAC tag (12 octets) over SC || AK || challenge."""
    system_title = bytes(system_title)
    if len(system_title) != 8:
        raise UsageError(f"system title must be 8 octets, got {len(system_title)}")
    if not 0 <= invocation_counter <= 0xFFFFFFFF:
        raise UsageError(f"invocation counter must fit 4 octets, got {invocation_counter}")
    sc = GMAC_SECURITY_CONTROL | security_suite
    ic = invocation_counter.to_bytes(4, "big")
    tag = _gcm.AesGcm(bytes(block_cipher_key), backend).encrypt(
        system_title + ic, b"", bytes((sc,)) + bytes(authentication_key) + bytes(challenge)
    )
    return bytes((sc,)) + ic + tag


def lls_check(password: bytes, received: bytes) -> None:
    """LLS: the AARQ's calling-authentication-value must equal the password."""
    if not compare_digest(octets_argument(password, "password"),
                          octets_argument(received, "received password")):
        raise SecurityError("LLS password mismatch")


def _titles(context, own_system_title, peer_system_title):
    own = own_system_title if own_system_title is not None else (
        context.system_title if context is not None else None)
    peer = peer_system_title if peer_system_title is not None else (
        context.peer_system_title if context is not None else None)
    if own is None or peer is None:
        raise UsageError("HLS-SHA-256 needs both system titles (or a context with them)")
    return bytes(own), bytes(peer)


def _need_secret(secret, mechanism) -> bytes:
    if secret is None:
        raise UsageError(f"{mechanism.blue_book_name} needs the secret")
    return octets_argument(secret, "secret")


def _need_context(context, mechanism) -> SecurityContext:
    if context is None:
        raise UsageError(f"{mechanism.blue_book_name} needs a SecurityContext")
    return context


def respond(mechanism: int, challenge: bytes, *, secret: bytes | None = None,
            context: SecurityContext | None = None, own_challenge: bytes = b"",
            own_system_title: bytes | None = None,
            peer_system_title: bytes | None = None) -> bytes:
    """What this party sends for the ``challenge`` it received.

    The client calls it with StoC (giving f(StoC)), the server with CtoS
    (giving f(CtoS)). HLS-GMAC uses the context's system title, keys and next
    invocation counter (which it consumes).
    """
    mechanism = AuthenticationMechanism.given(mechanism, "mechanism")
    if mechanism == AuthenticationMechanism.LLS:
        return _need_secret(secret, mechanism)
    if mechanism == AuthenticationMechanism.HLS_MD5:
        return hls_md5(challenge, _need_secret(secret, mechanism))
    if mechanism == AuthenticationMechanism.HLS_SHA1:
        return hls_sha1(challenge, _need_secret(secret, mechanism))
    if mechanism == AuthenticationMechanism.HLS_SHA256:
        own, peer = _titles(context, own_system_title, peer_system_title)
        return hls_sha256(_need_secret(secret, mechanism), own, peer, challenge, own_challenge)
    if mechanism == AuthenticationMechanism.HLS_GMAC:
        context = _need_context(context, mechanism)
        return hls_gmac(
            challenge, system_title=context.system_title,
            invocation_counter=context._take_invocation_counter(),
            block_cipher_key=context.block_cipher_key,
            authentication_key=context.authentication_key,
            security_suite=context.security_suite, backend=context.backend,
        )
    raise UsageError(f"mechanism {mechanism.blue_book_name} has no response to compute here")


def verify(mechanism: int, response: bytes, challenge: bytes, *,
           secret: bytes | None = None, context: SecurityContext | None = None,
           peer_challenge: bytes = b"", own_system_title: bytes | None = None,
           peer_system_title: bytes | None = None) -> None:
    """Check the peer's answer to the ``challenge`` this party sent.

    The server checks f(StoC) with its StoC, the client f(CtoS) with its
    CtoS. Raises SecurityError when it does not check. HLS-GMAC also refuses
    an IC not above the context's peer invocation counter, and records the
    accepted one there.
    """
    mechanism = AuthenticationMechanism.given(mechanism, "mechanism")
    response = octets_argument(response, "response")
    if mechanism == AuthenticationMechanism.HLS_GMAC:
        context = _need_context(context, mechanism)
        peer = peer_system_title if peer_system_title is not None else context.peer_system_title
        if peer is None:
            raise UsageError("HLS-GMAC needs the peer system title")
        if len(response) != _GMAC_RESPONSE_LENGTH:
            raise SecurityError(
                f"HLS-GMAC response must be {_GMAC_RESPONSE_LENGTH} octets, got {len(response)}"
            )
        if response[0] != GMAC_SECURITY_CONTROL | context.security_suite:
            raise SecurityError(f"HLS-GMAC response has security control 0x{response[0]:02X}")
        ic = int.from_bytes(response[1:5], "big")
        last = context.peer_invocation_counter
        if last is not None and ic <= last:
            raise SecurityError(f"replayed invocation counter {ic} (last accepted {last})")
        expected = hls_gmac(
            challenge, system_title=peer, invocation_counter=ic,
            block_cipher_key=context.block_cipher_key,
            authentication_key=context.authentication_key,
            security_suite=context.security_suite, backend=context.backend,
        )
    elif mechanism == AuthenticationMechanism.HLS_SHA256:
        own, peer = _titles(context, own_system_title, peer_system_title)
        expected = hls_sha256(_need_secret(secret, mechanism), peer, own, challenge,
                              peer_challenge)
    elif mechanism in (AuthenticationMechanism.LLS, AuthenticationMechanism.HLS_MD5,
                       AuthenticationMechanism.HLS_SHA1):
        expected = respond(mechanism, challenge, secret=secret)
    else:
        raise UsageError(f"mechanism {mechanism.blue_book_name} has no response to check here")
    if not compare_digest(expected, response):
        raise SecurityError(f"{mechanism.blue_book_name} authentication failed: wrong response")
    if mechanism == AuthenticationMechanism.HLS_GMAC:
        # the peer's IC in f(StoC)/f(CtoS) counts like any ciphered APDU's
        context._accept_peer_invocation_counter(ic)
