"""Shared fixtures: the vendored corpus, and the rule that CI never skips external tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus"
"""The vendored corpus Dockerfiles (``conformance/``, ``real/``, ``synthetic/``; see data/README.md)."""
BUILDKIT = DATA / "buildkit"
"""BuildKit's own output for each corpus file, ``<case>.json`` (see data/README.md)."""

# In CI (.ci/run sets REQUIRE_EXTERNAL_TOOLS=1) a missing tool is a failure, not a skip.
STRICT = os.environ.get("REQUIRE_EXTERNAL_TOOLS") == "1" or os.environ.get("CI") == "true"


def _need(program: str, marker: str) -> None:
    if shutil.which(program):
        return
    if STRICT:
        pytest.fail(f"{program} is required in CI for @{marker} tests but is not installed")
    pytest.skip(f"{program} is not installed")


def pytest_runtest_setup(item):
    if item.get_closest_marker("dot"):
        _need("dot", "dot")
    if item.get_closest_marker("browser"):
        _need(os.environ.get("CHROMIUM", "/usr/bin/chromium"), "browser")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The vendored corpus folder."""
    assert CORPUS.is_dir(), f"vendored corpus not found at {CORPUS}"
    return CORPUS


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, one per test module (tests/browser_util.py)."""
    from browser_util import chromium

    with chromium() as b:
        yield b
