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


def test_healthz_says_how_far_behind_the_folds_are(client, alice):
    from referrals import tree

    lag = client.get("/healthz").json()["fold"]
    assert lag["members_behind"] == 1  # alice joined; no fold has counted her yet
    assert lag["seconds_behind"] >= 0
    tree.fold_all()
    lag = client.get("/healthz").json()["fold"]
    assert (lag["members_behind"], lag["seconds_behind"]) == (0, 0.0)
    assert lag["figures_rows_behind"] >= 1  # no campaign's figures are built yet


def test_ready_fails_while_migrations_are_pending(client, db):
    from django.db.migrations.recorder import MigrationRecorder

    ready = client.get("/healthz?ready")
    assert ready.status_code == 200 and ready.json()["migrations"] is True
    # As after deploying code whose last migration has not run (the rollback restores it).
    latest = MigrationRecorder.Migration.objects.filter(app="referrals").order_by("-id").first()
    latest.delete()
    pending = client.get("/healthz?ready")
    assert pending.status_code == 503
    assert pending.json()["migrations"] is False
    assert client.get("/healthz").status_code == 200  # liveness does not care
