"""xDLMS APDUs against the published vectors (shared/vectors/xdlms.json), both ways,
and the behaviour the vectors do not cover (other choices, bounds, bad input)."""
from __future__ import annotations

import pytest

from conftest import load_vectors
from dlmsfast.apdu import parse_apdu, xdlms
from dlmsfast.apdu.xdlms import (
    OPTIONAL_FLAG_FORM,
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNextPblock,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithOptionalData,
    ActionResponseWithPblock,
    ActionResult,
    CaptureObjectDefinition,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    DataBlockG,
    DataBlockSA,
    DataNotification,
    EntryDescriptor,
    EventNotificationRequest,
    ExceptionResponse,
    ExceptionServiceError,
    ExceptionStateError,
    GeneralBlockTransfer,
    GetRequestNext,
    GetRequestNormal,
    GetRequestWithList,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
    InvokeIdAndPriority,
    LongInvokeIdAndPriority,
    Priority,
    ProcessingOption,
    RangeDescriptor,
    SelectiveAccessDescriptor,
    ServiceClass,
    SetRequestNormal,
    SetRequestWithDatablock,
    SetRequestWithFirstDatablock,
    SetRequestWithList,
    SetRequestWithListAndFirstDatablock,
    SetResponseDatablock,
    SetResponseLastDatablock,
    SetResponseLastDatablockWithList,
    SetResponseNormal,
    SetResponseWithList,
    get_response_normal_bytes,
    get_response_with_datablock_bytes,
    get_response_with_list_bytes,
)
from dlmsfast.axdr import Data, DataType, DateTime, encode
from dlmsfast.errors import DecodeError, DlmsError, EncodeError, UsageError
from dlmsfast.cosem.obis import Obis

XDLMS_TAGS = {cls.TAG for cls in xdlms.XDLMS_CLASSES}


def _vectors() -> list[dict]:
    return [v for v in load_vectors("xdlms") if bytes.fromhex(v["hex"])[0] in XDLMS_TAGS]


def _ids(vectors):
    return [v["name"][:70] for v in vectors]


def _decode(data: bytes):
    return xdlms.XDLMS_DECODERS[data[0]](data)


# Keys of the vector meanings that are commentary, not decoded fields.
_INFORMATIONAL = {"interpreted_as", "fields", "raw_data_starts"}


def _assert_meaning(described, expected, path="meaning"):
    """``described`` equals ``expected`` except for informational keys; a vector
    that abbreviates raw data gives ``raw_data_length`` instead of ``raw_data``."""
    if isinstance(expected, dict):
        assert isinstance(described, dict), path
        if "raw_data_length" in expected:
            assert len(bytes.fromhex(described["raw_data"])) == expected["raw_data_length"], path
            expected = {k: v for k, v in expected.items() if k != "raw_data_length"}
            described = {k: v for k, v in described.items() if k != "raw_data"}
        keys = set(expected) - _INFORMATIONAL
        assert set(described) - _INFORMATIONAL == keys, path
        for key in keys:
            _assert_meaning(described[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(described, list) and len(described) == len(expected), path
        for i, (d, e) in enumerate(zip(described, expected)):
            _assert_meaning(d, e, f"{path}[{i}]")
    else:
        assert described == expected and type(described) is type(expected), path


# --- building an APDU from the meaning alone (the encoder's side of each vector) -----


def _name(enum, text):
    return enum[text.upper().replace("-", "_")]


def _iip(m):
    return InvokeIdAndPriority(
        m["invoke_id"], _name(ServiceClass, m["service_class"]), _name(Priority, m["priority"])
    )


def _cad(m):
    return CosemAttributeDescriptor(m["class_id"], m["instance_id"], m["attribute_id"])


def _cmd(m):
    return CosemMethodDescriptor(m["class_id"], m["instance_id"], m["method_id"])


def _selection(m):
    if m is None:
        return None
    return SelectiveAccessDescriptor(m["access_selector"], Data.from_meaning(m["access_parameters"]))


def _with_selection(m):
    return CosemAttributeDescriptorWithSelection(_cad(m["cosem_attribute_descriptor"]), _selection(m["access_selection"]))


def _result(m):
    if "data" in m:
        return Data.from_meaning(m["data"])
    return DataAccessResult(m["data_access_result"])


def _block_sa(m):
    return DataBlockSA(m["last_block"], m["block_number"], bytes.fromhex(m["raw_data"]))


def _block_g(m, raw: bytes):
    if "data_access_result" in m:
        return DataBlockG(m["last_block"], m["block_number"], DataAccessResult(m["data_access_result"]))
    if "raw_data" in m:
        return DataBlockG(m["last_block"], m["block_number"], bytes.fromhex(m["raw_data"]))
    # The long vectors abbreviate the raw data in their meaning: take it from the
    # octets, after the 9-octet head and the 3-octet 0x82 length.
    assert len(raw) - 12 == m["raw_data_length"]
    return DataBlockG(m["last_block"], m["block_number"], raw[12:])


def _build(m, raw: bytes):
    apdu = m["apdu"]
    if apdu == "data-notification":
        dt = m["date_time"]
        liip = m["long_invoke_id_and_priority"]
        return DataNotification(
            long_invoke_id_and_priority=LongInvokeIdAndPriority(
                liip["invoke_id"],
                liip["self_descriptive"],
                _name(ProcessingOption, liip["processing_option"]),
                _name(ServiceClass, liip["service_class"]),
                _name(Priority, liip["priority"]),
            ),
            date_time=None if dt is None else bytes.fromhex(dt["hex"]),
            notification_body=Data.from_meaning(m["notification_body"]),
        )
    if apdu == "event-notification-request":
        return EventNotificationRequest(
            time=None if m["time"] is None else bytes.fromhex(m["time"]["hex"]),
            cosem_attribute_descriptor=_cad(m["cosem_attribute_descriptor"]),
            attribute_value=Data.from_meaning(m["attribute_value"]),
        )
    if apdu == "exception-response":
        return ExceptionResponse(ExceptionStateError(m["state_error"]), ExceptionServiceError(m["service_error"]))
    iip = _iip(m["invoke_id_and_priority"])
    choice = m["choice"]
    if choice == "get-request-normal":
        return GetRequestNormal(
            invoke_id_and_priority=iip,
            cosem_attribute_descriptor=_cad(m["cosem_attribute_descriptor"]),
            access_selection=_selection(m["access_selection"]),
        )
    if choice == "get-request-next":
        return GetRequestNext(invoke_id_and_priority=iip, block_number=m["block_number"])
    if choice == "get-request-with-list":
        return GetRequestWithList(
            invoke_id_and_priority=iip,
            attribute_descriptor_list=[_with_selection(x) for x in m["attribute_descriptor_list"]],
        )
    if choice == "get-response-normal":
        return GetResponseNormal(invoke_id_and_priority=iip, result=_result(m["result"]))
    if choice == "get-response-with-datablock":
        return GetResponseWithDatablock(invoke_id_and_priority=iip, result=_block_g(m["result"], raw))
    if choice == "get-response-with-list":
        return GetResponseWithList(invoke_id_and_priority=iip, result=[_result(x) for x in m["result"]])
    if choice == "set-request-normal":
        return SetRequestNormal(
            invoke_id_and_priority=iip,
            cosem_attribute_descriptor=_cad(m["cosem_attribute_descriptor"]),
            access_selection=_selection(m["access_selection"]),
            value=Data.from_meaning(m["value"]),
        )
    if choice == "set-request-with-first-datablock":
        return SetRequestWithFirstDatablock(
            invoke_id_and_priority=iip,
            cosem_attribute_descriptor=_cad(m["cosem_attribute_descriptor"]),
            access_selection=_selection(m["access_selection"]),
            datablock=_block_sa(m["datablock"]),
        )
    if choice == "set-request-with-datablock":
        return SetRequestWithDatablock(invoke_id_and_priority=iip, datablock=_block_sa(m["datablock"]))
    if choice == "set-request-with-list":
        return SetRequestWithList(
            invoke_id_and_priority=iip,
            attribute_descriptor_list=[_with_selection(x) for x in m["attribute_descriptor_list"]],
            value_list=[Data.from_meaning(x) for x in m["value_list"]],
        )
    if choice == "set-response-normal":
        return SetResponseNormal(invoke_id_and_priority=iip, result=DataAccessResult(m["result"]))
    if choice == "set-response-datablock":
        return SetResponseDatablock(invoke_id_and_priority=iip, block_number=m["block_number"])
    if choice == "set-response-last-datablock":
        return SetResponseLastDatablock(
            invoke_id_and_priority=iip, result=m["result"], block_number=m["block_number"]
        )
    if choice == "set-response-with-list":
        return SetResponseWithList(invoke_id_and_priority=iip, result=m["result"])
    if choice == "action-request-normal":
        parameters = m["method_invocation_parameters"]
        return ActionRequestNormal(
            invoke_id_and_priority=iip,
            cosem_method_descriptor=_cmd(m["cosem_method_descriptor"]),
            method_invocation_parameters=None if parameters is None else Data.from_meaning(parameters),
        )
    if choice == "action-response-normal":
        returned = m["return_parameters"]
        return ActionResponseNormal(
            invoke_id_and_priority=iip,
            action_result=ActionResult(m["action_result"]),
            return_parameters=None if returned is None else _result(returned),
        )
    raise AssertionError(f"no builder for {choice}")


# --- the vectors ------------------------------------------------------------------


VECTORS = _vectors()


def test_every_xdlms_vector_is_covered():
    vectors = load_vectors("xdlms")
    others = {v["meaning"]["apdu"] for v in vectors if v not in VECTORS}
    # confirmed-service-error (0x0E) belongs to dlmsfast.apdu.initiate.
    assert others == {"confirmed-service-error"}
    assert len(VECTORS) == len(vectors) - 2


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_vector_decodes_to_its_meaning(vector):
    raw = bytes.fromhex(vector["hex"])
    apdu = _decode(raw)
    _assert_meaning(apdu.to_meaning(), vector["meaning"])
    assert type(apdu).from_bytes(raw) == apdu
    assert type(apdu).from_bytes(bytearray(raw)) == apdu
    assert type(apdu).from_bytes(memoryview(raw)) == apdu


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_vector_reencodes_byte_exact(vector):
    raw = bytes.fromhex(vector["hex"])
    assert _decode(raw).to_bytes() == raw


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_vector_built_from_its_meaning_gives_its_bytes(vector):
    raw = bytes.fromhex(vector["hex"])
    built = _build(vector["meaning"], raw)
    assert built.to_bytes() == raw
    assert built == _decode(raw)


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
@pytest.mark.parametrize("extra", [b"\x00", b"\xff\xff"])
def test_vector_with_trailing_bytes_is_rejected(vector, extra):
    raw = bytes.fromhex(vector["hex"])
    with pytest.raises(DecodeError) as info:
        _decode(raw + extra)
    assert info.value.offset == len(raw)
    assert "trailing" in str(info.value)


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_every_truncation_of_a_vector_is_a_decode_error(vector):
    raw = bytes.fromhex(vector["hex"])
    for cut in range(1, len(raw)):
        with pytest.raises(DecodeError) as info:
            _decode(raw[:cut])
        assert info.value.offset is not None and 0 <= info.value.offset <= cut


# --- the building blocks ---------------------------------------------------------------


@pytest.mark.parametrize(
    "octet, invoke_id, service_class, priority",
    [
        (0x00, 0, ServiceClass.UNCONFIRMED, Priority.NORMAL),
        (0xC1, 1, ServiceClass.CONFIRMED, Priority.HIGH),
        (0x81, 1, ServiceClass.UNCONFIRMED, Priority.HIGH),
        (0x4F, 15, ServiceClass.CONFIRMED, Priority.NORMAL),
    ],
)
def test_invoke_id_and_priority_bits(octet, invoke_id, service_class, priority):
    iip = InvokeIdAndPriority.from_byte(octet)
    assert (iip.invoke_id, iip.service_class, iip.priority) == (invoke_id, service_class, priority)
    assert InvokeIdAndPriority(invoke_id, service_class, priority).value == octet


def test_invoke_id_and_priority_keeps_reserved_bits_and_checks_ranges():
    assert InvokeIdAndPriority.from_byte(0xF5).value == 0xF5
    with pytest.raises(UsageError):
        InvokeIdAndPriority(16)
    with pytest.raises(UsageError):
        InvokeIdAndPriority(-1)


def test_long_invoke_id_and_priority_bits():
    liip = LongInvokeIdAndPriority.from_int(0xF0ABCDEF)
    assert liip.invoke_id == 0xABCDEF
    assert liip.priority is Priority.HIGH
    assert liip.service_class is ServiceClass.CONFIRMED
    assert liip.processing_option is ProcessingOption.BREAK_ON_ERROR
    assert liip.self_descriptive is True
    assert liip.value == 0xF0ABCDEF
    assert LongInvokeIdAndPriority.from_int(0x0F000000).reserved == 0x0F
    with pytest.raises(UsageError):
        LongInvokeIdAndPriority(invoke_id=1 << 24)


def test_descriptor_accepts_obis_text_and_checks_ranges():
    descriptor = CosemAttributeDescriptor(3, "1-0:1.8.0*255", 2)
    assert descriptor.instance_id == Obis(1, 0, 1, 8, 0, 255)
    assert descriptor.to_bytes() == bytes.fromhex("0003 0100010800FF 02")
    with pytest.raises(UsageError):
        CosemAttributeDescriptor(0x10000, "1.0.1.8.0.255", 2)
    with pytest.raises(UsageError):
        CosemMethodDescriptor(15, "0.0.40.0.0.255", 128)


def test_negative_attribute_id_is_integer8():
    raw = bytes.fromhex("C001C1 0001 0000600100FF FF 00")
    apdu = GetRequestNormal.from_bytes(raw)
    assert apdu.cosem_attribute_descriptor.attribute_id == -1
    assert apdu.to_bytes() == raw


def test_data_access_result_names_follow_the_blue_book():
    names = {int(m): m.blue_book_name for m in DataAccessResult}
    assert names[3] == "read-write-denied"
    assert names[9] == "object-class-inconsistent"
    assert names[16] == "no-long-get-in-progress"
    assert names[19] == "data-block-number-invalid"
    assert names[250] == "other-reason"
    assert set(names) == {0, 1, 2, 3, 4, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 250}
    assert ActionResult(15).blue_book_name == "long-action-aborted"


def test_range_descriptor_helper_builds_the_vector():
    vector = next(v for v in VECTORS if "selective access by range" in v["name"])
    clock = CaptureObjectDefinition(8, "0.0.1.0.0.255", 2, 0)
    selection = SelectiveAccessDescriptor.range_descriptor(
        clock,
        DateTime.from_bytes(bytes.fromhex("07E10A010700000000FFC480")),
        Data(DataType.OCTET_STRING, bytes.fromhex("07E10A010701000000FFC480")),
    )
    apdu = GetRequestNormal(
        cosem_attribute_descriptor=CosemAttributeDescriptor(7, "1.0.99.1.0.255", 2),
        access_selection=selection,
    )
    assert apdu.to_bytes().hex().upper() == vector["hex"]
    assert apdu.to_meaning()["access_selection"]["name"] == "range_descriptor"


def test_range_descriptor_with_selected_columns():
    clock = CaptureObjectDefinition(8, "0.0.1.0.0.255", 2)
    energy = CaptureObjectDefinition(3, "1.0.1.8.0.255", 2)
    selection = SelectiveAccessDescriptor.range_descriptor(
        clock, Data(DataType.OCTET_STRING, b"\x00" * 12), Data(DataType.OCTET_STRING, b"\xff" * 12), [clock, energy]
    )
    columns = selection.access_parameters.value[3]
    assert columns.type is DataType.ARRAY
    assert [c.value[1].value for c in columns.value] == [bytes(clock.logical_name), bytes(energy.logical_name)]
    with pytest.raises(UsageError):
        SelectiveAccessDescriptor.range_descriptor(clock, 5, 6)


def test_entry_descriptor_helper_builds_the_vector():
    vector = next(v for v in VECTORS if "selective access by entry" in v["name"])
    apdu = GetRequestNormal(
        cosem_attribute_descriptor=CosemAttributeDescriptor(7, "1.0.99.1.0.255", 2),
        access_selection=SelectiveAccessDescriptor.entry_descriptor(1, 10, 1, 0),
    )
    assert apdu.to_bytes().hex().upper() == vector["hex"]
    assert apdu.to_meaning()["access_selection"]["name"] == "entry_descriptor"
    with pytest.raises(UsageError):
        SelectiveAccessDescriptor.entry_descriptor(1, 1 << 32)


def test_selector_is_named_only_for_profile_generic():
    selection = SelectiveAccessDescriptor.entry_descriptor(1, 2)
    apdu = GetRequestNormal(
        cosem_attribute_descriptor=CosemAttributeDescriptor(26, "0.0.98.1.0.255", 2), access_selection=selection
    )
    assert apdu.to_meaning()["access_selection"]["name"] is None


# --- choices the vectors do not cover: built, encoded, decoded back ----------------------

_IIP = InvokeIdAndPriority(5, ServiceClass.CONFIRMED, Priority.NORMAL)
_CLOCK = CosemAttributeDescriptor(8, "0.0.1.0.0.255", 2)
_METHOD = CosemMethodDescriptor(70, "0.0.96.3.10.255", 1)
_BLOCK = DataBlockSA(False, 1, bytes(range(200)))
_LONG = Data(DataType.DOUBLE_LONG_UNSIGNED, 42)

BUILT = [
    (GetResponseWithList(invoke_id_and_priority=_IIP, result=[_LONG, DataAccessResult.OBJECT_UNDEFINED]),
     "C403 45 02 00 060000002A 01 04"),
    (SetRequestWithListAndFirstDatablock(
        invoke_id_and_priority=_IIP,
        attribute_descriptor_list=[CosemAttributeDescriptorWithSelection(_CLOCK)],
        datablock=DataBlockSA(True, 1, b"\x0f\x01"),
    ), "C105 45 01 00080000010000FF0200 01 00000001 02 0F01"),
    (SetResponseLastDatablockWithList(invoke_id_and_priority=_IIP, result=[0, 3], block_number=7),
     "C504 45 02 00 03 00000007"),
    (ActionRequestNextPblock(invoke_id_and_priority=_IIP, block_number=3), "C302 45 00000003"),
    (ActionRequestWithList(
        invoke_id_and_priority=_IIP,
        cosem_method_descriptor_list=[_METHOD, _METHOD],
        method_invocation_parameters=[Data(DataType.INTEGER, 0), Data(DataType.INTEGER, 1)],
    ), "C303 45 02 004600006003 0AFF01 004600006003 0AFF01 02 0F00 0F01"),
    (ActionRequestWithFirstPblock(
        invoke_id_and_priority=_IIP, cosem_method_descriptor=_METHOD, pblock=DataBlockSA(False, 1, b"\x09")
    ), "C304 45 004600006003 0AFF01 00 00000001 01 09"),
    (ActionRequestWithListAndFirstPblock(
        invoke_id_and_priority=_IIP, cosem_method_descriptor_list=[_METHOD], pblock=DataBlockSA(True, 1, b"")
    ), "C305 45 01 004600006003 0AFF01 01 00000001 00"),
    (ActionRequestWithPblock(invoke_id_and_priority=_IIP, pblock=DataBlockSA(True, 2, b"\x01\x02")),
     "C306 45 01 00000002 02 0102"),
    (ActionResponseWithPblock(invoke_id_and_priority=_IIP, pblock=DataBlockSA(False, 1, b"\x00")),
     "C702 45 00 00000001 01 00"),
    (ActionResponseWithList(invoke_id_and_priority=_IIP, list_of_responses=[
        ActionResponseWithOptionalData(),
        ActionResponseWithOptionalData(ActionResult.READ_WRITE_DENIED),
        ActionResponseWithOptionalData(ActionResult.SUCCESS, _LONG),
        ActionResponseWithOptionalData(ActionResult.OTHER_REASON, DataAccessResult.OTHER_REASON),
    ]), "C703 45 04 0000 0300 000100060000002A FA0101FA"),
    (ActionResponseNextPblock(invoke_id_and_priority=_IIP, block_number=9), "C704 45 00000009"),
    (GetResponseWithDatablock(invoke_id_and_priority=_IIP, result=DataBlockG(False, 2, bytes(300))),
     "C402 45 00 00000002 00 82012C" + "00" * 300),
    (SetRequestWithDatablock(invoke_id_and_priority=_IIP, datablock=_BLOCK),
     "C103 45 00 00000001 81C8" + bytes(range(200)).hex()),
    (ExceptionResponse(ExceptionStateError.SERVICE_NOT_ALLOWED, ExceptionServiceError.INVOCATION_COUNTER_ERROR, 0x1234),
     "D8 01 06 00001234"),
    (ExceptionResponse(ExceptionStateError.SERVICE_UNKNOWN, ExceptionServiceError.DECIPHERING_ERROR), "D80205"),
    (GeneralBlockTransfer(last_block=False, window=1, block_number=1, block_data=bytes.fromhex("C401C100")),
     "E0 01 0001 0000 04 C401C100"),
    (GeneralBlockTransfer(last_block=True, streaming=True, window=63, block_number=0xFFFF,
                          block_number_ack=2, block_data=bytes(130)),
     "E0 FF FFFF 0002 8182" + "00" * 130),
    (EventNotificationRequest(cosem_attribute_descriptor=_CLOCK, attribute_value=_LONG),
     "C2 00 00080000010000FF02 060000002A"),
]


@pytest.mark.parametrize("apdu, hex_", BUILT, ids=[type(a).__name__ for a, _ in BUILT])
def test_built_apdu_encodes_and_decodes_back(apdu, hex_):
    raw = bytes.fromhex(hex_)
    assert apdu.to_bytes() == raw
    decoded = _decode(raw)
    assert decoded == apdu
    assert decoded.to_meaning() == apdu.to_meaning()
    assert type(apdu).from_bytes(raw) == apdu
    with pytest.raises(DecodeError):
        _decode(raw + b"\x00")


# --- get-responses written from values already encoded (the simulator's path) ----------

_VALUES = [
    _LONG,
    Data(DataType.NULL_DATA),
    Data(DataType.OCTET_STRING, bytes(range(200))),
    Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, bytes(12)), Data(DataType.LONG, -120))),
]


@pytest.mark.parametrize("iip", [_IIP, InvokeIdAndPriority(15, ServiceClass.UNCONFIRMED, Priority.HIGH)],
                         ids=["iip45", "iip8F"])
@pytest.mark.parametrize("value", _VALUES, ids=lambda v: v.type.name)
def test_get_response_normal_bytes_is_the_encoder_s_octets(iip, value):
    apdu = GetResponseNormal(invoke_id_and_priority=iip, result=value)
    raw = get_response_normal_bytes(iip.value, encode(value))
    assert raw == apdu.to_bytes()
    assert parse_apdu(raw) == apdu
    assert get_response_normal_bytes(iip.value, bytearray(encode(value))) == raw


@pytest.mark.parametrize("count", [0, 1, 4, 127, 128, 300])
def test_get_response_with_list_bytes_is_the_encoder_s_octets(count):
    values = [_VALUES[i % len(_VALUES)] for i in range(count)]
    apdu = GetResponseWithList(invoke_id_and_priority=_IIP, result=values)
    raw = get_response_with_list_bytes(_IIP.value, tuple(encode(v) for v in values))
    assert raw == apdu.to_bytes()
    # the count takes the long length form from 128 on (81 80, 82 012C)
    assert raw[3:4] == (bytes((count,)) if count < 128 else bytes((0x81 if count < 256 else 0x82,)))
    decoded = parse_apdu(raw)
    assert decoded == apdu and decoded.result == tuple(values)


@pytest.mark.parametrize("last_block", [True, False])
@pytest.mark.parametrize("block_number, size", [(1, 0), (2, 5), (0x1234, 130), (0xFFFFFFFF, 300)])
def test_get_response_with_datablock_bytes_is_the_encoder_s_octets(last_block, block_number, size):
    raw_data = bytes(i & 0xFF for i in range(size))
    apdu = GetResponseWithDatablock(invoke_id_and_priority=_IIP,
                                    result=DataBlockG(last_block, block_number, raw_data))
    raw = get_response_with_datablock_bytes(_IIP.value, last_block, block_number, raw_data)
    assert raw == apdu.to_bytes()
    decoded = parse_apdu(raw)
    assert decoded == apdu
    assert (decoded.result.last_block, decoded.result.block_number, decoded.result.result) == (
        last_block, block_number, raw_data)


@pytest.mark.parametrize("write", [
    lambda: get_response_normal_bytes(256, b"\x00"),
    lambda: get_response_normal_bytes(0xC1, "0906"),
    lambda: get_response_normal_bytes(None, b"\x00"),
    lambda: get_response_with_list_bytes(0xC1, [b"\x00", _LONG]),
    lambda: get_response_with_list_bytes(0xC1, 5),
    lambda: get_response_with_list_bytes(-1, [b"\x00"]),
    lambda: get_response_with_datablock_bytes(0xC1, True, 1 << 32, b""),
    lambda: get_response_with_datablock_bytes(0xC1, True, -1, b""),
    lambda: get_response_with_datablock_bytes(0xC1, True, 1.0, b""),
    lambda: get_response_with_datablock_bytes(0xC1, True, 1, "octets"),
])
def test_get_response_bytes_with_a_wrong_argument_is_an_encode_error(write):
    with pytest.raises(EncodeError):
        write()


def test_described_keys_for_the_uncovered_choices():
    action_list = next(a for a, _ in BUILT if isinstance(a, ActionResponseWithList)).to_meaning()
    assert action_list["choice"] == "action-response-with-list"
    assert action_list["list_of_responses"][3] == {
        "action_result": 250,
        "return_parameters": {"data_access_result": 250, "name": "other-reason"},
    }
    gbt = next(a for a, _ in BUILT if isinstance(a, GeneralBlockTransfer) and a.streaming).to_meaning()
    assert gbt["block_control"] == {"hex": "FF", "last_block": True, "streaming": True, "window": 63}
    exception = next(a for a, _ in BUILT if isinstance(a, ExceptionResponse)).to_meaning()
    assert exception["service_error_name"] == "invocation-counter-error"
    assert exception["invocation_counter"] == 0x1234


def test_every_class_has_its_tag_and_choice_registered():
    choices = {}
    for cls in xdlms.XDLMS_CLASSES:
        key = (cls.TAG, getattr(cls, "CHOICE", None))
        assert key not in choices, cls
        choices[key] = cls
    assert len(xdlms.XDLMS_CLASSES) == 30
    assert {cls.TAG for cls in xdlms.XDLMS_CLASSES} == {0x0F, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC7, 0xD8, 0xE0}


# --- data-notification date-time forms ----------------------------------------------------


def test_data_notification_accepts_the_dlms_cosem_optional_flag_form():
    # dlms-cosem 25.1.0 re-encodes the vector's date-time as 01 + 12 octets (and
    # changes day_of_week to FF); the standard's OCTET STRING form is 0C + 12 octets.
    flagged = bytes.fromhex("0F00000001 01 07E7061EFF00000000FFC400 020209060100010800FF060003A980")
    apdu = DataNotification.from_bytes(flagged)
    assert apdu.date_time == bytes.fromhex("07E7061EFF00000000FFC400")
    assert apdu.date_time_form == OPTIONAL_FLAG_FORM
    assert apdu.to_bytes() == flagged
    described = apdu.to_meaning()["date_time"]
    assert described["year"] == 2023 and described["day_of_week"] is None
    assert "optional" in described["encoding"]
    standard = DataNotification(
        long_invoke_id_and_priority=apdu.long_invoke_id_and_priority,
        date_time=apdu.date_time,
        notification_body=apdu.notification_body,
    )
    assert standard.to_bytes()[5] == 0x0C
    assert DataNotification.from_bytes(standard.to_bytes()) == standard


def test_data_notification_date_time_from_a_datetime_object():
    when = DateTime.from_bytes(bytes.fromhex("07E7061E0500000000FFC400"))
    apdu = DataNotification(date_time=when, notification_body=Data(DataType.NULL_DATA))
    assert apdu.to_bytes() == bytes.fromhex("0F00000000 0C 07E7061E0500000000FFC400 00")
    with pytest.raises(EncodeError):
        DataNotification(
            date_time=b"\x01\x02", notification_body=Data(DataType.NULL_DATA), date_time_form=OPTIONAL_FLAG_FORM
        ).to_bytes()
    with pytest.raises(UsageError):
        DataNotification(notification_body=Data(DataType.NULL_DATA), date_time_form="other")


# --- negative inputs ------------------------------------------------------------------------

NEGATIVE = [
    ("C0", "get-request choice", 1),
    ("C009C100", "unknown get-request choice 9", 1),
    ("C001", "invoke-id-and-priority", 2),
    ("C001C10008000001", "cosem-attribute-descriptor", 3),
    ("C001C100080000010000FF0202", "presence flag", 12),
    ("C001C100080000010000FF0201", "access-selector", 13),
    ("C401C102", "get-data-result choice 2", 3),
    ("C401C10105", "unknown data-access-result 5", 4),
    ("C402C1000000000100820100", "raw-data", 9),
    ("C402C10000000001020000", "datablock-g result choice 2", 8),
    ("C403C10500", "result list", 3),
    ("C501C107", "unknown data-access-result 7", 3),
    ("C701C00500", "unknown action-result 5", 3),
    ("C701C00002", "presence flag", 4),
    ("C6", "unknown APDU", 0),
    ("D80301", "unknown state-error 3", 1),
    ("D80107", "unknown service-error 7", 2),
    ("D8010600", "invocation-counter", 3),
    ("0F00000001050102", "date-time", 5),
    ("0F00000001 01 07E7", "date-time", 6),
    ("C20200", "presence flag", 1),
    ("E0010001000005C4", "block-data", 6),
    ("E00100", "block-number", 2),
]


@pytest.mark.parametrize("hex_, message, offset", NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_malformed_apdu_raises_decode_error_with_offset(hex_, message, offset):
    raw = bytes.fromhex(hex_)
    # parse_apdu is the entry point (C6 has no decoder of its own: the
    # dispatcher refuses it); where a tag has a decoder, it says the same.
    with pytest.raises(DecodeError) as info:
        parse_apdu(raw)
    assert message in str(info.value)
    assert info.value.offset == offset
    decoder = xdlms.XDLMS_DECODERS.get(raw[0])
    assert (decoder is None) == (raw[0] == 0xC6)
    if decoder is not None:
        with pytest.raises(DecodeError) as direct:
            decoder(raw)
        assert (str(direct.value), direct.value.offset) == (str(info.value), info.value.offset)


def test_from_bytes_of_the_wrong_variant_is_rejected():
    raw = bytes.fromhex("C002C100000001")
    with pytest.raises(DecodeError) as info:
        GetRequestNormal.from_bytes(raw)
    assert info.value.offset == 1
    with pytest.raises(DecodeError) as info:
        SetRequestNormal.from_bytes(raw)
    assert info.value.offset == 0
    with pytest.raises(DecodeError) as info:
        DataNotification.from_bytes(raw)
    assert info.value.offset == 0


def test_huge_declared_lengths_are_bounded_by_the_input():
    for raw in (
        bytes.fromhex("C403C1 84FFFFFFFF 00"),
        bytes.fromhex("C104C1 84FFFFFFFF"),
        bytes.fromhex("C402C100 00000001 00 84FFFFFFFF"),
        bytes.fromhex("E0 01 0001 0000 84FFFFFFFF"),
    ):
        with pytest.raises(DecodeError):
            _decode(raw)


def test_non_bytes_input_is_a_usage_error():
    with pytest.raises(UsageError):
        GetRequestNormal.from_bytes("C001C100080000010000FF0200")
    with pytest.raises(UsageError):
        GeneralBlockTransfer.from_bytes(5)


def test_encoding_out_of_range_values_fails_cleanly():
    with pytest.raises(DlmsError):
        GetRequestNext(block_number=1 << 32).to_bytes()
    with pytest.raises(UsageError):
        GetResponseNormal(result="not data")
    with pytest.raises(UsageError):
        GeneralBlockTransfer(last_block=True, window=64, block_number=1, block_data=b"")
    with pytest.raises(UsageError):
        ExceptionResponse(ExceptionStateError.SERVICE_UNKNOWN, ExceptionServiceError.OTHER_REASON, 5)


def test_default_invoke_id_and_priority_is_confirmed_high_1():
    assert GetRequestNext(block_number=1).to_bytes() == bytes.fromhex("C002C100000001")


def test_event_notification_keeps_a_present_but_empty_time():
    raw = bytes.fromhex("C2 01 00 00080000010000FF02 0F05")
    apdu = EventNotificationRequest.from_bytes(raw)
    assert apdu.time == b""
    assert apdu.to_meaning()["time"] == {"hex": ""}
    assert apdu.to_bytes() == raw


def test_octet_fields_refuse_non_bytes():
    with pytest.raises(UsageError):
        DataBlockSA(True, 1, 5)
    with pytest.raises(UsageError):
        DataBlockG(True, 1, "00")
    with pytest.raises(UsageError):
        GeneralBlockTransfer(last_block=True, block_number=1, block_data=3)
    with pytest.raises(UsageError):
        EventNotificationRequest(time=12, cosem_attribute_descriptor=_CLOCK, attribute_value=_LONG)


_ATTRIBUTE = CosemAttributeDescriptor(1, "0.0.96.1.0.255", 2)
MISUSE = [
    lambda: GetRequestNormal(cosem_attribute_descriptor=(1, "0.0.96.1.0.255", 2)),
    lambda: GetRequestNormal(cosem_attribute_descriptor=_ATTRIBUTE, access_selection=5),
    lambda: GetRequestNormal(invoke_id_and_priority=0xC1, cosem_attribute_descriptor=_ATTRIBUTE),
    lambda: SetRequestNormal(cosem_attribute_descriptor=_ATTRIBUTE, value=5),
    lambda: SetRequestWithDatablock(datablock=b"12"),
    lambda: GetRequestWithList(attribute_descriptor_list=[_ATTRIBUTE]),
    lambda: GetRequestWithList(attribute_descriptor_list=5),
    lambda: ActionRequestWithList(cosem_method_descriptor_list=[1], method_invocation_parameters=[]),
    lambda: SetResponseWithList(result=[300]),
    lambda: ActionResponseWithList(list_of_responses=[5]),
    lambda: GetResponseWithDatablock(result=b""),
    lambda: GetResponseWithList(result=[3]),
]


@pytest.mark.parametrize("make", MISUSE)
def test_wrong_field_types_are_usage_errors_at_construction(make):
    with pytest.raises(UsageError):
        make()


def test_plain_ints_become_the_enumeration_of_the_field():
    apdu = SetResponseWithList(result=[0, 3])
    assert apdu.result == (DataAccessResult.SUCCESS, DataAccessResult.READ_WRITE_DENIED)
    assert ActionResponseNormal(action_result=250).action_result is ActionResult.OTHER_REASON
    assert GetRequestWithList(attribute_descriptor_list=[]).attribute_descriptor_list == ()


@pytest.mark.parametrize(
    "make",
    [
        lambda: DataNotification(notification_body=5),
        lambda: DataNotification(long_invoke_id_and_priority=1, notification_body=_LONG),
        lambda: EventNotificationRequest(cosem_attribute_descriptor=None, attribute_value=_LONG),
        lambda: EventNotificationRequest(cosem_attribute_descriptor=_CLOCK, attribute_value=b"\x00"),
        lambda: ExceptionResponse(9, 1),
        lambda: ActionResponseWithOptionalData(ActionResult.SUCCESS, b"\x00"),
        lambda: ActionResponseWithOptionalData(7),
        lambda: InvokeIdAndPriority(1, 2),
    ],
)
def test_wrong_arguments_of_the_other_apdus_are_usage_errors(make):
    with pytest.raises(UsageError):
        make()


def test_data_notification_date_time_edge_forms():
    body = Data(DataType.NULL_DATA)
    absent = DataNotification(notification_body=body, date_time_form=OPTIONAL_FLAG_FORM)
    assert absent.date_time_form != OPTIONAL_FLAG_FORM
    assert absent.to_bytes() == bytes.fromhex("0F00000000 00 00")
    with pytest.raises(EncodeError):
        DataNotification(notification_body=body, date_time=b"\x07").to_bytes()
    odd = DataNotification.from_bytes(bytes.fromhex("0F00000000 05 0102030405 00"))
    assert odd.date_time == bytes.fromhex("0102030405")
    assert odd.to_meaning()["date_time"] == {"length": 5, "hex": "0102030405"}


def test_range_parameters_read_back_what_a_client_asked():
    vector = next(v for v in VECTORS if "selective access by range" in v["name"])
    selection = _decode(bytes.fromhex(vector["hex"])).access_selection
    parameters = selection.range_parameters()
    assert parameters == RangeDescriptor(
        CaptureObjectDefinition(8, "0.0.1.0.0.255", 2, 0),
        Data(DataType.OCTET_STRING, bytes.fromhex("07E10A010700000000FFC480")),
        Data(DataType.OCTET_STRING, bytes.fromhex("07E10A010701000000FFC480")),
    )
    rebuilt = SelectiveAccessDescriptor.range_descriptor(
        parameters.restricting_object, parameters.from_value, parameters.to_value, parameters.selected_values
    )
    assert rebuilt == selection
    with pytest.raises(UsageError):
        selection.entry_parameters()


def test_entry_parameters_read_back_what_a_client_asked():
    vector = next(v for v in VECTORS if "selective access by entry" in v["name"])
    selection = _decode(bytes.fromhex(vector["hex"])).access_selection
    assert selection.entry_parameters() == EntryDescriptor(1, 10, 1, 0)
    with pytest.raises(UsageError):
        selection.range_parameters()


_U16 = Data(DataType.LONG_UNSIGNED, 1)


@pytest.mark.parametrize(
    "selection",
    [
        SelectiveAccessDescriptor(2, _LONG),
        SelectiveAccessDescriptor(2, Data(DataType.STRUCTURE, (_LONG, _LONG, _U16))),
        SelectiveAccessDescriptor(1, Data(DataType.STRUCTURE, (_LONG, _LONG, _LONG, _LONG))),
        SelectiveAccessDescriptor(
            1,
            Data(
                DataType.STRUCTURE,
                (
                    Data(DataType.STRUCTURE, (_U16, Data(DataType.OCTET_STRING, b"\x01"), Data(DataType.INTEGER, 2), _U16)),
                    _LONG,
                    _LONG,
                    Data(DataType.ARRAY, ()),
                ),
            ),
        ),
    ],
)
def test_malformed_selector_parameters_are_decode_errors(selection):
    with pytest.raises(DecodeError):
        if selection.access_selector == 1:
            selection.range_parameters()
        else:
            selection.entry_parameters()
