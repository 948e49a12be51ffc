"""The codec modules used alone, as a developer who imports them does: what
they raise on bad input, and the conveniences their documentation promises."""
from __future__ import annotations

import pytest

from dlmsfast import DlmsError, UsageError
from dlmsfast.axdr import Data, DataType, DateTime, decode, decode_typed
from dlmsfast.cosem import ScalerUnit, Unit
from dlmsfast.errors import DecodeError
from dlmsfast.hdlc import FrameKind
from dlmsfast.push import PushDecoder, PushKeys, builtin_layouts, keys_table
from dlmsfast.security import AuthenticationMechanism, MechanismName, SecurityControl


@pytest.mark.parametrize("deviation", [1440, -1440, 0x7FFF, -0x7FFF])
def test_a_received_deviation_of_a_day_or_more_is_no_valueerror(deviation):
    # octets a meter may send: deviation is a signed 16-bit field, the Blue
    # Book range is -720..840 (0x8000: not specified)
    octets = bytes.fromhex("07EA0102FF0C000000") + deviation.to_bytes(2, "big", signed=True) + b"\x00"
    value = DateTime.from_bytes(octets)
    assert value.deviation == deviation
    with pytest.raises(UsageError, match="not a calendar date and time"):
        value.to_datetime()
    assert DateTime.from_bytes(octets[:9] + b"\xFF\xC4\x00").to_datetime().utcoffset().total_seconds() == 3600


@pytest.mark.parametrize("enumeration, value", [
    (DataType, 99), (DataType, "x"), (DataType, None), (Unit, 300), (Unit, -1), (Unit, "Wh"),
    (FrameKind, 0x55), (MechanismName, 99),
])
def test_an_unknown_member_is_a_usage_error(enumeration, value):
    with pytest.raises(UsageError, match="is not a valid") as caught:
        enumeration(value)
    assert isinstance(caught.value, ValueError)  # what enum.Enum raises, still true


def test_unit_codes_outside_the_table_stay_readable():
    assert Unit(200).name == "UNKNOWN_200" and Unit(200).symbol is None
    assert Unit(30) is Unit.WATT_HOUR


def test_security_names_the_mechanism_enumeration_as_the_apdu_layer_does():
    from dlmsfast.apdu import MechanismName as apdu_name
    assert MechanismName is AuthenticationMechanism is apdu_name
    with pytest.raises(UsageError, match="MechanismName"):
        MechanismName.given(99, "mechanism")


def test_scaler_unit_from_the_plain_form_that_decode_gives():
    octets = bytes.fromhex("02020FFD161E")
    assert ScalerUnit.from_data(decode(octets)) == ScalerUnit.from_data(decode_typed(octets)) \
        == ScalerUnit(-3, Unit.WATT_HOUR)
    assert ScalerUnit.from_data((0, 200)).unit.name == "UNKNOWN_200"


@pytest.mark.parametrize("plain, message", [
    ((200, 30), "scaler must be an integer -128..127"),
    ((-3, 256), "unit must be an enum 0..255"),
    ((-3,), "must be a structure"),
    ((True, 30), "must be a structure"),
    ((-3, 30, 1), "must be a structure"),
    ([-3, 30], "must be a structure"),
])
def test_scaler_unit_refuses_other_plain_shapes(plain, message):
    with pytest.raises(DecodeError, match=message):
        ScalerUnit.from_data(plain)


def test_a_count_only_layout_does_not_name_an_octet_string_as_watts():
    # dlms-cosem's general-glo-ciphered data-notification (security.json):
    # its body is one octet-string. Norway's Kaifa list 1 is one list of one
    # value too (active power, W), but a number: the layout must not apply.
    apdu = bytes.fromhex("0F000001DB000922125A8591360000000049000000110000000A5A8513D014800000000D0000000A0100")
    kaifa = next(layout for layout in builtin_layouts() if layout.name == "no-kaifa-list1")
    assert kaifa.count == 1
    plain_body = decode(apdu[6:])
    assert not kaifa.matches(plain_body)
    assert kaifa.matches((1234,)) and kaifa.matches((None,))
    assert not kaifa.matches((True,)) and not kaifa.matches(("1234",))


def test_pushed_octet_string_list_is_rejected_not_misread():
    from dlmsfast.push import readings_of
    apdu = bytes.fromhex("0F000001DB000922125A8591360000000049000000110000000A5A8513D014800000000D0000000A0100")
    with pytest.raises(DlmsError, match="no list layout matches"):
        readings_of(apdu)


def test_security_control_and_data_errors_are_dlms_errors():
    with pytest.raises(UsageError):
        SecurityControl(300)
    with pytest.raises(UsageError):
        Data(DataType.UNSIGNED, 256)



def test_push_keys_take_hex_or_octets_and_keep_bytes():
    keys = PushKeys(ek="00" * 16, ak=bytearray(16), system_title="4D:4D:4D:00:00:BC:61:4E")
    assert keys == PushKeys(bytes(16), memoryview(bytes(16)), None, bytes.fromhex("4D4D4D0000BC614E"))
    assert type(keys.ek) is bytes and type(keys.ak) is bytes
    assert "00000000" not in repr(keys)


@pytest.mark.parametrize("keys, message", [
    ({"*": {"ak": "00" * 16}}, "ek is required"),
    ({"*": {"ek": "00" * 15}}, "ek must be 16 or 32 octets"),
    ({"*": {"ek": "00" * 16, "bogus": 1}}, "unknown key field"),
    ({"*": 5}, "each keys entry"),
])
def test_push_key_tables_refuse_with_usage_errors(keys, message):
    with pytest.raises(UsageError, match=message):
        keys_table(keys)
    with pytest.raises(UsageError, match=message):
        PushDecoder(keys=keys)


def test_a_list_no_layout_names_is_a_no_layout_error_that_decode_shows_without_failing():
    from dlmsfast.errors import ProtocolError
    from dlmsfast.explain import translate
    from dlmsfast.push import NoLayoutError, readings_of
    apdu = bytes.fromhex("0F000001DB000922125A8591360000000049000000110000000A5A8513D014800000000D0000000A0100")
    with pytest.raises(NoLayoutError) as caught:
        readings_of(apdu)
    assert isinstance(caught.value, ProtocolError)
    decoded = translate(apdu)
    assert decoded.notifications == []
    assert isinstance(decoded.notification_error, NoLayoutError)
    assert decoded.notification_error_counts is False
