"""The share service (webapp/shares.py) on its own, and stored links' kept renders.

The service is used without a request: create, load, delete with tokens, stateless paths, the
editor's ``?s=``/``?d=``. A stored text's SVG/PNG, once drawn by one instance, is served by
another instance from the store without running ``dot``.
"""

from __future__ import annotations

import pytest

from webapp import config, links
from webapp.options import Options
from webapp.shares import ShareNotFound, ShareService, WrongToken, split_name, with_query
from webapp.web import create_app
from webapp.web.rendering import Renders

TEXT = "FROM alpine:3.20 AS base\nRUN echo kept\nFROM base\n"


@pytest.fixture
def service(tmp_path):
    settings = config.load(DATABASE=str(tmp_path / "shares.sqlite3"))
    renders = Renders(settings)
    s = ShareService(settings, str(tmp_path), lambda: renders)
    yield s
    s.store().close()


def test_create_load_delete_without_a_request(service):
    made = service.create(TEXT.encode(), Options(view="layers"))
    assert service.load(made.id) == (TEXT, Options(view="layers"))
    assert made.stateless_payload and links.decode(
        "1", made.stateless_payload, max_chars=8000, max_source=65536
    )
    with pytest.raises(WrongToken):
        service.delete(made.id, "not-the-token")
    service.delete(made.id, made.token)
    with pytest.raises(ShareNotFound):
        service.load(made.id)
    with pytest.raises(ShareNotFound):
        service.delete(made.id, made.token)


def test_the_editor_parameters(service):
    made = service.create(TEXT, Options())
    assert service.open_shared(made.id, None) == (TEXT, Options())
    path = service.stateless_path(TEXT, Options(target="base"))
    assert service.open_shared(None, path.removeprefix("/d/")) == (TEXT, Options(target="base"))
    assert service.open_shared("nope", None) is None
    assert service.open_shared(None, "1/!!!") is None


def test_share_urls_are_parsed_strictly():
    assert split_name("abc.svg") == ("abc", "svg") and split_name("abc") == ("abc", None)
    assert with_query(Options(), {"view": ["layers"]}) == Options(view="layers")
    for bad in ({"dpi": ["9"]}, {"view": ["layers", "stages"]}):
        with pytest.raises(Exception) as caught:
            with_query(Options(), bad)
        assert getattr(caught.value, "status", None) == 400


@pytest.mark.dot
def test_a_stored_render_is_kept_and_served_by_another_instance_without_dot(tmp_path, monkeypatch):
    database = str(tmp_path / "shares.sqlite3")
    first = create_app({"DATABASE": database, "RATE_SHARES": 0, "RATE_RENDERS": 0}).test_client()
    made = first.post("/api/share", json={"dockerfile": TEXT}).get_json()
    drawn = first.get(made["url"] + ".svg")
    assert drawn.status_code == 200
    png = first.get(made["url"] + ".png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")

    import webapp.render as render_module

    def no_dot(*args, **kwargs):
        raise AssertionError("the second instance must not draw")

    monkeypatch.setattr(render_module, "render", no_dot)
    second = create_app({"DATABASE": database, "RATE_SHARES": 0, "RATE_RENDERS": 0}).test_client()
    again = second.get(made["url"] + ".svg")
    assert again.status_code == 200 and again.data == drawn.data
    assert again.headers["ETag"] == drawn.headers["ETag"]
    assert second.get(made["url"] + ".png").data == png.data
    assert (
        second.delete(
            made["delete_url"], headers={"Authorization": "Bearer " + made["delete_token"]}
        ).status_code
        == 204
    )
    assert second.get(made["url"] + ".svg").status_code == 404
