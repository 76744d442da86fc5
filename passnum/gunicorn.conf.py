"""gunicorn settings of the production image (``docker-compose.yml`` and the production test use
this same file). Values come from the environment where a host needs to change them."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "5"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
max_requests = 2000
max_requests_jitter = 200
timeout = 60
# Passnum writes its own request line (passnum.observability, JSON with the request id).
accesslog = None
errorlog = "-"
# Pass codes travel in URLs: every line gunicorn writes masks them (passnum/logmask.py).
logger_class = "passnum.gunicorn_logging.MaskedLogger"
# Temporary files of workers in memory, never in the read-only image.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
