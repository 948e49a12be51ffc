"""`dlmsfast decode` / `dlmsfast encrypt`: the published vectors, the JSON schema,
the exit statuses, and each finding of issue 7 (the defect is named above its test).

The CLI runs in-process through ``main(argv)`` for speed, and in a subprocess
where a terminal, a pipe or a signal matters.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from conftest import PACKAGE_PARENT, load_vectors

from dlmsfast.cli import (
    EXIT_MALFORMED,
    EXIT_OK,
    EXIT_TAG,
    EXIT_USAGE,
    SUBCOMMANDS,
    main,
)
from dlmsfast.explain import schema

SRC = PACKAGE_PARENT  # the dlmsfast under test (src/ or site-packages)
VALIDATOR = jsonschema.Draft202012Validator(schema())
EXIT_STATUSES = {0, 1, 2, 3, 4, 5, 6, 130}

GB_EK = "000102030405060708090A0B0C0D0E0F"
GB_AK = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
GB_TITLE = "4D4D4D0000BC614E"
GB_PLAIN = "C0010000080000010000FF0200"
GB_CIPHERED = "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"
GB_KEYS = ("--ek", GB_EK, "--ak", GB_AK, "--system-title", GB_TITLE)
WRONG_AK = ("--ek", GB_EK, "--ak", GB_EK, "--system-title", GB_TITLE)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys, *argv: str) -> tuple[int, dict, str]:
    status, out, err = run(capsys, *argv, "--json")
    document = json.loads(out, parse_constant=_no_constant)
    VALIDATOR.validate(document)
    assert document["exit_status"] == status
    return status, document, err


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


# --- the Green Book walkthrough (README) -------------------------------------------------


def test_encrypt_explain_walks_the_construction_in_order(capsys):
    status, out, err = run(capsys, "encrypt", "--explain", *GB_KEYS, "--ic", "0x01234567",
                           GB_PLAIN)
    assert status == EXIT_OK, err
    order = ["plaintext APDU", "security control (SC)", "invocation counter (IC)",
             "system title", "IV", "key", "AAD", "AES-GCM encryption", "tag", "layout"]
    positions = [out.index(f". {name}:") for name in order]
    assert positions == sorted(positions)
    assert "4D4D4D0000BC614E01234567" in out
    assert f"30{GB_AK}" in out and "shown here on request" in out
    assert "411312FF935A47566827C467BC" in out and "7D825C3BE4A77C3FCC056B6B" in out
    assert out.strip().endswith(GB_CIPHERED)
    # finding: encrypt --explain printed "received tag / tag check MATCH" (a decryption)
    assert "received tag" not in out and "tag check" not in out
    # finding: the ciphertext was listed before the plaintext
    assert out.index("C0010000080000010000FF0200") < out.index("411312FF935A47566827C467BC")


def test_decode_explain_green_book(capsys):
    status, out, err = run(capsys, "decode", "--explain", *GB_KEYS, GB_CIPHERED)
    assert status == EXIT_OK, err
    for text in ("0x30 = 00110000", "bit 4 authentication on", "bit 5 encryption on",
                 "19088743 (0x01234567)", "4D4D4D0000BC614E01234567", "tag check: MATCH",
                 GB_PLAIN, "get-request-normal"):
        assert text in out, text


@pytest.mark.parametrize("form", ["glo", "ded", "general-glo", "general-ded",
                                  "general-ciphering"])
@pytest.mark.parametrize("sc", ["0x10", "0x20", "0x30"])
def test_every_form_encrypts_then_decodes_with_every_step(capsys, form, sc):
    status, out, err = run(capsys, "encrypt", *GB_KEYS, "--ic", "7", "--sc", sc,
                           "--form", form, GB_PLAIN)
    assert status == EXIT_OK, err
    ciphered = out.strip()
    keys = GB_KEYS if sc != "0x20" else ("--ek", GB_EK, "--system-title", GB_TITLE)
    status, document, err = run_json(capsys, "decode", "--explain", *keys, ciphered)
    assert status == EXIT_OK, err
    top = document["nodes"][0]
    assert top["kind"] == "ciphered-apdu"
    walk = top["deciphering"]
    assert walk["plaintext"] == GB_PLAIN
    assert top["content"]["meaning"]["apdu"] == "get-request"
    if sc == "0x20":
        # encryption only: nothing authenticates the plaintext, and the output says so
        assert walk["authenticated"] is False
        assert any("UNAUTHENTICATED" in n for n in top["content"]["notes"])


# --- findings: the security path ----------------------------------------------------------


def test_empty_system_title_is_refused_not_eight_zero_octets(capsys):
    status, out, err = run(capsys, "encrypt", "--ek", GB_EK, "--ak", GB_AK, "--system-title",
                           "", "--ic", "1", "--form", "general-glo", GB_PLAIN)
    assert status == EXIT_USAGE
    assert out == "" and "8 octets" in err


def test_wrong_key_on_encryption_only_apdu_names_no_fake_offset(capsys):
    status, out, _ = run(capsys, "encrypt", *GB_KEYS, "--ic", "5", "--sc", "0x20", GB_PLAIN)
    ciphered = out.strip()
    wrong = ("--ek", GB_AK, "--system-title", GB_TITLE)
    status, document, _ = run_json(capsys, "decode", "--explain", *wrong, ciphered)
    top = document["nodes"][0]
    # no offset in the plaintext reported as if it were in the input
    assert "offset 0" not in json.dumps(top["deciphering"])
    assert top["deciphering"]["steps"]  # --explain still shows the steps
    assert top["content"]["kind"] == "undecoded"
    assert any("UNAUTHENTICATED" in n for n in top["content"]["notes"])
    assert any("not in the input" in n and "wrong key" in n for n in top["content"]["notes"])
    assert status == EXIT_MALFORMED


def test_wrong_key_inside_hdlc_frame_does_not_exit_zero(capsys):
    status, out, _ = run(capsys, "encrypt", *GB_KEYS, "--ic", "5", "--sc", "0x30", GB_PLAIN)
    apdu = bytes.fromhex("E6E600" + out.strip())
    frame = _hdlc_i_frame(apdu)
    status, document, _ = run_json(capsys, "decode", *WRONG_AK, frame.hex())
    assert status == EXIT_TAG
    assert document["nodes"][0]["content"]["deciphering"]["tag_ok"] is False


def _hdlc_i_frame(information: bytes, segmented: bool = False) -> bytes:
    from dlmsfast.hdlc import fcs16

    header = bytes((0x03, 0x21, 0x10))
    length = 2 + len(header) + 2 + len(information) + 2
    body = bytes((0xA0 | (0x08 if segmented else 0) | length >> 8, length & 0xFF)) + header
    body += fcs16(body).to_bytes(2, "little") + information
    body += fcs16(body).to_bytes(2, "little")
    return b"\x7e" + body + b"\x7e"


def test_wrong_ak_explain_shows_steps_up_to_the_tag_but_never_the_plaintext(capsys):
    status, out, err = run(capsys, "decode", "--explain", *WRONG_AK, GB_CIPHERED)
    assert status == EXIT_TAG
    assert "tag check: MISMATCH" in out
    assert GB_PLAIN not in out  # unverified plaintext is not released
    assert "could be wrong: --ak" in out and "system title" in out
    status, document, _ = run_json(capsys, "decode", "--explain", *WRONG_AK, GB_CIPHERED)
    assert document["nodes"][0]["deciphering"]["plaintext"] is None
    assert document["nodes"][0]["content"] is None


def test_decipher_without_checking_the_tag_marks_the_output_unauthenticated(capsys):
    status, document, _ = run_json(capsys, "decode", "--decipher-without-checking-the-tag",
                                   "--ek", GB_EK, "--system-title", GB_TITLE, GB_CIPHERED)
    top = document["nodes"][0]
    assert top["deciphering"]["plaintext"] == GB_PLAIN
    assert top["deciphering"]["authenticated"] is False
    assert any("UNAUTHENTICATED" in n for n in top["content"]["notes"])
    assert status == EXIT_OK
    # without the option, no --ak means no plaintext
    status, document, _ = run_json(capsys, "decode", "--ek", GB_EK, "--system-title",
                                   GB_TITLE, GB_CIPHERED)
    assert document["nodes"][0]["deciphering"]["plaintext"] is None


def test_explain_without_keys_explains_the_structure(capsys):
    status, out, _ = run(capsys, "decode", "--explain", GB_CIPHERED)
    assert status == EXIT_OK
    assert "0x30 = 00110000" in out and "19088743" in out
    assert "to go further: --system-title" in out
    status, out, _ = run(capsys, "decode", "--explain", "--system-title", GB_TITLE, GB_CIPHERED)
    assert "4D4D4D0000BC614E01234567" in out and "to go further: --ek" in out


def test_ciphered_aarq_user_information_uses_the_aarq_calling_ap_title(capsys):
    record = next(r for r in load_vectors("acse")
                  if "decrypted" in r["meaning"].get("user_information", {}))
    plaintext = record["meaning"]["user_information"]["decrypted"]["plaintext"]
    status, document, err = run_json(capsys, "decode", "--explain", "--ek", GB_EK, "--ak",
                                     GB_AK, record["hex"])
    assert status == EXIT_OK, err
    inner = document["nodes"][0]["content"]
    assert inner["kind"] == "ciphered-apdu"
    assert inner["deciphering"]["plaintext"] == plaintext
    title_step = next(s for s in inner["deciphering"]["steps"] if s["name"] == "system title")
    assert "AP-title" in title_step["text"]


def test_keys_never_echoed_in_errors(capsys):
    status, out, err = run(capsys, "decode", "--ek", GB_EK + "00", "--ak", GB_AK,
                           "--system-title", GB_TITLE, GB_CIPHERED)
    assert GB_EK not in err and GB_EK not in out


# --- findings: CLI and JSON ----------------------------------------------------------------


def test_json_explain_is_one_json_document(capsys):
    status, out, _ = run(capsys, "decode", "--json", "--explain", *GB_KEYS, GB_CIPHERED)
    document = json.loads(out)  # nothing before or after it
    VALIDATOR.validate(document)
    assert document["kind"] == "apdu"


def test_json_has_no_nan_or_infinity(capsys):
    # float64 NaN and +Infinity
    for value in ("187FF8000000000000", "187FF0000000000000", "177F800000"):
        status, document, _ = run_json(capsys, "decode", "--as", "axdr", value)
        assert document["nodes"][0]["meaning"]["value"] in ("NaN", "Infinity")
        assert status == EXIT_OK


@pytest.mark.parametrize("argv, status", [
    (("decode", "0G"), EXIT_USAGE),
    (("decode", "060000"), EXIT_MALFORMED),
    (("decode", "--bogus", "00"), EXIT_USAGE),
    (("encrypt", "--ic", "1", GB_PLAIN), EXIT_USAGE),
])
def test_errors_are_json_under_json(capsys, argv, status):
    got, document, _ = run_json(capsys, *argv)
    assert got == status
    assert document["kind"] == "error" and document["error"]["message"]


def test_same_keys_at_every_level(capsys):
    record = next(r for r in load_vectors("acse")
                  if "decrypted" in r["meaning"].get("user_information", {}))
    _, document, _ = run_json(capsys, "decode", "--ek", GB_EK, "--ak", GB_AK, record["hex"])
    top = document["nodes"][0]
    inner = top["content"]
    assert set(top) == set(inner) == set(inner["content"])
    # ciphered content: one name for each field, wherever it sits
    assert "ciphertext" in inner["meaning"] and "ciphered_text" not in json.dumps(document)
    assert isinstance(inner["meaning"]["security_control"], dict)
    assert isinstance(top["meaning"]["user_information"]["security_control"], dict)


def test_hdlc_frame_with_undecodable_apdu_exits_malformed(capsys):
    frame = _hdlc_i_frame(bytes.fromhex("E6E600C0FF"))
    status, document, _ = run_json(capsys, "decode", frame.hex())
    assert status == EXIT_MALFORMED
    assert document["nodes"][0]["content"]["kind"] == "undecoded"


def test_detection_reports_the_likely_layer_and_suggests_as(capsys):
    # an A-XDR structure cut short: not "dedicated-key: presence flag"
    status, out, err = run(capsys, "decode", "0202090600000100")
    assert status == EXIT_MALFORMED
    assert "--as" in err and "dedicated-key" not in err


# --- findings: real captures ------------------------------------------------------------

SNRM = "7EA00A00020023219318717E"


def test_bad_fcs_is_shown_flagged_and_decoding_carries_on(capsys):
    bad = SNRM[:-4] + "72" + "7E"
    status, document, _ = run_json(capsys, "decode", bad)
    assert document["nodes"][0]["meaning"]["fcs_valid"] is False
    assert any("FCS" in note for note in document["nodes"][0]["notes"])
    assert status == EXIT_MALFORMED


def test_frames_back_to_back_and_doubled_flags(capsys):
    status, document, err = run_json(capsys, "decode", "7E" + SNRM + SNRM[2:] + "7E" + SNRM)
    assert status == EXIT_OK, err
    assert len(document["nodes"]) == 3
    assert all(n["meaning"]["control"]["frame"] == "SNRM" for n in document["nodes"])


def test_hex_with_spaces_colons_and_newlines(capsys):
    status, document, _ = run_json(capsys, "decode", "7E:A0:0A 00 02\n00 23 21\r\n93 18 71 7E")
    assert status == EXIT_OK


def test_file_argument_hex_and_binary(capsys, tmp_path):
    text = tmp_path / "capture.txt"
    text.write_text("7E A0 0A 00 02 00 23 21\n93 18 71 7E\n")
    binary = tmp_path / "capture.bin"
    binary.write_bytes(bytes.fromhex(SNRM))
    for path in (text, binary):
        status, document, _ = run_json(capsys, "decode", str(path))
        assert status == EXIT_OK and document["kind"] == "hdlc"


def test_a_missing_file_or_a_directory_is_named_as_such(capsys, tmp_path):
    missing = tmp_path / "capture.bin"
    for argument, said in ((str(missing), f"no such file: {missing}"),
                           ("capture.bin", "no such file: capture.bin"),
                           (str(tmp_path), f"{tmp_path} is a directory")):
        status, _, err = run(capsys, "decode", argument)
        assert status == EXIT_USAGE and said in err and "not hex" not in err
        status, document, _ = run_json(capsys, "decode", argument)
        assert status == EXIT_USAGE and said in document["error"]["message"]
    status, _, err = run(capsys, "encrypt", str(tmp_path), "--ek", "00" * 16,
                         "--system-title", "00" * 8, "--ic", "1")
    assert status == EXIT_USAGE and "is a directory" in err
    # text that is neither: still the hex diagnosis
    status, _, err = run(capsys, "decode", "12zz")
    assert status == EXIT_USAGE and "not hex (character 'z')" in err


def test_a_file_that_fails_to_read_is_a_usage_error(capsys):
    # a regular file whose read fails (EIO) even for root: the process's own memory
    # at offset 0, which is never mapped
    status, _, err = run(capsys, "decode", "/proc/self/mem")
    assert status == EXIT_USAGE and "cannot read /proc/self/mem" in err


@pytest.mark.parametrize("dash", [["-"], []])
def test_stdin_reads_binary_and_hex_with_or_without_dash(dash):
    for payload in (bytes.fromhex(SNRM), b"06 00 00 13 91\n"):
        proc = subprocess.run([sys.executable, "-m", "dlmsfast", "decode", "--json", *dash],
                              input=payload, capture_output=True, timeout=60, cwd="/",
                              env={**os.environ, "PYTHONPATH": SRC})
        assert proc.returncode == 0, proc.stderr
        json.loads(proc.stdout)


@pytest.mark.parametrize("dash", [["-"], []])
def test_stdin_on_a_terminal_says_how_instead_of_waiting(dash):
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "dlmsfast", "decode", *dash], stdin=slave,
                              capture_output=True, text=True, timeout=30, cwd="/",
                              env={**os.environ, "PYTHONPATH": SRC})
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == EXIT_USAGE
    assert "pipe" in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_prints_no_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "dlmsfast", "decode", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd="/",
                            env={**os.environ, "PYTHONPATH": SRC})
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err


def test_help_texts_name_no_python_parameters(capsys):
    for command in SUBCOMMANDS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out, _ = capsys.readouterr()
        for leak in ("system_title=", "block_cipher_key", "authentication_key", "=None"):
            assert leak not in out
    with pytest.raises(SystemExit):
        main(["encrypt", "--help"])
    out, _ = capsys.readouterr()
    required = out[out.index("required:"):]
    assert "--ic" in required and "--ek" in required and "--system-title" in required


def test_encrypt_errors_talk_about_enciphering_without_parameter_names(capsys):
    status, out, err = run(capsys, "encrypt", "--ek", GB_EK[:-2], "--ak", GB_AK,
                           "--system-title", GB_TITLE, "--ic", "1", GB_PLAIN)
    assert status == EXIT_USAGE
    assert "decipher" not in err and "block_cipher_key" not in err and "_key" not in err
    assert "--ek" in err


def test_profile_buffer_date_times_and_obis_are_interpreted(capsys):
    # structure { date-time as octet-string (12), OBIS as octet-string (6) }
    value = "0202090C07E30C1001073B28FF8000FF09060100010800FF"
    status, out, _ = run(capsys, "decode", "--as", "axdr", value)
    assert status == EXIT_OK
    assert "date-time 2019-12-16" in out
    assert "OBIS 1.0.1.8.0.255" in out


def test_profile_buffer_date_times_and_obis_are_interpreted_in_json_too(capsys):
    value = "0202090C07E30C1001073B28FF8000FF09060100010800FF"
    status, document, _ = run_json(capsys, "decode", "--as", "axdr", value)
    assert status == EXIT_OK
    date_time, obis = document["nodes"][0]["meaning"]["value"]
    assert date_time["interpreted_as"] == "date-time"
    assert (date_time["fields"]["year"], date_time["fields"]["day"],
            date_time["fields"]["deviation"]) == (2019, 16, None)
    assert obis["interpreted_as"] == "obis 1.0.1.8.0.255"
    # not a date-time or an OBIS code by its length: left as it is
    status, document, _ = run_json(capsys, "decode", "--as", "axdr", "0903010203")
    assert "interpreted_as" not in document["nodes"][0]["meaning"]


def _informational(meaning):
    """(hex, interpreted_as, fields) of every octet-string a vector interprets."""
    found = []
    stack = [meaning]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if "interpreted_as" in item:
                found.append((item["value"], item["interpreted_as"], item.get("fields")))
            stack.extend(item.values())
    return sorted(found, key=repr)


@pytest.mark.parametrize("record", [r for r in load_vectors("axdr")
                                    if _informational(r["meaning"])],
                         ids=lambda r: r["name"][:60])
def test_json_interprets_octet_strings_as_the_vectors_do(capsys, record):
    status, document, _ = run_json(capsys, "decode", "--as", "axdr", record["hex"])
    assert status == EXIT_OK
    assert _informational(document["nodes"][0]["meaning"]) == _informational(record["meaning"])


def test_five_megabyte_value_prints_in_proportional_time(capsys):
    big = bytes(5_000_000)
    value = bytes((0x09, 0x84)) + len(big).to_bytes(4, "big") + big
    start = time.perf_counter()
    status, out, _ = run(capsys, "decode", "--json", "--as", "axdr", value.hex())
    assert status == EXIT_OK
    assert time.perf_counter() - start < 5
    assert len(out) < 3 * len(value.hex())


def test_a_downgraded_apdu_is_refused_when_an_authentication_key_is_given(capsys):
    # finding: SC 0x30 changed to 0x20 gave the plaintext followed by 12 garbage octets
    downgraded = GB_CIPHERED[:4] + "20" + GB_CIPHERED[6:]
    status, document, err = run_json(capsys, "decode", *GB_KEYS, downgraded)
    assert status == 5
    walk = document["nodes"][0]["deciphering"]
    assert walk["refused"] is True and walk["plaintext"] is None
    assert document["nodes"][0]["content"] is None
    # the caller who really has an encryption-only association leaves out --ak
    status, document, _ = run_json(capsys, "decode", "--ek", GB_EK, "--system-title",
                                   GB_TITLE, downgraded)
    assert document["nodes"][0]["deciphering"]["authenticated"] is False


def test_trailing_octets_after_frames_are_shown_not_blamed_on_the_apdu_layer(capsys):
    # finding: "unknown APDU tag 0x7E" for a frame followed by trailing octets
    status, document, _ = run_json(capsys, "decode", SNRM + "0102")
    assert status == EXIT_MALFORMED
    assert document["kind"] == "hdlc"
    assert document["nodes"][0]["meaning"]["control"]["frame"] == "SNRM"
    assert document["nodes"][1]["kind"] == "undecoded"
    assert document["nodes"][1]["hex"] == "0102"


def test_missing_closing_flag_is_named_with_a_hint(capsys):
    status, out, err = run(capsys, "decode", SNRM[:-2])
    assert status == EXIT_MALFORMED
    assert "closing flag" in err and "--as" in err and "APDU tag" not in err


def test_readme_walkthrough_python_runs_and_matches_the_cli(capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## How a ciphered APDU is built"):]
    code = section[section.index("```python\n") + 10:]
    code = code[:code.index("```")]
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102  (our own README)
    out, _ = capsys.readouterr()
    assert "AAD: SC || AK" in out and out.strip().endswith(GB_PLAIN)
    assert GB_CIPHERED in section


def test_segments_in_frames_back_to_back_are_reassembled(capsys):
    # a get-response of 300 octets in three I-frames: LLC + first part, then the rest
    from dlmsfast.apdu import GetResponseNormal
    from dlmsfast.axdr import Data, DataType

    apdu = GetResponseNormal(result=Data(DataType.OCTET_STRING, bytes(range(256)) * 1)).to_bytes()
    info = bytes.fromhex("E6E700") + apdu
    pieces = [info[:100], info[100:200], info[200:]]
    frames = b"".join(
        _hdlc_i_frame(piece, segmented=i < 2) for i, piece in enumerate(pieces))
    status, document, err = run_json(capsys, "decode", frames.hex())
    assert status == EXIT_OK, err
    assert [n["content"]["kind"] for n in document["nodes"]] == ["segment", "segment", "apdu"]
    whole = document["nodes"][2]["content"]
    assert whole["meaning"]["apdu"] == "get-response"
    assert whole["hex"] == apdu.hex().upper()


def test_a_capture_teaches_the_titles_and_the_dedicated_key_to_what_follows(capsys):
    from dlmsfast.apdu import AARQ
    from dlmsfast.wrapper import WrapperFrame

    record = next(r for r in load_vectors("acse")
                  if r["meaning"]["apdu"] == "AARQ"
                  and "decrypted" in r["meaning"].get("user_information", {}))
    aarq = bytes.fromhex(record["hex"])
    client_title = AARQ.from_bytes(aarq).calling_ap_title
    dedicated = record["meaning"]["user_information"]["decrypted"]["decoded"]["dedicated_key"]
    status, out, err = run(capsys, "encrypt", "--ek", dedicated, "--ak", GB_AK,
                           "--system-title", client_title.hex(), "--ic", "9", "--form", "ded",
                           GB_PLAIN)
    assert status == EXIT_OK, err
    ded_request = bytes.fromhex(out.strip())
    capture = (WrapperFrame(1, 16, 1, aarq).to_bytes()
               + WrapperFrame(1, 16, 1, ded_request).to_bytes())
    # only the global keys on the command line: the title and the dedicated key come
    # from the AARQ and its deciphered InitiateRequest
    status, document, err = run_json(capsys, "decode", "--explain", "--ek", GB_EK, "--ak",
                                     GB_AK, capture.hex())
    assert status == EXIT_OK, err
    second = document["nodes"][1]["content"]
    steps = {s["name"]: s for s in second["deciphering"]["steps"]}
    assert "AARQ's calling-AP-title" in steps["system title"]["text"]
    assert "InitiateRequest deciphered earlier" in steps["key"]["text"]
    assert second["deciphering"]["plaintext"] == GB_PLAIN


@pytest.mark.parametrize("form", ["glo", "ded", "general-glo", "general-ded",
                                  "general-ciphering"])
def test_encrypt_json_validates_and_its_walk_ends_with_the_bytes(capsys, form):
    status, document, err = run_json(capsys, "encrypt", *GB_KEYS, "--ic", "0x01234567",
                                     "--form", form, GB_PLAIN)
    assert status == EXIT_OK, err
    assert document["kind"] == "encrypt"
    steps = document["ciphering"]["steps"]
    assert steps[0]["name"] == "plaintext APDU" and steps[0]["hex"] == GB_PLAIN
    assert steps[-1]["name"] == "layout" and steps[-1]["hex"] == document["ciphered"]


def test_console_script_runs_the_cli():
    import shutil

    exe = shutil.which("dlmsfast")
    if exe is None:
        pytest.fail("the dlmsfast console script is not on PATH: the package is not installed")
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([exe, "decode", "--json", SNRM], capture_output=True, text=True,
                          timeout=60, env=env, cwd="/")
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["nodes"][0]["meaning"]["control"]["frame"] == "SNRM"
    bad = subprocess.run([exe, "decode", SNRM[:-4] + "727E"], capture_output=True, text=True,
                         timeout=60, env=env, cwd="/")
    assert bad.returncode == EXIT_MALFORMED
    assert "Traceback" not in bad.stderr and "FCS" in bad.stdout


def test_every_registered_subcommand_is_one_module_with_add_parser_and_run():
    import importlib

    for name in SUBCOMMANDS:
        module = importlib.import_module(f"dlmsfast.cli.{name}")
        assert callable(module.add_parser) and callable(module.run)
