"""parse_apdu on hostile input: random bodies behind every known tag, and mutated
vectors of acse.json, xdlms.json and security.json. Only DlmsError subclasses may
come out; whatever parses must describe itself and re-encode to bytes that parse
to the same APDU."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_vectors
from dlmsfast import apdu
from dlmsfast.apdu import parse_apdu
from dlmsfast.apdu.xdlms import XDLMS_CLASSES
from dlmsfast.errors import DecodeError
from dlmsfast.security.ciphered import SERVICE_NAME

CIPHERED_TAGS = sorted(SERVICE_NAME) + [0xDB, 0xDC, 0xDD]
PLAIN_CLASSES = XDLMS_CLASSES + (
    apdu.AARQ,
    apdu.AARE,
    apdu.RLRQ,
    apdu.RLRE,
    apdu.InitiateRequest,
    apdu.InitiateResponse,
    apdu.ConfirmedServiceError,
)
KNOWN_TAGS = sorted({cls.TAG for cls in PLAIN_CLASSES} | set(CIPHERED_TAGS))
XDLMS_TYPES = tuple(XDLMS_CLASSES)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _vector_records() -> list[dict]:
    """Every APDU of the vector set (security.json's HLS results and wrapped key
    are not APDUs: they carry no tag octet, so their meaning has no ``tag``)."""
    return [r for name in ("acse", "xdlms", "security") for r in load_vectors(name)
            if name != "security" or len(r["meaning"].get("tag", "")) == 2]


VECTORS = [bytes.fromhex(r["hex"]) for r in _vector_records()]


def _check(raw: bytes) -> None:
    """Hostile bytes either parse (and then describe and re-encode themselves) or
    raise a DecodeError that says where; a local error (UsageError, EncodeError)
    or an offset outside the input is a bug, and so is any other exception."""
    try:
        apdu = parse_apdu(raw)
    except DecodeError as error:
        assert error.offset is not None and 0 <= error.offset <= len(raw), (error, len(raw))
        return
    _check_parsed(apdu, raw)


def _check_parsed(apdu, raw: bytes) -> None:
    if hasattr(apdu, "to_meaning"):
        json.dumps(apdu.to_meaning())
    if isinstance(apdu, XDLMS_TYPES):
        again = apdu.to_bytes()
        assert parse_apdu(again) == apdu
        assert len(again) <= len(raw)


@SETTINGS
@given(tag=st.sampled_from(KNOWN_TAGS), body=st.binary(max_size=80))
def test_random_body_behind_every_known_tag(tag, body):
    _check(bytes([tag]) + body)


@SETTINGS
@given(
    tag=st.sampled_from([0xC0, 0xC1, 0xC3, 0xC4, 0xC5, 0xC7]),
    choice=st.integers(0, 7),
    iip=st.integers(0, 255),
    body=st.binary(max_size=80),
)
def test_random_body_behind_every_service_choice(tag, choice, iip, body):
    _check(bytes([tag, choice, iip]) + body)


@st.composite
def mutated_vectors(draw) -> bytes:
    raw = bytearray(draw(st.sampled_from(VECTORS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        index = draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[index] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and raw:
            raw[index] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF]))
        elif kind == "insert":
            raw[index:index] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete" and raw:
            del raw[index]
        elif kind == "truncate":
            del raw[index:]
    return bytes(raw)


@SETTINGS
@given(raw=mutated_vectors())
def test_mutated_vectors_raise_only_dlms_errors(raw):
    _check(raw)


def test_every_vector_parses_unmutated_and_every_negative_one_is_refused():
    records = _vector_records()
    negative = [r for r in records if r["name"].startswith("NEGATIVE")]
    assert len(records) - len(negative) == 19 + 43 + 14
    for record in records:
        raw = bytes.fromhex(record["hex"])
        if record in negative:
            with pytest.raises(DecodeError) as info:
                parse_apdu(raw)
            assert info.value.offset is not None and 0 <= info.value.offset <= len(raw)
        else:
            _check_parsed(parse_apdu(raw), raw)


# --- random valid APDUs: built from fields, encoded, decoded back ---------------------------

from dlmsfast.apdu import xdlms as x  # noqa: E402
from dlmsfast.axdr import Data, DataType  # noqa: E402
from dlmsfast.cosem.obis import Obis  # noqa: E402

_u32 = st.integers(0, 0xFFFFFFFF)
_octets = st.binary(max_size=300)  # past 127 and 255 to use the 0x81 and 0x82 length forms
_iip = st.builds(
    x.InvokeIdAndPriority,
    st.integers(0, 15),
    st.sampled_from(x.ServiceClass),
    st.sampled_from(x.Priority),
    st.integers(0, 3),
)
_obis = st.builds(Obis, *[st.integers(0, 255)] * 6)
_attribute = st.builds(x.CosemAttributeDescriptor, st.integers(0, 0xFFFF), _obis, st.integers(-128, 127))
_method = st.builds(x.CosemMethodDescriptor, st.integers(0, 0xFFFF), _obis, st.integers(-128, 127))
_leaf = st.one_of(
    st.just(Data(DataType.NULL_DATA)),
    st.builds(Data, st.just(DataType.BOOLEAN), st.booleans()),
    st.builds(Data, st.just(DataType.UNSIGNED), st.integers(0, 0xFF)),
    st.builds(Data, st.just(DataType.LONG), st.integers(-0x8000, 0x7FFF)),
    st.builds(Data, st.just(DataType.DOUBLE_LONG_UNSIGNED), _u32),
    st.builds(Data, st.just(DataType.OCTET_STRING), _octets),
    st.builds(Data, st.just(DataType.VISIBLE_STRING), st.text(st.characters(min_codepoint=32, max_codepoint=126))),
)
_data = st.recursive(
    _leaf, lambda inner: st.builds(Data, st.just(DataType.STRUCTURE), st.tuples(inner, inner)), max_leaves=6
)
_selection = st.none() | st.builds(x.SelectiveAccessDescriptor, st.integers(0, 255), _data)
_with_selection = st.builds(x.CosemAttributeDescriptorWithSelection, _attribute, _selection)
_block_sa = st.builds(x.DataBlockSA, st.booleans(), _u32, _octets)
_dar = st.sampled_from(x.DataAccessResult)
_result = _data | _dar
_few = dict(max_size=4)


def _apdu(cls, **fields):
    return st.builds(cls, invoke_id_and_priority=_iip, **fields)


RANDOM_APDUS = st.one_of(
    _apdu(x.GetRequestNormal, cosem_attribute_descriptor=_attribute, access_selection=_selection),
    _apdu(x.GetRequestNext, block_number=_u32),
    _apdu(x.GetRequestWithList, attribute_descriptor_list=st.lists(_with_selection, **_few)),
    _apdu(x.GetResponseNormal, result=_result),
    _apdu(x.GetResponseWithDatablock, result=st.builds(x.DataBlockG, st.booleans(), _u32, _octets | _dar)),
    _apdu(x.GetResponseWithList, result=st.lists(_result, **_few)),
    _apdu(x.SetRequestNormal, cosem_attribute_descriptor=_attribute, access_selection=_selection, value=_data),
    _apdu(
        x.SetRequestWithFirstDatablock,
        cosem_attribute_descriptor=_attribute,
        access_selection=_selection,
        datablock=_block_sa,
    ),
    _apdu(x.SetRequestWithDatablock, datablock=_block_sa),
    _apdu(
        x.SetRequestWithList,
        attribute_descriptor_list=st.lists(_with_selection, **_few),
        value_list=st.lists(_data, **_few),
    ),
    _apdu(
        x.SetRequestWithListAndFirstDatablock,
        attribute_descriptor_list=st.lists(_with_selection, **_few),
        datablock=_block_sa,
    ),
    _apdu(x.SetResponseNormal, result=_dar),
    _apdu(x.SetResponseDatablock, block_number=_u32),
    _apdu(x.SetResponseLastDatablock, result=_dar, block_number=_u32),
    _apdu(x.SetResponseLastDatablockWithList, result=st.lists(_dar, **_few), block_number=_u32),
    _apdu(x.SetResponseWithList, result=st.lists(_dar, **_few)),
    _apdu(x.ActionRequestNormal, cosem_method_descriptor=_method, method_invocation_parameters=st.none() | _data),
    _apdu(x.ActionRequestNextPblock, block_number=_u32),
    _apdu(
        x.ActionRequestWithList,
        cosem_method_descriptor_list=st.lists(_method, **_few),
        method_invocation_parameters=st.lists(_data, **_few),
    ),
    _apdu(x.ActionRequestWithFirstPblock, cosem_method_descriptor=_method, pblock=_block_sa),
    _apdu(x.ActionRequestWithListAndFirstPblock, cosem_method_descriptor_list=st.lists(_method, **_few), pblock=_block_sa),
    _apdu(x.ActionRequestWithPblock, pblock=_block_sa),
    _apdu(x.ActionResponseNormal, action_result=st.sampled_from(x.ActionResult), return_parameters=st.none() | _result),
    _apdu(x.ActionResponseWithPblock, pblock=_block_sa),
    _apdu(
        x.ActionResponseWithList,
        list_of_responses=st.lists(
            st.builds(x.ActionResponseWithOptionalData, st.sampled_from(x.ActionResult), st.none() | _result), **_few
        ),
    ),
    _apdu(x.ActionResponseNextPblock, block_number=_u32),
    st.builds(
        x.DataNotification,
        long_invoke_id_and_priority=st.builds(
            x.LongInvokeIdAndPriority,
            st.integers(0, 0xFFFFFF),
            st.booleans(),
            st.sampled_from(x.ProcessingOption),
            st.sampled_from(x.ServiceClass),
            st.sampled_from(x.Priority),
            st.integers(0, 15),
        ),
        date_time=st.none() | st.binary(min_size=12, max_size=12),
        notification_body=_data,
        date_time_form=st.sampled_from([x.OCTET_STRING_FORM, x.OPTIONAL_FLAG_FORM]),
    ),
    st.builds(
        x.EventNotificationRequest,
        time=st.none() | _octets,
        cosem_attribute_descriptor=_attribute,
        attribute_value=_data,
    ),
    st.sampled_from(x.ExceptionStateError).flatmap(
        lambda state: st.sampled_from(x.ExceptionServiceError).flatmap(
            lambda service: st.builds(
                x.ExceptionResponse,
                st.just(state),
                st.just(service),
                _u32 if service is x.ExceptionServiceError.INVOCATION_COUNTER_ERROR else st.none(),
            )
        )
    ),
    st.builds(
        x.GeneralBlockTransfer,
        last_block=st.booleans(),
        streaming=st.booleans(),
        window=st.integers(0, 63),
        block_number=st.integers(0, 0xFFFF),
        block_number_ack=st.integers(0, 0xFFFF),
        block_data=_octets,
    ),
)


@SETTINGS
@given(apdu=RANDOM_APDUS)
def test_random_apdus_round_trip(apdu):
    raw = apdu.to_bytes()
    parsed = parse_apdu(raw)
    assert parsed == apdu
    assert parsed.to_bytes() == raw
    assert json.loads(json.dumps(parsed.to_meaning())) == parsed.to_meaning()
    assert parsed.to_meaning()["apdu"] == apdu.APDU
