"""
gunicorn settings for the portal: `gunicorn -c deploy/gunicorn.conf.py yaohai_portal.wsgi`.

`make run` and the systemd unit (deploy/systemd/yaohai-portal.service) both use this file;
options given on the command line win over it. Every value a deployment may change comes from
an environment variable (deploy/env.example). docs/deploy.md explains the choices;
https://docs.gunicorn.org/en/stable/settings.html lists the settings.
"""

import multiprocessing
import os


def _int(name, default):
    return int(os.environ.get(name, "").strip() or default)


# Where nginx (deploy/nginx/yaohai.conf) sends requests. Loopback on one machine; on an app
# server behind a load balancer, the address the balancer reaches (e.g. 10.0.0.11:8000).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")

# Sync workers, 2 × cores + 1 by default. Every page is CPU work in Python (rendering, or for
# a cached page a cache read) with the database on a short network hop, and nginx buffers
# slow clients, so a worker never waits on a phone's connection. docs/performance.md: two
# gthread workers with 4 threads each were no faster than 2 sync workers on 2 cores (the GIL),
# and threads multiply database connections. One request per worker also bounds what a worker
# crash loses: only the request it was serving.
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"

# A request that runs longer than this is killed with its worker. The slowest legitimate ones
# are staff imports of a 5,000-row spreadsheet (about 20 s on the benchmark machine) and large
# exports; public pages take milliseconds. nginx's proxy_read_timeout matches it.
timeout = _int("GUNICORN_TIMEOUT", 120)
# On restart or a new release (SIGTERM / SIGHUP), requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Behind nginx, which keeps client connections alive itself; sync workers close after each
# response anyway.
keepalive = 2

# Workers are replaced after about this many requests, a guard against slow memory growth.
# High on purpose: a worker serves some 1,200 cached pages a second (docs/performance.md), and
# each replacement starts with an empty local-memory page cache (unless REDIS_URL is set).
# The jitter keeps the workers from all being replaced at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 100000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 10000)

# Load Django once in the master, then fork: workers start in milliseconds (a replacement for
# a crashed worker serves at once rather than after a second of imports on a busy machine) and
# share the code's memory. The price: a new release needs a restart (`systemctl restart`), not
# SIGHUP, which would fork the old code again. Django opens database connections lazily, and
# `when_ready` below closes any the master might have opened, so no connection is shared
# between processes.
preload_app = True

# X-Forwarded-Proto (→ https) and similar headers are believed only from these addresses:
# nginx on the same machine, or the load balancer's address(es) on an app server. Never "*".
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The heartbeat file on tmpfs: a busy or read-only disk (ProtectSystem=strict) must not make a
# healthy worker look dead.
worker_tmp_dir = "/dev/shm"

proc_name = "yaohai-portal"

# No control socket (gunicorn 25+): systemd signals restart and stop the server, and by default
# every gunicorn of one account would share $HOME/.gunicorn/gunicorn.ctl (make run, CI, a
# second instance), which ProtectSystem=strict also makes unwritable.
control_socket_disable = True

# Logs to standard output and error: journald (systemd) or the terminal (make run) keeps them.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The client as nginx saw it (X-Real-IP; the connecting address is nginx), the request, the
# status, bytes, time in milliseconds and whether the page came from the page cache.
access_log_format = (
    '%({x-real-ip}i)s %(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms cache=%({x-page-cache}o)s "%(a)s"'
)


def when_ready(server):
    """The master serves nothing: drop any database connection it opened while loading, so
    that no forked worker inherits (and shares) it."""
    from django.db import connections

    connections.close_all()
