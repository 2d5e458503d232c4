"""The review app's environments: local (SQLite + a directory) and a stack on the moto server
(DynamoDB + S3), the same tests on each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


# dynamodb is a moto stack per test: slow (make test); local keeps the app in test-fast.
@pytest.fixture(params=["local", pytest.param("dynamodb", marks=pytest.mark.slow)])
def review_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "dynamodb":
        return request.getfixturevalue("aws_stack")
    from receipt_cloud.settings import resolve_settings

    return resolve_settings("local", data_dir=tmp_path / "data", environ={})
