"""dlmsfast.apdu.parse_apdu: every APDU of every vector file reaches the class that
owns its tag, and unknown or malformed input is a DecodeError at the right offset."""
from __future__ import annotations

import pytest

from conftest import load_vectors
from dlmsfast import apdu
from dlmsfast.apdu import parse_apdu
from dlmsfast.errors import DecodeError, UsageError
from dlmsfast.security import CipheredApdu, GeneralCiphering, GeneralGloCiphering

PLAIN_CLASSES = {
    0x01: apdu.InitiateRequest,
    0x08: apdu.InitiateResponse,
    0x0E: apdu.ConfirmedServiceError,
    0x0F: apdu.DataNotification,
    0x60: apdu.AARQ,
    0x61: apdu.AARE,
    0x62: apdu.RLRQ,
    0x63: apdu.RLRE,
    0xC2: apdu.EventNotificationRequest,
    0xD8: apdu.ExceptionResponse,
    0xE0: apdu.GeneralBlockTransfer,
}
CHOICE_CLASSES = {
    (0xC0, "get-request-normal"): apdu.GetRequestNormal,
    (0xC0, "get-request-next"): apdu.GetRequestNext,
    (0xC0, "get-request-with-list"): apdu.GetRequestWithList,
    (0xC4, "get-response-normal"): apdu.GetResponseNormal,
    (0xC4, "get-response-with-datablock"): apdu.GetResponseWithDatablock,
    (0xC4, "get-response-with-list"): apdu.GetResponseWithList,
    (0xC1, "set-request-normal"): apdu.SetRequestNormal,
    (0xC1, "set-request-with-first-datablock"): apdu.SetRequestWithFirstDatablock,
    (0xC1, "set-request-with-datablock"): apdu.SetRequestWithDatablock,
    (0xC1, "set-request-with-list"): apdu.SetRequestWithList,
    (0xC5, "set-response-normal"): apdu.SetResponseNormal,
    (0xC5, "set-response-datablock"): apdu.SetResponseDatablock,
    (0xC5, "set-response-last-datablock"): apdu.SetResponseLastDatablock,
    (0xC5, "set-response-with-list"): apdu.SetResponseWithList,
    (0xC3, "action-request-normal"): apdu.ActionRequestNormal,
    (0xC7, "action-response-normal"): apdu.ActionResponseNormal,
}
CIPHERED_CLASSES = {0xDB: GeneralGloCiphering, 0xDD: GeneralCiphering}


def _is_apdu(record: dict) -> bool:
    # security.json also holds HLS-GMAC method parameters and a key-wrap record.
    name = record["meaning"].get("apdu")
    return name is not None and not name.startswith("HLS-GMAC")


def _records(*files: str) -> list[dict]:
    return [r for f in files for r in load_vectors(f) if not r["name"].startswith("NEGATIVE")]


ALL = _records("acse", "xdlms", "security")
APDUS = [r for r in ALL if _is_apdu(r)]
NOT_APDUS = [r for r in ALL if not _is_apdu(r)]
PLAINTEXTS = [r for r in _records("security") if "plaintext" in r["meaning"]]


def _ids(records):
    return [r["name"][:70] for r in records]


def _expected_class(record: dict, raw: bytes) -> type:
    meaning = record["meaning"]
    if "choice" in meaning:
        return CHOICE_CLASSES[raw[0], meaning["choice"]]
    if raw[0] in PLAIN_CLASSES:
        return PLAIN_CLASSES[raw[0]]
    return CIPHERED_CLASSES.get(raw[0], CipheredApdu)


def test_every_vector_file_contributes():
    files = {f: sum(1 for r in APDUS if r in load_vectors(f)) for f in ("acse", "xdlms", "security")}
    assert files["acse"] >= 19 and files["xdlms"] >= 43 and files["security"] >= 14


@pytest.mark.parametrize("record", APDUS, ids=_ids(APDUS))
def test_parse_apdu_dispatches_every_vector(record):
    raw = bytes.fromhex(record["hex"])
    parsed = parse_apdu(raw)
    assert type(parsed) is _expected_class(record, raw)
    assert parsed.to_bytes() == raw
    assert parse_apdu(bytearray(raw)) == parsed
    assert parse_apdu(memoryview(raw)) == parsed


@pytest.mark.parametrize("record", APDUS, ids=_ids(APDUS))
def test_parse_apdu_rejects_trailing_bytes(record):
    raw = bytes.fromhex(record["hex"])
    with pytest.raises(DecodeError) as info:
        parse_apdu(raw + b"\x00")
    assert info.value.offset is not None and 0 <= info.value.offset <= len(raw)


def test_confirmed_service_error_vectors_describe_their_meaning():
    for record in _records("xdlms"):
        if record["meaning"]["apdu"] != "confirmed-service-error":
            continue
        parsed = parse_apdu(bytes.fromhex(record["hex"]))
        described = parsed.to_meaning()
        for key, value in record["meaning"].items():
            assert described[key] == value, key


@pytest.mark.parametrize("record", PLAINTEXTS, ids=_ids(PLAINTEXTS))
def test_plaintext_inside_ciphered_vectors_parses_and_round_trips(record):
    raw = bytes.fromhex(record["meaning"]["plaintext"])
    parsed = parse_apdu(raw)
    assert parsed.TAG == raw[0]
    assert parsed.to_bytes() == raw


@pytest.mark.parametrize("record", NOT_APDUS, ids=_ids(NOT_APDUS))
def test_non_apdu_records_are_unknown_tags(record):
    raw = bytes.fromhex(record["hex"])
    with pytest.raises(DecodeError) as info:
        parse_apdu(raw)
    assert info.value.offset == 0
    assert f"0x{raw[0]:02X}" in str(info.value)


@pytest.mark.parametrize("tag", [0x00, 0x02, 0x10, 0x64, 0xC6, 0xD9, 0xE1, 0xFF])
def test_unknown_tag_is_a_decode_error_at_offset_0(tag):
    with pytest.raises(DecodeError) as info:
        parse_apdu(bytes([tag, 0x01, 0x02]))
    assert info.value.offset == 0
    assert "unknown APDU tag" in str(info.value)


def test_empty_and_non_bytes_input():
    with pytest.raises(DecodeError) as info:
        parse_apdu(b"")
    assert info.value.offset == 0
    with pytest.raises(UsageError):
        parse_apdu("C001")


def test_every_layer_normalises_input_alike():
    # One normaliser (_util.as_bytes): any bytes-like object is read, text is
    # the caller's mistake, whichever layer decodes it.
    import array

    rlrq = bytes.fromhex("6203800100")
    assert apdu.RLRQ.from_bytes(array.array("B", rlrq)) == apdu.RLRQ.from_bytes(rlrq)
    for decode, text in (
        (parse_apdu, "C001"),
        (apdu.RLRQ.from_bytes, "6203800100"),
        (apdu.InitiateResponse.from_bytes, "08"),
        (CipheredApdu.from_bytes, "C805200000000101"),
    ):
        with pytest.raises(UsageError):
            decode(text)


def test_tag_alone_is_a_decode_error_past_the_tag():
    for tag in (0xC0, 0xC1, 0xC3, 0xC4, 0xC5, 0xC7, 0x0F, 0xC2, 0xD8, 0xE0):
        with pytest.raises(DecodeError) as info:
            parse_apdu(bytes([tag]))
        assert info.value.offset == 1


def test_package_exports_every_apdu_class_once():
    names = apdu.__all__
    assert len(names) == len(set(names))
    for name in ("parse_apdu", "GetRequestNormal", "AARQ", "InitiateRequest", "GeneralBlockTransfer"):
        assert name in names and hasattr(apdu, name)
