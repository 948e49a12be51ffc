"""Helpers that let gurux-dlms's object classes encode attribute values, so
that dlmsfast's interface classes are checked against an independent
implementation (gurux-dlms is a test oracle only, never used at run time)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from gurux_dlms import GXByteBuffer
from gurux_dlms.enums import DataType as GDataType
from gurux_dlms.GXDLMSSettings import GXDLMSSettings
from gurux_dlms.internal._GXCommon import _GXCommon
from gurux_dlms.ValueEventArgs import ValueEventArgs

INTEROP = Path(__file__).resolve().parents[1].parent / "shared" / "interop"
if not INTEROP.is_dir():
    INTEROP = Path("/work/shared/interop")


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


def load_interop_meter():
    """gurux_meter.py from ../shared/interop as a module (the README's meter)."""
    path = INTEROP / "gurux_meter.py"
    if not path.is_file():
        pytest.skip(f"the interop meter is absent ({path}); it lives in ../shared/interop")
    spec = importlib.util.spec_from_file_location("gurux_meter_for_cosem_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._install_gurux_fixes()
    return module
