"""`dlmsfast decode` / `dlmsfast encrypt` against the published vectors.

The CLI is run in-process through ``main(argv)`` for speed, and once through the
installed console script to prove the entry point works.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import VECTORS_DIR

from dlmsfast.cli import main

INFORMATIONAL = ("interpreted_as", "fields")


def _records(name: str) -> list:
    path = VECTORS_DIR / f"{name}.json"
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"vectors absent: {path}"))]
    return [pytest.param(r, id=r["name"][:60]) for r in json.loads(path.read_text("utf-8"))]


def _strip_informational(node):
    if isinstance(node, dict):
        return {k: _strip_informational(v) for k, v in node.items() if k not in INFORMATIONAL}
    if isinstance(node, list):
        return [_strip_informational(v) for v in node]
    return node


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("record", _records("axdr"))
def test_decode_json_axdr_is_the_vector_node_schema(capsys, record):
    status, out, err = run(capsys, "decode", "--json", "--as", "axdr", record["hex"])
    assert status == 0, err
    assert _strip_informational(json.loads(out)) == _strip_informational(record["meaning"])


@pytest.mark.parametrize("record", _records("axdr"))
def test_decode_axdr_detected_without_as(capsys, record):
    status, out, err = run(capsys, "decode", "--json", record["hex"])
    assert status == 0, err
    decoded = json.loads(out)
    # A few A-XDR values are also valid APDUs (tag 0x01 array vs InitiateRequest):
    # detection must then still give a consistent reading, never an error.
    if "type" in decoded:
        assert _strip_informational(decoded) == _strip_informational(record["meaning"])


def _positive(name: str) -> list:
    return [p for p in _records(name) if p.values[0] is None or not p.values[0]["name"].startswith("NEGATIVE")]


def _negative(name: str) -> list:
    return [p for p in _records(name) if p.values[0] is None or p.values[0]["name"].startswith("NEGATIVE")]


@pytest.mark.parametrize("record", _positive("hdlc"))
def test_decode_json_hdlc_frame_fields(capsys, record):
    status, out, err = run(capsys, "decode", "--json", record["hex"])
    assert status == 0, err
    decoded = json.loads(out)
    for key, value in record["meaning"].items():
        assert decoded[key] == value, key


@pytest.mark.parametrize("record", _positive("wrapper"))
def test_decode_json_wrapper_fields(capsys, record):
    status, out, err = run(capsys, "decode", "--json", record["hex"])
    assert status == 0, err
    decoded = json.loads(out)
    for key, value in record["meaning"].items():
        assert decoded[key] == value, key


@pytest.mark.parametrize("record", _negative("hdlc") + _negative("wrapper"))
def test_decode_negative_frames_exit_2_with_offset(capsys, record):
    kind = "hdlc" if record["hex"].startswith("7E") else "wrapper"
    status, out, err = run(capsys, "decode", "--as", kind, record["hex"])
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "offset" in err


@pytest.mark.parametrize(
    "text, fragment",
    [("0G", "not hex"), ("060000", "offset"), ("ABC", "odd number"), ("", "empty")],
)
def test_decode_bad_input_one_line(capsys, text, fragment):
    status, out, err = run(capsys, "decode", text)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert fragment in err


def test_decode_text_tree_is_readable(capsys):
    status, out, _ = run(capsys, "decode", "020209060000010000FF06000000FF")
    assert status == 0
    assert out.splitlines() == [
        "axdr",
        "  structure (2)",
        "    [0] octet-string: 0000010000FF  (obis 0.0.1.0.0.255)",
        "    [1] double-long-unsigned: 255",
    ] or out.splitlines() == [
        "axdr",
        "  structure (2)",
        "    [0] octet-string: 0000010000FF",
        "    [1] double-long-unsigned: 255",
    ]


def test_decode_reads_stdin(monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("06 00 00 13 91\n"))
    status, out, _ = run(capsys, "decode", "--json", "-")
    assert status == 0
    assert json.loads(out) == {"type": "double-long-unsigned", "value": 5009}


def test_console_script_installed():
    exe = shutil.which("dlmsfast")
    if exe is None:
        pytest.fail("the dlmsfast console script is not on PATH: the package is not installed")
    done = subprocess.run(
        [exe, "decode", "--json", "7EA00A00020023219318717E"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["control"]["frame"] == "SNRM"
    bad = subprocess.run([exe, "decode", "7EA00A00020023219318727E"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "FCS" in bad.stderr or "fcs" in bad.stderr


# --- APDUs, ciphering and --explain (the translator of issue 3) ---------------------

GB_EK = "000102030405060708090A0B0C0D0E0F"
GB_AK = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
GB_TITLE = "4D4D4D0000BC614E"
GB_PLAIN = "C0010000080000010000FF0200"
GB_CIPHERED = "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"
GB_KEYS = ("--ek", GB_EK, "--ak", GB_AK, "--system-title", GB_TITLE)


@pytest.mark.parametrize("record", _records("acse") + _records("xdlms"))
def test_decode_json_apdu_names_the_apdu(capsys, record):
    status, out, err = run(capsys, "decode", "--json", "--as", "apdu", record["hex"])
    assert status == 0, err
    decoded = json.loads(out)
    assert decoded["apdu"] == record["meaning"]["apdu"]
    for key in ("choice", "invoke_id_and_priority", "cosem_attribute_descriptor",
                "application_context_name", "mechanism_name"):
        if key in record["meaning"]:
            assert decoded[key] == record["meaning"][key], key


def _ciphered_security_records() -> list:
    return [p for p in _records("security")
            if p.values[0] is None or (isinstance(p.values[0]["meaning"].get("keys"), dict)
                                       and "plaintext" in p.values[0]["meaning"])]


@pytest.mark.parametrize("record", _ciphered_security_records())
def test_decode_deciphers_security_vectors(capsys, record):
    meaning = record["meaning"]
    keys = meaning["keys"]
    ek = keys.get("dedicated_key") if record["name"].startswith("ded-") else keys["encryption_key"]
    argv = ["decode", "--json", "--ek", ek, "--ak", keys["authentication_key"]]
    title = meaning.get("system_title_for_iv")
    if title:
        argv += ["--system-title", title]
    status, out, err = run(capsys, *argv, record["hex"])
    assert status == 0, err
    deciphered = json.loads(out)["deciphered"]
    assert deciphered["plaintext"] == meaning["plaintext"]
    assert deciphered["tag_ok"] is (True if meaning["security_control"]["authentication"] else None)
    if "iv" in meaning:
        assert deciphered["iv"] == meaning["iv"]
    assert deciphered["apdu_decoded"]["apdu"] in meaning["plaintext_decoded"]["apdu"] \
        if "plaintext_decoded" in meaning else True


def test_explain_shows_every_step_of_the_green_book_vector(capsys):
    status, out, err = run(capsys, "decode", "--explain", *GB_KEYS, GB_CIPHERED)
    assert status == 0, err
    lines = out.splitlines()
    assert "security control   0x30 = 00110000" in lines
    assert "invocation counter 19088743 (0x01234567)" in lines
    assert "IV                 system title || IC = 4D4D4D0000BC614E01234567" in lines
    assert f"AAD                SC || AK = 30{GB_AK}" in lines
    assert "ciphertext         411312FF935A47566827C467BC" in lines
    assert f"plaintext          {GB_PLAIN}" in lines
    assert "computed tag       7D825C3BE4A77C3FCC056B6B" in lines
    assert "received tag       7D825C3BE4A77C3FCC056B6B" in lines
    assert "tag check          MATCH" in lines


def test_every_flipped_bit_of_ciphertext_or_tag_is_rejected(capsys):
    raw = bytes.fromhex(GB_CIPHERED)
    for bit in range(7 * 8, len(raw) * 8):  # after tag, length, SC and IC
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        status, out, err = run(capsys, "decode", *GB_KEYS, flipped.hex())
        assert status == 2, bit
        assert out == ""
        assert "tag mismatch" in err


def test_explain_shows_a_mismatch_then_fails(capsys):
    status, out, err = run(capsys, "decode", "--explain", "--ek", GB_EK, "--ak", GB_EK,
                           "--system-title", GB_TITLE, GB_CIPHERED)
    assert status == 2
    assert "tag check          MISMATCH" in out
    assert len(err.strip().splitlines()) == 1


def test_ciphered_aarq_decodes_without_keys(capsys):
    aarq = ("6063A109060760857405080103A60A0408414D4530303030308A0207808B0760857405080201"
            "AC07800548656C6C6FBE34043221303000000003")
    records = {r["name"]: r for r in json.loads((VECTORS_DIR / "acse.json").read_text())} \
        if VECTORS_DIR.is_dir() else {}
    full = next((r["hex"] for r in records.values() if r["hex"].startswith(aarq)), None)
    if full is None:
        pytest.skip("acse.json vectors absent")
    assert len(bytes.fromhex(full)) - len(bytes.fromhex(aarq)) == 31 + 12
    status, out, err = run(capsys, "decode", "--json", full)
    assert status == 0, err
    decoded = json.loads(out)
    assert decoded["application_context_name"]["name"] == "logical-name-referencing-with-ciphering"
    assert decoded["calling_AP_title"]["ascii"] == "AME00000"
    assert decoded["mechanism_name"]["oid"] == "2.16.756.5.8.2.1"
    assert decoded["calling_authentication_value"]["ascii"] == "Hello"
    info = decoded["user_information"]
    assert info["apdu"] == "glo-initiateRequest"
    assert info["security_control"] in ("30", {"hex": "30"}) or info["security_control"]["hex"] == "30"
    assert info["invocation_counter"] == 3
    assert len(bytes.fromhex(info["authentication_tag"])) == 12


def test_hdlc_segment_is_shown_as_a_segment(capsys):
    segmented = next((p.values[0] for p in _positive("hdlc")
                      if p.values[0] is not None and p.values[0]["meaning"]["format"]["segmented"]
                      and "llc" not in p.values[0]["meaning"]), None)
    if segmented is None:
        pytest.skip(f"hdlc.json vectors absent from {VECTORS_DIR}")
    status, out, err = run(capsys, "decode", "--json", segmented["hex"])
    assert status == 0, err
    assert json.loads(out)["apdu_decoded"]["segment"] == segmented["meaning"]["information"]


def test_wrapper_payload_is_decoded_as_an_apdu(capsys):
    status, out, err = run(capsys, "decode", "--json", "000100100001000D" + GB_PLAIN)
    assert status == 0, err
    inner = json.loads(out)["apdu_decoded"]
    assert inner["apdu"] == "get-request"
    assert inner["cosem_attribute_descriptor"] == {
        "class_id": 8, "instance_id": "0.0.1.0.0.255", "attribute_id": 2}


def test_encrypt_green_book_vector(capsys):
    status, out, err = run(capsys, "encrypt", *GB_KEYS, "--ic", "0x01234567", "--sc", "0x30",
                           GB_PLAIN)
    assert status == 0, err
    assert out.strip() == GB_CIPHERED


@pytest.mark.parametrize("sc", ["0x10", "0x20", "48"])
@pytest.mark.parametrize("form", ["glo", "ded", "general-glo"])
def test_encrypt_then_decode_round_trip(capsys, sc, form):
    status, out, err = run(capsys, "encrypt", *GB_KEYS, "--ic", "7", "--sc", sc, "--form", form,
                           GB_PLAIN)
    assert status == 0, err
    ciphered = out.strip()
    status, out, err = run(capsys, "decode", "--json", *GB_KEYS, ciphered)
    assert status == 0, err
    decoded = json.loads(out)
    assert decoded["invocation_counter"] == 7
    assert decoded["deciphered"]["plaintext"] == GB_PLAIN


def test_encrypt_explain_prints_the_steps_and_the_result(capsys):
    status, out, err = run(capsys, "encrypt", "--explain", *GB_KEYS, "--ic", "19088743",
                           GB_PLAIN)
    assert status == 0, err
    assert "computed tag       7D825C3BE4A77C3FCC056B6B" in out.splitlines()
    assert out.splitlines()[-1] == f"ciphered APDU      {GB_CIPHERED}"


@pytest.mark.parametrize("plaintext", ["C001", "FF00", "C0010000080000010000FF020099"])
def test_encrypt_malformed_apdu_exit_2(capsys, plaintext):
    status, out, err = run(capsys, "encrypt", *GB_KEYS, "--ic", "1", plaintext)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1


def test_keys_never_echoed_in_errors(capsys):
    status, _, err = run(capsys, "decode", "--ek", GB_EK, "--ak", "00" * 15,
                         "--system-title", GB_TITLE, GB_CIPHERED)
    assert status == 2
    assert GB_EK not in err and "00" * 15 not in err


@pytest.mark.parametrize("record", [
    p for p in _records("acse")
    if p.values[0] is None or "decrypted" in p.values[0]["meaning"].get("user_information", {})
])
def test_decode_deciphers_acse_user_information(capsys, record):
    decrypted = record["meaning"]["user_information"]["decrypted"]
    status, out, err = run(capsys, "decode", "--json", "--explain", *GB_KEYS, record["hex"])
    assert status == 0, err
    text, _, _ = out.partition("\n{")
    assert "tag check          MATCH" in text
    decoded = json.loads("{" + out.partition("\n{")[2])
    assert decoded["user_information"]["deciphered"]["plaintext"] == decrypted["plaintext"]
    assert decoded["user_information"]["deciphered"]["apdu_decoded"]["apdu"] == decrypted["decoded"]["apdu"]
