"""docs/api.md is a golden test: its requests are replayed in order and every response shown
must match (the fields shown; timestamps and the like are left out of the page)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.api.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"```http\n(.*?)```\s*```http-response\n(.*?)```", re.DOTALL)


def _contains(expected: Any, actual: Any, where: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing from {actual!r}"
            _contains(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{where}: expected {len(expected)} items, got {actual!r}"
        )
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _contains(e, a, f"{where}[{i}]")
    else:
        assert expected == actual, f"{where}: expected {expected!r}, got {actual!r}"


def examples() -> list[tuple[str, str]]:
    """Request and response text of every example in docs/api.md, in order."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    return EXAMPLE.findall(text)


def test_docs_api_has_examples() -> None:
    """The page has examples to replay."""
    assert len(examples()) >= 10


def test_every_example_in_docs_api_md_replays(api: Api) -> None:
    """Each request, sent in order to a fresh council, gets the status and fields shown."""
    council = api.council()
    keys = {
        "$ADMIN_KEY": council.admin["X-API-Key"],
        "$BROKER_KEY": council.broker["X-API-Key"],
        "$PROVIDER_KEY": api.provider_key(council, "argyll-homecare")["X-API-Key"],
    }
    for request, response in examples():
        head, _, body = request.partition("\n\n")
        method, path = head.splitlines()[0].split()
        headers = {}
        for line in head.splitlines()[1:]:
            name, value = (part.strip() for part in line.split(":", 1))
            headers[name] = keys.get(value, value)
        body = body.strip()
        content = (ROOT / body[1:]).read_bytes() if body.startswith("@") else body.encode()
        if content:
            headers["Content-Type"] = "application/json"
        got = api.client.request(method, path, content=content or None, headers=headers)
        status, _, shown = response.strip().partition("\n")
        assert got.status_code == int(status), f"{method} {path}: {got.text}"
        if shown.strip():
            _contains(json.loads(shown), got.json(), f"{method} {path}")
