"""DynamoDB wire format: items as attribute values, and our conditions and key queries as
DynamoDB expressions.

Numbers: floats go in as ``Decimal(repr(f))`` (exact), and come back as ``int`` when the stored
number has no fraction/exponent digits, else ``float``; entities coerce to their declared types,
so ``from_item(to_item(e)) == e`` holds even though DynamoDB normalises ``1.0`` to ``1``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from receipt_dynamo._table import (
    AttributeEquals,
    Condition,
    Exists,
    ExistsAndAttributeNotIn,
    Item,
    ItemMatches,
    NotExists,
    NotExistsOrAttributeNotIn,
)
from receipt_dynamo.errors import EntityValidationError
from receipt_dynamo.keys import GSI_NAMES

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# --- serialisation -----------------------------------------------------------------------------


def _to_wire(value: Any) -> Any:
    if isinstance(value, float):
        if value and not 1e-130 <= abs(value) < 1e125:
            raise EntityValidationError(
                f"the number {value!r} is outside DynamoDB's range (1e-130 to 1e125); round it "
                "(e.g. to 0) before storing"
            )
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_wire(v) for v in value]
    return value


def _from_wire(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value.as_tuple().exponent >= 0 else float(value)  # type: ignore[operator]
    if isinstance(value, dict):
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    return value


def to_dynamo(item: Item) -> dict[str, Any]:
    """A plain item as DynamoDB attribute values (``{"S": ...}``, ``{"N": ...}``, ...)."""
    return {k: _serializer.serialize(_to_wire(v)) for k, v in item.items()}


def from_dynamo(attributes: dict[str, Any]) -> Item:
    """DynamoDB attribute values back to a plain item."""
    return {k: _from_wire(_deserializer.deserialize(v)) for k, v in attributes.items()}


def item_key(pk: str, sk: str) -> dict[str, Any]:
    """The primary key ``(pk, sk)`` as DynamoDB attribute values."""
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def condition_kwargs(condition: Condition | None) -> dict[str, Any]:
    """``ConditionExpression`` and its names/values for a write guarded by ``condition``."""
    if condition is None:
        return {}
    if isinstance(condition, NotExists):
        return {"ConditionExpression": "attribute_not_exists(PK)"}
    if isinstance(condition, Exists):
        return {"ConditionExpression": "attribute_exists(PK)"}
    if isinstance(condition, AttributeEquals):
        return {
            "ConditionExpression": "#c = :c",
            "ExpressionAttributeNames": {"#c": condition.attribute},
            "ExpressionAttributeValues": {":c": {"S": condition.value}},
        }
    if isinstance(condition, ItemMatches):
        parts, names, values = ["attribute_exists(PK)"], {}, {}
        for n, (attribute, value) in enumerate(condition.attributes):
            names[f"#m{n}"] = attribute
            if value is None:
                parts.append(f"attribute_not_exists(#m{n})")
            else:
                values[f":m{n}"] = _serializer.serialize(_to_wire(value))
                parts.append(f"#m{n} = :m{n}")
        kwargs: dict[str, Any] = {"ConditionExpression": " AND ".join(parts)}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = values
        return kwargs
    if isinstance(condition, NotExistsOrAttributeNotIn | ExistsAndAttributeNotIn):
        placeholders = [f":c{i}" for i in range(len(condition.values))]
        member = f"#c IN ({', '.join(placeholders)})"
        head = (
            "attribute_not_exists(PK) OR NOT "
            if isinstance(condition, NotExistsOrAttributeNotIn)
            else "attribute_exists(PK) AND NOT "
        )
        return {
            "ConditionExpression": f"{head}({member})",
            "ExpressionAttributeNames": {"#c": condition.attribute},
            "ExpressionAttributeValues": {
                p: {"S": v} for p, v in zip(placeholders, condition.values, strict=True)
            },
        }
    raise TypeError(f"the DynamoDB backend cannot express condition {condition!r}")


# --- key conditions ----------------------------------------------------------------------------


def key_condition(
    index: str | None,
    pk: str,
    *,
    sk_begins_with: str | None = None,
    sk_between: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """``KeyConditionExpression`` and its names/values for a query of ``index`` (None: the
    table) at partition ``pk``, optionally narrowed on the sort key."""
    if index is None:
        pk_attr, sk_attr = "PK", "SK"
    elif index in GSI_NAMES:
        pk_attr, sk_attr = f"{index}PK", f"{index}SK"
    elif index == "GSITYPE":
        if sk_begins_with is not None or sk_between is not None:
            raise ValueError("GSITYPE has no sort key; drop sk_begins_with/sk_between")
        pk_attr, sk_attr = "TYPE", ""
    else:
        raise ValueError(f"unknown index {index!r}; use None, GSI1..GSI4 or GSITYPE")
    names = {"#p": pk_attr}
    values: dict[str, Any] = {":p": {"S": pk}}
    expression = "#p = :p"
    if sk_begins_with is not None:
        names["#s"] = sk_attr
        values[":s"] = {"S": sk_begins_with}
        expression += " AND begins_with(#s, :s)"
    if sk_between is not None:
        names["#s"] = sk_attr
        values[":lo"], values[":hi"] = {"S": sk_between[0]}, {"S": sk_between[1]}
        expression += " AND #s BETWEEN :lo AND :hi"
    return {
        "KeyConditionExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
