"""W4: cipher and decipher 1,000 glo-get-response APDUs (SC 0x30, a 200-octet
octet-string inside), tag always checked, dlmsfast beside the peers.

Groups "W4-encrypt" and "W4-decrypt"; every entry handles 1,000 APDUs per
round except gurux-dlms, which is far slower and handles 100 per round in 3
rounds (multiply its time by 10 to compare). The `cryptography` entry calls
AESGCM directly with no DLMS framing (16-octet tags, the only length its
AESGCM checks) as the raw-AES-GCM reference. dlms-cosem's entry is its
security.encrypt/decrypt (its GeneralGlobalCipher framing writes one-octet
lengths and cannot frame these APDUs).

    python -m pytest benchmarks/bench_security.py --benchmark-only \
        --benchmark-columns=median,ops,rounds
"""
from __future__ import annotations

import contextlib
import io

import pytest

from dlmsfast.security import _gcm
from dlmsfast.security import SecurityContext

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
COUNT = 1000
GURUX_COUNT = 100
SC = 0x30

# get-response-normal, invoke-id 0xC1, data octet-string of 200 octets
PLAINTEXTS = [b"\xc4\x01\xc1\x00\x09\x81\xc8" + bytes((i + j) & 0xFF for j in range(200))
              for i in range(COUNT)]
HEADER = 8  # CC 81 E0 | SC | IC: the sealed part (ciphertext || tag) follows

BACKENDS = [b for b in _gcm.BACKENDS if b != "openssl" or _gcm.openssl_available]


def _label(benchmark, impl: str, items: int = COUNT) -> None:
    """Name and size of an entry, for benchmarks/ratios.py."""
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["items"] = items


def _pair(backend):
    server = SecurityContext(system_title=SERVER_ST, peer_system_title=CLIENT_ST,
                             block_cipher_key=EK, authentication_key=AK, backend=backend,
                             security_policy=0x30)
    client = SecurityContext(system_title=CLIENT_ST, peer_system_title=SERVER_ST,
                             block_cipher_key=EK, authentication_key=AK, backend=backend,
                             security_policy=0x30)
    return server, client


def _ciphered():
    server, _ = _pair(None)
    return [server.encrypt(p) for p in PLAINTEXTS]


CIPHERED = _ciphered()


@pytest.mark.benchmark(group="W4-encrypt")
@pytest.mark.parametrize("backend", BACKENDS)
def test_encrypt_dlmsfast(benchmark, backend):
    _label(benchmark, f"dlmsfast ({backend})")

    # The invocation counter never goes back (GCM nonce reuse): each round
    # ciphers from IC 0 with a fresh sender, made outside the timed part.
    def fresh():
        return (_pair(backend)[0],), {}

    def run(server):
        encrypt = server.encrypt
        return [encrypt(p) for p in PLAINTEXTS]

    assert benchmark.pedantic(run, setup=fresh, rounds=500, warmup_rounds=20) == CIPHERED
    _pair(backend)[1].decrypt(CIPHERED[-1])


@pytest.mark.benchmark(group="W4-decrypt")
@pytest.mark.parametrize("backend", BACKENDS)
def test_decrypt_dlmsfast(benchmark, backend):
    _label(benchmark, f"dlmsfast ({backend})")
    _, client = _pair(backend)

    def run():
        client.peer_invocation_counter = None
        decrypt = client.decrypt
        return [decrypt(c) for c in CIPHERED]

    assert benchmark(run) == PLAINTEXTS


def _iv(ic: int) -> bytes:
    return SERVER_ST + ic.to_bytes(4, "big")


@pytest.mark.benchmark(group="W4-encrypt")
def test_encrypt_cryptography_aesgcm(benchmark):
    _label(benchmark, "cryptography AESGCM (raw)")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aesgcm = AESGCM(EK)
    aad = bytes((SC,)) + AK

    def run():
        encrypt = aesgcm.encrypt
        return [encrypt(_iv(ic), p, aad) for ic, p in enumerate(PLAINTEXTS)]

    sealed = benchmark(run)
    assert [s[:-4] for s in sealed[:3]] == [c[HEADER:] for c in CIPHERED[:3]]


@pytest.mark.benchmark(group="W4-decrypt")
def test_decrypt_cryptography_aesgcm(benchmark):
    _label(benchmark, "cryptography AESGCM (raw)")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aesgcm = AESGCM(EK)
    aad = bytes((SC,)) + AK
    sealed = [(_iv(ic), aesgcm.encrypt(_iv(ic), p, aad)) for ic, p in enumerate(PLAINTEXTS)]

    def run():
        decrypt = aesgcm.decrypt
        return [decrypt(iv, s, aad) for iv, s in sealed]

    assert benchmark(run) == PLAINTEXTS


def _cosem_sc():
    from dlms_cosem.security import SecurityControlField

    return SecurityControlField.from_bytes(bytes((SC,)))


@pytest.mark.benchmark(group="W4-encrypt")
def test_encrypt_dlms_cosem(benchmark):
    _label(benchmark, "dlms-cosem")
    from dlms_cosem import security

    sc = _cosem_sc()

    def run():
        return [security.encrypt(sc, SERVER_ST, ic, EK, p, AK)
                for ic, p in enumerate(PLAINTEXTS)]

    sealed = benchmark(run)
    assert sealed[:3] == [c[HEADER:] for c in CIPHERED[:3]]


@pytest.mark.benchmark(group="W4-decrypt")
def test_decrypt_dlms_cosem(benchmark):
    _label(benchmark, "dlms-cosem")
    from dlms_cosem import security

    sc = _cosem_sc()
    sealed = [c[HEADER:] for c in CIPHERED]

    def run():
        return [security.decrypt(sc, SERVER_ST, ic, EK, s, AK) for ic, s in enumerate(sealed)]

    assert benchmark(run) == PLAINTEXTS


@pytest.mark.benchmark(group="W4-encrypt")
def test_encrypt_gurux_100_apdus(benchmark):
    _label(benchmark, "gurux-dlms", GURUX_COUNT)
    from gurux_dlms.AesGcmParameter import AesGcmParameter
    from gurux_dlms.GXDLMSChippering import GXDLMSChippering

    def run():
        out = []
        for ic, p in enumerate(PLAINTEXTS[:GURUX_COUNT]):
            param = AesGcmParameter(0xCC, SERVER_ST, EK, AK)
            param.security = SC
            param.invocationCounter = ic
            out.append(bytes(GXDLMSChippering.encryptAesGcm(param, p)))
        return out

    assert benchmark.pedantic(run, rounds=3, iterations=1) == CIPHERED[:GURUX_COUNT]


@pytest.mark.benchmark(group="W4-decrypt")
def test_decrypt_gurux_100_apdus(benchmark):
    _label(benchmark, "gurux-dlms", GURUX_COUNT)
    from gurux_dlms import GXByteBuffer
    from gurux_dlms.AesGcmParameter import AesGcmParameter
    from gurux_dlms.GXDLMSChippering import GXDLMSChippering
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings

    settings = GXDLMSSettings(True, None)

    def run():
        out = []
        with contextlib.redirect_stdout(io.StringIO()):  # gurux prints while deciphering
            for c in CIPHERED[:GURUX_COUNT]:
                param = AesGcmParameter(0, SERVER_ST, EK, AK)
                param.settings = settings
                param.xml = None
                out.append(bytes(GXDLMSChippering.decryptAesGcm(settings, param,
                                                                GXByteBuffer(c))))
        return out

    # gurux does not check the tag: only its plaintext is compared
    assert benchmark.pedantic(run, rounds=3, iterations=1) == PLAINTEXTS[:GURUX_COUNT]
