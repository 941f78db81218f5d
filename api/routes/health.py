"""``GET /health``: for load balancers and the Dockerfile's HEALTHCHECK; needs no key."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.schemas import Health

router = APIRouter(tags=["health"])


def _version() -> str:
    try:
        return version("carealloc")
    except PackageNotFoundError:
        return "unknown"


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"description": "The database does not answer."}},
)
def health(services: ServicesDep) -> JSONResponse:
    """200 when the service and its database answer, 503 otherwise."""
    try:
        services.db.ping()
    except Exception as error:  # any database failure means "not healthy", never a 500
        body = {"status": "unavailable", "database": type(error).__name__, "version": _version()}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "version": _version()})
