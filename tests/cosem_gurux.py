"""Helpers that let gurux-dlms's object classes encode attribute values, so
that dlmsfast's interface classes are checked against an independent
implementation (gurux-dlms is a test oracle only, never used at run time)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import shared_path
from gurux_dlms import GXByteBuffer
from gurux_dlms.enums import DataType as GDataType
from gurux_dlms.GXDLMSSettings import GXDLMSSettings
from gurux_dlms.internal._GXCommon import _GXCommon
from gurux_dlms.ValueEventArgs import ValueEventArgs



class _AccessServer:
    """What gurux's object-list encoders ask a server: the access of each
    attribute and method (gurux passes the server in ValueEventArgs)."""

    def __init__(self, attribute_access=1, method_access=1):
        self.attribute_access = attribute_access
        self.method_access = method_access

    def onGetAttributeAccess(self, e):
        return self.attribute_access

    def onGetMethodAccess(self, e):
        return self.method_access


def settings() -> GXDLMSSettings:
    s = GXDLMSSettings(True, None)
    s.maxPduSize = 0xFFFF
    return s


def gurux_encode(obj, index: int, server=None, gx_settings=None) -> bytes:
    """The A-XDR octets of attribute ``index`` of a gurux object, as gurux's
    server would send them."""
    gx_settings = gx_settings or settings()
    e = ValueEventArgs(gx_settings, obj, index, 0, None)
    e.server = server
    if server is not None:
        server.settings = gx_settings
    # gurux's LN encoder reads an attribute, its SN encoder calls a method
    e.isSkipMaxPduSize = True if type(obj).__name__.endswith("LogicalName") else (lambda: True)
    value = obj.getValue(gx_settings, e)
    dtype = obj.getDataType(index)
    if isinstance(value, (bytes, bytearray)) and (e.byteArray or dtype != GDataType.OCTET_STRING):
        return bytes(value)
    if dtype == GDataType.NONE:
        dtype = _GXCommon.getDLMSDataType(value)
    buffer = GXByteBuffer()
    _GXCommon.setData(gx_settings, buffer, dtype, value)
    return bytes(buffer.array())


def access_server(attribute_access=1, method_access=1) -> _AccessServer:
    return _AccessServer(attribute_access, method_access)


_METER_SCRIPT = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("gurux_meter", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
sys.path.insert(0, sys.argv[2])
from cosem_gurux import gurux_encode
from gurux_dlms import GXByteBuffer
from gurux_dlms.internal._GXCommon import _GXCommon
from gurux_dlms.internal._GXDataInfo import _GXDataInfo

cfg = module.parse_args(["--fixed-time", "2026-01-02T00:00:00", "--profile-rows", "96"])
meter = module.GuruxMeter(cfg, 0)
out = {"object_list": meter.encode_object_list().hex(), "attributes": {}, "selections": []}
for obj in meter.items:
    if obj is meter.association:
        continue
    out["attributes"][obj.logicalName] = {
        index: gurux_encode(obj, index, gx_settings=meter.settings).hex()
        for index in range(1, obj.getAttributeCount() + 1)}
for selector, parameters in json.loads(sys.argv[3]):
    value = _GXCommon.getData(meter.settings, GXByteBuffer(bytearray(bytes.fromhex(parameters))), _GXDataInfo())
    rows, columns = meter.profile.select(selector, value)
    out["selections"].append([list(rows), None if columns is None else [c[0].logicalName for c in columns]])
sys.stdout = sys.__stdout__
print(json.dumps(out))
"""


def interop_meter_encodings(selections=()) -> dict:
    """What ../shared/interop's meter 0 (fixed time 2026-01-02T00:00Z, 96 rows)
    sends for each attribute of its objects, and which rows and columns its
    profile selects for each (access_selector, access-parameters hex) given.

    Run in a child process: the meter patches gurux-dlms's classes for the
    whole process, which must not change what the other peer tests see."""
    # ../shared/interop: skips locally when absent, fails under CI=true
    path = shared_path("interop") / "gurux_meter.py"
    result = subprocess.run(
        [sys.executable, "-c", _METER_SCRIPT, str(path), str(Path(__file__).parent),
         json.dumps(list(selections))],
        capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])
