"""No request, however hostile, gets a 500 or a traceback: random bodies, options and formats."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.web import create_app

APP = create_app({"RATE_RENDERS": 0, "RATE_SHARES": 0, "DATABASE": ":memory:"})
WORDS = [
    "FROM",
    "AS",
    "COPY",
    "--from=",
    "RUN",
    "--mount=type=bind,from=",
    "ADD",
    "ARG",
    "ONBUILD",
    "${A:-b}",
    "<<EOF",
    "EOF",
    "\\",
    "`",
    "\n",
    " ",
    "scratch",
    "0",
    '"',
    "'",
    "[",
    "]",
    "#",
    "# escape=`",
    "\r\n",
    "\ufeff",
    "<script>",
    "&#106;",
    "\\N",
    "alpine:3.20",
    "x",
]
dockerfiles = st.lists(st.sampled_from(WORDS) | st.text(max_size=5), max_size=40).map("".join)
values = (
    st.none()
    | st.text(max_size=12)
    | st.integers()
    | st.booleans()
    | st.lists(st.text(max_size=4), max_size=3)
)
bodies = st.fixed_dictionaries(
    {"dockerfile": dockerfiles | values},
    optional={
        "format": st.sampled_from(["json", "dot", "mermaid", "svg", "gif", ""]) | values,
        "view": st.sampled_from(["stages", "layers", "x"]) | values,
        "target": st.sampled_from(["a", "A", "stage-0", "../x"]) | values,
        "platform": st.sampled_from(["linux/arm64", "windows/amd64", "linux", "a/b/c/d"]) | values,
        "build_args": st.dictionaries(st.text(max_size=6), st.text(max_size=6) | values, max_size=3) | values,
        "extra": values,
    },
)
ALLOWED = {200, 400, 413, 414, 422, 429, 503}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_api_render_never_fails_with_a_500(body):
    client = APP.test_client()
    response = client.post("/api/render", data=json.dumps(body), content_type="application/json")
    assert response.status_code in ALLOWED, (response.status_code, body)
    if response.status_code != 200:
        error = response.get_json()["error"]
        assert isinstance(error["message"], str) and error["message"]
        assert "Traceback" not in error["message"]


@settings(max_examples=60, deadline=None)
@given(
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data", ""]),
)
def test_raw_bodies_never_fail_with_a_500(raw, content_type):
    client = APP.test_client()
    for path in ("/api/render", "/api/share", "/"):
        response = client.post(path, data=raw, content_type=content_type)
        assert response.status_code in ALLOWED, (path, response.status_code, raw)


@settings(max_examples=60, deadline=None)
@given(
    payload=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%", max_size=60
    ),
    suffix=st.sampled_from(["", ".svg", ".png", ".json", ".dot", ".mmd", ".txt", ".gif"]),
    version=st.sampled_from(["1", "0", "2", "x"]),
)
def test_link_paths_never_fail_with_a_500(payload, suffix, version):
    client = APP.test_client()
    for path in (f"/d/{version}/{payload}{suffix}", f"/s/{payload}{suffix}"):
        response = client.get(path)
        assert response.status_code in ALLOWED | {404}, (path, response.status_code)
