"""The app factory: ``create_app(settings)`` builds the FastAPI application.

Nothing happens at import time. On start (the lifespan) the database is connected and
migrated to the newest schema; on stop its connections are closed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from allocator.io import problems_from_errors
from api.db import connect, migrate
from api.deps import IdempotentReplay, Services
from api.errors import NotBuiltYetError
from api.jobs import JobRunner, fail_interrupted
from api.problems import ApiError
from api.routes import (
    audit,
    carers,
    health,
    imports,
    lots,
    packages,
    placements,
    providers,
    referrals,
    reoptimisations,
    reports,
    status,
)
from api.settings import Settings, get_settings
from api.solvers import PreparedCache, RankingLog, Solvers
from api.tenants import TenantCache

log = logging.getLogger("carealloc.api")

DESCRIPTION = """
Route-aware placement of home-care packages. Coordinates are `[lon, lat]`; times of day are
minutes after midnight (`start_min`); durations in minutes; money in pounds (`_gbp`); see
docs/formats.md and docs/api.md.

Every `/v1` call needs an API key (`X-API-Key` or `Authorization: Bearer`), made with
`carealloc keys create`. Keys belong to one council and have a role: **admin** (import, providers,
carers), **broker** (referrals, offers, placements, reports, audit) or **provider** (its own
offers, packages, carers and runs). Send `Idempotency-Key` with a POST to make retries safe.
"""

Asgi = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class RequestGuard:
    """Answer 413 for a request body over the limit, before the app reads any of it, and 422
    for a NUL character anywhere in the request (no database text column can hold one).

    The body is read here (up to the limit) and handed on, so a chunked upload without
    ``Content-Length`` is caught as well.
    """

    def __init__(self, app: Asgi, limit_bytes: int, large: dict[str, int]) -> None:
        self.app = app
        self.limit_bytes = limit_bytes
        self.large = large

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _nul(send)
            return
        limit = self.large.get(scope["path"].rstrip("/"), self.limit_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"\x00" in body or b"\\u0000" in body:
            await _nul(send)
            return
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _answer(send: Callable[[Any], Awaitable[None]], status: int, detail: str) -> None:
    body = JSONResponse({"detail": detail}, status_code=status).body
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _too_large(send: Callable[[Any], Awaitable[None]], limit: int) -> None:
    await _answer(send, 413, f"the request body is over the {limit}-byte limit")


async def _nul(send: Callable[[Any], Awaitable[None]]) -> None:
    await _answer(send, 422, "the request contains a NUL character, which no field may hold")


def _validation_problems(exc: RequestValidationError) -> list[dict[str, str]]:
    items = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "")
            message = f"is not valid JSON ({reason})" if reason else "is not valid JSON"
            items.append({"path": "body", "message": message})
            continue
        if loc and loc[0] == "body":
            problems = problems_from_errors([{**error, "loc": loc[1:]}], exc.body)
        else:
            problems = problems_from_errors([error])
        items.extend({"path": p.path or "body", "message": p.message} for p in problems)
    return items


def create_app(settings: Settings | None = None, *, solvers: Solvers | None = None) -> FastAPI:
    """The carealloc REST API for ``settings`` (from the environment when omitted).

    ``solvers`` are the optimisation core's offers, joint placement and re-optimisation; the
    core's own by default (:meth:`api.solvers.Solvers.from_core`).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = connect(settings)
        migrate(db)
        interrupted = fail_interrupted(db)
        if interrupted:
            log.warning("%d job(s) were interrupted by a previous stop", interrupted)
        jobs = JobRunner(db)
        app.state.services = Services(
            settings=settings,
            db=db,
            cache=TenantCache(),
            jobs=jobs,
            prepared=PreparedCache(),
            rankings=RankingLog(),
            solvers=solvers or Solvers.from_core(settings),
        )
        try:
            yield
        finally:
            jobs.shutdown()
            db.dispose()

    app = FastAPI(
        title="carealloc",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    for module in (
        health,
        lots,
        providers,
        carers,
        packages,
        referrals,
        placements,
        imports,
        reports,
        audit,
        reoptimisations,
        status,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=status.STATIC), name="static")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(IdempotentReplay)
    async def _replay(request: Request, exc: IdempotentReplay) -> Response:
        return exc.response()

    @app.exception_handler(NotBuiltYetError)
    async def _not_built(request: Request, exc: NotBuiltYetError) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=501)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = _validation_problems(exc)
        detail = "; ".join(f"{p['path']}: {p['message']}" for p in problems[:5])
        return JSONResponse({"detail": detail, "problems": problems}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": "internal error; nothing was stored, and it has been logged"},
            status_code=500,
        )

    app.add_middleware(
        RequestGuard,
        limit_bytes=settings.max_body_bytes,
        large={"/v1/imports": settings.max_import_bytes},
    )
    return app
