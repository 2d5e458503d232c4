"""DynamoDB backend over the low-level boto3 client.

Numbers: floats go in as ``Decimal(repr(f))`` (exact), and come back as ``int`` when the stored
number has no fraction/exponent digits, else ``float``; entities coerce to their declared types,
so ``from_item(to_item(e)) == e`` holds even though DynamoDB normalises ``1.0`` to ``1``.
The endpoint comes from ``endpoint_url`` or boto3's own ``AWS_ENDPOINT_URL``; the region from
``region``, ``AWS_REGION`` or ``AWS_DEFAULT_REGION``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from receipt_dynamo._table import (
    MAX_BATCH_ATTEMPTS,
    AttributeEquals,
    Condition,
    Exists,
    ExistsAndAttributeNotIn,
    Item,
    ItemMatches,
    Key,
    NotExists,
    NotExistsOrAttributeNotIn,
    Page,
    T,
    Table,
    TransactOp,
    condition_held,
    send_with_retry,
)
from receipt_dynamo.errors import (
    ConditionFailedError,
    EntityValidationError,
    ReceiptDynamoError,
    StoreUnavailableError,
    TableSchemaError,
)
from receipt_dynamo.keys import GSI_NAMES, INDEXES, KEY_ATTRIBUTES

# ValidationException texts that are about the table (its keys or indexes), not about an item.
_SCHEMA_MESSAGES = ("specified index", "invalid index", "schema", "index key")
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


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _condition_kwargs(condition: Condition | None) -> dict[str, Any]:
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


# --- table creation ----------------------------------------------------------------------------


def create_table(client_or_resource: Any, table_name: str, *, wait: bool = True) -> None:
    """Create the single table (PK/SK, GSI1–GSI4 on GSInPK/GSInSK, GSITYPE on TYPE).

    PAY_PER_REQUEST. Accepts a boto3 DynamoDB client or resource; an existing table is kept.
    """
    client = getattr(getattr(client_or_resource, "meta", None), "client", client_or_resource)
    attributes = list(KEY_ATTRIBUTES)
    indexes = [
        {
            "IndexName": g,
            "KeySchema": [
                {"AttributeName": f"{g}PK", "KeyType": "HASH"},
                {"AttributeName": f"{g}SK", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for g in GSI_NAMES
    ]
    indexes.append(
        {
            "IndexName": "GSITYPE",
            "KeySchema": [{"AttributeName": "TYPE", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    )
    try:
        client.create_table(
            TableName=table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=indexes,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        check_table_schema(client, table_name)
    if wait:
        client.get_waiter("table_exists").wait(
            TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )


def check_table_schema(client: Any, table_name: str) -> None:
    """Raise TableSchemaError unless ``table_name`` has PK/SK keys and GSI1–GSI4 and GSITYPE."""
    table = client.describe_table(TableName=table_name)["Table"]
    key_names = {k["AttributeName"] for k in table.get("KeySchema", [])}
    present = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
    missing = [name for name in INDEXES if name not in present]
    problems = []
    if key_names != {"PK", "SK"}:
        problems.append(f"its key is {sorted(key_names)} instead of PK/SK")
    if missing:
        problems.append(f"it lacks the index(es) {', '.join(missing)}")
    if problems:
        raise TableSchemaError(
            f"DynamoDB table {table_name!r} already exists but {' and '.join(problems)}; "
            "delete it and rerun create_table, or pass the name of a table the stack created"
        )


# --- the backend -------------------------------------------------------------------------------


def make_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    try:
        return boto3.client(
            "dynamodb",
            region_name=region,
            endpoint_url=endpoint_url,  # None: boto3 falls back to AWS_ENDPOINT_URL itself
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )
    except NoRegionError as exc:
        raise StoreUnavailableError(
            "no AWS region for the DynamoDB table; pass --region or set AWS_REGION"
        ) from exc


class DynamoTable(Table):
    """The table ``table_name`` in DynamoDB (or a DynamoDB-compatible endpoint such as moto)."""

    transactional = False

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        page_size: int | None = None,
        max_batch_attempts: int = MAX_BATCH_ATTEMPTS,
    ) -> None:
        self.table_name = table_name
        self.client = client if client is not None else make_client(region, endpoint_url)
        self.page_size = page_size
        self.max_batch_attempts = max_batch_attempts

    @contextmanager
    def _translate(
        self, pk: str = "?", sk: str = "?", *, about_item: bool = False
    ) -> Iterator[None]:
        """Map boto errors to ours; ``about_item``: a ValidationException may blame the item."""
        try:
            yield
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", str(exc))
            if code == "ConditionalCheckFailedException":
                raise ConditionFailedError(pk, sk) from None
            lowered = message.lower()
            if code == "ResourceNotFoundException" and "index" not in lowered:
                raise StoreUnavailableError(
                    f"DynamoDB table {self.table_name!r} does not exist at "
                    f"{self.client.meta.endpoint_url}; deploy the stack (`pulumi up` in infra/) "
                    "and pass its table name with --table-name"
                ) from exc
            # DynamoDB reports a missing index as ValidationException, moto as not found.
            if code in ("ValidationException", "ResourceNotFoundException"):
                if (
                    about_item
                    and code == "ValidationException"
                    and not any(m in lowered for m in _SCHEMA_MESSAGES)
                ):
                    raise EntityValidationError(
                        f"DynamoDB rejected the item PK={pk!r} SK={sk!r}: {message}"
                    ) from exc
                raise TableSchemaError(
                    f"DynamoDB rejected a request on table {self.table_name!r}: {message}; "
                    "the table may lack PK/SK keys or an index (GSI1–GSI4, GSITYPE) — "
                    "check it with describe_table or recreate it with create_table"
                ) from exc
            raise StoreUnavailableError(
                f"DynamoDB call on table {self.table_name!r} failed ({code}): {message}"
            ) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(
                f"cannot reach DynamoDB table {self.table_name!r}: {exc}; check AWS_ENDPOINT_URL, "
                "AWS_REGION and credentials"
            ) from exc

    def put_item(self, item: Item, *, condition: Condition | None = None) -> None:
        with self._translate(item["PK"], item["SK"], about_item=True):
            self.client.put_item(
                TableName=self.table_name, Item=to_dynamo(item), **_condition_kwargs(condition)
            )

    def get_item(self, pk: str, sk: str) -> Item | None:
        with self._translate(pk, sk):
            response = self.client.get_item(
                TableName=self.table_name, Key=_key(pk, sk), ConsistentRead=True
            )
        found = response.get("Item")
        return from_dynamo(found) if found else None

    def delete_item(self, pk: str, sk: str, *, condition: Condition | None = None) -> None:
        with self._translate(pk, sk):
            self.client.delete_item(
                TableName=self.table_name, Key=_key(pk, sk), **_condition_kwargs(condition)
            )

    def _query_kwargs(
        self,
        index: str | None,
        pk: str,
        *,
        sk_begins_with: str | None = None,
        sk_between: tuple[str, str] | None = None,
        ascending: bool = True,
        limit: int | None = None,
        start_key: Key | None = None,
    ) -> dict[str, Any]:
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
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": ascending,
        }
        if index is not None:
            kwargs["IndexName"] = index
        else:
            kwargs["ConsistentRead"] = True  # GSIs are eventually consistent; the table need not be
        if limit or self.page_size:
            kwargs["Limit"] = limit or self.page_size
        if start_key:
            kwargs["ExclusiveStartKey"] = to_dynamo(start_key)
        return kwargs

    def query(self, index: str | None, pk: str, **options: Any) -> Page:
        kwargs = self._query_kwargs(index, pk, **options)
        with self._translate(pk):
            response = self.client.query(**kwargs)
        items = [from_dynamo(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (from_dynamo(last) if last else None)

    def count(self, index: str | None, pk: str, **options: Any) -> int:
        # Select=COUNT: DynamoDB still reads every page, but sends no items back.
        kwargs = {**self._query_kwargs(index, pk, **options), "Select": "COUNT"}
        kwargs.pop("Limit", None)
        total = 0
        while True:
            with self._translate(pk):
                response = self.client.query(**kwargs)
            total += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last:
                return total
            kwargs["ExclusiveStartKey"] = last

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        requests = [{"PutRequest": {"Item": to_dynamo(p)}} for p in puts]
        requests += [{"DeleteRequest": {"Key": _key(d["PK"], d["SK"])}} for d in deletes]

        def send(chunk: list[Any]) -> list[Any]:
            with self._translate(about_item=True):
                response = self.client.batch_write_item(RequestItems={self.table_name: chunk})
            return response.get("UnprocessedItems", {}).get(self.table_name, [])

        send_with_retry(
            send, requests, what="DynamoDB batch write", max_attempts=self.max_batch_attempts
        )

    def each_conditionally(self, targets: Sequence[T], write: Callable[[T], None]) -> list[bool]:
        # DynamoDB batches cannot carry conditions: conditional writes run concurrently instead.
        if len(targets) <= 1:
            return [condition_held(write, t) for t in targets]
        with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
            return list(pool.map(partial(condition_held, write), targets))

    def transact_write(self, ops: Sequence[TransactOp]) -> None:
        if len(ops) > 100:
            raise ReceiptDynamoError(
                f"transact_write takes at most 100 operations, got {len(ops)}; split the group"
            )
        requests = []
        for op in ops:
            target = op.target
            body: dict[str, Any] = {"TableName": self.table_name, **_condition_kwargs(op.condition)}
            if op.item is not None:
                requests.append({"Put": {**body, "Item": to_dynamo(op.item)}})
            else:
                requests.append({"Delete": {**body, "Key": _key(target["PK"], target["SK"])}})
        try:
            with self._translate(about_item=True):
                self.client.transact_write_items(TransactItems=requests)
        except StoreUnavailableError as exc:
            cause = exc.__cause__
            if not isinstance(cause, ClientError) or (
                cause.response["Error"]["Code"] != "TransactionCanceledException"
            ):
                raise
            reasons = cause.response.get("CancellationReasons") or []
            for index, reason in enumerate(reasons):
                if reason.get("Code") == "ConditionalCheckFailed":
                    target = ops[index].target
                    raise ConditionFailedError(target["PK"], target["SK"], index) from None
            raise
