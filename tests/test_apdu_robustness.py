"""parse_apdu on hostile input: random bodies behind every known tag, and mutated
vectors of acse.json, xdlms.json and security.json. Only DlmsError subclasses may
come out; whatever parses must describe itself and re-encode to bytes that parse
to the same APDU."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import VECTORS_DIR
from dlmsfast import apdu
from dlmsfast.apdu import parse_apdu
from dlmsfast.apdu.xdlms import XDLMS_CLASSES
from dlmsfast.errors import DlmsError
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


def _vector_bytes() -> list[bytes]:
    found = []
    for name in ("acse", "xdlms", "security"):
        path = VECTORS_DIR / f"{name}.json"
        if path.is_file():
            found += [bytes.fromhex(r["hex"]) for r in json.loads(path.read_text(encoding="utf-8"))]
    # Without the vector folder, the APDUs of the tag map still give a seed.
    return found or [bytes.fromhex("C001C100080000010000FF0200"), bytes.fromhex("C401C1000600001391")]


VECTORS = _vector_bytes()


def _check(raw: bytes) -> None:
    try:
        apdu = parse_apdu(raw)
    except DlmsError as error:
        offset = getattr(error, "offset", None)
        assert offset is None or 0 <= offset <= len(raw), (error, len(raw))
        return
    if hasattr(apdu, "describe"):
        apdu.describe()
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


def test_every_vector_survives_the_check_unmutated():
    for raw in VECTORS:
        _check(raw)
