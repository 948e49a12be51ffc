"""The compiled AES-GCM core (dlmsfast._gcm) on both backends, checked against
the Green Book example and against cryptography's AESGCM as an oracle."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmsfast.security import _gcm
from dlmsfast.errors import DecodeError, SecurityError, UsageError

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
SYSTEM_TITLE = bytes.fromhex("4D4D4D0000BC614E")
IC = 0x01234567
IV = SYSTEM_TITLE + IC.to_bytes(4, "big")
PLAINTEXT = bytes.fromhex("C0010000080000010000FF0200")
CIPHERTEXT = bytes.fromhex("411312FF935A47566827C467BC")
TAG = bytes.fromhex("7D825C3BE4A77C3FCC056B6B")
GLO_APDU = bytes.fromhex("C81E3001234567") + CIPHERTEXT + TAG

BACKENDS = [b for b in _gcm.BACKENDS if b != "openssl" or _gcm.openssl_available]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def _libcrypto_mapped() -> bool:
    """Whether a shared libcrypto is mapped into this process (after importing
    _hashlib), found without dlmsfast: the kernel's map on Linux, the loader's
    image list on macOS and Windows. A Python that links OpenSSL statically
    (some standalone builds) has none, and there the fallback is right."""
    import ctypes
    import _hashlib  # noqa: F401  (maps libcrypto, as dlmsfast's import does)

    if sys.platform.startswith("linux"):
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return any("libcrypto" in line.rsplit("/", 1)[-1] for line in maps)
    if sys.platform == "darwin":
        dyld = ctypes.CDLL(None)
        dyld._dyld_get_image_name.restype = ctypes.c_char_p
        names = (dyld._dyld_get_image_name(i) or b"" for i in range(dyld._dyld_image_count()))
        return any(b"libcrypto" in name.rsplit(b"/", 1)[-1] for name in names)
    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]
    kernel32.GetModuleHandleW.restype = ctypes.c_void_p
    return any(kernel32.GetModuleHandleW(name) for name in (
        "libcrypto-3-x64.dll", "libcrypto-3-arm64.dll", "libcrypto-3.dll",
        "libcrypto-1_1-x64.dll", "libcrypto-1_1.dll"))


def test_the_evp_path_uses_the_libcrypto_python_carries():
    # Not "this machine has OpenSSL": whatever libcrypto the interpreter carries
    # (OpenSSL or LibreSSL), the EVP path must resolve to that very library, so
    # it reports the version string ssl reports; without one, only the fallback.
    import ssl

    mapped = _libcrypto_mapped()
    assert _gcm.openssl_available is mapped
    if mapped:
        assert "libcrypto" in _gcm.openssl_library
        assert _gcm.openssl_version == ssl.OPENSSL_VERSION
    assert BACKENDS == (["openssl", "cryptography"] if mapped else ["cryptography"])


def test_green_book_vector(backend):
    cipher = _gcm.AesGcm(EK, backend)
    assert cipher.backend == backend
    sealed = cipher.encrypt(IV, PLAINTEXT, b"\x30" + AK)
    assert sealed == CIPHERTEXT + TAG
    assert cipher.decrypt(IV, CIPHERTEXT, TAG, b"\x30" + AK) == PLAINTEXT
    assert cipher.seal_service(0xC8, 0x30, SYSTEM_TITLE, IC, AK, PLAINTEXT) == GLO_APDU
    assert _gcm.open_service(GLO_APDU, SYSTEM_TITLE, AK, cipher) == (0x30, IC, PLAINTEXT)


def test_every_flipped_bit_is_rejected(backend):
    cipher = _gcm.AesGcm(EK, backend)
    header = 7  # tag, length, SC, IC
    for bit in range(8 * (len(GLO_APDU) - header)):
        forged = bytearray(GLO_APDU)
        forged[header + bit // 8] ^= 0x80 >> (bit % 8)
        with pytest.raises(SecurityError, match="tag mismatch"):
            _gcm.open_service(bytes(forged), SYSTEM_TITLE, AK, cipher)
        with pytest.raises(SecurityError):
            cipher.decrypt(IV, forged[header:-12], forged[-12:], b"\x30" + AK)


def test_flipped_security_header_bits_are_rejected(backend):
    cipher = _gcm.AesGcm(EK, backend)
    for bit in range(8 * 5):
        if bit == 3:
            # SC bit 4 (authentication) off turns the APDU into an unauthenticated
            # one: only the receiver's security policy can refuse that (tested in
            # test_security_vectors with SecurityContext(security_policy=...)).
            continue
        forged = bytearray(GLO_APDU)
        forged[2 + bit // 8] ^= 0x80 >> (bit % 8)
        # SC is part of the AAD and IC of the IV; SC bit 6 asks for a broadcast
        # key that is not set, bit 7 for compression that is refused
        with pytest.raises(SecurityError):
            _gcm.open_service(bytes(forged), SYSTEM_TITLE, AK, cipher)


def test_replayed_counter_is_rejected_before_deciphering(backend):
    cipher = _gcm.AesGcm(EK, backend)
    assert _gcm.open_service(GLO_APDU, SYSTEM_TITLE, AK, cipher, None, IC - 1)[1] == IC
    for last in (IC, IC + 1, 0xFFFFFFFF):
        with pytest.raises(SecurityError, match="replayed invocation counter"):
            _gcm.open_service(GLO_APDU, SYSTEM_TITLE, AK, cipher, None, last)


def test_wrong_system_title_fails_the_tag(backend):
    cipher = _gcm.AesGcm(EK, backend)
    with pytest.raises(SecurityError):
        _gcm.open_service(GLO_APDU, b"MMM\x00\x00\x00\x00\x01", AK, cipher)


def test_unprotected_security_control_is_refused(backend):
    cipher = _gcm.AesGcm(EK, backend)
    data = cipher.seal_service(0xC8, 0x00, SYSTEM_TITLE, 7, AK, PLAINTEXT)
    assert data == bytes.fromhex("C8120000000007") + PLAINTEXT
    with pytest.raises(SecurityError, match="no protection"):
        _gcm.open_service(data, SYSTEM_TITLE, AK, cipher)


@pytest.mark.parametrize("sc", [0x10, 0x20, 0x30])
def test_protection_forms_round_trip(backend, sc):
    cipher = _gcm.AesGcm(EK, backend)
    data = cipher.seal_service(0xCC, sc, SYSTEM_TITLE, 7, AK, b"\xc4" + bytes(300))
    assert _gcm.open_service(data, SYSTEM_TITLE, AK, cipher) == (sc, 7, b"\xc4" + bytes(300))
    assert data[1:4] == bytes((0x82,)) + (5 + 301 + (12 if sc & 0x10 else 0)).to_bytes(2, "big")


def test_broadcast_key_bit_selects_the_broadcast_cipher(backend):
    unicast = _gcm.AesGcm(EK, backend)
    broadcast = _gcm.AesGcm(bytes(16), backend)
    data = broadcast.seal_service(0xC8, 0x70, SYSTEM_TITLE, 9, AK, PLAINTEXT)
    assert _gcm.open_service(data, SYSTEM_TITLE, AK, unicast, broadcast)[2] == PLAINTEXT
    with pytest.raises(SecurityError, match="broadcast key"):
        _gcm.open_service(data, SYSTEM_TITLE, AK, unicast)


def test_aes_256_agrees_with_cryptography(backend):
    key = bytes(range(32))
    cipher = _gcm.AesGcm(key, backend)
    assert cipher.key_bits == 256
    aad = b"\x32" + bytes(range(100, 132))
    expected = AESGCM(key).encrypt(IV, PLAINTEXT, aad)
    sealed = cipher.encrypt(IV, PLAINTEXT, aad)
    assert sealed == expected[:-4]
    assert cipher.decrypt(IV, sealed[:-12], sealed[-12:], aad) == PLAINTEXT


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
       iv=st.binary(min_size=12, max_size=12), plaintext=st.binary(max_size=300),
       aad=st.binary(max_size=64), backend=st.sampled_from(BACKENDS))
def test_matches_cryptography_aesgcm(key, iv, plaintext, aad, backend):
    cipher = _gcm.AesGcm(key, backend)
    expected = AESGCM(key).encrypt(iv, plaintext, aad)
    assert cipher.encrypt(iv, plaintext, aad) == expected[:-4]
    assert cipher.encrypt(iv, plaintext, aad, 16) == expected
    assert cipher.encrypt(iv, plaintext, aad, 0) == expected[:-16]
    n = len(plaintext)
    assert cipher.decrypt(iv, expected[:n], expected[n:n + 12], aad) == plaintext
    assert cipher.decrypt(iv, expected[:n], expected[n:], aad) == plaintext
    assert cipher.decrypt(iv, expected[:n]) == plaintext


def test_contexts_are_reused_across_calls(backend):
    # one object, interleaved directions and IVs: the reused EVP contexts must
    # not carry state from one call to the next
    cipher = _gcm.AesGcm(EK, backend)
    oracle = AESGCM(EK)
    for i in range(50):
        iv = SYSTEM_TITLE + i.to_bytes(4, "big")
        data = bytes([i]) * i
        sealed = cipher.encrypt(iv, data, b"\x30" + AK)
        assert sealed == oracle.encrypt(iv, data, b"\x30" + AK)[:-4]
        assert cipher.decrypt(iv, sealed[:i], sealed[i:], b"\x30" + AK) == data
        with pytest.raises(SecurityError):
            cipher.decrypt(iv, sealed[:i], bytes(12), b"\x30" + AK)


def test_accepts_any_buffer(backend):
    cipher = _gcm.AesGcm(bytearray(EK), backend)
    assert cipher.encrypt(memoryview(IV), bytearray(PLAINTEXT), memoryview(b"\x30" + AK)) == (
        CIPHERTEXT + TAG)


@pytest.mark.parametrize("key", [b"", bytes(15), bytes(24), bytes(33)])
def test_bad_key_length(key):
    with pytest.raises(UsageError, match="16 or 32 octets"):
        _gcm.AesGcm(key)


def test_bad_arguments(backend):
    cipher = _gcm.AesGcm(EK, backend)
    with pytest.raises(UsageError, match="IV"):
        cipher.encrypt(bytes(11), b"")
    with pytest.raises(UsageError, match="tag"):
        cipher.decrypt(IV, b"", bytes(5))
    with pytest.raises(UsageError, match="system title"):
        cipher.seal_service(0xC8, 0x30, bytes(7), 1, AK, PLAINTEXT)
    with pytest.raises(UsageError, match="backend"):
        _gcm.AesGcm(EK, "nss")


def test_repr_never_shows_the_key(backend):
    cipher = _gcm.AesGcm(EK, backend)
    text = repr(cipher)
    assert "aes-128-gcm" in text and backend in text
    assert EK.hex() not in text.lower() and "0102" not in text
    with pytest.raises(TypeError):
        __import__("pickle").dumps(cipher)


@pytest.mark.parametrize("data,offset", [
    (b"", 0), (b"\xc8", 1), (b"\xc8\x85", 1), (b"\xc8\x81", 1), (b"\xc8\x05\x30", 1),
    (b"\xc8\x03\x30\x00\x00", 2), (b"\xc8\x06\x30\x00\x00\x00\x01\x00", 7),
    (b"\xc8\x02\x30\x00\x00", 4),
])
def test_open_service_malformed(data, offset):
    cipher = _gcm.AesGcm(EK)
    with pytest.raises(DecodeError) as info:
        _gcm.open_service(data, SYSTEM_TITLE, AK, cipher)
    assert info.value.offset == offset


def _import_backend(value: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DLMSFAST_GCM_BACKEND=value)
    return subprocess.run(
        [sys.executable, "-c", "import dlmsfast.security as s; print(s.backend)"],
        env=env, capture_output=True, text=True, timeout=60,
    )


def test_environment_selects_the_backend():
    assert _import_backend("cryptography").stdout.strip() == "cryptography"
    assert _import_backend("openssl").stdout.strip() == "openssl"
    assert _import_backend("auto").stdout.strip() == "openssl"
    bad = _import_backend("rot13")
    assert bad.returncode != 0 and "DLMSFAST_GCM_BACKEND" in bad.stderr


def test_without_libcrypto_in_the_process_the_fallback_serves():
    # With _hashlib and _ssl unavailable nothing maps libcrypto into the process
    # (cryptography links its own OpenSSL statically), so resolution must fail
    # and the cryptography backend must take over, still agreeing on the vector.
    code = (
        "import sys; sys.modules['_hashlib'] = None; sys.modules['_ssl'] = None\n"
        "import dlmsfast.security as s\n"
        "from dlmsfast.security import _gcm\n"
        f"c = _gcm.AesGcm(bytes.fromhex('{EK.hex()}'))\n"
        f"out = c.seal_service(0xC8, 0x30, bytes.fromhex('{SYSTEM_TITLE.hex()}'), {IC}, "
        f"bytes.fromhex('{AK.hex()}'), bytes.fromhex('{PLAINTEXT.hex()}'))\n"
        "print(s.backend, s.openssl_available, c.backend, out.hex().upper())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DLMSFAST_GCM_BACKEND"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cryptography", "False", "cryptography",
                                     GLO_APDU.hex().upper()]
    forced = subprocess.run(
        [sys.executable, "-c", code.replace("import dlmsfast.security", "import os; "
         "os.environ['DLMSFAST_GCM_BACKEND'] = 'openssl'\nimport dlmsfast.security")],
        env=env, capture_output=True, text=True, timeout=60)
    # asking for openssl where it cannot be found fails loudly at import
    assert forced.returncode != 0 and "no libcrypto" in forced.stderr


def test_an_unkeyed_object_is_a_usage_error():
    cipher = _gcm.AesGcm.__new__(_gcm.AesGcm)
    with pytest.raises(UsageError, match="never given a key"):
        cipher.encrypt(IV, PLAINTEXT)
    with pytest.raises(UsageError, match="never given a key"):
        cipher.decrypt(IV, CIPHERTEXT, TAG)
