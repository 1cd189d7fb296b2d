"""Item values as they arrive: typed JSON from the API or raw strings from a file ("" = absent).

Each `Field` turns one value into its Python type or raises `ItemError` with the INT-04 code.
"""

import datetime
import functools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from planning.services.plans import PERIOD_MAX, PERIOD_MIN

REQUIRED_FIELD = "REQUIRED_FIELD"
INVALID_VALUE = "INVALID_VALUE"
OUT_OF_RANGE = "OUT_OF_RANGE"
UNKNOWN_SKU = "UNKNOWN_SKU"
UNKNOWN_LOCATION = "UNKNOWN_LOCATION"
GRANULARITY_CONFLICT = "GRANULARITY_CONFLICT"
ENTITY_LOCKED = "ENTITY_LOCKED"
DUPLICATE_IN_BATCH = "DUPLICATE_IN_BATCH"
NOT_FOUND = "NOT_FOUND"

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T ].*)?$")


class ItemError(Exception):
    """One item cannot be applied: the INT-04 code, a message and the field at fault."""

    def __init__(self, code: str, message: str, field: str = ""):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def is_absent(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "text"  # text | decimal | int | period | date | choice | bool
    required: bool = False
    max_length: int = 255
    minimum: Decimal | int | None = 0
    maximum: Decimal | int | None = None
    max_digits: int = 12
    decimal_places: int = 2
    choices: tuple[str, ...] = ()

    def coerce(self, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.required:
                raise ItemError(REQUIRED_FIELD, f"{self.name} is required.", self.name)
            return None
        if type(value) is str and self.kind == "text":  # the most common value: no further checks
            text = value.strip()
            if len(text) <= self.max_length:
                return text
        return _COERCERS[self.kind](self, value)

    def _text(self, value) -> str:
        if not isinstance(value, (str, int, Decimal)) or isinstance(value, bool):
            raise ItemError(INVALID_VALUE, f"{self.name} must be a string.", self.name)
        text = str(value).strip()
        if len(text) > self.max_length:
            raise ItemError(OUT_OF_RANGE, f"{self.name} is longer than {self.max_length} characters.", self.name)
        return text

    def _number(self, value) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise ItemError(INVALID_VALUE, f"{self.name} must be a number.", self.name)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ItemError(INVALID_VALUE, f"{self.name} must be a number.", self.name) from None
        if not number.is_finite():
            raise ItemError(INVALID_VALUE, f"{self.name} must be a number.", self.name)
        if self.minimum is not None and number < self.minimum:
            raise ItemError(OUT_OF_RANGE, f"{self.name} must be at least {self.minimum}.", self.name)
        if self.maximum is not None and number > self.maximum:
            raise ItemError(OUT_OF_RANGE, f"{self.name} must be at most {self.maximum}.", self.name)
        return number

    def _decimal(self, value) -> Decimal:
        number = self._number(value).quantize(_quantum(self.decimal_places), ROUND_HALF_UP)
        if abs(number) >= _limit(self.max_digits - self.decimal_places):
            raise ItemError(OUT_OF_RANGE, f"{self.name} is too large.", self.name)
        return number

    def _int(self, value) -> int:
        number = self._number(value)
        if number != number.to_integral_value():
            raise ItemError(INVALID_VALUE, f"{self.name} must be a whole number.", self.name)
        if abs(number) > 2**31 - 1:
            raise ItemError(OUT_OF_RANGE, f"{self.name} is too large.", self.name)
        return int(number)

    def _period(self, value) -> datetime.date:
        return parse_period(value, self.name)

    def _date(self, value) -> datetime.date:
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        parsed = None
        if isinstance(value, str):
            text = value.strip()
            try:
                parsed = parse_date(text[:10]) if len(text) >= 10 else None
            except ValueError:
                parsed = None
        if parsed is None:
            raise ItemError(INVALID_VALUE, f"{self.name} must be a date (YYYY-MM-DD).", self.name)
        return parsed

    def _choice(self, value) -> str:
        text = str(value).strip().lower() if isinstance(value, str) else value
        if text not in self.choices:
            raise ItemError(INVALID_VALUE, f"{self.name} must be one of {', '.join(self.choices)}.", self.name)
        return text

    def _bool(self, value) -> bool:
        return parse_bool(value, self.name)


# Field.kind -> its method, looked up once instead of by name for every value.
_COERCERS = {
    kind: getattr(Field, f"_{kind}") for kind in ("text", "decimal", "int", "period", "date", "choice", "bool")
}


@functools.cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


@functools.cache
def _limit(digits: int) -> Decimal:
    return Decimal(10) ** digits


def parse_period(value, name: str = "period") -> datetime.date:
    """CNV-01: "2026-03", "2026-03-01" or a date stand for the month; 2000-01…2100-12 only."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        period = value.replace(day=1)
    else:
        match = _PERIOD_RE.match(str(value).strip()) if isinstance(value, str) else None
        try:
            if not match:
                raise ValueError
            year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
            datetime.date(year, month, day)
            period = datetime.date(year, month, 1)
        except ValueError:
            raise ItemError(INVALID_VALUE, f"{name} must be a month (YYYY-MM or YYYY-MM-DD).", name) from None
    if not PERIOD_MIN <= period <= PERIOD_MAX:
        raise ItemError(OUT_OF_RANGE, f"{name} must lie between 2000-01 and 2100-12.", name)
    return period


def parse_bool(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no"):
        return False
    raise ItemError(INVALID_VALUE, f"{name} must be true or false.", name)


def parse_instant(value) -> datetime.datetime | None:
    """An ISO date-time (or date, meaning its midnight) as an aware datetime; None when unparseable."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
            if moment is None:
                day = parse_date(value.strip())
                moment = datetime.datetime.combine(day, datetime.time()) if day else None
        except ValueError:
            moment = None
        if moment is None:
            return None
    else:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
