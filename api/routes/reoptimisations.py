"""``/v1/reoptimisations``: the nightly re-optimisation as a job (start, watch, stop, apply)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Staff
from api.errors import NotBuiltYetError
from api.routes._common import Responses

router = APIRouter(prefix="/v1/reoptimisations", tags=["re-optimisation"])

_NOT_BUILT = (
    "the nightly re-optimisation (re-planning every run, moving as few clients as possible) is "
    "not built yet (issue #5)"
)
_501: Responses = {501: {"description": "The re-optimisation is not built yet."}}


@router.post("", status_code=202, responses=_501)
def start(principal: Staff) -> None:
    """Start the re-optimisation job; answers with its id."""
    raise NotBuiltYetError(_NOT_BUILT)


@router.get("/{job_id}", responses=_501)
def status(job_id: str, principal: Staff) -> None:
    """The job's status, progress and, when done, its proposed moves."""
    raise NotBuiltYetError(_NOT_BUILT)


@router.delete("/{job_id}", responses=_501)
def stop(job_id: str, principal: Staff) -> None:
    """Stop the job."""
    raise NotBuiltYetError(_NOT_BUILT)


@router.post("/{job_id}/apply", responses=_501)
def apply(job_id: str, principal: Staff) -> None:
    """Accept the proposed plan: all moves, or the selected ones."""
    raise NotBuiltYetError(_NOT_BUILT)
