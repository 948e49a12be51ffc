"""General-Block-Transfer [224] framing (IEC 62056-5-3, GBT).

GBT cuts any APDU (typically a ciphered one) into blocks, independent of the
service inside::

    E0  block-control(1)  block-number(2)  block-number-ack(2)  block-data (OCTET STRING)

    block-control:
       bit 7       bit 6       bits 5-0
    +-----------+-----------+-------------+
    | last-block| streaming | window 0..63|
    +-----------+-----------+-------------+

``block-number`` counts from 1; ``block-number-ack`` is the number of the last
block received from the peer; ``window`` is how many blocks the sender may
receive without acknowledging. Reassembling the blocks (and asking for lost
ones) is the session's job; this module only frames one block.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .. import _tags
from .._util import octets_argument, shown
from ..errors import UsageError
from .cursor import Writer, open_apdu


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneralBlockTransfer:
    TAG: ClassVar[int] = _tags.GENERAL_BLOCK_TRANSFER
    APDU: ClassVar[str] = _tags.PLAIN_APDUS[TAG]

    last_block: bool
    streaming: bool = False
    window: int = 1
    block_number: int
    block_number_ack: int = 0
    block_data: bytes

    def __post_init__(self) -> None:
        if type(self.window) is not int or not 0 <= self.window <= 63:
            raise UsageError(f"GBT window must be 0..63, got {shown(self.window)}")
        for what in ("block_number", "block_number_ack"):
            value = getattr(self, what)
            if type(value) is not int or not 0 <= value <= 0xFFFF:
                raise UsageError(f"GBT {what} must be 0..65535, got {shown(value)}")
        object.__setattr__(self, "last_block", bool(self.last_block))
        object.__setattr__(self, "streaming", bool(self.streaming))
        object.__setattr__(self, "block_data", octets_argument(self.block_data, "block-data"))

    @property
    def block_control(self) -> int:
        return self.last_block << 7 | self.streaming << 6 | self.window

    @classmethod
    def from_bytes(cls, data: Any) -> "GeneralBlockTransfer":
        r = open_apdu(data, cls.TAG, cls.APDU)
        control = r.u8("block-control")
        block_number = r.u16("block-number")
        block_number_ack = r.u16("block-number-ack")
        block_data = r.octet_string("block-data")
        r.finish(cls.APDU)
        return cls(
            last_block=bool(control & 0x80),
            streaming=bool(control & 0x40),
            window=control & 0x3F,
            block_number=block_number,
            block_number_ack=block_number_ack,
            block_data=block_data,
        )

    def to_bytes(self) -> bytes:
        w = Writer(self.TAG, self.block_control)
        w.u16(self.block_number, "block-number")
        w.u16(self.block_number_ack, "block-number-ack")
        w.octet_string(self.block_data)
        return w.bytes()

    def to_meaning(self) -> dict[str, Any]:
        return {
            "apdu": self.APDU,
            "block_control": {
                "hex": f"{self.block_control:02X}",
                "last_block": self.last_block,
                "streaming": self.streaming,
                "window": self.window,
            },
            "block_number": self.block_number,
            "block_number_ack": self.block_number_ack,
            "block_data": self.block_data.hex().upper(),
        }


__all__ = ["GeneralBlockTransfer"]
