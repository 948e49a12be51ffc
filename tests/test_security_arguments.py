"""Every public function of dlmsfast.security, given an argument of the wrong
type, raises a DlmsError (never a bare TypeError/ValueError/OverflowError from
inside), and an int is never taken as that many zero octets."""
from __future__ import annotations

import pytest

from dlmsfast.errors import DlmsError, UsageError
from dlmsfast.security import (
    AesGcm,
    CipheredApdu,
    GeneralCiphering,
    GeneralGloCiphering,
    IdentifiedKey,
    SecurityContext,
    SecurityControl,
    WrappedKey,
    _gcm,
    is_ciphered_tag,
    key_transfer_data,
    lls_check,
    parse_ciphered,
    parse_key_transfer_data,
    respond,
    unwrap_key,
    verify,
    wrap_key,
)
from dlmsfast.security.hls import hls_gmac, hls_md5, hls_sha1, hls_sha256

EK = bytes(range(16))
AK = bytes(range(16, 32))
ST = b"AAAAAAAA"
PEER = b"BBBBBBBB"
GET = bytes.fromhex("C0010000080000010000FF0200")
STRIDED = memoryview(bytes(range(64)))[::2]   # 32 octets, not contiguous
WRONG = [None, 5, 16, 8, "zz", 1.5, True, [1, 2], STRIDED]


def _context(**extra):
    return SecurityContext(system_title=ST, peer_system_title=PEER, block_cipher_key=EK,
                           authentication_key=AK, security_policy=0, **extra)


def _ciphered(form="glo"):
    return _context().encrypt(GET, form=form)


def _receiver():
    return SecurityContext(system_title=PEER, peer_system_title=ST, block_cipher_key=EK,
                           authentication_key=AK, security_policy=0)


def _calls():
    """(name, function, good positional args, good keyword args) for each API."""
    cipher = AesGcm(EK)
    ciphered = _ciphered()
    wrapped = wrap_key(EK, AK)
    return [
        ("AesGcm", AesGcm, (EK,), {"backend": None}),
        ("AesGcm.encrypt", cipher.encrypt, (ST + bytes(4), GET), {"aad": b"", "tag_length": 12}),
        ("AesGcm.decrypt", cipher.decrypt, (ST + bytes(4), GET), {"tag": b"", "aad": b""}),
        ("AesGcm.seal_service", cipher.seal_service, (0xC8, 0x30, ST, 1, AK, GET), {}),
        ("open_service", _gcm.open_service, (ciphered, ST, AK, cipher),
         {"broadcast_cipher": None, "last_invocation_counter": -1, "required_protection": 0}),
        ("check_received", _gcm.check_received, (0x30, 1),
         {"required_protection": 0, "last_invocation_counter": -1}),
        ("SecurityContext", SecurityContext, (),
         {"system_title": ST, "block_cipher_key": EK, "authentication_key": AK,
          "peer_system_title": PEER, "broadcast_key": None, "dedicated_key": None,
          "master_key": None, "security_suite": 0, "invocation_counter": 0,
          "peer_invocation_counter": None, "security_policy": None, "backend": None,
          "on_invocation_counter": None}),
        ("SecurityContext.encrypt", lambda *a, **k: _context().encrypt(*a, **k), (GET,),
         {"security_control": None, "form": "glo"}),
        ("SecurityContext.encrypt general", lambda *a, **k: _context().encrypt(*a, **k),
         (GET,), {"form": "general-ciphering", "transaction_id": None, "date_time": None,
                  "other_information": None, "key_info": None}),
        ("SecurityContext.decrypt", lambda *a, **k: _receiver().decrypt(*a, **k), (ciphered,),
         {"system_title": None}),
        ("SecurityContext.explain_decrypt",
         lambda *a, **k: _context().explain_decrypt(*a, **k), (ciphered,),
         {"system_title": None}),
        ("SecurityContext.explain_encrypt",
         lambda *a, **k: _context().explain_encrypt(*a, **k), (GET,),
         {"security_control": None, "form": "glo", "invocation_counter": None}),
        ("parse_ciphered", parse_ciphered, (ciphered,), {"base_offset": 0}),
        ("CipheredApdu.from_bytes", CipheredApdu.from_bytes, (ciphered,), {}),
        ("GeneralGloCiphering.from_bytes", GeneralGloCiphering.from_bytes,
         (_ciphered("general-glo"),), {}),
        ("GeneralCiphering.from_bytes", GeneralCiphering.from_bytes,
         (_ciphered("general-ciphering"),), {}),
        ("SecurityControl", SecurityControl, (0x30,), {}),
        ("CipheredApdu.to_bytes", lambda *a: CipheredApdu(*a).to_bytes(),
         (0xC8, SecurityControl(0x30), 1, b"ct", bytes(12)), {}),
        ("GeneralGloCiphering.to_bytes", lambda *a: GeneralGloCiphering(*a).to_bytes(),
         (ST, SecurityControl(0x30), 1, b"ct", bytes(12)), {}),
        ("GeneralCiphering.to_bytes", lambda *a: GeneralCiphering(*a).to_bytes(),
         (b"tid", ST, PEER, b"", b"", IdentifiedKey(0), SecurityControl(0x30), 1, b"ct",
          bytes(12)), {}),
        ("WrappedKey to_bytes", lambda *a: GeneralCiphering(
            b"", ST, PEER, b"", b"", WrappedKey(*a), SecurityControl(0x30), 1, b"",
            bytes(12)).to_bytes(), (0, bytes(24)), {}),
        ("is_ciphered_tag", is_ciphered_tag, (0xC8,), {}),
        ("SecurityControl.build", SecurityControl.build, (),
         {"security_suite": 0, "authentication": True, "encryption": True}),
        ("hls_md5", hls_md5, (b"challenge", b"secret"), {}),
        ("hls_sha1", hls_sha1, (b"challenge", b"secret"), {}),
        ("hls_sha256", hls_sha256, (b"secret", ST, PEER, b"stoc", b"ctos"), {}),
        ("hls_gmac", hls_gmac, (b"challenge",),
         {"system_title": ST, "invocation_counter": 1, "block_cipher_key": EK,
          "authentication_key": AK, "security_suite": 0, "backend": None}),
        ("lls_check", lls_check, (b"password", b"password"), {}),
        ("respond", respond, (3, b"challenge"), {"secret": b"secret", "context": None}),
        ("verify", verify, (3, hls_md5(b"challenge", b"secret"), b"challenge"),
         {"secret": b"secret", "context": None}),
        ("wrap_key", wrap_key, (EK, AK), {}),
        ("unwrap_key", unwrap_key, (EK, wrapped), {}),
        ("key_transfer_data", key_transfer_data, (EK, {0: AK}), {}),
        ("parse_key_transfer_data", parse_key_transfer_data,
         (EK, key_transfer_data(EK, {0: AK})), {}),
    ]


def _cases():
    for name, function, args, kwargs in _calls():
        for i in range(len(args)):
            yield pytest.param(function, args, kwargs, ("arg", i), id=f"{name}[{i}]")
        for key in kwargs:
            yield pytest.param(function, args, kwargs, ("kw", key), id=f"{name}[{key}]")


@pytest.mark.parametrize("function,args,kwargs,where", list(_cases()))
def test_a_wrong_argument_is_a_dlms_error(function, args, kwargs, where):
    function(*args, **kwargs)  # the good call works
    for wrong in WRONG:
        new_args, new_kwargs = list(args), dict(kwargs)
        if where[0] == "arg":
            new_args[where[1]] = wrong
        else:
            new_kwargs[where[1]] = wrong
        try:
            function(*new_args, **new_kwargs)
        except DlmsError:
            pass


@pytest.mark.parametrize("function,args", [
    (hls_md5, (5, b"secret")), (hls_md5, (b"challenge", 5)), (hls_sha1, (b"c", 16)),
    (hls_sha256, (16, ST, PEER, b"", b"")), (lls_check, (8, bytes(8))),
    (wrap_key, (16, AK)), (wrap_key, (EK, 16)), (AesGcm, (16,)),
])
def test_an_int_is_never_zero_octets(function, args):
    with pytest.raises(UsageError, match="bytes"):
        function(*args)


def test_an_int_key_or_title_is_refused_by_the_context():
    for field in ("block_cipher_key", "authentication_key", "system_title"):
        values = dict(system_title=ST, block_cipher_key=EK, authentication_key=AK)
        values[field] = 16 if field != "system_title" else 8
        with pytest.raises(UsageError, match="bytes"):
            SecurityContext(**values)
    context = _context()
    with pytest.raises(UsageError, match="bytes"):
        context.decrypt(5)
    with pytest.raises(UsageError, match="bytes"):
        context.encrypt(13)
    assert context.invocation_counter == 0


def test_a_strided_view_is_taken_as_its_octets():
    cipher = AesGcm(STRIDED[:16])
    assert cipher.encrypt(ST + bytes(4), b"x") == AesGcm(bytes(STRIDED[:16])).encrypt(
        ST + bytes(4), b"x")
    data = _context().encrypt(GET)
    interleaved = bytes(octet for x in data for octet in (x, 0))
    assert _receiver().decrypt(memoryview(interleaved)[::2]) == GET
