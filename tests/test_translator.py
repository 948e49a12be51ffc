"""The translator on hostile input: whatever the bytes, only DlmsError comes out."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dlmsfast.errors import DlmsError
from dlmsfast.explain import KINDS, Keys, parse_hex, translate
from dlmsfast.explain.render import node_lines

GB_KEYS = Keys(bytes.fromhex("000102030405060708090A0B0C0D0E0F"),
               bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"),
               bytes.fromhex("4D4D4D0000BC614E"))

SEEDS = [
    "7EA02E0002002321107ECBE6E600601DA109060760857405080101BE10040E01000000065F1F040000301DFFFFD4C57E",
    "000100100001000DC0010000080000010000FF0200",
    "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B",
    "0202090C07E30C1001073B28FF8000FF0403A0",
]


def _translate_or_dlms_error(data: bytes, kind=None, keys=None) -> None:
    try:
        decoded = translate(data, kind, keys)
    except DlmsError:
        return
    assert decoded.kind in KINDS
    for item in decoded.nodes:
        assert list(node_lines(item, explain=True))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, *KINDS]))
def test_random_bytes_give_a_description_or_a_dlms_error(data, kind):
    _translate_or_dlms_error(data, kind)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_frames_with_keys_give_a_description_or_a_dlms_error(seed, draw):
    data = bytearray(bytes.fromhex(seed))
    for _ in range(draw.draw(st.integers(1, 4))):
        position = draw.draw(st.integers(0, len(data) - 1))
        data[position] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(0, len(data)))
    _translate_or_dlms_error(bytes(data[:cut]), None, GB_KEYS)


def test_parse_hex_accepts_what_people_paste():
    assert parse_hex("0x06 00:00-13_91") == bytes.fromhex("0600001391")


def test_keys_repr_hides_keys():
    assert "000102" not in repr(GB_KEYS) and "D0D1" not in repr(GB_KEYS).upper()
