"""The interface classes of the Blue Book (IEC 62056-6-2), one module each;
importing this package registers every class by class_id
(:func:`dlmsfast.cosem.interface.interface_class`)."""
from __future__ import annotations

from .association_ln import AssociationLN, AssociationStatus
from .association_sn import AssociationSN
from .clock import Clock, ClockBase, ClockStatus
from .data import DataObject
from .demand_register import DemandRegister
from .disconnect_control import ControlMode, ControlState, DisconnectControl
from .extended_register import ExtendedRegister
from .iec_hdlc_setup import CommSpeed, IecHdlcSetup
from .image_transfer import ImageTransfer, ImageTransferStatus
from .limiter import Limiter
from .profile_generic import Column, ProfileGeneric, ProfileRows, SortMethod
from .push_setup import PushSetup, TransportService
from .register import Register
from .sap_assignment import SapAssignmentObject
from .script_table import ScriptTable
from .security_setup import (
    SecurityPolicy,
    SecurityPolicyFlags,
    SecuritySetup,
    SecuritySuite,
)

__all__ = [
    "AssociationLN",
    "AssociationSN",
    "AssociationStatus",
    "Clock",
    "ClockBase",
    "ClockStatus",
    "Column",
    "CommSpeed",
    "ControlMode",
    "ControlState",
    "DataObject",
    "DemandRegister",
    "DisconnectControl",
    "ExtendedRegister",
    "IecHdlcSetup",
    "ImageTransfer",
    "ImageTransferStatus",
    "Limiter",
    "ProfileGeneric",
    "ProfileRows",
    "PushSetup",
    "Register",
    "SapAssignmentObject",
    "ScriptTable",
    "SecurityPolicy",
    "SecurityPolicyFlags",
    "SecuritySetup",
    "SecuritySuite",
    "SortMethod",
    "TransportService",
]
