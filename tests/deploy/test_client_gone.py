"""A request whose client left before a worker got to it (under overload, waiting in gunicorn's
backlog) is answered 499 without any work: nothing recognised, nothing stored
(recognizer/web/clients.py). A client that waits is served as before."""

import base64
import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers.servers import logged, make_run, send_whole

from harness.server import request
from recognizer.models import Prediction

pytestmark = pytest.mark.deploy

ABANDONED = 10


@pytest.fixture(scope="module")
def one_worker(cassandra_keyspace, tmp_path_factory):
    """`make run` with a single worker, so that requests sent together wait for it in the backlog."""
    work = tmp_path_factory.mktemp("client-gone")
    with make_run(work, keyspace=cassandra_keyspace, WEB_CONCURRENCY="1",
                  RATE_LIMIT_PREDICT="100000/m") as running:
        yield running


def api_predict(png: bytes) -> tuple[str, dict, bytes]:
    return "/api/predict", {"Content-Type": "image/png"}, png


def upload_page(png: bytes) -> tuple[str, dict, bytes]:
    boundary = "numberfigure-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"images\"; filename=\"digit.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    return "/upload", {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


def old_draw_page(png: bytes) -> tuple[str, dict, bytes]:
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    return "/upload3", {"Content-Type": "application/json"}, json.dumps({"filedata": data_url}).encode()


@pytest.mark.parametrize("endpoint", [api_predict, upload_page, old_draw_page], ids=lambda e: e.__name__)
def test_requests_whose_client_left_store_nothing(one_worker, cassandra, digit_png, endpoint):
    port, log = one_worker
    png, _ = digit_png(1)
    photo, _ = digit_png(2, size=2000)  # tens of ms for the worker, while the others queue
    path, headers, body = endpoint(png)
    since = log.stat().st_size

    with ThreadPoolExecutor(1) as client:
        busy = client.submit(request, port, "POST", "/api/predict", photo, {"Content-Type": "image/png"})
        time.sleep(0.005)  # accepted first
        for _ in range(ABANDONED):
            send_whole(port, path, headers, body).close()  # a client that gave up waiting
        # Served after all of them (one worker, first come first served): a client that waits.
        status, answer, _ = request(port, "POST", path, body, headers)
        assert busy.result()[0] == 201

    assert status in (200, 201), answer[:300]
    served = Counter(entry["status"] for entry in logged(log, since, path))
    assert served == Counter({499: ABANDONED, status: 1 + (path == "/api/predict")})
    assert len(list(cassandra.execute(f"SELECT id FROM {Prediction.column_family_name()}"))) == 2
