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
