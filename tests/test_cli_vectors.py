"""`dlmsfast decode --json` on every published vector: the output validates against
the shipped JSON Schema and carries the vector's meaning. (The tests that need no
vector are in test_cli.py, so that they run where the vectors are absent.)"""
from __future__ import annotations

import pytest
from conftest import load_vectors
from test_cli import EXIT_STATUSES, run_json

from dlmsfast.cli import EXIT_MALFORMED, EXIT_OK


def _vectors(name: str) -> list:
    return [pytest.param(r, id=r["name"][:60]) for r in load_vectors(name)]


# --- every vector through decode --json, validated against the shipped schema ----------


def _strip_informational(value):
    if isinstance(value, dict):
        return {k: _strip_informational(v) for k, v in value.items()
                if k not in ("interpreted_as", "fields")}
    if isinstance(value, list):
        return [_strip_informational(v) for v in value]
    return value


@pytest.mark.parametrize("record", _vectors("axdr"))
def test_axdr_vectors_json_validates_and_is_the_vector_meaning(capsys, record):
    status, document, err = run_json(capsys, "decode", "--as", "axdr", record["hex"])
    assert status == EXIT_OK, err
    assert document["kind"] == "axdr"
    assert _strip_informational(document["nodes"][0]["meaning"]) == \
        _strip_informational(record["meaning"])


@pytest.mark.parametrize("record", _vectors("hdlc") + _vectors("wrapper") + _vectors("xdlms")
                         + _vectors("acse") + _vectors("security"))
def test_every_vector_output_validates_against_the_schema(capsys, record):
    status, document, _ = run_json(capsys, "decode", record["hex"])
    assert status in EXIT_STATUSES
    if status == EXIT_OK:
        assert document["kind"] in ("hdlc", "wrapper", "apdu", "axdr")
    else:
        assert record["name"].startswith("NEGATIVE") or document["kind"] in (
            "error", "hdlc", "wrapper")


@pytest.mark.parametrize("record", [p for p in _vectors("hdlc")
                                    if not p.values[0]["name"].startswith("NEGATIVE")])
def test_hdlc_vectors_give_their_meaning(capsys, record):
    status, document, err = run_json(capsys, "decode", record["hex"])
    # one vector is a valid frame around a malformed AARE (its note says so): the
    # frame is shown, and the status says that a part did not decode
    malformed_inside = "malformed" in record.get("note", "")
    assert status == (EXIT_MALFORMED if malformed_inside else EXIT_OK), err
    meaning = document["nodes"][0]["meaning"]
    for key, value in record["meaning"].items():
        if key == "apdu":  # hdlc.json's APDU hex is the content node's octets here
            assert document["nodes"][0]["content"]["hex"] == value
        elif key != "expect":
            assert meaning[key] == value, key


@pytest.mark.parametrize("record", [
    p for p in _vectors("security")
    if isinstance(p.values[0]["meaning"].get("keys"), dict) and "plaintext" in p.values[0]["meaning"]
])
def test_security_vectors_decipher_and_explain_every_step(capsys, record):
    meaning = record["meaning"]
    keys = meaning["keys"]
    ek = keys.get("dedicated_key") if record["name"].startswith("ded-") else keys["encryption_key"]
    argv = ["decode", "--explain", "--ek", ek]
    if meaning["security_control"]["authentication"]:
        # an AK given for an encryption-only APDU is refused as a possible downgrade
        argv += ["--ak", keys["authentication_key"]]
    if meaning.get("system_title_for_iv"):
        argv += ["--system-title", meaning["system_title_for_iv"]]
    status, document, err = run_json(capsys, *argv, record["hex"])
    assert status == EXIT_OK, err
    walk = document["nodes"][0]["deciphering"]
    assert walk["plaintext"] == meaning["plaintext"]
    names = [step["name"] for step in walk["steps"]]
    for name in ("layout", "security control (SC)", "invocation counter (IC)", "system title",
                 "IV", "key", "plaintext APDU"):
        assert name in names, name
    if meaning["security_control"]["authentication"]:
        assert walk["tag_ok"] is True and walk["authenticated"] is True
        assert {"AAD", "computed tag", "received tag", "tag check"} <= set(names)
    if "iv" in meaning:
        assert next(s for s in walk["steps"] if s["name"] == "IV")["hex"] == meaning["iv"]
    # the steps are in the order the construction happens
    assert names.index("IV") < names.index("key") < names.index("plaintext APDU")
