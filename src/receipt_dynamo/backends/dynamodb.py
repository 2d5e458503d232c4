"""DynamoDB backend over the low-level boto3 client.

The wire format and expressions are in :mod:`.dynamo_expressions`, the table's schema in
:mod:`.dynamo_schema`. The endpoint comes from ``endpoint_url`` or boto3's own
``AWS_ENDPOINT_URL``; the region from ``region``, ``AWS_REGION`` or ``AWS_DEFAULT_REGION``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from receipt_dynamo._table import (
    MAX_BATCH_ATTEMPTS,
    Condition,
    Item,
    Key,
    Page,
    T,
    Table,
    TransactOp,
    condition_held,
    send_with_retry,
)
from receipt_dynamo.backends.dynamo_expressions import (
    condition_kwargs,
    from_dynamo,
    item_key,
    key_condition,
    to_dynamo,
)
from receipt_dynamo.errors import (
    ConditionFailedError,
    EntityValidationError,
    ReceiptDynamoError,
    StoreUnavailableError,
    TableSchemaError,
)

# ValidationException texts that are about the table (its keys or indexes), not about an item.
_SCHEMA_MESSAGES = ("specified index", "invalid index", "schema", "index key")


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
                TableName=self.table_name, Item=to_dynamo(item), **condition_kwargs(condition)
            )

    def get_item(self, pk: str, sk: str) -> Item | None:
        with self._translate(pk, sk):
            response = self.client.get_item(
                TableName=self.table_name, Key=item_key(pk, sk), ConsistentRead=True
            )
        found = response.get("Item")
        return from_dynamo(found) if found else None

    def delete_item(self, pk: str, sk: str, *, condition: Condition | None = None) -> None:
        with self._translate(pk, sk):
            self.client.delete_item(
                TableName=self.table_name, Key=item_key(pk, sk), **condition_kwargs(condition)
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
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            **key_condition(index, pk, sk_begins_with=sk_begins_with, sk_between=sk_between),
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
        requests += [{"DeleteRequest": {"Key": item_key(d["PK"], d["SK"])}} for d in deletes]

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
            body: dict[str, Any] = {"TableName": self.table_name, **condition_kwargs(op.condition)}
            if op.item is not None:
                requests.append({"Put": {**body, "Item": to_dynamo(op.item)}})
            else:
                requests.append({"Delete": {**body, "Key": item_key(target["PK"], target["SK"])}})
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
