"""Backups that restore (docs/operations.md): ``pg_dump -Fc`` of the test database, restored
with ``pg_restore`` into a new database, where the ledger balances and every document number
series is still gapless."""

import subprocess
import uuid

import psycopg
import pytest
from django.db import connection

from clearing import services as clearing_services
from clearing.models import CreditNote, Statement, SubscriptionInvoice
from passnum.numbering.models import DocumentCounter
from passnum.numbering.services import format_number
from sponsors.models import Order, SponsorInvoice
from tests.clearing.factories import paris, redemptions_in
from tests.mediators.factories import redeeming_site
from tests.passes.test_printing import paid_order
from tests.production.conftest import BIN, ROOT, database_url, process_env

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTS = {"FAC": SponsorInvoice, "REL": Statement, "AV": CreditNote, "ABO": SubscriptionInvoice, "CMD": Order}


def connection_args():
    db = connection.settings_dict
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    return args, {"PGPASSWORD": db["PASSWORD"] or ""}


@pytest.fixture
def restored_database(tmp_path):
    """Dumps the test database and restores the dump into a new database; dropped at the end."""
    args, password = connection_args()
    env = {"PATH": "/usr/bin:/bin", **password}
    dump = tmp_path / "passnum.dump"
    source = connection.settings_dict["NAME"]
    subprocess.run(["pg_dump", "-Fc", "--no-owner", *args, "-f", str(dump), source], check=True, env=env)
    target = f"{source}_restored_{uuid.uuid4().hex[:6]}"
    subprocess.run(["createdb", *args, target], check=True, env=env)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", *args, "-d", target, str(dump)], check=True, env=env
        )
        yield target
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", *args, target], check=True, env=env)


@pytest.fixture
def data_worth_restoring(db):
    places = [redeeming_site() for _ in range(3)]
    for place in places:
        redemptions_in(place, paris(2026, 10, 5), count=2)
    clearing_services.close_month(month="2026-10", now=paris(2026, 11, 1, 2))
    for _ in range(2):
        paid_order(1)  # sponsor invoices
    assert Statement.objects.count() == 3 and SponsorInvoice.objects.count() == 2


def test_backup_then_restore_keeps_the_books(data_worth_restoring, restored_database, tmp_path):
    restored_url = database_url().rsplit("/", 1)[0] + f"/{restored_database}"

    # The ledger check of the operators, run on the restored database.
    check = subprocess.run(
        [str(BIN / "python"), "manage.py", "check_ledger"],
        cwd=ROOT,
        env=process_env(tmp_path / "media", DATABASE_URL=restored_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "écart" in check.stdout

    # Every series of every year: numbers 1…last, each once, nothing missing.
    with psycopg.connect(restored_url) as restored:
        counters = restored.execute(
            f"SELECT series, year, organisation_id, last_number FROM {DocumentCounter._meta.db_table}"  # noqa: S608
        ).fetchall()
        assert {series for series, *_ in counters} >= {"FAC", "REL", "CMD"}
        for series, year, owner, last in counters:
            table = DOCUMENTS[series]._meta.db_table
            # A sponsor's own series (orders) counts only that sponsor's documents.
            owned = "AND sponsor_id = %s" if owner is not None else ""
            numbers = [
                row[0]
                for row in restored.execute(
                    f"SELECT number FROM {table} WHERE number LIKE %s {owned} ORDER BY number",  # noqa: S608
                    [f"{series}-{year}-%", *([owner] if owner is not None else [])],
                )
            ]
            expected = [format_number(series=series, year=year, sequence=n) for n in range(1, last + 1)]
            assert numbers == expected, (series, year, owner)
        # The restored rows are the originals.
        restored_statements = restored.execute(
            f"SELECT number, total_cents FROM {Statement._meta.db_table} ORDER BY number"  # noqa: S608
        ).fetchall()
    assert restored_statements == list(Statement.objects.order_by("number").values_list("number", "total_cents"))
