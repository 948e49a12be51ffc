"""Short-name referencing APDUs, for the sessions: the codec is
:mod:`dlmsfast.apdu.sn` (in the APDU layer, so that ``parse_apdu`` and
``dlmsfast decode`` read them too); these names stay importable from here."""
from __future__ import annotations

from ..apdu.sn import (
    DataBlockResult,
    InformationReportRequest,
    ReadRequest,
    ReadResponse,
    UnconfirmedWriteRequest,
    WriteRequest,
    WriteResponse,
)

__all__ = ["DataBlockResult", "InformationReportRequest", "ReadRequest", "ReadResponse",
           "UnconfirmedWriteRequest", "WriteRequest", "WriteResponse"]
