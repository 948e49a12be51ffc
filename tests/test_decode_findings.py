"""`dlmsfast decode` and the translator after audit F (findings 1, 2, 10, 13):
short-name services, GBT-carried client/server APDUs, standard codes named, and
input masked by `read --trace`."""
from __future__ import annotations

import pytest
from conftest import PACKAGE_PARENT  # noqa: F401  (the package under test first)

from dlmsfast import Client
from dlmsfast.apdu import (
    DataAccessResult,
    InformationReportRequest,
    ReadRequest,
    ReadResponse,
    UnconfirmedWriteRequest,
    WriteRequest,
    WriteResponse,
    parse_apdu,
)
from dlmsfast.axdr import Data, DataType
from dlmsfast.cli import main
from dlmsfast.explain import Keys, translate
from dlmsfast.explain.translator import walk_nodes
from simfleet import SimulatorProcess


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _apdu_names(decoded) -> list[str]:
    return [n["meaning"]["apdu"] for n in walk_nodes(decoded.nodes)
            if n["kind"] == "apdu" and n["meaning"]]


# --- 1: short-name services --------------------------------------------------------

# The layouts are the Green Book's (DLMS UA 1000-2, IEC 62056-5-3 xDLMS ASN.1:
# ReadRequest ::= SEQUENCE OF Variable-Access-Specification, variable-name [2]
# ObjectName (Integer16); ReadResponse ::= SEQUENCE OF CHOICE {data [0],
# data-access-error [1], data-block-result [2]}; WriteRequest, UnconfirmedWriteRequest
# ::= SEQUENCE {variable-access-specification SEQUENCE OF ..., list-of-data SEQUENCE
# OF Data}; InformationReportRequest ::= SEQUENCE {current-time GeneralizedTime
# OPTIONAL, variable-access-specification ..., list-of-data ...}; as reproduced in
# xdom/jdlms asn1/cosem/cosem.asn). The octets are written by hand from them; the
# readRequest one is also what Gurux 1.0.203 sends to read attribute 2 of base name
# 0xFA00 (0xFA08, checked in the test below).
SN_VECTORS = [
    ("05 01 02 FA08", ReadRequest((0xFA08,)), "readRequest"),
    ("05 01 04 FA00 01 0600000001", ReadRequest((0xFA00,), ((1, Data(DataType.DOUBLE_LONG_UNSIGNED, 1)),)),
     "readRequest"),
    ("05 01 05 0002", ReadRequest((), block_number=2), "readRequest"),
    ("0C 02 00 0600000001 01 04", ReadResponse((Data(DataType.DOUBLE_LONG_UNSIGNED, 1),
                                                DataAccessResult.OBJECT_UNDEFINED)),
     "readResponse"),
    ("06 01 02 0108 01 12 04D2", WriteRequest((0x0108,), (Data(DataType.LONG_UNSIGNED, 1234),)),
     "writeRequest"),
    ("0D 02 00 01 03", WriteResponse((DataAccessResult.SUCCESS,
                                      DataAccessResult.READ_WRITE_DENIED)), "writeResponse"),
    ("16 01 02 0108 01 12 04D2",
     UnconfirmedWriteRequest((0x0108,), (Data(DataType.LONG_UNSIGNED, 1234),)),
     "unconfirmedWriteRequest"),
    ("18 00 01 02 0108 01 12 04D2",
     InformationReportRequest((0x0108,), (Data(DataType.LONG_UNSIGNED, 1234),)),
     "informationReportRequest"),
    ("18 0C 07EA0B1B05173000FF800000 01 02 0108 01 12 04D2",
     InformationReportRequest((0x0108,), (Data(DataType.LONG_UNSIGNED, 1234),),
                              bytes.fromhex("07EA0B1B05173000FF800000")),
     "informationReportRequest"),
]


@pytest.mark.parametrize("text, apdu, name", SN_VECTORS, ids=[v[2] + str(i) for i, v in
                                                               enumerate(SN_VECTORS)])
def test_short_name_apdus_decode_from_the_registry(text, apdu, name):
    data = bytes.fromhex(text.replace(" ", ""))
    decoded = parse_apdu(data)
    assert decoded.to_bytes() == data
    assert decoded == apdu
    meaning = decoded.to_meaning()
    assert meaning["apdu"] == name and meaning["tag"] == f"{data[0]:02X}"
    # and the translator takes it as that APDU, not as an A-XDR value
    assert translate(data).kind == "apdu"


def test_read_response_and_write_response_meanings():
    read = parse_apdu(bytes.fromhex("0C020006000000010104")).to_meaning()
    assert read["results"][0] == {"data": {"type": "double-long-unsigned", "value": 1}}
    assert read["results"][1]["data_access_error"]["name"] == "object-undefined"
    write = parse_apdu(bytes.fromhex("0D02000103")).to_meaning()
    assert write["results"][0] == {"success": None}
    assert write["results"][1]["data_access_error"]["name"] == "read-write-denied"


def test_gurux_read_request_decodes_as_read_request(capsys):
    from gurux_dlms import GXDLMSClient
    from gurux_dlms.enums import InterfaceType
    from gurux_dlms.objects import GXDLMSData

    client = GXDLMSClient(False, 16, 1, interfaceType=InterfaceType.WRAPPER)
    item = GXDLMSData("0.0.42.0.0.255")
    item.shortName = 0xFA00
    frame = bytes(client.read(item, 2)[0])
    status, out, err = run(capsys, "decode", frame.hex())
    assert status == 0, err
    assert "readRequest" in out and "variable_name: FA08" in out


def test_a_short_name_tag_is_read_as_the_apdu_not_as_a_value(capsys):
    # the audit's input: 05 is also A-XDR double-long (16908552)
    status, out, err = run(capsys, "decode", "0501020108")
    assert status == 0, err
    assert out.startswith("apdu:") and "readRequest" in out and "0108" in out
    assert "double-long" not in out
    status, out, err = run(capsys, "decode", "00010010000100050501020108")
    assert status == 0, err
    assert "unknown APDU tag" not in out + err and "variable_name: 0108" in out
    # an input that is no SN APDU is still a value, and the note says why
    status, out, err = run(capsys, "decode", "0500000001")
    assert status == 0, err
    assert "double-long: 1" in out and "also the tag of readRequest" in out


@pytest.mark.parametrize("secured, framing", [(False, "wrapper"), (True, "wrapper"),
                                              (True, "hdlc")],
                         ids=["public", "hls-gmac-authenc", "hls-gmac-authenc-hdlc"])
def test_a_simulator_short_name_session_decodes(secured, framing, capsys):
    options = ["--referencing", "sn", "--meters", "1", "--framing", framing]
    if secured:
        options += ["--auth", "hls-gmac", "--security", "authenc"]
    fleet = SimulatorProcess(*options)
    try:
        row = fleet.meters[0]
        frames: list[bytes] = []
        with Client(row["url"], timeout=5,
                    trace=lambda direction, frame: frames.append(bytes(frame)),
                    **fleet.client_options(row)) as meter:
            meter.read("0.0.42.0.0.255")
            meter.read("0.0.1.0.0.255")
    finally:
        fleet.stop()
    keys = Keys()
    argv: list[str] = []
    if secured:
        secret = fleet.keys[row["key_id"]]
        keys = Keys(bytes.fromhex(secret["ek"]), bytes.fromhex(secret["ak"]))
        argv = ["--ek", secret["ek"], "--ak", secret["ak"]]
    # the whole capture at once: the system titles come from its AARQ and AARE
    capture = b"".join(frames)
    decoded = translate(capture, keys=keys)
    assert decoded.kind == framing
    names = _apdu_names(decoded)
    assert "readRequest" in names and "readResponse" in names, names
    assert not any(n["error"] for n in walk_nodes(decoded.nodes))
    if secured:
        ciphered = [n["meaning"]["apdu"] for n in walk_nodes(decoded.nodes)
                    if n["kind"] == "ciphered-apdu"]
        assert "glo-readRequest" in ciphered and "glo-readResponse" in ciphered
    status, out, err = run(capsys, "decode", capture.hex(), *argv)
    assert status == 0, err
    assert "unknown APDU tag" not in out + err


# --- 2: general-block-transfer carrying a client/server APDU ----------------------


def test_blocks_of_a_get_response_are_not_called_a_push(capsys):
    # the audit's two wrapper frames: two blocks of a get-response-normal (1960)
    status, out, err = run(capsys, "decode", "000100010010000CE0000001000005C401C10006"
                                             "000100010010000BE0800002000004000007A8")
    assert status == 0, err
    assert "double-long-unsigned: 1960" in out
    assert "push" not in err and err == ""


def test_a_bare_last_block_is_joined_and_not_called_a_push(capsys):
    status, out, err = run(capsys, "decode", "E0800001000009C401C10006000007A8")
    assert status == 0, err
    assert "double-long-unsigned: 1960" in out and "push" not in err
    # the audit's other input has one octet too many in its block: that, not a push,
    # is the error
    status, out, err = run(capsys, "decode", "E080000100000AC401C10006000007A800")
    assert status == 3
    assert "push" not in err and "trailing octet" in out


def test_blocks_carrying_a_data_notification_still_give_readings(capsys):
    notification = "0F00000001" "00" "0600000001"
    block = f"E08000010000{len(notification) // 2:02X}{notification}"
    status, out, err = run(capsys, "decode", block)
    assert status == 0, err
    assert "data-notification: 1 reading(s)" in out and "1.0.1.7.0.255" in out


# --- 10: standard codes named ------------------------------------------------------

AARE_AUTHENTICATION_FAILURE = "6117A109060760857405080101A203020101A305A10302010D"


def test_aare_diagnostic_and_release_reasons_are_named(capsys):
    status, out, err = run(capsys, "decode", AARE_AUTHENTICATION_FAILURE)
    assert status == 0, err
    assert "value: 13" in out and "name: authentication-failure" in out
    aare = translate(bytes.fromhex("6117A109060760857405080101A203020101A305A10302010E"))
    assert aare.meaning["result_source_diagnostic"] == {
        "source": "acse-service-user", "value": 14, "name": "authentication-required"}
    assert translate(bytes.fromhex("6203800101")).meaning["reason_name"] == "urgent"
    assert translate(bytes.fromhex("6303800101")).meaning["reason_name"] == "not-finished"
    status, out, err = run(capsys, "decode", "630380011E")
    assert "reason_name: user-defined" in out


def test_a_non_ascii_octet_string_says_so(capsys):
    # an LLS AARQ whose password is 01 FF: not text
    status, out, err = run(capsys, "decode", "601EA1090607608574050801018A0207808B07608574"
                                             "050802 01 AC04800201FF")
    assert status == 0, err
    assert "ascii: not ASCII text" in out and "not specified" not in out


# --- 13: input masked by read --trace ------------------------------------------------


def test_octets_masked_by_trace_get_a_clear_message(capsys):
    masked = "601EA1090607608574050801018A0207808B0760857405080201AC048002****"
    status, out, err = run(capsys, "decode", masked)
    assert status == 2
    assert "2 octet(s) masked by --trace" in err and "from octet 30" in err
    assert "not hex" not in err


def test_a_ciphered_information_report_is_opened_with_the_servers_title():
    # informationReportRequest is a request the server sends: its IV holds the
    # server's system title (the AARE's), not the client's
    from dlmsfast.apdu.acse import (
        AARE,
        AARQ,
        AcseServiceUser,
        ApplicationContextName,
        AssociationResult,
    )
    from dlmsfast.explain import encrypt
    from dlmsfast.wrapper import WrapperFrame

    ek, ak = bytes(range(16)), bytes(range(16, 32))
    client_title, server_title = b"CLI00001", b"SRV00001"
    report = InformationReportRequest((0x0108,), (Data(DataType.LONG_UNSIGNED, 1234),))
    ciphered, _ = encrypt(report.to_bytes(), encryption_key=ek, authentication_key=ak,
                          system_title=server_title, invocation_counter=7)
    assert ciphered[0] == 0x38  # glo-informationReportRequest
    context = ApplicationContextName(3)
    aarq = AARQ(application_context_name=context, calling_ap_title=client_title)
    aare = AARE(application_context_name=context, result=AssociationResult(0),
                result_source_diagnostic=AcseServiceUser.NULL,
                responding_ap_title=server_title)
    capture = b"".join(WrapperFrame(1, src, dst, apdu).to_bytes() for src, dst, apdu in (
        (16, 1, aarq.to_bytes()), (1, 16, aare.to_bytes()), (1, 16, ciphered)))
    decoded = translate(capture, keys=Keys(ek, ak))
    assert decoded.walks[-1].authenticated
    assert "informationReportRequest" in _apdu_names(decoded)


def test_information_report_current_time_is_shown_as_a_date_time():
    data = bytes.fromhex("180C07EA0B1B05173000FF80000001020108011204D2")
    meaning = parse_apdu(data).to_meaning()
    assert (meaning["current_time"]["year"], meaning["current_time"]["minute"]) == (2026, 48)


@pytest.mark.parametrize("text", [v[0] for v in SN_VECTORS])
def test_cut_or_changed_short_name_apdus_raise_decode_errors(text):
    from dlmsfast.errors import DecodeError

    data = bytes.fromhex(text.replace(" ", ""))
    for end in range(1, len(data)):
        with pytest.raises(DecodeError):
            parse_apdu(data[:end])
    for i in range(1, len(data)):
        for octet in (0x00, 0x7F, 0xFF):
            changed = data[:i] + bytes((octet,)) + data[i + 1:]
            try:
                parse_apdu(changed).to_meaning()
            except DecodeError:
                pass
