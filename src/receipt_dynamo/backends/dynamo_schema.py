"""The DynamoDB single table's schema: create it, or check that an existing one fits."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from receipt_dynamo.errors import TableSchemaError
from receipt_dynamo.keys import GSI_NAMES, INDEXES, KEY_ATTRIBUTES


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


