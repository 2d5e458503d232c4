"""Entity base class: item encoding/decoding and the validation helpers every entity uses.

Items are plain dicts of str/int/float/bool/dict values, the same for both backends:
enums become their value, geometry becomes ``{x, y, ...}`` maps, free-form dicts (job config,
results, tags, dict metric values) become JSON strings (so ints and floats inside them round-trip
exactly even through DynamoDB, which normalises numbers), non-finite floats become the strings
``NaN``/``Infinity``/``-Infinity``, and ``None`` fields are left out of the item.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
import uuid
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any, ClassVar, Self, TypeVar

from receipt_dynamo.errors import EntityValidationError
from receipt_dynamo.limits import MAX_COORDINATE, MAX_IMAGE_SIDE, finite_float
from receipt_dynamo.vocabulary import stored_labels

E = TypeVar("E", bound=Enum)

RESERVED_ATTRIBUTES = frozenset(
    {"PK", "SK", "TYPE"} | {f"GSI{n}{part}" for n in range(1, 5) for part in ("PK", "SK")}
)


def utc_now() -> str:
    """The current time as an ISO 8601 string with ``+00:00``."""
    return datetime.now(UTC).isoformat()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Entity:
    """Base of every stored record. Subclasses define ``ENTITY_TYPE``, ``pk``, ``sk``, indexes."""

    ENTITY_TYPE: ClassVar[str] = ""

    def main_key(self) -> tuple[str, str]:
        """``(PK, SK)``, composed by the entity's function in ``keys`` (``keys.receipt_key``…)."""
        raise NotImplementedError

    @property
    def pk(self) -> str:
        return self.main_key()[0]

    @property
    def sk(self) -> str:
        return self.main_key()[1]

    @property
    def key(self) -> dict[str, str]:
        """The main-table key ``{"PK": ..., "SK": ...}``."""
        return {"PK": self.pk, "SK": self.sk}

    def index_keys(self) -> dict[str, str]:
        """GSI attributes (``GSI1PK``, ``GSI1SK``, ...) this item is indexed under."""
        return {}

    def to_item(self) -> dict[str, Any]:
        """The table item: key, ``TYPE``, index attributes and every non-None field."""
        item: dict[str, Any] = {**self.key, "TYPE": self.ENTITY_TYPE, **self.index_keys()}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                item[f.name] = _encode(value)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        """Rebuild the entity from a ``to_item`` item (also after a backend round trip)."""
        if item.get("TYPE") not in (None, cls.ENTITY_TYPE):
            raise EntityValidationError(
                f"item PK={item.get('PK')!r} SK={item.get('SK')!r} is a {item.get('TYPE')}, "
                f"not a {cls.ENTITY_TYPE}; query the right key prefix or index"
            )
        hints = _field_types(cls)
        kwargs = {
            f.name: _decode(hints[f.name], item[f.name])
            for f in dataclasses.fields(cls)
            if f.name in item
        }
        try:
            with stored_labels():
                return cls(**kwargs)
        except TypeError as exc:
            raise EntityValidationError(
                f"item PK={item.get('PK')!r} SK={item.get('SK')!r} cannot be read as "
                f"{cls.__name__}: {exc}"
            ) from exc

    def with_changes(self, **changes: Any) -> Self:
        """A validated copy with some fields replaced (entities are immutable)."""
        return dataclasses.replace(self, **changes)

    def _set(self, name: str, value: Any) -> None:
        # Entities are frozen; normalisation in __post_init__ is the one place that may set fields.
        object.__setattr__(self, name, value)


@cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else json.dumps(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise EntityValidationError(f"cannot store a value of type {type(value).__name__}: {value!r}")


def _decode(declared: Any, value: Any) -> Any:
    if isinstance(declared, types.UnionType) or typing.get_origin(declared) is typing.Union:
        choices = [a for a in typing.get_args(declared) if a is not type(None)]
    else:
        choices = [declared]
    choices = [typing.get_origin(c) or c for c in choices]
    if isinstance(value, str) and (dict in choices or float in choices):
        # JSON-encoded dicts and non-finite floats; a plain string field never gets here.
        parsed = json.loads(value)
        return parsed if isinstance(parsed, dict) or float not in choices else float(parsed)
    for choice in choices:
        if choice is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if dataclasses.is_dataclass(choice) and isinstance(value, dict):
            hints = _field_types(choice)
            return choice(**{k: _decode(hints[k], v) for k, v in value.items() if k in hints})
    return value


# --- validation helpers (raise EntityValidationError naming the entity and field) -------------


def check_uuid(owner: str, name: str, value: Any) -> str:
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise EntityValidationError(
            f"{owner}.{name} must be a UUID string such as str(uuid.uuid4()), got {value!r}"
        ) from None


def check_positive_int(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise EntityValidationError(
            f"{owner}.{name} must be a positive int (1, 2, ...), got {value!r}"
        )
    return value


MAX_ID = 99_999
"""Receipt, line and word ids are zero-padded to 5 digits in keys, so they stop at 99999."""


def check_id(owner: str, name: str, value: Any) -> int:
    return _at_most(owner, name, check_positive_int(owner, name, value), MAX_ID, "(5-digit keys)")


def _at_most(owner: str, name: str, value: int, limit: int, why: str) -> int:
    if value > limit:
        raise EntityValidationError(f"{owner}.{name} must be <= {limit} {why}, got {value}")
    return value


def check_non_negative_int(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EntityValidationError(f"{owner}.{name} must be an int >= 0, got {value!r}")
    return value


def check_finite(owner: str, name: str, value: Any) -> float:
    number = finite_float(value)
    if number is None:
        raise EntityValidationError(
            f"{owner}.{name} must be a finite number (not NaN or infinity), got {value!r}"
        )
    return number


def check_image_side(owner: str, name: str, value: Any) -> int:
    """A pixel width/height: an int in 1..MAX_IMAGE_SIDE."""
    return _at_most(owner, name, check_positive_int(owner, name, value), MAX_IMAGE_SIDE,
                    "pixels")


def check_coordinate(owner: str, name: str, value: Any) -> float:
    """A finite coordinate with |value| <= MAX_COORDINATE."""
    number = check_finite(owner, name, value)
    if abs(number) > MAX_COORDINATE:
        raise EntityValidationError(
            f"{owner}.{name} = {value!r} is beyond +-{MAX_COORDINATE}; coordinates are receipt "
            "pixels or fractions of the receipt size"
        )
    return number


def check_confidence(owner: str, name: str, value: Any) -> float:
    number = check_finite(owner, name, value)
    if not 0.0 < number <= 1.0:
        raise EntityValidationError(
            f"{owner}.{name} must be in (0, 1] (scale percentages by 1/100), got {value!r}"
        )
    return number


def check_str(owner: str, name: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value):
        what = "a string" if allow_empty else "a non-empty string"
        raise EntityValidationError(f"{owner}.{name} must be {what}, got {value!r}")
    return value


def check_key_part(owner: str, name: str, value: Any) -> str:
    """A string embedded in a key: non-empty and without the ``#`` key separator."""
    text = check_str(owner, name, value)
    if "#" in text:
        raise EntityValidationError(
            f"{owner}.{name} may not contain '#' (key separator): {value!r}"
        )
    return text


def check_timestamp(owner: str, name: str, value: Any) -> str:
    """ISO 8601 in UTC with ``+00:00``; datetimes, ``Z`` and other offsets are converted.

    Naive values are taken as UTC.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise EntityValidationError(
                f"{owner}.{name} must be an ISO 8601 timestamp such as "
                f"'2024-05-01T12:00:00+00:00', got {value!r}"
            ) from None
    else:
        raise EntityValidationError(
            f"{owner}.{name} must be a datetime or ISO string, got {value!r}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def check_enum(owner: str, name: str, enum: type[E], value: Any) -> E:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise EntityValidationError(
            f"{owner}.{name} must be one of {choices}; got {value!r}"
        ) from None


def check_dict(owner: str, name: str, value: Any, *, str_values: bool = False) -> dict:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise EntityValidationError(f"{owner}.{name} must be a dict with str keys, got {value!r}")
    if str_values and not all(isinstance(v, str) for v in value.values()):
        raise EntityValidationError(f"{owner}.{name} values must be strings, got {value!r}")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise EntityValidationError(f"{owner}.{name} must be JSON-serialisable: {exc}") from None
    return value
