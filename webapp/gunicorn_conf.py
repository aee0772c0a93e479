"""gunicorn settings for `make run`: bind from HOST/PORT, workers from WEBAPP_WORKERS or cores."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEBAPP_WORKERS", "0")) or multiprocessing.cpu_count() * 2 + 1
threads = 2
timeout = 60
accesslog = "-"
