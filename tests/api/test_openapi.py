"""The OpenAPI description: its examples are valid, and every /v1 operation needs a key."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from api.reoptimise import ReoptimisationParams
from api.schemas import (
    ApplyRequest,
    OfferToProvider,
    PlacementRequest,
    ReasonBody,
    ReferralCreate,
)
from tests.api.conftest import Api


@pytest.mark.parametrize(
    "model",
    [
        ReferralCreate,
        OfferToProvider,
        PlacementRequest,
        ReasonBody,
        ApplyRequest,
        ReoptimisationParams,
    ],
)
def test_schema_examples_are_valid(model: type[BaseModel]) -> None:
    """Every example in a request schema validates as that schema."""
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    examples = extra["examples"]
    assert isinstance(examples, list) and examples
    for example in examples:
        model.model_validate(example)


def test_every_v1_operation_needs_a_key(api: Api) -> None:
    """Without a key, each /v1 operation in the OpenAPI description answers 401."""
    spec = api.client.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in operations:
            response = api.client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
            checked += 1
    assert checked >= 30
