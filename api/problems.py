"""Errors the REST API answers with: a status code and a message a person can act on.

Every error body is ``{"detail": "..."}``; a 422 also lists ``problems``, one per field,
each ``{"path": "visits[1] (lunch).latest_start_min", "message": "..."}``, with the readable
paths of :mod:`allocator.io`.
"""

from __future__ import annotations

from typing import Any

from allocator.model import Problem


class ApiError(Exception):
    """An error answered with ``status_code`` and ``detail``."""

    status_code = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The JSON body of the response."""
        return {"detail": self.detail}


class UnauthorisedError(ApiError):
    """No key, or a key that is unknown, malformed or revoked."""

    status_code = 401


class ForbiddenError(ApiError):
    """A valid key whose role may not do this."""

    status_code = 403


class NotFoundError(ApiError):
    """No such thing for this council (or not visible to this key)."""

    status_code = 404


class ConflictError(ApiError):
    """The request clashes with the current state (an illegal transition, a stale version)."""

    status_code = 409


class TooLargeError(ApiError):
    """The request body is over the size limit."""

    status_code = 413


class UnprocessableError(ApiError):
    """Input that breaks a rule; one problem per field."""

    status_code = 422

    def __init__(self, detail: str, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.problems = problems or []

    def body(self) -> dict[str, Any]:
        """Detail plus one entry per problem."""
        return {"detail": self.detail, "problems": [p.model_dump() for p in self.problems]}
