"""gunicorn settings for `make run`, derived from the app's own settings (``webapp.config``).

- bind from HOST/PORT; workers from WEBAPP_WORKERS, else 2 x cores + 1;
- ``gthread`` workers that serve GET/HEAD themselves and hand every other request to a costly
  process of their own (:mod:`webapp.gunicorn_worker`): :func:`webapp.config.read_threads`
  threads for reads in the worker, :func:`webapp.config.worker_threads` in the costly process
  (MAX_RENDERS drawing, as many waiting briefly for a slot, two spare; the render gate answers
  503 at once past that), so /healthz and cached links never queue behind renders nor share a
  process with them (``threads`` below, the costly pool's size, only enters gunicorn's count of
  connections it may keep alive);
- ``limit_request_line`` long enough for the longest link the app issues (LINK_MAX_CHARS plus
  route, extension and query options); header fields long enough for a ``Referer`` holding such
  a link; start-up fails when LINK_MAX_CHARS exceeds what gunicorn can accept;
- the worker timeout leaves room for a render that runs to DOT_TIMEOUT.
"""

import math
import multiprocessing
import os

from webapp import config as _config  # "config" itself is a gunicorn setting

_settings = _config.load()

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(_settings["WORKERS"]) or multiprocessing.cpu_count() * 2 + 1
worker_class = "webapp.gunicorn_worker.ReadFirstWorker"
threads = _config.worker_threads(_settings)
limit_request_line = _config.request_line_limit(_settings)
limit_request_fields = 50
limit_request_field_size = limit_request_line + 1024
timeout = max(30, 2 * math.ceil(float(_settings["DOT_TIMEOUT"])) + 10)
graceful_timeout = 10
keepalive = 5
accesslog = "-"
