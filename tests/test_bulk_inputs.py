"""What ``dlmsfast bulk`` takes in and how it stores what it reads, beyond the
default plan: the meters, keys and plan files checked whole before any session
(exit 2 naming file, line and column or key), a profile buffer and a
scaler_unit read as plan objects stored as data rather than a Python repr, the
counts of a resumed run, the retry backoff's cap, and the help texts. Real
files, the real command in a subprocess, ``dlmsfast simulate`` on loopback."""
from __future__ import annotations

import datetime as _dt
import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlmsfast.bulk import engine
from dlmsfast.bulk.engine import EngineSettings, run_bulk
from dlmsfast.bulk.inputs import KeyRing, ReadPlan, read_meters
from dlmsfast.errors import ConfigurationError, UsageError
from dlmsfast.simulator import data as d
from test_bulk import AT, ENV, bulk, fleet_factory, index_of  # noqa: F401  (a fixture)

README = Path(__file__).resolve().parent.parent / "README.md"
KEY = "00112233445566778899AABBCCDDEEFF"


def dlmsfast(*arguments: str, cwd: Path, env=None, timeout: float = 60):
    return subprocess.run([sys.executable, "-m", "dlmsfast", *arguments], env=env or ENV,
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


# -- finding 9: the plan's values are type-checked up front ------------------------------------

@pytest.mark.parametrize("plan, message", [
    ('sync_clock = "abc"', "sync_clock is a number of seconds >= 0 (or true: 10, false: never), "
                           "got 'abc' (a string)"),
    ("sync_clock = -5", "sync_clock is a number of seconds >= 0 (or true: 10, false: never), "
                        "got -5 (an integer)"),
    ("sync_clock = nan", "sync_clock is a number of seconds >= 0"),
    ('clock = "no"', "clock is true or false, got 'no' (a string)"),
    ("clock = 1", "clock is true or false, got 1 (an integer)"),
    ('objects = "3/1.0.1.8.0.255"', 'objects is a list of strings "CLASS/OBIS[:ATTR]", '
                                    "got '3/1.0.1.8.0.255' (a string)"),
    ("objects = [3]", "objects is a list of strings"),
    ('profile = "1.0.99.1.0.255"', "profile is a table [profile] (object, since, from, to) or "
                                   "false, got '1.0.99.1.0.255' (a string)"),
    ("[profile]\nobject = 1", "profile object is an OBIS code string, got 1 (an integer)"),
    ("[profile]\nfrom = 2026", "profile from is an ISO 8601 date-time"),
    ('[profile]\nsince = "yesterday"', 'profile since is "last"'),
    ('[profile]\nstart = "2026-01-01"', "unknown key(s) in [profile]: start"),
])
def test_a_plan_value_of_the_wrong_type_ends_the_run_before_it_starts(tmp_path, plan, message):
    meters = tmp_path / "meters.csv"
    meters.write_text("id,url\nm1,tcp://127.0.0.1:1\n")
    (tmp_path / "plan.toml").write_text(plan + "\n")
    done = dlmsfast("bulk", "meters.csv", "--plan", "plan.toml", "--store", "r.db", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"plan 'plan.toml': {message}" in done.stderr, done.stderr
    assert not (tmp_path / "r.db").exists()  # no store made, no meter asked


def test_plan_values_of_the_right_type_are_taken():
    plan = ReadPlan.from_mapping({"clock": False, "objects": ["3/1.0.1.8.0.255"],
                                  "profile": False})
    assert plan.clock is False and plan.profile is None and len(plan.objects) == 1
    assert ReadPlan.from_mapping({"sync_clock": 0}).sync_clock == 0
    assert ReadPlan.from_mapping({"sync_clock": True}).sync_clock == 10.0
    assert ReadPlan.from_mapping({"sync_clock": 2.5}).sync_clock == 2.5
    at = _dt.datetime(2026, 1, 1)  # a TOML local date-time: UTC
    assert ReadPlan.from_mapping({"profile": {"from": at}}).start == at.replace(
        tzinfo=_dt.timezone.utc)
    with pytest.raises(UsageError, match="sync_clock"):
        ReadPlan.from_mapping({"sync_clock": float("inf")})


def test_the_readme_describes_the_plan_and_keys_formats_with_examples_that_read(tmp_path):
    from dlmsfast.bulk.inputs import tomllib  # tomli before Python 3.11

    text = README.read_text()
    plan = text.split("### The read plan", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    loaded = ReadPlan.from_mapping(tomllib.loads(plan))
    assert loaded.sync_clock == 30 and loaded.since_last and len(loaded.objects) == 3
    keys = text.split("### The input files", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "keys.toml").write_text(keys)
    assert KeyRing.load(tmp_path / "keys.toml").first_counter(
        read_meters_row(tmp_path, "hls-gmac,authenc,k-0001")) == 120000
    meters = text.split("### The input files", 1)[1].split("```csv\n", 1)[1].split("```", 1)[0]
    (tmp_path / "meters.csv").write_text(meters)
    assert [m.id for m in read_meters(tmp_path / "meters.csv")] == ["m-0001", "m-0002"]


# -- finding 10: every mistake of the meters and keys files, before any session ----------------

CIPHERED = "id,url,auth,security,key_id\n"


@pytest.mark.parametrize("meters, keys, message", [
    ("id,url,framing\nm1,tcp://127.0.0.1:1,wrapper\nm2,tcp://127.0.0.1:2,hdlcx\n", "",
     "meters file 'meters.csv' line 3, column framing: framing 'hdlcx' is one of wrapper, hdlc"),
    ("id,url,framing\nm1,tcp://127.0.0.1:1,tcp\n", "", "line 2, column framing"),
    ("id,url,auth\nm1,tcp://127.0.0.1:1,hls-foo\n", "",
     "line 2, column auth: unknown authentication 'hls-foo'"),
    ("id,url,security\nm1,tcp://127.0.0.1:1,encrypted\n", "",
     "line 2, column security: unknown security 'encrypted'"),
    ("id,url,referencing\nm1,tcp://127.0.0.1:1,short\n", "",
     "line 2, column referencing: referencing 'short' is ln"),
    ("id,url\nm1,ftp://127.0.0.1:1\n", "",
     "line 2, column url: meter URL 'ftp://127.0.0.1:1': scheme must be tcp://, udp:// or serial://"),
    ("id,url\nm1,tcp://127.0.0.1\n", "", "line 2, column url"),
    ("id,url,client\nm1,tcp://127.0.0.1:1,x\n", "", "line 2, column client: 'x' is not a number"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,hls-gmac,authenc,\n", "",
     "line 2, column key_id: meter m1 (auth hls-gmac, security authenc) needs a key_id whose "
     "keys hold ek and ak"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,none,authenc,k9\n", f'["k1"]\nek = "{KEY}"\n',
     "line 2, column key_id: meter m1: key id 'k9' is not in the keys file"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,hls-gmac,authenc,k1\n", f'["k1"]\nek = "{KEY}"\n',
     "needs ak in [k1] of the keys file"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,lls,none,k1\n", f'["k1"]\nek = "{KEY}"\n',
     "needs password in [k1]"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,lls,none,k1\n", "",
     "line 2, column key_id: meter m1: key id 'k1' has no keys: no keys file was given (--keys)"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,hls-gmac,authenc,k1\n",
     f'["k1"]\nek = "ZZ{KEY[2:]}"\nak = "{KEY}"\n',
     "keys file 'keys.toml' line 2: [k1] ek is not hex (0-9, A-F)"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,hls-gmac,authenc,k1\n",
     f'["k1"]\nek = "{KEY}"\nak = "{KEY}00"\n',
     "keys file 'keys.toml' line 3: [k1] ak must be 16 octets (32 hex digits), got 17"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,hls-gmac,authenc,k1\n",
     f'[k1]\nek = "{KEY}"\nak = "{KEY}"\nsystem_title = "4142"\n',
     "keys file 'keys.toml' line 4: [k1] system_title must be 8 octets (16 hex digits), got 2"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,lls,none,k1\n", '["k1"]\npassword = 12345678\n',
     "keys file 'keys.toml' line 2: [k1] password must be a string"),
    (CIPHERED + "m1,tcp://127.0.0.1:1,lls,none,k1\n", '["k1"]\npassword = "1"\nek2 = "00"\n',
     "keys file 'keys.toml' line 3: [k1] has unknown field(s) ek2"),
])
def test_a_mistake_in_the_meters_or_keys_file_ends_the_run_before_any_session(
        tmp_path, meters, keys, message):
    (tmp_path / "meters.csv").write_text(meters)
    options = []
    if keys:
        (tmp_path / "keys.toml").write_text(keys)
        options = ["--keys", "keys.toml"]
    done = dlmsfast("bulk", "meters.csv", *options, "--store", "r.db", "--json", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "r.db").exists()  # refused before the store, so before any session
    assert KEY not in done.stderr and KEY[2:] not in done.stderr  # no key material shown


def test_the_named_values_of_the_meters_file_are_taken_in_any_case(tmp_path):
    meters = tmp_path / "meters.csv"
    meters.write_text("ID,URL,Framing,Auth,Security,Referencing\n"
                      "m1,TCP://127.0.0.1:1,HDLC,HLS-GMAC,AuthEnc,SN\n")
    row = read_meters(meters)[0]
    assert (row.framing, row.auth, row.security, row.referencing) == ("hdlc", "hls-gmac",
                                                                       "authenc", "sn")
    assert row.ciphered


def test_a_key_file_entry_that_is_right_is_taken(tmp_path):
    keys = tmp_path / "keys.toml"
    keys.write_text(f'["k1"]\nek = "{KEY}"\nak = "{KEY.lower()}"\nsystem_title = '
                    '"4446430001D905C0"\ninvocation_counter = 7\n[k2]\npassword = "secret"\n')
    ring = KeyRing.load(keys)
    assert ring.first_counter(read_meters_row(tmp_path, "hls-gmac,authenc,k1")) == 7
    assert ring.client_options(read_meters_row(tmp_path, "lls,none,k2")) == {"password": "secret"}
    assert "secret" not in repr(ring) and KEY not in repr(ring)


def read_meters_row(folder: Path, columns: str):
    meters = folder / "one.csv"
    meters.write_text(f"{CIPHERED}m1,tcp://127.0.0.1:1,{columns}\n")
    return read_meters(meters)[0]


# -- finding 12: lines numbered as an editor does; comments and blank lines skipped ------------

@pytest.mark.parametrize("content, message", [
    ("# the fleet of site A\nid,url\n\n   \n  # m0 is gone\nm1,tcp://127.0.0.1:1\n,,\n\n"
     "m2,tcp://127.0.0.1:2\nm3,ftp://x:1\n", r"'.*meters.csv' line 10, column url"),
    ("id,url\n# comment\n\n  \nm1,tcp://127.0.0.1:1\n\nm1,tcp://127.0.0.1:2\n",
     r"line 7, column id: meter id 'm1' repeated"),
    # a quoted value over two lines: the next record is named by its own first line
    ('id,url,key_id\nm1,tcp://127.0.0.1:1,"k\n1"\nm2,tcp://127.0.0.1:2,k2,,\nm3,\n',
     r"line 5, column url: id and url are required"),
    # more values than the header has columns (an unquoted comma)
    ("id,url,key_id\nm1,tcp://127.0.0.1:1,k1,x\n",
     r"line 2, column 4: 4 values for the 3 columns"),
])
def test_the_meters_file_names_lines_as_an_editor_numbers_them(tmp_path, content, message):
    meters = tmp_path / "meters.csv"
    meters.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        read_meters(meters)


def test_comment_and_blank_lines_of_the_meters_file_are_skipped(tmp_path):
    meters = tmp_path / "meters.csv"
    meters.write_text("# only\n\nid,url\n# comment\nm1,tcp://127.0.0.1:1\n \t \n"
                      "m2,tcp://127.0.0.1:2\n")
    assert [(m.id, m.line) for m in read_meters(meters)] == [("m1", 5), ("m2", 7)]


# -- finding 3: a profile buffer and a scaler_unit as plan objects ------------------------------

def test_a_profile_buffer_and_a_scaler_unit_read_as_objects_are_stored_as_data(
        fleet_factory, tmp_path):  # noqa: F811  (the fixture imported above)
    fleet = fleet_factory(3)
    store = tmp_path / "objects.db"
    status, summary, err = bulk(fleet, store, "--object", "7/0.0.99.98.0.255:2", "--object",
                                "3/1.0.1.8.0.255:3", "--object", "7/1.0.99.1.0.255:3",
                                "--object", "7/1.0.99.1.0.255:2", "--profile", "none")
    assert status == 0 and summary["succeeded"] == 3, err
    db = sqlite3.connect(store)
    for meter_id in ("sim-00000", "sim-00002"):
        k = index_of(meter_id)
        rows = {(o, a, t): (v, u, s) for o, a, t, v, u, s in db.execute(
            "SELECT object, attribute, capture_time, value, unit, scaled FROM readings "
            "WHERE meter_id = ?", (meter_id,))}
        # the event log: one reading per cell, at its row's time
        for when, code in d.expected_events(k, AT):
            assert rows[("0.0.96.11.0.255", 2, when.isoformat())][0] == code
        # the load profile named as an object: its rows as the default plan stores them
        for when, _, plus, minus in d.expected_profile(k, AT):
            assert rows[("1.0.1.8.0.255", 2, when.isoformat())] == (plus, "Wh", plus)
            assert rows[("1.0.2.8.0.255", 2, when.isoformat())] == (minus, "Wh", minus)
        # a scaler_unit: JSON of (scaler, unit), as cosem's to_json and read --json give it
        assert rows[("1.0.1.8.0.255", 3, AT.isoformat())][0] == '{"scaler": 0, "unit": "Wh"}'
        captures = rows[("1.0.99.1.0.255", 3, AT.isoformat())][0]
        assert captures.startswith('[{"class_id": 8, "logical_name": "0.0.1.0.0.255", '
                                   '"attribute_index": 2, "data_index": 0}, ')
        # an object named as a profile buffer is not stored as one reading of it
        assert not [key for key in rows if key[0] in ("0.0.99.98.0.255", "1.0.99.1.0.255")
                    and key[1] == 2]
    # never a Python repr, whatever the type
    reprs = db.execute("SELECT count(*) FROM readings WHERE value LIKE '%(%' OR value LIKE "
                       "'10^%'").fetchone()[0]
    assert reprs == 0
    # a profile read whole moves no "since the last reading" mark
    assert db.execute("SELECT count(*) FROM profiles").fetchone()[0] == 0


def test_no_known_value_type_is_stored_as_a_python_repr():
    from dlmsfast.axdr import DateTime
    from dlmsfast.bulk.store import stored_value
    from dlmsfast.cosem.descriptors import CaptureObjectDefinition
    from dlmsfast.cosem.obis import Obis
    from dlmsfast.cosem.units import ScalerUnit, Unit
    from dlmsfast.push.reading import json_value

    assert stored_value(ScalerUnit(-1, Unit(35))) == '{"scaler": -1, "unit": "V"}'
    assert json_value(ScalerUnit(-1, Unit(35))) == {"scaler": -1, "unit": "V"}
    # a date-time that names no time: its fields, as JSON
    assert stored_value(DateTime(2026, 1, 2)).startswith('{"year": 2026, "month": 1, "day": 2, ')
    assert stored_value((CaptureObjectDefinition(8, Obis.parse("0.0.1.0.0.255"), 2, 0),)) == \
        '[{"class_id": 8, "logical_name": "0.0.1.0.0.255", "attribute_index": 2, "data_index": 0}]'
    assert stored_value(Obis.parse("1.0.1.8.0.255")) == "1.0.1.8.0.255"
    # a profile as the client gives it: its columns and rows, every cell as JSON
    from dlmsfast.client.values import Profile
    from dlmsfast.cosem.classes.profile_generic import Column

    clock = CaptureObjectDefinition(8, Obis.parse("0.0.1.0.0.255"), 2, 0)
    code = CaptureObjectDefinition(1, Obis.parse("0.0.96.11.0.255"), 2, 0)
    profile = Profile(Obis.parse("0.0.99.98.0.255"), (Column(clock, True), Column(code)),
                      [(AT, 7)])
    assert json.loads(stored_value(profile))["rows"] == [[AT.isoformat(), 7]]
    assert "Column(" not in stored_value(profile) and "Obis(" not in stored_value(profile)


# -- finding 15: a resumed run's counts; the backoff's cap; help texts -------------------------

def test_a_resumed_run_counts_every_meter_of_the_file_once(
        fleet_factory, tmp_path):  # noqa: F811  (the fixture imported above)
    fleet = fleet_factory(6)
    store = tmp_path / "readings.db"
    lines = fleet.meters_csv.read_text().splitlines()
    first = tmp_path / "first.csv"
    first.write_text("\n".join(lines[:3]) + "\n")  # the header and 2 of the 6 meters
    done = dlmsfast("bulk", str(first), "--store", str(store), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = dlmsfast("bulk", str(fleet.meters_csv), "--store", str(store), "--resume", "--json",
                    "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    progress = re.findall(r"dlmsfast bulk: (\d+)/(\d+) done", done.stderr)
    assert progress and all(total == "6" for _, total in progress)
    assert progress[-1] == ("6", "6")  # the final line, once every meter is done
    assert all(int(n) >= 2 for n, _ in progress)  # the meters read before count as done
    assert "readings stored by this invocation" in done.stderr


def test_the_wait_before_a_retry_is_capped(tmp_path, monkeypatch):
    # a meter whose port refuses: every attempt fails at once, so the run lasts
    # as long as its waits; uncapped, backoff 30 s would wait 30 s then 60 s
    monkeypatch.setattr(engine, "BACKOFF_CAP", 0.05)
    meters = tmp_path / "meters.csv"
    meters.write_text("id,url\nm1,tcp://127.0.0.1:1\n")
    started = time.monotonic()
    summary = run_bulk(read_meters(meters), KeyRing(), ReadPlan(), tmp_path / "r.db",
                       settings=EngineSettings(retries=2, backoff=30.0, timeout=1.0), workers=1)
    assert time.monotonic() - started < 10
    assert summary.sessions == 3 and summary.failed == 1
    assert engine.EngineSettings.__doc__ and "60 s" in engine.EngineSettings.__doc__


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf"])
def test_simulate_refuses_a_duration_that_is_no_positive_number(tmp_path, value):
    done = dlmsfast("simulate", "--meters", "1", "--base-port", "0", f"--duration={value}",
                    cwd=tmp_path, timeout=30)
    assert done.returncode == 2 and "--duration" in done.stderr and "Traceback" not in done.stderr


def test_the_help_texts_name_every_column_of_the_meters_file(tmp_path):
    columns = "id,url,framing,client,server,auth,security,key_id,referencing"
    assert columns in re.sub(r"\s+", "", dlmsfast("bulk", "--help", cwd=tmp_path).stdout)
    assert columns in re.sub(r"\s+", "", dlmsfast("simulate", "--help", cwd=tmp_path).stdout)
    assert "60 s" in dlmsfast("bulk", "--help", cwd=tmp_path).stdout  # the backoff's cap
