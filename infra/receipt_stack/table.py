"""The single DynamoDB table: PK/SK, GSI1–GSI4 and GSITYPE exactly as ``receipt_dynamo`` creates
them, TTL and point-in-time recovery."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from receipt_dynamo.keys import GSI_NAMES
from receipt_stack._opts import child
from receipt_stack.config import StackConfig

TTL_ATTRIBUTE = "expires_at"
"""Epoch-seconds attribute DynamoDB deletes items by. No entity sets it yet, so nothing expires
until one does (e.g. for short-lived routing records)."""


def index_definitions() -> list[dict[str, str]]:
    """GSI1–GSI4 on ``GSInPK``/``GSInSK`` and GSITYPE on ``TYPE``, all projecting every attribute
    (the store reads whole items from indexes)."""
    indexes = [
        {"name": g, "hash_key": f"{g}PK", "range_key": f"{g}SK", "projection_type": "ALL"}
        for g in GSI_NAMES
    ]
    indexes.append({"name": "GSITYPE", "hash_key": "TYPE", "projection_type": "ALL"})
    return indexes


class ReceiptTable(pulumi.ComponentResource):
    """The record table."""

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("receipt:stack:Table", name, None, opts)
        attributes = ["PK", "SK", "TYPE"] + [f"{g}{p}" for g in GSI_NAMES for p in ("PK", "SK")]
        self.table = aws.dynamodb.Table(
            name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="PK",
            range_key="SK",
            attributes=[{"name": a, "type": "S"} for a in attributes],
            global_secondary_indexes=index_definitions(),
            ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True},
            deletion_protection_enabled=config.protect,
            opts=child(self, protect=config.protect),
        )
        self.name = self.table.name
        self.arn = self.table.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
