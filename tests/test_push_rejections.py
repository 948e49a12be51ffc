"""What the push decoder and ``dlmsfast listen`` say when a push or an argument
is wrong (audit E6, E7, E9): the cause in the caller's own terms."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
from conftest import PACKAGE_PARENT
from han_frames import BY_ID
from push_builders import AK, EK, METER_TITLE, ciphered, meter_context, notification

from dlmsfast import errors
from dlmsfast.apdu import EventNotificationRequest
from dlmsfast.cosem.descriptors import CosemAttributeDescriptor
from dlmsfast.axdr import Data, DataType
from dlmsfast.cosem.obis import Obis
from dlmsfast.push import Notification, PushDecoder, PushKeys, Rejected
from dlmsfast.security import SecurityContext

TIMEOUT = 60
KAMSTRUP = BY_ID["dp-kamstrup-omnipower-ciphered"]


def _listen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlmsfast", "listen", *args],
                          capture_output=True, cwd="/", timeout=TIMEOUT,
                          env=dict(os.environ, PYTHONPATH=PACKAGE_PARENT))


def test_a_wrong_ek_without_a_tag_check_is_said_to_be_the_key(tmp_path):
    # finding E7: "ProtocolError: APDU 0x0A is not a push", exit 3
    capture = tmp_path / "kamstrup.hex"
    capture.write_text(KAMSTRUP["hex"] + "\n")
    done = _listen(f"file:{capture}", "--ek", "00" * 15 + "01", "--no-tag-check")
    err = done.stderr.decode()
    assert done.returncode == 5, err
    assert "SecurityError: deciphered without a tag check" in err
    assert "the encryption key (EK) is probably wrong" in err
    # the right EK alone still gives the readings (unauthenticated)
    right = _listen(f"file:{capture}", "--ek", KAMSTRUP["keys"]["ek"], "--no-tag-check")
    assert right.returncode == 0, right.stderr.decode()
    assert right.stdout.decode().count("not authenticated") == 1


def test_a_glo_push_without_its_title_says_why_no_key_matched():
    # finding E6: "ciphered push from its system title: no key given for this meter"
    meter = SecurityContext(system_title=METER_TITLE, block_cipher_key=EK, authentication_key=AK)
    event = EventNotificationRequest(
        cosem_attribute_descriptor=CosemAttributeDescriptor(3, Obis.parse("1.0.1.8.0.255").to_bytes(), 2),
        attribute_value=Data(DataType.DOUBLE_LONG_UNSIGNED, 4242))
    glo = meter.encrypt(event.to_bytes(), form="glo")
    per_title = PushDecoder(keys={METER_TITLE.hex(): {"ek": EK.hex(), "ak": AK.hex()}})
    [rejected] = per_title.feed_apdu(glo)
    assert isinstance(rejected.error, errors.SecurityError)
    assert "carries no system title, so keys given per system title cannot be matched" in str(
        rejected.error)
    [rejected] = PushDecoder().feed_apdu(glo)
    assert str(rejected.error) == "ciphered push (glo-/ded-, without its system title): no keys given"
    [rejected] = PushDecoder().feed_apdu(ciphered(notification(1), meter_context()))
    assert str(rejected.error) == f"ciphered push from {METER_TITLE.hex().upper()}: no key given " \
        "for this meter"
    # and what fixes it: the keys for any meter, with the title
    fixed = PushDecoder(keys=PushKeys(ek=EK, ak=AK, system_title=METER_TITLE))
    assert [type(e) for e in fixed.feed_apdu(glo)] == [Notification]


def test_a_lone_ciphered_tag_on_a_stream_is_noise_not_a_push():
    # finding E6: a lone 0xDB octet was taken for a ciphered push without a title
    decoder = PushDecoder()
    assert decoder.feed_chunk(b"\xdb") + decoder.finish() == []
    assert decoder.framer.discarded_bytes == 1


def test_an_ek_without_an_ak_is_said_in_the_command_s_terms(tmp_path):
    # finding E9: the CLI named the API's verify_tag=False
    capture = tmp_path / "c.hex"
    capture.write_text(KAMSTRUP["hex"] + "\n")
    done = _listen(f"file:{capture}", "--ek", EK.hex())
    err = done.stderr.decode()
    assert done.returncode == 2
    assert "--ek without --ak cannot check authentication tags: give --ak, or --no-tag-check" in err
    assert "verify_tag" not in err
    keys = tmp_path / "keys.json"
    keys.write_text('{"*": {"ek": "%s"}}' % EK.hex())
    done = _listen(f"file:{capture}", "--keys-file", str(keys))
    assert done.returncode == 2 and 'gives a meter an EK without an AK' in done.stderr.decode()
    assert "verify_tag" not in done.stderr.decode()


def test_the_decoder_takes_a_zone_name_and_says_what_it_takes():
    # finding E9: local_tz="Europe/Oslo" raised ConfigurationError
    assert PushDecoder(local_tz="Europe/Oslo").local_tz == ZoneInfo("Europe/Oslo")
    assert PushDecoder(local_tz=dt.timezone.utc).local_tz is dt.timezone.utc
    with pytest.raises(errors.ConfigurationError, match="unknown time zone 'Mars/Olympus'"):
        PushDecoder(local_tz="Mars/Olympus")
    with pytest.raises(errors.ConfigurationError, match="tzinfo or a zone name"):
        PushDecoder(local_tz=60)
    with pytest.raises(errors.UsageError, match="^a chunk of received octets is decoded from "
                                                "bytes, got str$"):
        PushDecoder().feed("7EA0")
    with pytest.raises(errors.UsageError, match="^a chunk of received octets"):
        PushDecoder().feed_chunk("7EA0")


def test_rejected_is_what_a_wrong_key_gives_through_the_api():
    meter = meter_context()
    push = ciphered(notification(2), meter)
    wrong = PushDecoder(keys=PushKeys(ek=bytes(16)), verify_tag=False)
    [event] = wrong.feed_apdu(push)
    assert isinstance(event, Rejected) and isinstance(event.error, errors.SecurityError)
    assert "probably wrong" in str(event.error)
