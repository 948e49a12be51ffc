"""``dlmsfast decode`` on real pushed captures (../shared/han/frames.json): the
frames joined into their APDU (HDLC segments, M-Bus segments, general-block-
transfer blocks), the data-notification recognised, and its readings shown in
the text table and inside the one JSON schema, with the push decoder's list
layouts. Every entry with published values gives them through ``decode --json``;
the values are compared as test_push_frames.py compares the push decoder's.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from han_frames import (
    BY_ID,
    FRAMES,
    GOOD,
    NO_OBIS,
    SUSPECT,
    TIMESTAMPS,
    expected_obis,
    expected_unit,
    same_value,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import run, run_json
from test_explain_findings import _decode_json

from dlmsfast.cli import EXIT_MALFORMED, EXIT_OK, EXIT_SECURITY, EXIT_TAG, EXIT_USAGE


def key_options(entry: dict, *, tag_check: bool = True) -> list[str]:
    keys = entry.get("keys")
    if not keys:
        return []
    options = ["--ek", keys["ek"]]
    if keys["ak"] and tag_check:
        return options + ["--ak", keys["ak"]]
    return options + ["--no-tag-check"]


def from_json(value: Any) -> Any:
    """A reading's JSON value back as the comparison takes it: ISO 8601 text
    as the datetime it writes."""
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def decode_json(capsys, entry: dict, *extra: str) -> tuple[int, dict]:
    status, document, _ = run_json(capsys, "decode", entry["hex"], *key_options(entry), *extra)
    return status, document


@pytest.mark.parametrize("entry", GOOD, ids=lambda e: e["id"])
def test_entry_decodes_to_its_published_readings(capsys, entry):
    status, document = decode_json(capsys, entry)
    assert status == EXIT_OK, document["nodes"]
    assert document["kind"] == entry["transport"].replace("raw-apdu", "apdu")
    assert document["notification_error"] is None
    [notification] = document["notifications"]
    readings = notification["readings"]
    assert readings
    by_obis: dict[str, dict] = {}
    for reading in readings:
        by_obis.setdefault(reading["object"], reading)
    for item in entry["expected"] or ():
        obis = expected_obis(item)
        if obis == NO_OBIS:
            assert any(same_value(item["value"], from_json(r["value"]), r["scaled"])
                       for r in readings), item
            continue
        reading = by_obis[obis]
        assert same_value(item["value"], from_json(reading["value"]), reading["scaled"]), \
            (item, reading)
        if "unit" in item:
            assert reading["unit"] == expected_unit(item["unit"])[0], (item, reading)
    if entry["id"] in TIMESTAMPS:
        expected = TIMESTAMPS[entry["id"]]
        assert {from_json(r["timestamp"]) for r in readings} == {expected}
    authenticated = bool(entry.get("keys") and entry["keys"].get("ak"))
    assert notification["authenticated"] is authenticated
    assert all(r["authenticated"] is authenticated for r in readings)


@pytest.mark.parametrize("entry", SUSPECT, ids=lambda e: e["id"])
def test_suspect_entry_gives_valid_json_and_a_documented_status(capsys, entry):
    status, document = decode_json(capsys, entry)
    assert status in (EXIT_OK, EXIT_MALFORMED)
    if status == EXIT_OK:
        # only when the push decoder reads it whole (dp-egd-doc-raw: the editor's
        # corrections made the documentation example consistent again)
        assert document["notifications"] and document["notification_error"] is None


def test_the_zmf100_frame_as_published_is_shown_flagged_and_malformed(capsys):
    status, document = decode_json(capsys, BY_ID["dp-lg-zmf100-suspect"])
    assert status == EXIT_MALFORMED
    assert document["nodes"][0]["meaning"]["fcs_valid"] is False
    assert document["notifications"] == []
    assert "FCS" in document["notification_error"]["message"]


def test_the_egd_documentation_example_gives_its_published_values(capsys):
    entry = BY_ID["dp-egd-doc-raw"]
    status, document = decode_json(capsys, entry)
    assert status == EXIT_OK
    # the generic APDU decoder refuses the untyped descriptor list; the node
    # keeps that error, says who read it, and the readings carry the values
    [item] = document["nodes"]
    assert item["kind"] == "undecoded" and item["error"] is not None
    assert any("push decoder" in note for note in item["notes"])
    by_obis = {r["object"]: r for r in document["notifications"][0]["readings"]}
    for expected in entry["expected"]:
        reading = by_obis[expected["obis"]]
        if expected["obis"] == "0.2.25.9.0.255":
            continue  # dlms_parser shows this descriptor's value as ""; it is the OBIS octets
        assert same_value(expected["value"], from_json(reading["value"]), reading["scaled"])


def test_iskra_segments_are_joined_and_the_readings_follow_the_tree(capsys):
    entry = BY_ID["dp-iskra-3seg"]
    status, out, _ = run(capsys, "decode", entry["hex"])
    assert status == EXIT_OK
    tree, table = out.split("data-notification: 16 reading(s)")
    assert "reassembled from the 3 segments" in tree
    lines = table.splitlines()
    assert lines[1].split() == ["OBIS", "value", "scaled", "unit", "timestamp"]
    assert "1.0.32.7.0.255  2364      236.4     V     2023-04-01T21:32:35+02:00" in table
    assert "UNAUTHENTICATED" not in out  # a plain push is not "deciphered unchecked"


def test_general_block_transfer_blocks_are_joined_then_deciphered(capsys):
    entry = BY_ID["dp-lg-e450-gbt-ciphered"]
    status, document = decode_json(capsys, entry)
    assert status == EXIT_OK
    last = document["nodes"][-1]["content"]
    assert last["kind"] == "apdu" and last["meaning"]["block_control"]["last_block"]
    whole = last["content"]
    assert whole["kind"] == "ciphered-apdu"
    assert any("3 general-block-transfer block(s)" in n for n in whole["notes"])
    assert whole["deciphering"]["tag_ok"] is True
    assert whole["content"]["meaning"]["apdu"] == "data-notification"
    assert document["notifications"][0]["authenticated"] is True


def test_mbus_segments_are_joined_and_a_bad_checksum_is_flagged(capsys):
    entry = BY_ID["netznoe-evn-example-mbus"]
    status, document = decode_json(capsys, entry)
    assert status == EXIT_OK
    first, second = document["nodes"]
    assert (first["kind"], second["kind"]) == ("mbus", "mbus")
    assert first["meaning"]["last_segment"] is False and second["meaning"]["last_segment"]
    assert first["content"]["kind"] == "segment"
    assert second["content"]["kind"] == "ciphered-apdu"
    assert any("reassembled from the 2 segments" in n for n in second["content"]["notes"])
    raw = bytearray.fromhex(entry["hex"])
    checksum_at = raw[1] + 4
    raw[checksum_at] ^= 0xFF
    status, document, _ = run_json(capsys, "decode", raw.hex(), *key_options(entry))
    assert status == EXIT_MALFORMED
    assert document["nodes"][0]["meaning"]["checksum_valid"] is False


def test_encryption_only_push_needs_the_loudly_named_option(capsys):
    entry = BY_ID["netznoe-evn-example-mbus"]
    ek = entry["keys"]["ek"]
    status, document, _ = run_json(capsys, "decode", entry["hex"], "--ek", ek)
    assert status == EXIT_USAGE
    assert "--no-tag-check" in document["notification_error"]["message"]
    assert document["notifications"] == []
    status, out, _ = run(capsys, "decode", entry["hex"], "--ek", ek, "--no-tag-check")
    assert status == EXIT_OK
    assert "UNAUTHENTICATED: deciphered without checking a tag" in out
    assert "181220000009" in out


def test_wrong_authentication_key_fails_the_tag_check(capsys):
    entry = BY_ID["dp-lg-e450-gbt-ciphered"]
    status, document, _ = run_json(capsys, "decode", entry["hex"], "--ek", entry["keys"]["ek"],
                                   "--ak", "00" * 16)
    assert status == EXIT_TAG
    assert document["notifications"] == []
    assert document["notification_error"]["type"] == "TagError"


def test_ciphered_push_without_keys_shows_the_structure(capsys):
    entry = BY_ID["dp-kmswest-mbus-ciphered-nokey"]
    status, document = decode_json(capsys, entry)
    assert status == EXIT_OK  # nothing wrong with the input: the key is not given
    assert document["nodes"][0]["content"]["kind"] == "ciphered-apdu"
    assert document["notifications"] == []
    assert "no key given" in document["notification_error"]["message"]


def test_a_user_layout_folder_is_tried_first(capsys, tmp_path):
    entry = BY_ID["amshan-hdlc-kaifa-list1"]
    layout = {"name": "my-kaifa-list1", "description": "a user's own list 1",
              "source": "test", "match": {"count": 1},
              "objects": [{"obis": "1.0.1.7.0.255", "scaler": -3, "unit": "W",
                           "name": "active power import"}]}
    (tmp_path / "mine.json").write_text(json.dumps([layout]), encoding="utf-8")
    status, document = decode_json(capsys, entry, "--layouts", str(tmp_path))
    assert status == EXIT_OK
    notification = document["notifications"][0]
    assert notification["layout"] == "my-kaifa-list1"
    [reading] = notification["readings"]
    assert (reading["value"], reading["scaled"], reading["unit"]) == (5502, 5.502, "W")
    status, _, err = run(capsys, "decode", entry["hex"], "--layouts", str(tmp_path / "none"))
    assert status == EXIT_USAGE and "none" in err


def test_a_request_in_general_glo_is_not_taken_for_a_push(capsys):
    """A ciphered APDU that deciphers to something else than a push: no readings
    and no push error (the push decoder is asked only about pushes)."""
    from test_cli import GB_AK, GB_EK, GB_PLAIN, GB_TITLE

    status, out, _ = run(capsys, "encrypt", GB_PLAIN, "--ek", GB_EK, "--ak", GB_AK,
                         "--system-title", GB_TITLE, "--ic", "1", "--form", "general-glo")
    assert status == EXIT_OK
    status, document, _ = run_json(capsys, "decode", out.strip(), "--ek", GB_EK, "--ak", GB_AK)
    assert status == EXIT_OK
    assert document["notifications"] == [] and document["notification_error"] is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FRAMES), st.data())
def test_mutated_and_cut_captures_give_json_with_a_documented_status(entry, draw):
    """M-Bus and HDLC segments, blocks and pushes changed or cut anywhere: one
    JSON document, a documented status, never an internal error."""
    data = bytearray.fromhex(entry["hex"])
    for _ in range(draw.draw(st.integers(0, 3))):
        data[draw.draw(st.integers(0, len(data) - 1))] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(1, len(data)))
    tag_check = draw.draw(st.booleans())
    _decode_json(["decode", "--json", bytes(data[:cut]).hex(),
                  *key_options(entry, tag_check=tag_check)])


# a data-notification the built-in layouts read (2 readings: energy and voltage)
PUSH_PLAIN = ("0F000000010C07EA0102050C0000000000000202020309060100010800FF06000007A802020F"
              "FD161E020309060100200700FF1208FD02020FFF1623")


def _ciphered(capsys, plain: str, form: str, sc: str = "0x30") -> str:
    from test_cli import GB_AK, GB_EK, GB_TITLE

    status, out, _ = run(capsys, "encrypt", plain, "--ek", GB_EK, "--ak", GB_AK,
                         "--system-title", GB_TITLE, "--ic", "5", "--sc", sc, "--form", form)
    assert status == EXIT_OK
    return out.strip()


def test_keys_given_but_an_apdu_left_closed_is_not_a_success(capsys):
    from test_cli import GB_AK, GB_EK, GB_PLAIN, GB_TITLE

    ded = _ciphered(capsys, GB_PLAIN, "ded")  # carries no system title
    status, _, err = run(capsys, "decode", ded, "--ek", GB_EK, "--ak", GB_AK)
    assert status == EXIT_USAGE
    assert "not deciphered although keys were given" in err and "--system-title" in err
    status, document, _ = run_json(capsys, "decode", ded, "--ek", GB_EK, "--ak", GB_AK)
    assert status == EXIT_USAGE and document["nodes"][0]["content"] is None
    general = _ciphered(capsys, GB_PLAIN, "general-ded")
    status, _, err = run(capsys, "decode", general, "--ek", GB_EK)
    assert status == EXIT_USAGE and "the tag check needs the authentication key" in err
    assert "--ak" in err
    # what the keys open, and no keys at all (the structure is asked for): done
    status, _, _ = run(capsys, "decode", ded, "--ek", GB_EK, "--ak", GB_AK,
                       "--system-title", GB_TITLE)
    assert status == EXIT_OK
    status, _, _ = run(capsys, "decode", ded)
    assert status == EXIT_OK


def test_a_request_in_a_general_form_left_closed_is_not_called_a_push(capsys):
    from test_cli import GB_AK, GB_EK, GB_PLAIN

    for form in ("general-glo", "general-ded"):
        downgraded = _ciphered(capsys, GB_PLAIN, form, sc="0x20")
        status, _, err = run(capsys, "decode", downgraded, "--ek", GB_EK, "--ak", GB_AK)
        assert status == EXIT_SECURITY
        assert "the readings of the push" not in err
        # --ek is the dedicated key of ded- APDUs, for the push decoder too
        assert "dedicated key" not in err
    opened = _ciphered(capsys, GB_PLAIN, "general-ded")
    status, document, err = run_json(capsys, "decode", opened, "--ek", GB_EK, "--ak", GB_AK)
    assert status == EXIT_OK and err == ""
    assert document["notifications"] == [] and document["notification_error"] is None


@pytest.mark.parametrize("form", ["general-ded", "general-glo"])
def test_a_push_in_a_general_form_is_read_with_the_keys_given(capsys, form):
    from test_cli import GB_AK, GB_EK

    status, document, _ = run_json(capsys, "decode", _ciphered(capsys, PUSH_PLAIN, form),
                                   "--ek", GB_EK, "--ak", GB_AK)
    assert status == EXIT_OK and document["notification_error"] is None
    [notification] = document["notifications"]
    assert notification["authenticated"] is True
    assert [r["object"] for r in notification["readings"]] == ["1.0.1.8.0.255", "1.0.32.7.0.255"]
