from django.conf import settings


def test_healthz_reports_the_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] is True
    # No broker configured means tasks run in-process; with one, it must answer.
    assert body["broker"] is (True if settings.CELERY_BROKER_URL else None)


def test_healthz_says_unavailable_when_the_broker_is_down(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] is False
