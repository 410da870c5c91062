"""The tree's edges are kept by the database itself, not only by the admin."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from referrals.models import Member


def test_a_member_with_invitees_cannot_be_deleted_through_the_orm(alice, bob):
    with pytest.raises(ProtectedError):
        Member.objects.filter(pk=alice.pk).delete()
    assert Member.objects.filter(pk=alice.pk).exists()


def test_nor_with_raw_sql_behind_djangos_back(alice, bob):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1  # SQLite enforces foreign keys here too
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's foreign keys are checked at commit; ask for the check now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DELETE FROM {Member._meta.db_table} WHERE id = %s", [alice.pk])
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_key_check")  # deferred: checked at commit
            if cursor.fetchall():
                raise IntegrityError("FOREIGN KEY constraint failed")
    assert Member.objects.filter(pk=alice.pk).exists()
