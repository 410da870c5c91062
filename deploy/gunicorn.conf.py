"""gunicorn's settings for Passalong, the same wherever the site runs.

passalong-web.service, the Procfile, docker-compose.yml and make bench
(benchmarks/proxy.py) all start `gunicorn -c deploy/gunicorn.conf.py
config.wsgi`; only the environment differs:

GUNICORN_BIND     where nginx finds it (default 127.0.0.1:8000; docker: 0.0.0.0:8000;
                  on a Procfile platform that sets PORT and no GUNICORN_BIND: 0.0.0.0:$PORT)
WEB_CONCURRENCY   sync workers (default 2 per core: badge hits wait on the database)
GUNICORN_TIMEOUT  seconds a worker may spend on one request (default 600: see below)
"""

import multiprocessing
import os

_platform_port = os.environ.get("PORT")
bind = [
    os.environ.get("GUNICORN_BIND")
    or (f"0.0.0.0:{_platform_port}" if _platform_port else "127.0.0.1:8000")
]
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
# Sync workers: nginx buffers slow clients, so a worker is held only while
# the app runs. A worker busy longer than the timeout is killed and replaced;
# a streamed export is one request, and a 10,000,000-member campaign's
# members.csv takes about six minutes, hence ten (pages take milliseconds).
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 600))
graceful_timeout = 30
# nginx writes the access log; gunicorn keeps its own errors on stderr (journald).
accesslog = None
errorlog = "-"
# No gunicornc control socket: it would sit in $HOME, which the service user has not.
control_socket_disable = True
