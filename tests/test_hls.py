"""LLS and HLS (mechanisms 3, 4, 5, 6): the Green Book HLS-GMAC vectors and
gurux-dlms's client as an independent oracle for f(StoC) and f(CtoS)."""
from __future__ import annotations

import contextlib
import io

import pytest

from conftest import load_vectors
from dlmsfast.security import _gcm
from dlmsfast.errors import SecurityError, UsageError
from dlmsfast.security import AuthenticationMechanism as M
from dlmsfast.security import SecurityContext, lls_check, respond, verify

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
STOC = b"P6wRJ21F"
CTOS = b"K56iVagY"
SECRET = b"Gurux"

GCM_BACKENDS = [b for b in _gcm.BACKENDS if b != "openssl" or _gcm.openssl_available]


def _gmac_vectors():
    return [v for v in load_vectors("security") if v["meaning"].get("gmac_input")]


def _pair(backend, client_ic=1, server_ic=0x01234567):
    client = SecurityContext(system_title=CLIENT_ST, peer_system_title=SERVER_ST,
                             block_cipher_key=EK, authentication_key=AK,
                             invocation_counter=client_ic, backend=backend)
    server = SecurityContext(system_title=SERVER_ST, peer_system_title=CLIENT_ST,
                             block_cipher_key=EK, authentication_key=AK,
                             invocation_counter=server_ic, backend=backend)
    return client, server


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_gmac_vectors(backend):
    vectors = _gmac_vectors()
    assert len(vectors) == 2
    for vector in vectors:
        meaning = vector["meaning"]
        title = bytes.fromhex(meaning["system_title"])
        challenge_key = "challenge_StoC" if "challenge_StoC" in meaning else "challenge_CtoS"
        challenge = bytes.fromhex(meaning[challenge_key]["hex"])
        sender = SecurityContext(system_title=title, block_cipher_key=meaning["keys"][
            "encryption_key"], authentication_key=meaning["keys"]["authentication_key"],
            invocation_counter=meaning["invocation_counter"], backend=backend)
        response = respond(M.HLS_GMAC, challenge, context=sender)
        assert response.hex().upper() == vector["hex"]
        assert response[0] == int(meaning["security_control"], 16)
        assert response[5:].hex().upper() == meaning["tag"]
        assert sender.invocation_counter == meaning["invocation_counter"] + 1
        checker = SecurityContext(system_title=b"XXXXXXXX", peer_system_title=title,
                                  block_cipher_key=EK, authentication_key=AK, backend=backend)
        verify(M.HLS_GMAC, response, challenge, context=checker)
        assert checker.peer_invocation_counter == meaning["invocation_counter"]
        with pytest.raises(SecurityError, match="replayed"):
            verify(M.HLS_GMAC, response, challenge, context=checker)
        checker.peer_invocation_counter = None
        for bit in range(8 * len(response)):
            forged = bytearray(response)
            forged[bit // 8] ^= 0x80 >> (bit % 8)
            with pytest.raises(SecurityError):
                verify(M.HLS_GMAC, bytes(forged), challenge, context=checker)
        with pytest.raises(SecurityError):
            verify(M.HLS_GMAC, response, challenge[::-1], context=checker)


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_four_pass_exchange_for_every_mechanism(backend):
    for mechanism in (M.HLS_MD5, M.HLS_SHA1, M.HLS_GMAC, M.HLS_SHA256):
        client, server = _pair(backend)
        f_stoc = respond(mechanism, STOC, secret=SECRET, context=client, own_challenge=CTOS)
        verify(mechanism, f_stoc, STOC, secret=SECRET, context=server, peer_challenge=CTOS)
        f_ctos = respond(mechanism, CTOS, secret=SECRET, context=server, own_challenge=STOC)
        verify(mechanism, f_ctos, CTOS, secret=SECRET, context=client, peer_challenge=STOC)
        client.peer_invocation_counter = None
        with pytest.raises(SecurityError, match="authentication failed"):
            verify(mechanism, f_ctos, CTOS, secret=b"Guru", context=client,
                   peer_challenge=STOC, peer_system_title=b"XXXXXXXX")
        # the answer to one challenge is not the answer to the other
        assert f_stoc != f_ctos


def _gurux_client(mechanism):
    from gurux_dlms.enums import InterfaceType
    from gurux_dlms.secure import GXDLMSSecureClient

    client = GXDLMSSecureClient(True, 16, 1, int(mechanism), SECRET.decode(),
                                InterfaceType.WRAPPER)
    client.settings.cipher.systemTitle = CLIENT_ST
    client.settings.sourceSystemTitle = SERVER_ST
    client.settings.stoCChallenge = STOC
    client.settings.ctoSChallenge = CTOS
    client.settings.cipher.invocationCounter = 1
    client.settings.cipher.blockCipherKey = EK
    client.settings.cipher.authenticationKey = AK
    return client


@pytest.mark.parametrize("mechanism", [M.HLS_MD5, M.HLS_SHA1, M.HLS_GMAC, M.HLS_SHA256])
def test_f_stoc_equals_gurux_client(mechanism):
    client = _gurux_client(mechanism)
    (request,) = client.getApplicationAssociationRequest()
    # the reply_to_HLS_authentication parameter is the octet-string at the end
    length = request[-1 - _parameter_length(request)]
    gurux_f_stoc = bytes(request[len(request) - length:])
    ours, _ = _pair(None)
    assert respond(mechanism, STOC, secret=SECRET, context=ours, own_challenge=CTOS) == (
        gurux_f_stoc)


def _parameter_length(request: bytes) -> int:
    # octet-string 09 LL <value>: find the 09 whose length reaches the end
    for length in range(1, 64):
        if len(request) > length + 1 and request[-length - 2] == 0x09 and (
                request[-length - 1] == length):
            return length
    raise AssertionError("no octet-string parameter at the end of gurux's request")


@pytest.mark.parametrize("mechanism", [M.HLS_MD5, M.HLS_SHA1, M.HLS_GMAC, M.HLS_SHA256])
def test_gurux_client_accepts_our_f_ctos(mechanism):
    from gurux_dlms import GXByteBuffer

    client = _gurux_client(mechanism)
    _, server = _pair(None)
    f_ctos = respond(mechanism, CTOS, secret=SECRET, context=server, own_challenge=STOC)
    reply = GXByteBuffer(bytes((0x09, len(f_ctos))) + f_ctos)
    with contextlib.redirect_stdout(io.StringIO()):
        client.parseApplicationAssociationResponse(reply)
    # A flipped bit must be refused for the right reason: gurux raises a bare
    # Exception, so only its own mismatch message counts as a rejection (any
    # other failure, e.g. a parsing error, would make this test meaningless).
    forged = bytes([f_ctos[0] ^ 1]) + f_ctos[1:]
    client = _gurux_client(mechanism)
    reply = GXByteBuffer(bytes((0x09, len(forged))) + forged)
    with contextlib.redirect_stdout(io.StringIO()) as printed, \
            pytest.raises(Exception, match="Server to Client do not match"):
        client.parseApplicationAssociationResponse(reply)
    assert printed.getvalue().startswith("Invalid StoC:")


def test_sha256_follows_the_green_book_order():
    import hashlib

    client, server = _pair(None)
    f_stoc = respond(M.HLS_SHA256, STOC, secret=SECRET, context=client, own_challenge=CTOS)
    assert f_stoc == hashlib.sha256(SECRET + CLIENT_ST + SERVER_ST + STOC + CTOS).digest()
    f_ctos = respond(M.HLS_SHA256, CTOS, secret=SECRET, context=server, own_challenge=STOC)
    assert f_ctos == hashlib.sha256(SECRET + SERVER_ST + CLIENT_ST + CTOS + STOC).digest()


def test_lls():
    lls_check(b"12345678", b"12345678")
    assert respond(M.LLS, b"", secret=b"12345678") == b"12345678"
    verify(M.LLS, b"12345678", b"", secret=b"12345678")
    for wrong in (b"12345679", b"1234567", b""):
        with pytest.raises(SecurityError) as info:
            lls_check(b"12345678", wrong)
        assert "12345678" not in str(info.value)
        with pytest.raises(SecurityError):
            verify(M.LLS, wrong, b"", secret=b"12345678")


def test_missing_inputs_are_usage_errors():
    with pytest.raises(UsageError, match="secret"):
        respond(M.HLS_MD5, STOC)
    with pytest.raises(UsageError, match="SecurityContext"):
        respond(M.HLS_GMAC, STOC)
    with pytest.raises(UsageError, match="system titles"):
        respond(M.HLS_SHA256, STOC, secret=SECRET)
    with pytest.raises(UsageError):
        respond(M.HLS_ECDSA, STOC, secret=SECRET)
    with pytest.raises(SecurityError, match="17 octets"):
        _, server = _pair(None)
        verify(M.HLS_GMAC, b"\x10" + bytes(10), STOC, context=server)


def test_one_mechanism_enumeration_for_acse_and_hls():
    # The mechanism an AARE names is what respond/verify take, with no mapping.
    from dlmsfast.apdu import MechanismName

    assert M is MechanismName
    assert M.LLS is MechanismName.LOW_LEVEL_SECURITY and M.NONE is MechanismName.LOWEST_LEVEL
    assert len(MechanismName) == 8  # the short names are aliases, not members
    assert respond(MechanismName.HLS_MD5, STOC, secret=SECRET) == respond(3, STOC, secret=SECRET)
