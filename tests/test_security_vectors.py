"""security.json vectors: structure without keys, then deciphering with keys."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_vectors
from dlmsfast.errors import DecodeError, DlmsError
from dlmsfast.security import (
    AgreedKey,
    CipheredApdu,
    GeneralCiphering,
    GeneralDedCiphering,
    GeneralGloCiphering,
    IdentifiedKey,
    SecurityControl,
    WrappedKey,
    parse_ciphered,
)
from dlmsfast.security.ciphered import DED_TAG, GLO_TAG, SERVICE_NAME


def _apdu_vectors():
    # the HLS and key-wrap records carry no APDU tag octet
    return [v for v in load_vectors("security") if len(v["meaning"].get("tag", "")) == 2]


@pytest.fixture(params=range(14), ids=lambda i: f"apdu{i}")
def apdu_vector(request):
    vectors = _apdu_vectors()
    if request.param >= len(vectors):
        pytest.skip("fewer APDU vectors in security.json")
    return vectors[request.param]


def test_every_apdu_vector_is_covered():
    assert len(_apdu_vectors()) == 14


def test_structure_matches_meaning(apdu_vector):
    data = bytes.fromhex(apdu_vector["hex"])
    meaning = apdu_vector["meaning"]
    apdu = parse_ciphered(data)
    assert apdu.service == meaning["apdu"]
    assert f"{data[0]:02X}" == meaning["tag"]
    content = meaning.get("ciphered_content", meaning)
    assert apdu.security_control.to_meaning() == content["security_control"]
    assert apdu.invocation_counter == content["invocation_counter"]
    tag_length = apdu.security_control.tag_length
    if "tag_length" in meaning:
        assert tag_length == meaning["tag_length"]
    assert len(apdu.authentication_tag) == tag_length
    if "system_title" in meaning:
        assert apdu.system_title.hex().upper() == meaning["system_title"]["hex"]
        assert len(apdu.system_title) == meaning["system_title"]["length"]
    if "ciphered_text_and_tag" in meaning:
        assert (apdu.ciphertext + apdu.authentication_tag).hex().upper() == meaning[
            "ciphered_text_and_tag"
        ]
    if "ciphered_content_length" in meaning:
        assert 5 + len(apdu.ciphertext) + tag_length == meaning["ciphered_content_length"]
    if not apdu.security_control.encryption and "plaintext" in meaning:
        # authentication only: the APDU travels in clear before the tag
        assert apdu.ciphertext.hex().upper() == meaning["plaintext"]
    assert apdu.to_bytes() == data


def test_general_ciphering_fields():
    (vector,) = [v for v in _apdu_vectors() if v["meaning"]["apdu"] == "general-ciphering"]
    meaning = vector["meaning"]
    apdu = GeneralCiphering.from_bytes(bytes.fromhex(vector["hex"]))
    assert apdu.transaction_id.hex().upper() == meaning["transaction_id"]
    assert apdu.originator_system_title.hex().upper() == meaning["originator_system_title"]
    assert apdu.recipient_system_title.hex().upper() == meaning["recipient_system_title"]
    assert apdu.date_time.hex().upper() == meaning["date_time"]
    assert apdu.other_information.hex().upper() == meaning["other_information"]
    assert isinstance(apdu.key_info, AgreedKey)
    key_info = meaning["key_info"]
    assert apdu.key_info.key_parameters.hex().upper() == key_info["key_parameters"]
    assert len(apdu.key_info.key_ciphered_data) == key_info["key_ciphered_data_length"]
    assert apdu.key_info.key_ciphered_data.hex().upper() == key_info["key_ciphered_data"]
    content = meaning["ciphered_content"]
    assert len(apdu.ciphertext) == content["ciphertext_length"]
    assert apdu.authentication_tag.hex().upper() == content["authentication_tag"]


@pytest.mark.parametrize(
    "key_info",
    [None, IdentifiedKey(0), IdentifiedKey(1), WrappedKey(0, bytes(range(24))),
     AgreedKey(b"\x01", bytes(range(64)))],
)
def test_general_ciphering_key_info_round_trip(key_info):
    apdu = GeneralCiphering(
        b"\x01" * 8, b"MMM\x00\x00\xbcaN", b"MMM\x00\x00\x00\x00\x01", b"", b"\x05",
        key_info, SecurityControl(0x31), 7, b"\xaa" * 200, b"\xbb" * 12,
    )
    assert GeneralCiphering.from_bytes(apdu.to_bytes()) == apdu


def test_every_truncation_is_a_decode_error(apdu_vector):
    data = bytes.fromhex(apdu_vector["hex"])
    for cut in range(len(data)):
        with pytest.raises(DecodeError) as info:
            parse_ciphered(data[:cut])
        assert info.value.offset is not None
        assert 0 <= info.value.offset <= cut


def test_trailing_octet_is_a_decode_error(apdu_vector):
    data = bytes.fromhex(apdu_vector["hex"])
    with pytest.raises(DecodeError, match="trailing"):
        parse_ciphered(data + b"\x00")


def test_service_tag_table_follows_the_standard():
    # IEC 62056-5-3 xDLMS-APDU: glo-initiateRequest [33], ded-initiateRequest [65],
    # glo-confirmedServiceError [46], ded-confirmedServiceError [78], ded-get-request [208]
    assert GLO_TAG[0x01] == 0x21 and DED_TAG[0x01] == 0x41
    assert GLO_TAG[0x08] == 0x28 and DED_TAG[0x08] == 0x48
    assert GLO_TAG[0x0E] == 0x2E and DED_TAG[0x0E] == 0x4E
    lnservices = {0xC0: 0xC8, 0xC1: 0xC9, 0xC2: 0xCA, 0xC3: 0xCB, 0xC4: 0xCC, 0xC5: 0xCD,
                  0xC7: 0xCF}
    for plain, glo in lnservices.items():
        assert GLO_TAG[plain] == glo
        assert DED_TAG[plain] == glo + 8
    assert SERVICE_NAME[0xC8] == "glo-get-request"
    assert SERVICE_NAME[0x21] == "glo-initiateRequest"
    assert SERVICE_NAME[0xD7] == "ded-action-response"


def test_gurux_agrees_on_the_service_tags():
    from gurux_dlms.enums import Command

    for name, tag in [("GLO_INITIATE_REQUEST", 0x21), ("GLO_INITIATE_RESPONSE", 0x28),
                      ("GLO_CONFIRMED_SERVICE_ERROR", 0x2E), ("DED_INITIATE_REQUEST", 0x41),
                      ("DED_INITIATE_RESPONSE", 0x48), ("DED_CONFIRMED_SERVICE_ERROR", 0x4E),
                      ("GLO_READ_REQUEST", 0x25), ("DED_INFORMATION_REPORT_REQUEST", 0x58),
                      ("GLO_EVENT_NOTIFICATION", 0xCA), ("DED_METHOD_RESPONSE", 0xD7)]:
        assert getattr(Command, name) == tag
        assert tag in SERVICE_NAME


def test_security_control_bits():
    sc = SecurityControl(0xF2)
    assert (sc.security_suite, sc.authentication, sc.encryption, sc.broadcast_key,
            sc.compression) == (2, True, True, True, True)
    assert SecurityControl.build(security_suite=1, authentication=True, encryption=False,
                                 broadcast_key=True) == SecurityControl(0x51)


def test_long_form_lengths_round_trip():
    apdu = CipheredApdu(0xCC, SecurityControl(0x30), 1, b"\x11" * 300, b"\x22" * 12)
    data = apdu.to_bytes()
    assert data[1:4] == bytes.fromhex("82013D")  # 5 + 300 + 12 = 317
    assert CipheredApdu.from_bytes(data) == apdu
    # a non-minimal length form is accepted on input
    long_form = data[:1] + b"\x84\x00\x00\x01\x3d" + data[4:]
    assert CipheredApdu.from_bytes(long_form) == apdu


@pytest.mark.parametrize("data,offset", [
    (b"", 0),
    (b"\xc0\x05", 0),
    (b"\xc8", 1),
    (b"\xc8\x80", 1),
    (b"\xc8\x85\x00\x00\x00\x00\x00", 1),
    (b"\xc8\xff\xff\xff\xff\xff", 1),
    (b"\xc8\x03\x30\x00\x00", 2),
    (b"\xc8\x06\x30\x00\x00\x00\x01\x00", 7),
    (b"\xdb\x08\x01", 1),
    (b"\xdd\x00\x00\x00\x00\x00\x07", 6),
    (b"\xdd\x00\x00\x00\x00\x00\x01\x05", 7),
])
def test_malformed_offsets(data, offset):
    with pytest.raises(DecodeError) as info:
        parse_ciphered(data)
    assert info.value.offset == offset


def test_base_offset_shifts_error_offsets():
    with pytest.raises(DecodeError) as info:
        parse_ciphered(b"\xc8\x03\x30\x00\x00", base_offset=40)
    assert info.value.offset == 42


def test_general_ded_ciphering_round_trip():
    apdu = GeneralDedCiphering(b"ABCDEFGH", SecurityControl(0x20), 9, b"\x01\x02", b"")
    data = apdu.to_bytes()
    assert data[0] == 0xDC
    assert parse_ciphered(data) == apdu
    with pytest.raises(DecodeError):
        GeneralGloCiphering.from_bytes(data)


_ciphered_first_octet = st.sampled_from(sorted(SERVICE_NAME) + [0xDB, 0xDC, 0xDD])


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64), _ciphered_first_octet)
def test_random_bytes_raise_only_dlms_errors(tail, first):
    for data in (tail, bytes((first,)) + tail):
        try:
            apdu = parse_ciphered(data)
        except DlmsError:
            continue
        assert parse_ciphered(apdu.to_bytes()) == apdu


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_vectors_raise_only_dlms_errors(data):
    vectors = _apdu_vectors()
    raw = bytearray.fromhex(data.draw(st.sampled_from([v["hex"] for v in vectors])))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        parse_ciphered(bytes(raw[:cut]))
    except DlmsError:
        pass


# ---------------------------------------------------------------- with keys

from dlmsfast.security import _gcm  # noqa: E402
from dlmsfast.errors import (  # noqa: E402
    ConfigurationError,
    PolicyError,
    ReplayError,
    TagError,
    UsageError,
)
from dlmsfast.security import SecurityContext, unwrap_key, wrap_key  # noqa: E402

GCM_BACKENDS = [b for b in _gcm.BACKENDS if b != "openssl" or _gcm.openssl_available]

_FORM_BY_APDU = {"general-glo-ciphering": "general-glo", "general-ded-ciphering": "general-ded"}


def _keyed_vectors():
    return [v for v in _apdu_vectors() if v["meaning"].get("keys")
            and "plaintext" in v["meaning"]]


@pytest.fixture(params=range(12), ids=lambda i: f"keyed{i}")
def keyed_vector(request):
    vectors = _keyed_vectors()
    if request.param >= len(vectors):
        pytest.skip("fewer keyed vectors in security.json")
    return vectors[request.param]


def test_every_keyed_vector_is_covered():
    assert len(_keyed_vectors()) == 12


def _context(meaning, backend, **extra):
    keys = meaning["keys"]
    title = meaning.get("system_title_for_iv") or meaning["system_title"]["hex"]
    return SecurityContext(
        system_title=title, peer_system_title=title,
        block_cipher_key=keys["encryption_key"], authentication_key=keys["authentication_key"],
        dedicated_key=keys.get("dedicated_key"), backend=backend,
        **{"security_policy": 0, **extra},
    )


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_deciphers_to_the_meaning(keyed_vector, backend):
    meaning = keyed_vector["meaning"]
    data = bytes.fromhex(keyed_vector["hex"])
    context = _context(meaning, backend)
    steps = context.explain_decrypt(data)
    assert steps.service == meaning["apdu"]
    assert steps.security_control.to_meaning() == meaning["security_control"]
    assert steps.invocation_counter == meaning["invocation_counter"]
    if "iv" in meaning:
        assert steps.iv.hex().upper() == meaning["iv"]
        assert steps.system_title.hex().upper() == meaning["system_title_for_iv"]
    assert steps.aad_layout == meaning["aad"]
    assert steps.plaintext.hex().upper() == meaning["plaintext"]
    assert len(steps.received_tag) == meaning["tag_length"]
    if meaning["tag_length"]:
        assert steps.tag_ok is True and steps.computed_tag == steps.received_tag
    else:
        assert steps.tag_ok is None
    if "dedicated_key" in meaning["keys"]:
        assert steps.key_used == "dedicated key"
    assert context.decrypt(data).hex().upper() == meaning["plaintext"]
    assert context.peer_invocation_counter == meaning["invocation_counter"]


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_ciphering_the_plaintext_gives_the_vector(keyed_vector, backend):
    meaning = keyed_vector["meaning"]
    data = bytes.fromhex(keyed_vector["hex"])
    form = _FORM_BY_APDU.get(meaning["apdu"], meaning["apdu"][:3])
    context = _context(meaning, backend, invocation_counter=meaning["invocation_counter"])
    out = context.encrypt(bytes.fromhex(meaning["plaintext"]),
                          security_control=int(meaning["security_control"]["hex"], 16),
                          form=form)
    assert out == data
    assert context.invocation_counter == meaning["invocation_counter"] + 1


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_every_flipped_bit_of_a_vector_is_rejected(keyed_vector, backend):
    meaning = keyed_vector["meaning"]
    data = bytes.fromhex(keyed_vector["hex"])
    if not meaning["tag_length"]:
        # encryption only (SC 0x20) has no tag: a flipped ciphertext bit flips
        # the same plaintext bit, undetected. That is why security_policy exists.
        context = _context(meaning, backend)
        forged = bytearray(data)
        forged[-1] ^= 0x01
        plaintext = bytearray.fromhex(meaning["plaintext"])
        plaintext[-1] ^= 0x01
        assert context.decrypt(bytes(forged)) == plaintext
        return
    context = _context(meaning, backend, security_policy=0x10)
    header = len(data) - len(parse_ciphered(data).ciphertext) - 12
    for bit in range(8 * header, 8 * len(data)):
        forged = bytearray(data)
        forged[bit // 8] ^= 0x80 >> (bit % 8)
        with pytest.raises(TagError):
            context.decrypt(bytes(forged))
    assert context.peer_invocation_counter is None


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_replay_is_rejected(keyed_vector, backend):
    meaning = keyed_vector["meaning"]
    data = bytes.fromhex(keyed_vector["hex"])
    context = _context(meaning, backend)
    context.decrypt(data)
    with pytest.raises(ReplayError, match="replayed"):
        context.decrypt(data)
    context.peer_invocation_counter = meaning["invocation_counter"] - 1
    assert context.decrypt(data).hex().upper() == meaning["plaintext"]


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_security_policy_refuses_a_stripped_tag(backend):
    vector = next(v for v in _keyed_vectors() if v["meaning"]["security_control"]["hex"] == "20")
    context = _context(vector["meaning"], backend, security_policy=0x30)
    with pytest.raises(PolicyError, match="policy requires authentication"):
        context.decrypt(bytes.fromhex(vector["hex"]))
    strict = _context(vector["meaning"], backend)
    strict.security_policy = 0x30
    assert strict.security_policy == 0x30
    with pytest.raises(UsageError):
        strict.security_policy = 0x40
    general = strict.encrypt(b"\xc0\x01\x00", security_control=0x10, form="general-glo")
    with pytest.raises(PolicyError, match="policy requires encryption"):
        strict.decrypt(general)


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_suite_2_round_trip_agrees_with_cryptography(backend):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ek, ak = bytes(range(32)), bytes(range(32, 64))
    title = bytes.fromhex("4D4D4D0000BC614E")
    sender = SecurityContext(system_title=title, block_cipher_key=ek, authentication_key=ak,
                             security_suite=2, invocation_counter=41, backend=backend)
    receiver = SecurityContext(system_title=b"ABCDEFGH", peer_system_title=title,
                               block_cipher_key=ek, authentication_key=ak, security_suite=2,
                               backend=backend)
    plaintext = bytes.fromhex("C401C100090C07D20C04030A060BFF007800")
    data = sender.encrypt(plaintext)
    assert data[0] == 0xCC and data[2] == 0x32
    expected = AESGCM(ek).encrypt(title + (41).to_bytes(4, "big"), plaintext, b"\x32" + ak)
    assert data[7:] == expected[:-4]
    assert receiver.decrypt(data) == plaintext
    with pytest.raises(ConfigurationError, match="32 octets"):
        SecurityContext(system_title=title, block_cipher_key=bytes(16),
                        authentication_key=ak, security_suite=2)
    with pytest.raises(UsageError, match="suite"):
        sender.encrypt(plaintext, security_control=0x30)


@pytest.mark.parametrize("backend", GCM_BACKENDS)
@pytest.mark.parametrize("form", ["glo", "ded", "general-glo", "general-ded",
                                  "general-ciphering"])
@pytest.mark.parametrize("sc", [0x10, 0x20, 0x30, 0x70])
def test_every_form_round_trips(backend, form, sc):
    keys = dict(block_cipher_key=bytes(range(16)), authentication_key=bytes(range(16, 32)),
                dedicated_key=bytes(range(32, 48)), broadcast_key=bytes(range(48, 64)))
    a, b = b"AAAAAAAA", b"BBBBBBBB"
    client = SecurityContext(system_title=a, peer_system_title=b, backend=backend, **keys)
    server = SecurityContext(system_title=b, peer_system_title=a, backend=backend,
                             security_policy=0, **keys)
    if sc & 0x40 and form in ("ded", "general-ded"):
        # the key-set bit chooses between the global keys; ded- has its own
        with pytest.raises(UsageError, match="dedicated key, not the broadcast"):
            client.encrypt(b"\xc0\x01\x00", security_control=sc, form=form)
        forged = bytearray(client.encrypt(b"\xc0\x01\x00", security_control=sc & 0x3F,
                                          form=form))
        forged[-5 - 3 - 12] |= 0x40  # SC sits before IC (4), the APDU (3) and T (12)
        with pytest.raises(PolicyError, match="cannot use the broadcast key"):
            server.decrypt(bytes(forged))
        return
    for i, apdu in enumerate([bytes.fromhex("C0010000080000010000FF0200"),
                              b"\xc3\x01\x41" + bytes(range(256)) * 2]):
        data = client.encrypt(apdu, security_control=sc, form=form)
        assert server.decrypt(data) == apdu
        assert server.peer_invocation_counter == i
        assert parse_ciphered(data).security_control.value == sc


def test_general_ciphering_with_identified_and_wrapped_keys():
    ek, ak, master = bytes(range(16)), bytes(range(16, 32)), bytes(range(64, 80))
    content_key = bytes(range(100, 116))
    common = dict(authentication_key=ak, master_key=master, broadcast_key=bytes(16))
    client = SecurityContext(system_title=b"AAAAAAAA", peer_system_title=b"BBBBBBBB",
                             block_cipher_key=ek, **common)
    server = SecurityContext(system_title=b"BBBBBBBB", peer_system_title=b"AAAAAAAA",
                             block_cipher_key=ek, **common)
    for key_info in (IdentifiedKey(0), IdentifiedKey(1)):
        data = client.encrypt(b"\xc0\x01\x00", form="general-ciphering", key_info=key_info,
                              transaction_id=b"\x01" * 8, other_information=b"x")
        parsed = GeneralCiphering.from_bytes(data)
        assert parsed.key_info == key_info and parsed.transaction_id == b"\x01" * 8
        assert server.decrypt(data) == b"\xc0\x01\x00"
    wrapped = WrappedKey(0, wrap_key(master, content_key))
    data = client.encrypt(b"\xc0\x01\x00", form="general-ciphering", key_info=wrapped)
    assert server.decrypt(data) == b"\xc0\x01\x00"
    parsed = GeneralCiphering.from_bytes(data)
    plain_key = SecurityContext(system_title=b"BBBBBBBB", peer_system_title=b"AAAAAAAA",
                                block_cipher_key=content_key, authentication_key=ak)
    # the wrapped key, not the block cipher key, ciphers the content
    assert plain_key.explain_decrypt(
        GeneralGloCiphering(b"AAAAAAAA", parsed.security_control, parsed.invocation_counter,
                            parsed.ciphertext, parsed.authentication_tag).to_bytes()
    ).tag_ok is True
    agreed = GeneralCiphering(b"", b"AAAAAAAA", b"BBBBBBBB", b"", b"",
                              AgreedKey(b"\x01", bytes(64)), SecurityControl(0x30), 99,
                              bytes(3), bytes(12))
    with pytest.raises(PolicyError, match="agreed-key"):
        server.decrypt(agreed.to_bytes())


def test_general_ciphering_vector_is_refused_without_its_private_keys():
    (vector,) = [v for v in _apdu_vectors() if v["meaning"]["apdu"] == "general-ciphering"]
    context = SecurityContext(system_title="4D4D4D0000000001",
                              peer_system_title="4D4D4D0000BC614E",
                              block_cipher_key=bytes(16), authentication_key=bytes(16),
                              security_suite=1)
    with pytest.raises(PolicyError, match="agreed-key"):
        context.decrypt(bytes.fromhex(vector["hex"]))


def test_counters_and_repr():
    ek = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
    ak = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
    context = SecurityContext(system_title=b"AAAAAAAA", peer_system_title=b"BBBBBBBB",
                              block_cipher_key=ek, authentication_key=ak,
                              dedicated_key=bytes(range(16)), invocation_counter=0xFFFFFFFE)
    text = repr(context)
    for secret in (ek, ak, bytes(range(16))):
        assert secret.hex() not in text.lower() and secret.hex().upper() not in text
    assert "dedicated" in text and "4141414141414141" in text
    first = context.encrypt(b"\xc0\x01\x00")
    second = context.encrypt(b"\xc0\x01\x00")
    assert CipheredApdu.from_bytes(first).invocation_counter == 0xFFFFFFFE
    assert CipheredApdu.from_bytes(second).invocation_counter == 0xFFFFFFFF
    with pytest.raises(ConfigurationError, match="exhausted"):
        context.encrypt(b"\xc0\x01\x00")
    with pytest.raises(UsageError, match="below the next one"):
        context.invocation_counter = 0
    context = SecurityContext(system_title=b"AAAAAAAA", peer_system_title=b"BBBBBBBB",
                              block_cipher_key=ek, authentication_key=ak)
    with pytest.raises(UsageError):
        context.encrypt(b"\x60\x00", form="glo")
    with pytest.raises(UsageError):
        context.encrypt(b"\xc0\x01\x00", form="nope")
    with pytest.raises(UsageError, match="no protection"):
        context.encrypt(b"\xc0\x01\x00", security_control=0x00)
    clear = GeneralGloCiphering(b"AAAAAAAA", SecurityControl(0x00), 1, b"\xc0\x01\x00")
    for data in (clear.to_bytes(), bytes.fromhex("C8080000000001C00100")):
        with pytest.raises(PolicyError, match="no protection"):
            context.decrypt(data)
        assert context.explain_decrypt(data).tag_ok is None
    with pytest.raises(UsageError, match="neither pickled nor copied"):
        __import__("pickle").dumps(context)


def test_key_wrap_vector():
    (vector,) = [v for v in load_vectors("security") if "kek" in v["meaning"]]
    meaning = vector["meaning"]
    kek, key = bytes.fromhex(meaning["kek"]), bytes.fromhex(meaning["key_data"])
    assert wrap_key(kek, key).hex().upper() == meaning["wrapped"] == vector["hex"]
    assert unwrap_key(kek, bytes.fromhex(vector["hex"])) == key
    forged = bytearray.fromhex(vector["hex"])
    forged[5] ^= 1
    with pytest.raises(TagError, match="integrity"):
        unwrap_key(kek, bytes(forged))
    with pytest.raises(DecodeError, match="multiple of 8"):
        unwrap_key(kek, bytes(20))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_vectors_deciphered_raise_only_dlms_errors(data):
    vectors = _keyed_vectors()
    vector = data.draw(st.sampled_from(vectors))
    context = _context(vector["meaning"], data.draw(st.sampled_from(GCM_BACKENDS)))
    raw = bytearray.fromhex(vector["hex"])
    for _ in range(data.draw(st.integers(0, 3))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        context.decrypt(bytes(raw[:cut]))
        context.explain_decrypt(bytes(raw[:cut]))
    except DlmsError:
        pass


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_explain_encrypt_shows_the_green_book_steps(backend):
    (vector,) = [v for v in _keyed_vectors() if v["hex"].startswith("C81E30")]
    meaning = vector["meaning"]
    context = _context(meaning, backend, invocation_counter=5)
    data, steps = context.explain_encrypt(bytes.fromhex(meaning["plaintext"]),
                                          invocation_counter=meaning["invocation_counter"])
    assert data.hex().upper() == vector["hex"]
    # an explicit IC moves the counter to it and consumes it: never used twice
    assert context.invocation_counter == meaning["invocation_counter"] + 1
    assert steps.iv.hex().upper() == meaning["iv"]
    assert steps.aad == b"\x30" + bytes.fromhex(meaning["keys"]["authentication_key"])
    assert steps.aad_layout == "SC || AK"
    assert steps.ciphertext.hex().upper() == "411312FF935A47566827C467BC"
    assert steps.computed_tag.hex().upper() == "7D825C3BE4A77C3FCC056B6B"
    assert steps.tag_ok is True
    # the AAD carries the authentication key: it stays out of the repr
    assert meaning["keys"]["authentication_key"].lower() not in repr(steps).lower()
    assert "aad=" not in repr(steps)
    following = meaning["invocation_counter"] + 1
    _, steps = context.explain_encrypt(b"\xc0\x01\x00")
    assert steps.invocation_counter == following and context.invocation_counter == following + 1
    # explaining with an IC already used would cipher a second APDU under the
    # same key and IV (GCM nonce reuse): refused, and nothing is consumed
    with pytest.raises(UsageError, match="below the next one"):
        context.explain_encrypt(b"\xc0\x01\x00", invocation_counter=following)
    assert context.invocation_counter == following + 1


def test_steps_repr_hides_a_dedicated_key_in_the_plaintext():
    from dlmsfast.apdu import Conformance, InitiateRequest

    dedicated = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    request = InitiateRequest(proposed_conformance=Conformance(0x1F), dedicated_key=dedicated)
    context = SecurityContext(system_title=bytes(8), block_cipher_key=bytes(16),
                              authentication_key=bytes(16))
    _, steps = context.explain_encrypt(request.to_bytes())
    assert steps.plaintext == request.to_bytes()
    assert dedicated.hex() not in repr(steps).lower()


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_explain_decrypt_reports_a_wrong_tag_without_raising(backend):
    (vector,) = [v for v in _keyed_vectors() if v["hex"].startswith("C81E30")]
    context = _context(vector["meaning"], backend)
    forged = bytes.fromhex(vector["hex"][:-2] + "00")
    steps = context.explain_decrypt(forged)
    assert steps.tag_ok is False
    assert steps.received_tag != steps.computed_tag
    assert steps.computed_tag.hex().upper() == "7D825C3BE4A77C3FCC056B6B"
    assert context.peer_invocation_counter is None
    with pytest.raises(TagError, match="tag mismatch"):
        context.decrypt(forged)


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_suite_1_general_ciphering_authenticates_its_header(backend):
    keys = dict(block_cipher_key=bytes(range(16)), authentication_key=bytes(range(16, 32)),
                security_suite=1, backend=backend)
    client = SecurityContext(system_title=b"AAAAAAAA", peer_system_title=b"BBBBBBBB", **keys)
    server = SecurityContext(system_title=b"BBBBBBBB", peer_system_title=b"AAAAAAAA", **keys)
    data = client.encrypt(b"\xc0\x01\x00", security_control=0x31, form="general-ciphering",
                          transaction_id=bytes(range(8)), date_time=bytes(12))
    assert server.explain_decrypt(data).aad_layout == "SC || AK || general-ciphering header"
    assert server.decrypt(data) == b"\xc0\x01\x00"
    apdu = GeneralCiphering.from_bytes(data)
    for changed in (dict(transaction_id=bytes(8)), dict(recipient_system_title=b"CCCCCCCC"),
                    dict(date_time=b""), dict(other_information=b"\x01")):
        fields = {name: getattr(apdu, name) for name in GeneralCiphering.__dataclass_fields__}
        fields.update(changed)
        assert server.explain_decrypt(GeneralCiphering(**fields).to_bytes()).tag_ok is False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), _ciphered_first_octet, st.sampled_from(GCM_BACKENDS))
def test_random_bytes_deciphered_raise_only_dlms_errors(tail, first, backend):
    context = SecurityContext(system_title=b"AAAAAAAA", peer_system_title=b"BBBBBBBB",
                              block_cipher_key=bytes(16), authentication_key=bytes(16),
                              dedicated_key=bytes(16), master_key=bytes(16), backend=backend)
    for data in (tail, bytes((first,)) + tail):
        for call in (context.decrypt, context.explain_decrypt):
            try:
                call(data)
            except DlmsError:
                pass


def test_key_transfer_data_round_trip_and_errors():
    from dlmsfast.security import KeyId, key_transfer_data, parse_key_transfer_data

    (vector,) = [v for v in load_vectors("security") if "kek" in v["meaning"]]
    kek = bytes.fromhex(vector["meaning"]["kek"])
    key = bytes.fromhex(vector["meaning"]["key_data"])
    data = key_transfer_data(kek, {KeyId.MASTER_KEY: key})
    # array of 1, structure of 2, enum 3, octet-string of the RFC 3394 vector
    assert data == bytes.fromhex("01010202160309 18") + bytes.fromhex(vector["hex"])
    assert parse_key_transfer_data(kek, data) == [(KeyId.MASTER_KEY, key)]
    with pytest.raises(TagError):
        parse_key_transfer_data(bytes(16), data)
    for bad, offset in ((b"", 0), (data[:-1], 7), (data + b"\x00", len(data)),
                        (bytes.fromhex("0101020216070900"), 2),
                        (bytes.fromhex("0101020209001600"), 2)):
        with pytest.raises(DecodeError) as info:
            parse_key_transfer_data(kek, bad)
        assert info.value.offset == offset
    with pytest.raises(UsageError):
        key_transfer_data(kek, {})
    with pytest.raises(UsageError, match="key_id"):
        key_transfer_data(kek, {9: key})


@pytest.mark.parametrize("backend", GCM_BACKENDS)
@pytest.mark.parametrize("form", ["glo", "general-glo"])
def test_threads_never_share_an_invocation_counter_or_accept_a_replay(backend, form):
    from concurrent.futures import ThreadPoolExecutor

    keys = dict(block_cipher_key=bytes(range(16)), authentication_key=bytes(range(16, 32)),
                backend=backend)
    sender = SecurityContext(system_title=b"AAAAAAAA", **keys)
    receiver = SecurityContext(system_title=b"BBBBBBBB", peer_system_title=b"AAAAAAAA", **keys)
    with ThreadPoolExecutor(8) as pool:
        sent = list(pool.map(lambda i: sender.encrypt(b"\xc0\x01" + bytes(i % 50), form=form),
                             range(400)))
    counters = sorted(parse_ciphered(data).invocation_counter for data in sent)
    assert counters == list(range(400))
    last = max(sent, key=lambda data: parse_ciphered(data).invocation_counter)

    def attempt(_):
        try:
            receiver.decrypt(last)
            return True
        except ReplayError:
            return False

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(attempt, range(64))) == 1


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_compiled_and_structural_parsers_agree_on_malformed_input(backend):
    # decrypt() parses glo/ded/general-glo/general-ded in C, parse_ciphered in
    # Python: every truncation and every extra octet must fail at the same offset
    for vector in _keyed_vectors():
        data = bytes.fromhex(vector["hex"])
        context = _context(vector["meaning"], backend)
        for bad in [data[:cut] for cut in range(len(data))] + [data + b"\x00"]:
            with pytest.raises(DecodeError) as structural:
                parse_ciphered(bad)
            with pytest.raises(DecodeError) as compiled:
                context.decrypt(bad)
            assert compiled.value.offset == structural.value.offset, bad.hex()


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_general_glo_system_title_rules(backend):
    keys = dict(block_cipher_key=bytes(range(16)), authentication_key=bytes(range(16, 32)),
                backend=backend)
    sender = SecurityContext(system_title=b"AAAAAAAA", **keys)
    receiver = SecurityContext(system_title=b"BBBBBBBB", peer_system_title=b"AAAAAAAA", **keys)
    data = sender.encrypt(b"\x0f\x00\x00\x00\x01\x00\x09\x00", form="general-glo")
    apdu = GeneralGloCiphering.from_bytes(data)
    assert apdu.system_title == b"AAAAAAAA"
    # an empty system title means the peer's
    empty = GeneralGloCiphering(b"", apdu.security_control, apdu.invocation_counter,
                                apdu.ciphertext, apdu.authentication_tag).to_bytes()
    assert receiver.decrypt(empty) == b"\x0f\x00\x00\x00\x01\x00\x09\x00"
    receiver.peer_invocation_counter = None
    stranger = SecurityContext(system_title=b"BBBBBBBB", **keys)
    assert stranger.decrypt(data) == b"\x0f\x00\x00\x00\x01\x00\x09\x00"
    with pytest.raises(ConfigurationError, match="peer system title is unknown"):
        stranger.decrypt(empty)
    odd = GeneralGloCiphering(b"AAAAA", apdu.security_control, apdu.invocation_counter,
                              apdu.ciphertext, apdu.authentication_tag).to_bytes()
    with pytest.raises(DecodeError, match="8 octets"):
        receiver.decrypt(odd)
    with pytest.raises(DecodeError, match="8 octets"):
        receiver.explain_decrypt(odd)


@pytest.mark.parametrize("backend", GCM_BACKENDS)
def test_changing_keys(backend):
    old, new = bytes(range(16)), bytes(range(100, 116))
    keys = dict(block_cipher_key=old, authentication_key=bytes(16), backend=backend)
    sender = SecurityContext(system_title=b"AAAAAAAA", **keys)
    receiver = SecurityContext(system_title=b"BBBBBBBB", peer_system_title=b"AAAAAAAA", **keys)
    before = sender.encrypt(b"\xc0\x01\x00")
    sender.block_cipher_key = new.hex()
    assert sender.block_cipher_key == new and sender.invocation_counter == 1
    after = sender.encrypt(b"\xc0\x01\x00")
    assert receiver.decrypt(before) == b"\xc0\x01\x00"
    with pytest.raises(TagError, match="tag mismatch"):
        receiver.decrypt(after)
    receiver.block_cipher_key = new
    assert receiver.decrypt(after) == b"\xc0\x01\x00"
    with pytest.raises(ConfigurationError, match="16 octets"):
        receiver.block_cipher_key = bytes(15)
    assert receiver.block_cipher_key == new  # a refused key changes nothing
    sender.authentication_key = bytes(range(16))
    with pytest.raises(TagError, match="tag mismatch"):
        receiver.decrypt(sender.encrypt(b"\xc0\x01\x00"))
    assert receiver.broadcast_key is None and receiver.master_key is None
    receiver.broadcast_key = bytes(16)
    receiver.master_key = bytes(16)
    assert "broadcast" in repr(receiver) and "master" in repr(receiver)
    receiver.broadcast_key = None
    assert "broadcast" not in repr(receiver)


def test_an_int_is_not_taken_for_a_key():
    # bytes(16) is sixteen zeros: a key, KEK or secret given as an int is refused.
    from dlmsfast.security import lls_check

    with pytest.raises(UsageError, match="block_cipher_key"):
        SecurityContext(system_title=bytes(8), block_cipher_key=16, authentication_key=bytes(16))
    with pytest.raises(UsageError):
        wrap_key(16, bytes(16))
    with pytest.raises(UsageError):
        wrap_key(bytes(16), 16)
    with pytest.raises(UsageError):
        lls_check(8, bytes(8))
