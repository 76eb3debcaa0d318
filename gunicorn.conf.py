"""gunicorn settings of the image and of any plain deployment: `gunicorn -c gunicorn.conf.py numberfigure.wsgi`.

Every knob comes from the environment; see docs/configuration.md.
"""

import glob
import os

# Loopback unless told otherwise: reached directly, the app would believe any CLIENT_IP_HEADER from private
# networks. The image, whose nginx is another container, sets GUNICORN_BIND=0.0.0.0:8000.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Processes rather than threads: the work is CPU-bound under the GIL, and gunicorn's thread pool hands
# consecutive requests to different threads, which made one request at a time ~1.5 ms slower
# (bench/api.py: p50 8.1-9.3 ms with 1 thread, 8.6-13.1 ms with 4, on 2 cores). About 2 per core.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Sync workers, so that `timeout` is a real per-request deadline: a sync worker tells the master it is
# alive only between requests, so one busy for longer than `timeout` is killed (and replaced). A gthread
# worker's main thread keeps telling it while a request runs for ever. Sync workers read one request at a
# time and keep no connection alive: they belong behind a buffering proxy (nginx, deploy/nginx/), which
# holds slow clients and idle keep-alive connections instead of them. The default is gunicorn's sync worker
# waking one idle worker per connection (numberfigure/workers.py), so requests one at a time keep to two
# warm workers (bench/api.py: predict p50 at c1 4.8-6.3 ms against 5.7-6.8 ms with gunicorn's "sync").
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "numberfigure.workers.WarmSyncWorker")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))  # gthread workers only
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))

# No access log by default: the app logs one JSON line per request (numberfigure/observability.py) with
# its id, route, status, duration and worker; a second line per request cost ~0.1 ms of a worker's time.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # e.g. "-" for stdout
errorlog = "-"
# The method, not the path: a path may hold a prediction's id; the app's line (same request id) has the route.
access_log_format = '%(h)s "%(m)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'

# Not preloaded: each worker imports Django after the fork. The Cassandra driver's sockets and event-loop
# thread do not survive a fork, and with `lazy_connect` (settings) a worker connects on its first query, so
# every worker gets its own session. (Preloading would need a post_fork hook that rebuilds the connection.)
preload_app = False
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat file off the overlay disk
control_socket_disable = True  # gunicorn's admin socket (in $HOME) is not needed in a container

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    """Master, before any worker: start the multiprocess metrics from zero (old files would be added up)."""
    if _metrics_dir:
        os.makedirs(_metrics_dir, exist_ok=True)
        for path in glob.glob(os.path.join(_metrics_dir, "*.db")):  # only the client's files
            os.remove(path)


def child_exit(server, worker):
    """A worker ended: its live values (gauges) stop counting; its counters and histograms are kept."""
    if _metrics_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, _metrics_dir)
