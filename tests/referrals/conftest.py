import pytest

from config.celery import app


@pytest.fixture
def tasks_in_process():
    """Tasks queued on commit run in this process, for tests that read their outcome.

    Without a broker (SQLite runs) they do anyway; with one, nothing else
    would consume them. Opt-in per test: the worker integration tests
    (test_worker.py) cover the real broker path.
    """
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
