"""The migration that introduced Damm's check flags every pass issued before it as carrying the
old mod-37 check, and no pass issued after it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from passnum.passes import codes
from passnum.passes.models import Pass
from tests.passes.test_services import paid_order

BEFORE = [("passes", "0005_print_delivery_and_purge")]


@pytest.mark.django_db(transaction=True)
def test_passes_issued_before_the_migration_keep_the_old_check():
    before = paid_order(1)
    old_ids = set(Pass.objects.filter(booklet__order=before).values_list("pk", flat=True))
    assert len(old_ids) == 10
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM passes_pass")
        assert cursor.fetchone()[0] == 10  # the rows stay; only the column goes
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert set(Pass.objects.filter(legacy_check=True).values_list("pk", flat=True)) == old_ids
    after = paid_order(1)
    new = Pass.objects.filter(booklet__order=after)
    assert new.count() == 10 and not new.filter(legacy_check=True).exists()
    assert all(codes.damm_valid(code) for code in new.values_list("code", flat=True))
