"""The one APDU tag table (dlmsfast._tags) is what every layer reads."""
from __future__ import annotations

from dlmsfast import _tags, apdu, wrapper
from dlmsfast.apdu.xdlms import XDLMS_CLASSES
from dlmsfast.security.ciphered import DED_TAG, GLO_TAG, SERVICE_NAME, is_ciphered_tag


def test_every_apdu_class_takes_its_tag_and_name_from_the_table():
    classes = [*XDLMS_CLASSES, apdu.AARQ, apdu.AARE, apdu.RLRQ, apdu.RLRE,
               apdu.InitiateRequest, apdu.InitiateResponse, apdu.ConfirmedServiceError]
    for cls in classes:
        name = getattr(cls, "APDU", None) or cls.NAME
        assert _tags.PLAIN_APDUS[cls.TAG] == name, cls.__name__


def test_security_reads_the_glo_and_ded_tags_of_the_table():
    for plain, name, glo, ded in _tags.SERVICE_TAGS:
        assert GLO_TAG[plain] == glo and DED_TAG[plain] == ded
        assert SERVICE_NAME[glo] == f"glo-{name}" == _tags.CIPHERED_APDUS[glo]
        assert SERVICE_NAME[ded] == f"ded-{name}" == _tags.CIPHERED_APDUS[ded]
    for tag in _tags.CIPHERED_APDUS:
        assert is_ciphered_tag(tag) == (tag != _tags.GENERAL_SIGNING), hex(tag)


def test_wrapper_names_payloads_from_the_table():
    for tag, name in _tags.PLAIN_APDUS.items():
        assert wrapper.payload_kind(bytes((tag,))) == name
    assert wrapper.payload_kind(b"\xC8") == "glo-get-request APDU (0xC8)"
    # ded-initiateRequest/-Response never travel, and 0x48 is ASCII "H"
    assert wrapper.payload_kind(b"HelloWorld") == "opaque"
