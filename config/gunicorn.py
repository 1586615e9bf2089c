"""gunicorn's settings for the web container (`gunicorn -c config/gunicorn.py`).

The POS API and the member pages are CPU-bound Python with short database round trips, so
sync workers, about one per core plus one for the moments a worker waits on Postgres or Redis
(docs/BENCHMARKS.md, "POS API": 2, 3 and 4 sync workers measured on 2 cores). The app is
loaded once in the master before the workers fork (`preload_app`): workers start at once and
share the imported code's memory. WEB_CONCURRENCY overrides the worker count.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"
preload_app = True
accesslog = "-"
