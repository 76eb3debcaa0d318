"""Every fixture the suite shares: the real Cassandra node in an isolated test keyspace, MNIST digits,
hostile images, a real Chromium. Plain helpers and factories are in ``tests/helpers``.

Tests are sorted by feature (api, history, review, drift, pages, web, storage, ml, preprocessing, security,
layout, deploy, faults); what a test needs is said by markers (``cassandra``, ``browser``, ``deploy``,
``long_fault``, ``slow``), so ``pytest -m "not cassandra"`` runs the tests that need no node (docs/testing.md).
"""

import io
import os
import threading
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

import helpers
import numpy as np
import pytest
from cassandra import WriteTimeout, WriteType
from cassandra.cluster import Cluster, NoHostAvailable, Session
from cassandra.cqlengine import connection as cqlengine_connection
from django.conf import settings as django_settings
from django.db import connections
from helpers import images as hostile_images
from helpers.browser import DrawPage
from PIL import Image

from recognizer.ml import doubt, mnist
from recognizer.ml.runtime import get_classifier
from recognizer.models import (
    BucketEntry,
    CountedPrediction,
    DriftCounter,
    DriftDay,
    FilterEntry,
    IdempotencyRecord,
    MonthEntry,
    OriginalChunk,
    Prediction,
    RecountHeldId,
    RecountHold,
    ReviewEntry,
    ReviewHour,
    ReviewLease,
    ReviewPass,
    StatCounter,
)
from recognizer.preprocessing import to_png
from recognizer.review.scoring import score_next
from recognizer.services import prediction_store
from recognizer.storage import cql, outbox, review, stats, writes
from recognizer.storage.keys import keys_of
from recognizer.storage.records import StoredPrediction, from_rows

SCANNED = 3000  # MNIST test digits scored once per run to find doubtful ones (review queue tests)
TABLES = (Prediction, OriginalChunk, MonthEntry, BucketEntry, FilterEntry, StatCounter, IdempotencyRecord,
          CountedPrediction, RecountHold, RecountHeldId, DriftCounter, DriftDay, ReviewEntry, ReviewHour,
          ReviewLease, ReviewPass)


@pytest.fixture(scope="session")
def cassandra_keyspace(django_db_setup, django_db_blocker):
    """Create test_<keyspace> with all tables once per run (sync_cassandra), drop it at the end.

    Tests marked ``django_db(databases=[..., "cassandra"])`` (the browser tests, whose live server
    needs it) make pytest-django create it instead; then it is reused as it is.
    """
    creation = connections["cassandra"].creation
    settings_dict = connections["cassandra"].settings_dict
    if settings_dict["NAME"] == creation._get_test_db_name():
        yield settings_dict["NAME"]
        return
    old_name = settings_dict["NAME"]
    with django_db_blocker.unblock():
        name = creation.create_test_db(verbosity=0, autoclobber=True)
        yield name
        stats.flush()  # not at exit, into a dropped keyspace
        creation.destroy_test_db(old_name, verbosity=0)


@pytest.fixture
def cassandra(cassandra_keyspace):
    """Empty prediction tables for one test."""
    stats.flush()  # an earlier test's pending stats must not land in this one's tables
    session = connections["cassandra"].connection.session
    for model in TABLES:
        session.execute(f"TRUNCATE {cassandra_keyspace}.{model.__table_name__}")
    writes.listed.clear()  # what the process remembers having written is gone
    return session


def check_store(session, keyspace: str) -> list:
    """Asserts that every filter-index entry and every stats total in ``keyspace`` agrees with the
    rows (no partial row, no row left marked deleted, no stale or missing entry, no count off);
    returns the rows. Counts flushed by their processes only."""
    rows = from_rows(list(session.execute(f"SELECT * FROM {keyspace}.{Prediction.__table_name__}")))
    assert all(row.digit is not None and row.source and row.input_png for row in rows)  # no partial rows
    assert not any(row.deleted for row in rows)  # every won delete was carried out
    listed = defaultdict(set)
    for entry in session.execute(f"SELECT key, id FROM {keyspace}.{FilterEntry.__table_name__}"):
        listed[entry["key"]].add(entry["id"])
    expected = defaultdict(set)
    for row in rows:
        for key in keys_of(row):
            expected[key].add(row.id)
    assert dict(listed) == dict(expected)
    totals = {(entry["metric"], entry["name"]): entry["value"]
              for entry in session.execute(f"SELECT * FROM {keyspace}.{StatCounter.__table_name__}")}
    for table, name in ((DriftCounter, "{day}|{model_version}|{figure}|{name}"),
                        (DriftDay, "{day}|{model_version}|count|all")):
        totals.update({("drift", name.format(**entry)): entry["value"]
                       for entry in session.execute(f"SELECT * FROM {keyspace}.{table.__table_name__}")})
    counted = Counter()
    for row in rows:
        counted.update({(str(metric), name): amount for (metric, name), amount in stats.contribution(row).items()})
    assert {key: value for key, value in totals.items() if value and key[0] != "confidence"} == {
        key: value for key, value in counted.items() if key[0] != "confidence"}
    return rows


@pytest.fixture
def store_matches_rows(cassandra, cassandra_keyspace):
    """``store_matches_rows()``: ``check_store`` on the test keyspace, once this process's stats are written."""

    def check() -> list:
        stats.flush()
        return check_store(cassandra, cassandra_keyspace)

    return check


@pytest.fixture
def store_checker():
    """``check_store``, for the tests of other Cassandra layouts (tests/faults)."""
    return check_store


@pytest.fixture
def writes_applied_then_timed_out(monkeypatch):
    """``with writes_applied_then_timed_out(): ...``: Cassandra applies each batch, then the client
    is told it timed out (a coordinator that lost its replicas' answers)."""
    real = cql.run_batch

    def applied_then_timed_out(statements, **options):
        real(statements, **options)
        raise WriteTimeout("timed out", write_type=WriteType.BATCH)

    @contextmanager
    def active():
        with monkeypatch.context() as patch:
            patch.setattr(cql, "run_batch", applied_then_timed_out)
            yield

    return active


@pytest.fixture(autouse=True)
def own_outbox(settings, tmp_path, monkeypatch):
    """Each test spools into a folder of its own, and drains it by hand (``outbox.drain()``)."""
    settings.NUMBERFIGURE_OUTBOX_DIR = tmp_path / "outbox"
    monkeypatch.setattr(outbox, "ensure_drainer", lambda: None)


@pytest.fixture(scope="session")
def mnist_test():
    """The 10,000 MNIST test images and labels, read from the shared data folder."""
    data_dir = mnist.find_data_dir()
    assert data_dir is not None, "MNIST IDX files not found: set MNIST_DIR"
    return mnist.load_mnist(data_dir)[1]


@pytest.fixture(scope="session")
def digit_png(mnist_test):
    """``digit_png(i)``: MNIST test image i as a browser-canvas-like PNG (dark ink on white, 280 px)."""
    images, labels = mnist_test

    def make(index: int, *, size: int = 280, fmt: str = "PNG") -> tuple[bytes, int]:
        picture = Image.fromarray(255 - images[index]).resize((size, size), Image.Resampling.BILINEAR)
        out = io.BytesIO()
        picture.save(out, fmt)
        return out.getvalue(), int(labels[index])

    return make


@pytest.fixture(scope="session")
def images():
    """The hostile image makers (``helpers.images``)."""
    return hostile_images


@pytest.fixture(scope="session")
def seven(digit_png):
    """A good drawing: MNIST test image 0 (a 7) as a 280 px PNG, dark ink on white."""
    png, label = digit_png(0)
    assert label == 7
    return png


@pytest.fixture
def stored_rows(cassandra_keyspace):
    """``stored_rows()``: predictions and originals stored right now (a refused request adds none)."""

    def count() -> tuple[int, int]:
        return tuple(helpers.stored_rows(cassandra_keyspace, table) for table in ("predictions_by_bucket",
                                                                                  "original_chunks"))

    return count


# --- a real Chromium (Debian's, never Playwright's download), for tests marked ``browser`` ------------

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    """A real Chromium (Debian's, never Playwright's download) driven through Playwright's sync API."""
    # Playwright's sync API runs an event loop in the test thread; Django then refuses its database calls
    # there (flushing the test database, reading Cassandra back) unless told that this is deliberate.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    from playwright.sync_api import sync_playwright  # only where a browser test runs

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts: ``new_page(has_touch=True, ...)``; closed after the test."""
    contexts, errors = [], []

    def open_page(**options):
        context = browser.new_context(**{"viewport": {"width": 1000, "height": 800}, **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(error))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def screenshot():
    """``screenshot(page, name)`` saves a full-page test-artifacts/<name>.png (gitignored)."""
    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path
    return save


@pytest.fixture
def open_draw(new_page, live_server):
    """Open the draw page in a new context: ``open_draw(has_touch=True)``."""
    def open_page(**options) -> DrawPage:
        page = new_page(**options)
        page.goto(f"{live_server.url}/draw")
        return DrawPage(page)
    return open_page


@pytest.fixture
def draw_page(open_draw) -> DrawPage:
    return open_draw()


@pytest.fixture(scope="session")
def doubtful(mnist_test):
    """MNIST test digits the model doubts, most doubtful first: (image, label, probabilities, doubt)."""
    images, labels = mnist_test
    inputs = mnist.to_unit(images[:SCANNED])
    classifier = get_classifier()
    probabilities = classifier.predict(inputs)
    doubts = np.array(doubt.doubts_of(classifier, probabilities, inputs))
    order = [int(i) for i in np.argsort(-doubts) if doubts[i] >= review.QUEUE_FROM]
    return [(images[i], int(labels[i]), [float(p) for p in probabilities[i]], float(doubts[i])) for i in order]


@pytest.fixture
def queue(cassandra, doubtful):
    """``queue(n, source=...)``: store the ``n`` most doubtful digits (oldest first), score them; the stored."""

    def fill(count: int, *, source: str = "draw", start: int = 0) -> list[StoredPrediction]:
        stored = []
        for image, _, probabilities, _ in doubtful[start:start + count]:
            png = to_png(mnist.to_unit(image))
            stored.append(prediction_store(source=source, filename=None, content_type="image/png", image=png,
                                           input_png=png, probabilities=probabilities, model_version="test",
                                           latency_ms=1.0))
        while score_next(settle=0):
            pass
        return stored

    return fill


@pytest.fixture(autouse=True)
def node_only_when_marked(request, monkeypatch):
    """A test without the ``cassandra`` marker that connects to the configured node, or queries it
    through a session an earlier test opened (from the test's own thread), fails and says so, whether
    a node runs or not: so ``-m "not cassandra"`` needs none, and such a test behaves the same with a
    node as without one. A test that asks for ``node_down`` meets the node as down instead (refused,
    without failing). Connecting elsewhere (a port where nothing listens, in the outage tests) is left alone."""
    if request.node.get_closest_marker("cassandra"):
        yield
        return
    config = django_settings.DATABASES["cassandra"]
    hosts, port = set(config["HOST"].split(",")), config["OPTIONS"]["connection"]["port"]
    connect, execute_async, reached = Cluster.connect, Session.execute_async, []
    test_thread = threading.current_thread()  # not an earlier test's background flush of its stats

    def refuse(cluster) -> None:
        if (threading.current_thread() is test_thread and cluster.port == port
                and hosts & {str(point) for point in cluster.contact_points}):
            reached.append(cluster.contact_points)
            raise NoHostAvailable("a test without the cassandra marker used the node", {})

    def guarded_connect(cluster, *args, **kwargs):
        refuse(cluster)
        return connect(cluster, *args, **kwargs)

    def guarded_execute_async(session, *args, **kwargs):
        refuse(session.cluster)
        return execute_async(session, *args, **kwargs)

    monkeypatch.setattr(Cluster, "connect", guarded_connect)
    monkeypatch.setattr(Session, "execute_async", guarded_execute_async)
    yield
    for refused in cqlengine_connection._connections.values() if reached else ():
        refused.failed_at = None  # the refusal was this test's, not the node's: the next test connects afresh
    assert not reached or "node_down" in request.fixturenames, (
        f"used Cassandra at {reached[0]} without the cassandra marker: mark the test, or ask for node_down")


@pytest.fixture
def node_down():
    """The configured node, for a test without the ``cassandra`` marker, refuses as if it were down
    (``node_only_when_marked``): what the app does then is what the test is about, or beside it."""


def pytest_collection_modifyitems(items):
    """Every test that needs the Cassandra node carries the ``cassandra`` marker, so that
    ``pytest -m "not cassandra"`` runs the fast tests alone. A test needs the node when it uses the
    test keyspace (``cassandra_keyspace``, directly or through ``cassandra``) or is a fault test
    (nodes of its own); the few that reach the node another way (a gunicorn subprocess) are marked
    by hand."""
    faults = Path(__file__).parent / "faults"
    for item in items:
        if "cassandra_keyspace" in getattr(item, "fixturenames", ()) or faults in Path(item.path).parents:
            item.add_marker(pytest.mark.cassandra)  # tests/faults start nodes of their own
