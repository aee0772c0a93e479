"""gunicorn entry for tests/test_attacks_web.py: the real app, its drawing step observable.

``create()`` wraps the API's render step: each call is logged to ``$RENDER_LOG`` (one line per
call, so a test can count how often Graphviz was asked) and sleeps ``$SLOW_RENDER_SECONDS``
first (a slow or hung ``dot`` without depending on how dense a graph must be to be slow).
"""

from __future__ import annotations

import os
import time

from webapp.web import api, create_app


def create():
    delay = float(os.environ.get("SLOW_RENDER_SECONDS", "0"))
    log = os.environ.get("RENDER_LOG")
    real = api.render

    def observed(*args, **kwargs):
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write("render\n")
        if delay:
            time.sleep(delay)
        return real(*args, **kwargs)

    api.render = observed
    return create_app()
