"""The bulk reader's fast path for the common profile shape steps aside, adding
nothing, for a buffer of any other shape; cosem's rows() then names what is
wrong (a DecodeError, not a bare TypeError out of the fast path)."""
from __future__ import annotations

import types

import pytest

from dlmsfast.bulk import engine
from dlmsfast.cosem import make_object
from dlmsfast.cosem.descriptors import CaptureObjectDefinition
from dlmsfast.errors import DecodeError

DEFINITIONS = (CaptureObjectDefinition(8, "0.0.1.0.0.255", 2),
               CaptureObjectDefinition(3, "1.0.1.8.0.255", 2))
QUARTER = bytes((0x07, 0xEA, 1, 1, 4, 0, 15, 0, 0, 0, 0, 0))


def _fast(plain):
    reader = types.SimpleNamespace(times={}, since={})
    rows: list = []
    marks: list = []
    done = engine._ShardReader._plain_profile_rows(
        reader, types.SimpleNamespace(id="m1"), "1.0.99.1.0.255", DEFINITIONS, plain, {},
        "authenticated", rows, marks)
    return done, rows, marks


def test_the_common_shape_goes_the_fast_way():
    done, rows, marks = _fast([(QUARTER, 1960)])
    assert done and rows == [("m1", "1.0.1.8.0.255", 2, rows[0][3], 1960, None, 1960,
                              "authenticated")]
    assert marks == [("m1", "1.0.99.1.0.255", rows[0][3])]


@pytest.mark.parametrize("plain", [
    [([7, 234], 1960)],          # a clock cell that is an array: unhashable
    [5],                         # an entry that is no structure
    [(QUARTER, 1960), 7],        # the same, after a good entry
    [(QUARTER,)],                # an entry one column short
])
def test_other_shapes_step_aside_and_cosem_names_the_fault(plain):
    assert _fast(plain) == (False, [], [])
    profile = make_object(7, "1.0.99.1.0.255")
    profile.set(3, DEFINITIONS)
    with pytest.raises(DecodeError):
        profile.rows(plain, scalers={})
