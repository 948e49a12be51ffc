"""Image Transfer (class_id 18, version 0): firmware upgrade in blocks.

=====  ========================================  =====================  =======
index  attribute                                 type                   kind
=====  ========================================  =====================  =======
1      logical_name                              octet-string           static
2      image_block_size                          double-long-unsigned   static
3      image_transferred_blocks_status           bit-string             dynamic
4      image_first_not_transferred_block_number  double-long-unsigned   dynamic
5      image_transfer_enabled                    boolean                static
6      image_transfer_status                     enum                   dynamic
7      image_to_activate_info                    array of structure     dynamic
=====  ========================================  =====================  =======

Methods (short name offset 0x40): 1 image_transfer_initiate (structure
{image_identifier octet-string, image_size double-long-unsigned}), 2
image_block_transfer (structure {image_block_number double-long-unsigned,
image_block_value octet-string}), 3 image_verify, 4 image_activate (integer(0)).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..._enum import BlueBookEnum
from ..interface import Attribute, CosemObject, Method
from ..types import (
    BIT_STRING,
    BOOLEAN,
    DOUBLE_LONG_UNSIGNED,
    INTEGER_ZERO,
    LOGICAL_NAME,
    OCTET_STRING,
    ArrayOf,
    Enumerated,
    Record,
)


class ImageTransferStatus(BlueBookEnum):
    IMAGE_TRANSFER_NOT_INITIATED = 0
    IMAGE_TRANSFER_INITIATED = 1
    IMAGE_VERIFICATION_INITIATED = 2
    IMAGE_VERIFICATION_SUCCESSFUL = 3
    IMAGE_VERIFICATION_FAILED = 4
    IMAGE_ACTIVATION_INITIATED = 5
    IMAGE_ACTIVATION_SUCCESSFUL = 6
    IMAGE_ACTIVATION_FAILED = 7


@dataclass(frozen=True, slots=True)
class ImageToActivateInfo:
    image_to_activate_size: int
    image_to_activate_identification: bytes
    image_to_activate_signature: bytes


@dataclass(frozen=True, slots=True)
class ImageTransferInitiate:
    image_identifier: bytes
    image_size: int


@dataclass(frozen=True, slots=True)
class ImageBlock:
    image_block_number: int
    image_block_value: bytes


class ImageTransfer(CosemObject):
    class_id = 18
    blue_book_name = "Image Transfer"
    versions = (0,)
    sn_first_method_offset = 0x40
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "image_block_size", DOUBLE_LONG_UNSIGNED),
        Attribute(3, "image_transferred_blocks_status", BIT_STRING, static=False),
        Attribute(4, "image_first_not_transferred_block_number", DOUBLE_LONG_UNSIGNED, static=False),
        Attribute(5, "image_transfer_enabled", BOOLEAN),
        Attribute(6, "image_transfer_status", Enumerated(ImageTransferStatus), static=False),
        Attribute(7, "image_to_activate_info", ArrayOf(Record(
            ImageToActivateInfo, DOUBLE_LONG_UNSIGNED, OCTET_STRING, OCTET_STRING,
            name="image_to_activate_info_element")), static=False),
    )
    methods = (
        Method(1, "image_transfer_initiate",
               Record(ImageTransferInitiate, OCTET_STRING, DOUBLE_LONG_UNSIGNED)),
        Method(2, "image_block_transfer", Record(ImageBlock, DOUBLE_LONG_UNSIGNED, OCTET_STRING)),
        Method(3, "image_verify", INTEGER_ZERO),
        Method(4, "image_activate", INTEGER_ZERO),
    )


__all__ = ["ImageBlock", "ImageToActivateInfo", "ImageTransfer", "ImageTransferInitiate",
           "ImageTransferStatus"]
