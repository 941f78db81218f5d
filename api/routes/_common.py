"""Small helpers the resource routes share."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Header
from pydantic import BaseModel, ValidationError

from allocator.io import problems_from_validation_error
from api.problems import ConflictError, UnprocessableError

M = TypeVar("M", bound=BaseModel)

MAX_ROW_ID = 2**63 - 1
"""The largest row id or offset a database integer holds."""

Responses = dict[int | str, dict[str, Any]]
"""Extra documented responses of a route, for OpenAPI."""

IfMatch = Annotated[
    str | None,
    Header(
        description="The version you last read; the change is refused with 409 if it moved.",
        examples=["3"],
    ),
]


def merged(model: type[M], current: BaseModel, update: BaseModel) -> M:
    """``current`` with the fields set in ``update`` replaced, validated as ``model``."""
    data: dict[str, Any] = {
        **current.model_dump(mode="json"),
        **update.model_dump(mode="json", exclude_unset=True),
    }
    try:
        return model.model_validate(data)
    except ValidationError as error:
        msg = "the update breaks a rule"
        raise UnprocessableError(msg, problems_from_validation_error(error, data)) from None


def check_if_match(kind: str, item_id: str, version: int, if_match: str | None) -> None:
    """409 when ``If-Match`` names another version than ``version``."""
    if if_match is None:
        return
    wanted = if_match.strip().removeprefix("W/").strip('"')
    if wanted != str(version):
        msg = (
            f"{kind} {item_id} has changed since you read it (you sent version {wanted}, it is "
            f"at version {version}); read it again and reapply your change"
        )
        raise ConflictError(msg)
