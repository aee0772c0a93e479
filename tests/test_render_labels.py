"""Labels fit their boxes in Chromium although dot lays SVG out without pango's text measurement.

Every real corpus Dockerfile (vendored in tests/data/corpus/real), the app's examples and a file
of awkward text (wide capitals, symbols, CJK, every source shape) are drawn in both views by
``render()`` with a :class:`DotRunner`, as the server draws them, and every text's box is compared
with its shape's (scripts/check_labels.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_util import chromium

from scripts.check_labels import check, overflows
from webapp.render import DotRunner

pytestmark = [pytest.mark.browser, pytest.mark.dot]

pytest.importorskip("playwright.sync_api")

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = Path(__file__).resolve().parent.parent / "webapp" / "examples"
FILES = sorted((DATA / "corpus" / "real").glob("*.Dockerfile")) + sorted(EXAMPLES.glob("*.Dockerfile"))

AWKWARD = """\
ARG FROM_ARG
FROM --platform=linux/arm64 golang:1.22-alpine AS WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW
RUN MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM
ADD https://example.com/WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW.tar.gz?QQQQQQ=MMMMMMMMMMMM /x
ADD https://github.com/WWWWWWWWWWWW/MMMMMMMMMMMM.git#v1.0.0 /src
FROM scratch AS 中文中文中文中文中文
COPY --from=$FROM_ARG /a /b
COPY --from=WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW /x /x
ENV WWW="%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%@@@@@@@@@@@@@@@@@@@@@@@@@@"
FROM alpine:3.20
RUN --mount=type=cache,target=/root/.cache ★★★★★★★★★★★★★★★★★★ ☃☃☃☃☃☃☃☃☃☃☃☃☃
"""


@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        yield browser.new_page()


@pytest.fixture(scope="module")
def runner():
    with DotRunner() as runner:
        yield runner


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_labels_fit_their_boxes(page, runner, path):
    checked, problems = check(page, runner, path.read_text(encoding="utf-8", errors="replace"), path.name)
    assert checked > 3
    assert problems == []


def test_awkward_labels_fit_their_boxes(page, runner):
    checked, problems = check(page, runner, AWKWARD, "awkward")
    assert checked > 20
    assert problems == []


def test_the_check_sees_an_overflowing_label(page, runner):
    # a box fixed narrower than its text: the checker must notice, or the tests above prove nothing
    svg = runner.run('digraph g { a [shape=box, fixedsize=true, width=0.3, label="a long label"]; }', "svg")
    checked, bad = overflows(page, svg.decode())
    assert checked == 1 and len(bad) == 1 and bad[0]["over"] > 10
