"""The render cache shared through Redis: one instance's render is every instance's, and a
Redis that is down is only a miss (tests/pg_util.py's sibling: a throw-away redis-server)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time

import pytest
from browser_util import free_port
from conftest import STRICT

from scripts.cluster_redis import RedisServer, available
from webapp.cache import RedisCache, RenderCache, SharedCache, open_cache


@pytest.fixture(scope="module")
def redis_server():
    if not available():
        if STRICT:
            pytest.fail("redis-server (Debian's redis-server package) is required in CI")
        pytest.skip("redis-server is not installed")
    folder = tempfile.mkdtemp(prefix="webapp-redis-")
    server = RedisServer(folder, free_port())
    server.start()
    atexit.register(server.stop)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_without_a_url_the_cache_is_local():
    assert isinstance(open_cache({"CACHE_BYTES": 1000, "REDIS_URL": ""}), RenderCache)


def test_a_render_put_by_one_instance_is_served_by_another(redis_server):
    one = open_cache({"CACHE_BYTES": 1 << 20, "REDIS_URL": redis_server.url})
    two = open_cache({"CACHE_BYTES": 1 << 20, "REDIS_URL": redis_server.url})
    assert isinstance(one, SharedCache)
    body = bytes(range(256)) * 10
    assert two.get("k1") is None
    one.put("k1", body, "image/png")
    assert two.get("k1") == (body, "image/png")
    assert two.local.get("k1") == (body, "image/png"), "a shared hit is kept locally too"


def test_entries_expire(redis_server):
    cache = RedisCache(redis_server.url, ttl=1)
    cache.put("short", b"<svg/>", "image/svg+xml")
    assert cache.get("short") == (b"<svg/>", "image/svg+xml")
    time.sleep(2.1)
    assert cache.get("short") is None


def test_a_redis_that_is_down_is_a_miss_not_an_error():
    cache = open_cache({"CACHE_BYTES": 1 << 20, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    started = time.monotonic()
    assert cache.get("k") is None
    cache.put("k", b"x", "text/plain")
    assert cache.get("k") == (b"x", "text/plain"), "the local LRU still works"
    assert time.monotonic() - started < 3
    assert cache.shared.ping() is False


@pytest.mark.dot
def test_apps_sharing_redis_draw_a_stateless_link_once(redis_server, monkeypatch):
    from webapp import links
    from webapp.options import Options
    from webapp.web import create_app

    settings = {"REDIS_URL": redis_server.url, "DATABASE": ":memory:", "RATE_RENDERS": 0}
    payload = links.encode("FROM alpine\nRUN echo redis\n", Options())
    path = f"/d/{links.CURRENT_VERSION}/{payload}.svg"
    first = create_app(settings).test_client().get(path)
    assert first.status_code == 200

    import webapp.render as render_module

    def no_dot(*args, **kwargs):
        raise AssertionError("the second instance must not draw")

    monkeypatch.setattr(render_module, "render", no_dot)
    second = create_app(settings).test_client().get(path)
    assert second.status_code == 200 and second.data == first.data
