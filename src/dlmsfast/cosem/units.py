"""Physical units and scalers (Blue Book, IEC 62056-6-2, the unit table of
"scaler_unit" and its use in Register, Extended Register, Demand Register).

The scaler_unit attribute is a structure of two members::

    scal_unit_type ::= structure {
        scaler  integer,   -- the value is multiplied by 10 ** scaler
        unit    enum       -- the code of the unit table below
    }

so ``{-3, 30}`` with the value 1960 means 1.960 Wh.

Numeric types of a scaled value (:meth:`ScalerUnit.scale`), chosen so that a
reading is never changed by the arithmetic:

- an integer value with a scaler >= 0 gives an ``int`` (exact);
- an integer value with a scaler < 0 gives a :class:`decimal.Decimal`, which
  is exact for powers of ten and keeps the meter's resolution in its exponent
  (1960 with scaler -3 is ``Decimal('1.960')``, equal to ``Decimal('1.96')``);
  a float would turn 1.96 into 1.9599999999999999645;
- a float value (float32 / float64 registers) stays a ``float``, multiplied or
  divided by an exact power of ten (one correctly rounded operation);
- anything else (an octet-string or visible-string register, null-data) is
  returned unchanged: the Blue Book gives such values scaler 0, unit 255.

Unit codes the table does not define (0, 58, 200, ...) are kept: ``Unit(200)``
is a member named ``UNKNOWN_200`` whose ``symbol`` is ``None``, so a reading from
a meter that sends one is not lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any, Union

from .._enum import BlueBookEnum
from ..axdr import Data, DataType
from ..errors import DecodeError, EncodeError, UsageError
from .._util import require, shown

# code: (symbol, quantity) as the Blue Book's unit table gives them. 58-59,
# 68-69, 73-127 and 175-253 are reserved.
_TABLE: dict[int, tuple[str, str]] = {
    1: ("a", "time (year)"),
    2: ("mo", "time (month)"),
    3: ("wk", "time (week)"),
    4: ("d", "time (day)"),
    5: ("h", "time (hour)"),
    6: ("min", "time (minute)"),
    7: ("s", "time (second)"),
    8: ("°", "(phase) angle (degree)"),
    9: ("°C", "temperature (degree Celsius)"),
    10: ("currency", "(local) currency"),
    11: ("m", "length (metre)"),
    12: ("m/s", "speed (metre per second)"),
    13: ("m³", "volume (cubic metre)"),
    14: ("m³", "corrected volume (cubic metre)"),
    15: ("m³/h", "volume flux (cubic metre per hour)"),
    16: ("m³/h", "corrected volume flux (cubic metre per hour)"),
    17: ("m³/d", "volume flux (cubic metre per day)"),
    18: ("m³/d", "corrected volume flux (cubic metre per day)"),
    19: ("l", "volume (litre)"),
    20: ("kg", "mass (kilogram)"),
    21: ("N", "force (newton)"),
    22: ("Nm", "energy (newton metre)"),
    23: ("Pa", "pressure (pascal)"),
    24: ("bar", "pressure (bar)"),
    25: ("J", "energy (joule)"),
    26: ("J/h", "thermal power (joule per hour)"),
    27: ("W", "active power (watt)"),
    28: ("VA", "apparent power (volt-ampere)"),
    29: ("var", "reactive power (var)"),
    30: ("Wh", "active energy (watt-hour)"),
    31: ("VAh", "apparent energy (volt-ampere-hour)"),
    32: ("varh", "reactive energy (var-hour)"),
    33: ("A", "current (ampere)"),
    34: ("C", "electrical charge (coulomb)"),
    35: ("V", "voltage (volt)"),
    36: ("V/m", "electric field strength (volt per metre)"),
    37: ("F", "capacitance (farad)"),
    38: ("Ω", "resistance (ohm)"),
    39: ("Ωm²/m", "resistivity (ohm square metre per metre)"),
    40: ("Wb", "magnetic flux (weber)"),
    41: ("T", "magnetic flux density (tesla)"),
    42: ("A/m", "magnetic field strength (ampere per metre)"),
    43: ("H", "inductance (henry)"),
    44: ("Hz", "frequency (hertz)"),
    45: ("1/(Wh)", "active energy meter constant or pulse value"),
    46: ("1/(varh)", "reactive energy meter constant or pulse value"),
    47: ("1/(VAh)", "apparent energy meter constant or pulse value"),
    48: ("V²h", "volt-squared hour"),
    49: ("A²h", "ampere-squared hour"),
    50: ("kg/s", "mass flux (kilogram per second)"),
    51: ("S", "conductance (siemens, mho)"),
    52: ("K", "temperature (kelvin)"),
    53: ("1/(V²h)", "volt-squared hour meter constant or pulse value"),
    54: ("1/(A²h)", "ampere-squared hour meter constant or pulse value"),
    55: ("1/m³", "volume meter constant or pulse value"),
    56: ("%", "percentage"),
    57: ("Ah", "ampere-hour"),
    60: ("Wh/m³", "energy per volume"),
    61: ("J/m³", "calorific value, wobbe"),
    62: ("Mol %", "molar fraction of gas composition (mole percent)"),
    63: ("g/m³", "mass density, quantity of material"),
    64: ("Pa s", "dynamic viscosity (pascal second)"),
    65: ("J/kg", "specific energy (joule per kilogram)"),
    66: ("g/cm²", "pressure (gram per square centimetre)"),
    67: ("atm", "pressure (atmosphere)"),
    70: ("dBm", "signal strength (dB milliwatt)"),
    71: ("dBµV", "signal strength (dB microvolt)"),
    72: ("dB", "logarithmic unit (decibel)"),
    128: ("in", "length (inch)"),
    129: ("ft", "length (foot)"),
    130: ("lb", "mass (pound)"),
    131: ("°F", "temperature (degree Fahrenheit)"),
    132: ("°R", "temperature (degree Rankine)"),
    133: ("sq in", "area (square inch)"),
    134: ("sq ft", "area (square foot)"),
    135: ("ac", "area (acre)"),
    136: ("cu in", "volume (cubic inch)"),
    137: ("cu ft", "volume (cubic foot)"),
    138: ("ac ft", "volume (acre-foot)"),
    139: ("gal (imp)", "volume (imperial gallon)"),
    140: ("gal (US)", "volume (US gallon)"),
    141: ("lbf", "force (pound force)"),
    142: ("psi", "pressure (pound force per square inch)"),
    143: ("lb/cu ft", "density (pound per cubic foot)"),
    144: ("lb/(ft s)", "dynamic viscosity (pound per foot second)"),
    145: ("sq ft/s", "kinematic viscosity (square foot per second)"),
    146: ("BTU", "energy (British thermal unit)"),
    147: ("thm (EU)", "energy (therm EU)"),
    148: ("thm (US)", "energy (therm US)"),
    149: ("BTU/lb", "enthalpy (British thermal unit per pound)"),
    150: ("BTU/cu ft", "higher heating value (British thermal unit per cubic foot)"),
    151: ("cu ft", "volume (cubic feet)"),
    152: ("ft/s", "speed (foot per second)"),
    153: ("cu ft/s", "volume flux (cubic foot per second)"),
    154: ("cu ft/min", "volume flux (cubic foot per minute)"),
    155: ("cu ft/h", "volume flux (cubic foot per hour)"),
    156: ("cu ft/d", "volume flux (cubic foot per day)"),
    157: ("ac ft/s", "volume flux (acre-foot per second)"),
    158: ("ac ft/min", "volume flux (acre-foot per minute)"),
    159: ("ac ft/h", "volume flux (acre-foot per hour)"),
    160: ("ac ft/d", "volume flux (acre-foot per day)"),
    161: ("imp gal", "volume (imperial gallon)"),
    162: ("imp gal/s", "volume flux (imperial gallon per second)"),
    163: ("imp gal/min", "volume flux (imperial gallon per minute)"),
    164: ("imp gal/h", "volume flux (imperial gallon per hour)"),
    165: ("imp gal/d", "volume flux (imperial gallon per day)"),
    166: ("US gal", "volume (US gallon)"),
    167: ("US gal/s", "volume flux (US gallon per second)"),
    168: ("US gal/min", "volume flux (US gallon per minute)"),
    169: ("US gal/h", "volume flux (US gallon per hour)"),
    170: ("US gal/d", "volume flux (US gallon per day)"),
    171: ("BTU/s", "power (British thermal unit per second)"),
    172: ("BTU/min", "power (British thermal unit per minute)"),
    173: ("BTU/h", "power (British thermal unit per hour)"),
    174: ("BTU/d", "power (British thermal unit per day)"),
    254: ("other", "other unit"),
    255: ("count", "no unit, unitless, count"),
}


class Unit(BlueBookEnum):
    """The unit enumeration of scaler_unit; ``symbol`` is the Blue Book's
    (``Unit.WATT_HOUR.symbol == "Wh"``), ``quantity`` what it measures.

    A code outside the table (from a meter that sends one) becomes a member
    named ``UNKNOWN_<code>`` whose ``symbol`` and ``quantity`` are None; codes
    outside 0..255 are not units at all and are refused.
    """

    YEAR = 1
    MONTH = 2
    WEEK = 3
    DAY = 4
    HOUR = 5
    MINUTE = 6
    SECOND = 7
    DEGREE = 8
    DEGREE_CELSIUS = 9
    CURRENCY = 10
    METRE = 11
    METRE_PER_SECOND = 12
    CUBIC_METRE = 13
    CUBIC_METRE_CORRECTED = 14
    CUBIC_METRE_PER_HOUR = 15
    CUBIC_METRE_PER_HOUR_CORRECTED = 16
    CUBIC_METRE_PER_DAY = 17
    CUBIC_METRE_PER_DAY_CORRECTED = 18
    LITRE = 19
    KILOGRAM = 20
    NEWTON = 21
    NEWTON_METRE = 22
    PASCAL = 23
    BAR = 24
    JOULE = 25
    JOULE_PER_HOUR = 26
    WATT = 27
    VOLT_AMPERE = 28
    VAR = 29
    WATT_HOUR = 30
    VOLT_AMPERE_HOUR = 31
    VAR_HOUR = 32
    AMPERE = 33
    COULOMB = 34
    VOLT = 35
    VOLT_PER_METRE = 36
    FARAD = 37
    OHM = 38
    OHM_SQUARE_METRE_PER_METRE = 39
    WEBER = 40
    TESLA = 41
    AMPERE_PER_METRE = 42
    HENRY = 43
    HERTZ = 44
    PER_WATT_HOUR = 45
    PER_VAR_HOUR = 46
    PER_VOLT_AMPERE_HOUR = 47
    VOLT_SQUARED_HOUR = 48
    AMPERE_SQUARED_HOUR = 49
    KILOGRAM_PER_SECOND = 50
    SIEMENS = 51
    KELVIN = 52
    PER_VOLT_SQUARED_HOUR = 53
    PER_AMPERE_SQUARED_HOUR = 54
    PER_CUBIC_METRE = 55
    PERCENTAGE = 56
    AMPERE_HOUR = 57
    WATT_HOUR_PER_CUBIC_METRE = 60
    JOULE_PER_CUBIC_METRE = 61
    MOLE_PERCENT = 62
    GRAM_PER_CUBIC_METRE = 63
    PASCAL_SECOND = 64
    JOULE_PER_KILOGRAM = 65
    GRAM_PER_SQUARE_CENTIMETRE = 66
    ATMOSPHERE = 67
    DECIBEL_MILLIWATT = 70
    DECIBEL_MICROVOLT = 71
    DECIBEL = 72
    INCH = 128
    FOOT = 129
    POUND = 130
    DEGREE_FAHRENHEIT = 131
    DEGREE_RANKINE = 132
    SQUARE_INCH = 133
    SQUARE_FOOT = 134
    ACRE = 135
    CUBIC_INCH = 136
    CUBIC_FOOT = 137
    ACRE_FOOT = 138
    GALLON_IMPERIAL = 139
    GALLON_US = 140
    POUND_FORCE = 141
    POUND_FORCE_PER_SQUARE_INCH = 142
    POUND_PER_CUBIC_FOOT = 143
    POUND_PER_FOOT_SECOND = 144
    SQUARE_FOOT_PER_SECOND = 145
    BRITISH_THERMAL_UNIT = 146
    THERM_EU = 147
    THERM_US = 148
    BRITISH_THERMAL_UNIT_PER_POUND = 149
    BRITISH_THERMAL_UNIT_PER_CUBIC_FOOT = 150
    CUBIC_FEET = 151
    FOOT_PER_SECOND = 152
    CUBIC_FOOT_PER_SECOND = 153
    CUBIC_FOOT_PER_MINUTE = 154
    CUBIC_FOOT_PER_HOUR = 155
    CUBIC_FOOT_PER_DAY = 156
    ACRE_FOOT_PER_SECOND = 157
    ACRE_FOOT_PER_MINUTE = 158
    ACRE_FOOT_PER_HOUR = 159
    ACRE_FOOT_PER_DAY = 160
    IMPERIAL_GALLON = 161
    IMPERIAL_GALLON_PER_SECOND = 162
    IMPERIAL_GALLON_PER_MINUTE = 163
    IMPERIAL_GALLON_PER_HOUR = 164
    IMPERIAL_GALLON_PER_DAY = 165
    US_GALLON = 166
    US_GALLON_PER_SECOND = 167
    US_GALLON_PER_MINUTE = 168
    US_GALLON_PER_HOUR = 169
    US_GALLON_PER_DAY = 170
    BRITISH_THERMAL_UNIT_PER_SECOND = 171
    BRITISH_THERMAL_UNIT_PER_MINUTE = 172
    BRITISH_THERMAL_UNIT_PER_HOUR = 173
    BRITISH_THERMAL_UNIT_PER_DAY = 174
    OTHER_UNIT = 254
    COUNT = 255

    @classmethod
    def _missing_(cls, value: object) -> Unit:
        if type(value) is not int or not 0 <= value <= 255:
            return super()._missing_(value)
        # A pseudo-member, made once per code (as enum.Flag does for its
        # combinations), so that Unit(200) is Unit(200) and a reading keeps it.
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return cls._value2member_map_.setdefault(value, member)

    @property
    def symbol(self) -> str | None:
        """The Blue Book symbol (``"Wh"``, ``"V"``, ``"count"``), None for an unknown code."""
        entry = _TABLE.get(self._value_)
        return None if entry is None else entry[0]

    @property
    def quantity(self) -> str | None:
        """What the unit measures, as the Blue Book's table describes it."""
        entry = _TABLE.get(self._value_)
        return None if entry is None else entry[1]

    @property
    def known(self) -> bool:
        """False for a code the Blue Book's table does not define."""
        return self._value_ in _TABLE

    def __str__(self) -> str:
        return self.symbol or f"unit {self._value_}"


Number = Union[int, Decimal, float]

# Scaling by a power of ten only moves the exponent; a context of its own keeps
# it exact whatever precision the caller's decimal context has (a long64 has 20
# digits).
_EXACT = Context(prec=64)


@dataclass(frozen=True, slots=True)
class ScalerUnit:
    """The scaler_unit attribute: physical value = value * 10 ** scaler, in ``unit``."""

    scaler: int
    unit: Unit

    def __post_init__(self) -> None:
        if type(self.scaler) is not int or not -128 <= self.scaler <= 127:
            raise UsageError(f"scaler must be an int in -128..127, got {shown(self.scaler)}")
        if type(self.unit) is not Unit:
            if type(self.unit) is not int:
                raise UsageError(f"unit must be a Unit or an int code, got {shown(self.unit)}")
            unit = Unit.given(self.unit, "unit")
            object.__setattr__(self, "unit", unit)

    @classmethod
    def from_data(cls, value: Data | tuple[int, int], what: str = "scaler_unit") -> ScalerUnit:
        """Read the structure {integer scaler, enum unit} a meter sent: a
        :class:`~dlmsfast.axdr.Data` node (:func:`~dlmsfast.axdr.decode_typed`)
        or the plain ``(scaler, unit)`` tuple :func:`~dlmsfast.axdr.decode`
        gives; any other shape is a :class:`~dlmsfast.errors.DecodeError`
        naming ``what``."""
        require(what, str, "what")
        if type(value) is tuple and len(value) == 2 and all(type(v) is int for v in value):
            # the plain form has lost the member types: only the ranges are checked
            scaler, code = value
            if not -128 <= scaler <= 127:
                raise DecodeError(f"{what}: scaler must be an integer -128..127, got {scaler}")
            if not 0 <= code <= 255:
                raise DecodeError(f"{what}: unit must be an enum 0..255, got {code}")
            return cls(scaler, Unit(code))
        if not isinstance(value, Data) or value.type is not DataType.STRUCTURE:
            raise DecodeError(f"{what} must be a structure {{integer, enum}}, got {_type_name(value)}")
        members = value.value
        if len(members) != 2:
            raise DecodeError(f"{what} must be a structure of 2 members, got {len(members)}")
        scaler, unit = members
        # Some meters send the scaler as another signed or unsigned integer type;
        # the value is what matters, as long as it fits integer.
        if scaler.type not in _SCALER_TYPES or not -128 <= scaler.value <= 127:
            raise DecodeError(f"{what}: scaler must be an integer -128..127, got {_describe(scaler)}")
        if unit.type not in _UNIT_TYPES:
            raise DecodeError(f"{what}: unit must be an enum, got {_describe(unit)}")
        return cls(scaler.value, Unit(unit.value))

    def to_data(self) -> Data:
        return Data(
            DataType.STRUCTURE,
            (Data(DataType.INTEGER, self.scaler), Data(DataType.ENUM, int(self.unit))),
        )

    @property
    def symbol(self) -> str | None:
        return self.unit.symbol

    def scale(self, value: Any) -> Any:
        """The physical value of a raw ``value`` (see the module docstring for the
        numeric types): int for scaler >= 0, Decimal for an int with scaler < 0,
        float for a float; other values unchanged."""
        scaler = self.scaler
        if type(value) is bool or not isinstance(value, (int, float, Decimal)):
            return value
        if isinstance(value, float):
            return value * 10**scaler if scaler >= 0 else value / 10**-scaler
        if isinstance(value, Decimal):
            return value.scaleb(scaler, _EXACT)
        if scaler >= 0:
            return value * 10**scaler
        return Decimal(value).scaleb(scaler, _EXACT)

    def scale_many(self, values: Any) -> list:
        """:meth:`scale` of each value (a profile column), with the common
        case of integers done in one pass."""
        scaler = self.scaler
        if scaler >= 0:
            factor = 10**scaler
            return [v * factor if v.__class__ is int else self.scale(v) for v in values]
        return [Decimal(v).scaleb(scaler, _EXACT) if v.__class__ is int else self.scale(v) for v in values]

    def unscale(self, physical: Any) -> Any:
        """The raw value that :meth:`scale` maps to ``physical`` (a server role
        serving 1.96 Wh with scaler -3 sends 1960); an int or Decimal that is not
        a whole number of 10 ** scaler is an :class:`~dlmsfast.errors.EncodeError`.
        A float gives a float (for float registers)."""
        if type(physical) is bool or not isinstance(physical, (int, float, Decimal)):
            return physical
        scaler = self.scaler
        if isinstance(physical, float):
            return physical / 10**scaler if scaler >= 0 else physical * 10**-scaler
        raw = Decimal(physical).scaleb(-scaler, _EXACT)
        if raw != raw.to_integral_value():
            raise EncodeError(f"{physical} is not a whole multiple of 10**{scaler}")
        return int(raw)

    def __str__(self) -> str:
        return f"10^{self.scaler} {self.unit}"


_SCALER_TYPES = frozenset(
    (DataType.INTEGER, DataType.LONG, DataType.UNSIGNED, DataType.LONG_UNSIGNED,
     DataType.DOUBLE_LONG)
)
_UNIT_TYPES = frozenset((DataType.ENUM, DataType.UNSIGNED))


def _type_name(value: Any) -> str:
    if isinstance(value, Data):
        return value.type.blue_book_name
    return type(value).__name__


def _describe(value: Data) -> str:
    return f"{value.type.blue_book_name} {value.value!r}"


__all__ = ["ScalerUnit", "Unit"]
