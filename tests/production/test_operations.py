"""Operations basics: request id echoed and logged, one JSON line per request without personal
data; a full local file store gives a clear error, the chunk is retried, nothing half-written."""

import errno
import json
import logging
import os
import subprocess

import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile

from passnum.passes.models import PrintRun
from passnum.passes.tasks import print_chunk
from passnum.storage import AtomicFileSystemStorage, StorageUnavailable
from tests.passes.test_printing import paid_order

pytestmark = pytest.mark.django_db


def test_a_request_id_is_generated_echoed_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="passnum.requests"):
        response = client.get("/verifier/?code=PN-SECRET-CODE")
        given = client.get("/healthz", headers={"X-Request-ID": "proxy-1234.abc"})
        forged = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    generated = response["X-Request-ID"]
    assert len(generated) == 32
    assert given["X-Request-ID"] == "proxy-1234.abc"
    assert forged["X-Request-ID"] != "bad id\nwith newline" and len(forged["X-Request-ID"]) == 32

    lines = [record for record in caplog.records if record.name == "passnum.requests"]
    assert [r.request_id for r in lines] == [generated, "proxy-1234.abc", forged["X-Request-ID"]]
    first = lines[0]
    assert (first.route, first.method, first.status) == ("verifier/", "GET", response.status_code)
    assert first.duration_ms >= 0


def test_request_lines_are_json_with_the_organisation_and_no_personal_data(client, member_of, caplog):
    from passnum.observability import JsonFormatter, RequestIdFilter
    from tests.factories import OrganisationFactory

    organisation = OrganisationFactory(sponsor=True)
    user = member_of(organisation, email="jeanne.martin@example.org")
    client.force_login(user)
    with caplog.at_level(logging.INFO, logger="passnum.requests"):
        client.get("/sponsor/?q=jeanne.martin@example.org")
    (record,) = [r for r in caplog.records if r.name == "passnum.requests"]
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["organisation"] == organisation.pk and data["route"] == "sponsor/"
    assert data["status"] == 200 and data["request_id"]
    assert "jeanne" not in line and "example.org" not in line


@pytest.fixture
def full_disk(tmp_path, settings):
    """A real 64 KiB tmpfs as the local file store: a print PDF does not fit."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    settings.MEDIA_ROOT = mount
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def fill(folder):
    """Fills the tmpfs but for a few bytes: the disk is full."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, b"0" * 1024)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(descriptor)
    return filler


def test_the_local_store_refuses_with_a_clear_error_and_leaves_nothing(full_disk):
    storage = AtomicFileSystemStorage(location=full_disk)
    with pytest.raises(StorageUnavailable) as refused:
        storage.save("print/x/big.pdf", ContentFile(b"%PDF" + b"0" * 200_000))
    assert refused.value.code == "storage_unavailable"
    assert "plein ou indisponible" in refused.value.message
    assert isinstance(refused.value.__cause__, OSError) and refused.value.__cause__.errno == errno.ENOSPC
    assert [p for p in full_disk.rglob("*") if p.is_file()] == []  # no half file, no temporary file


def test_a_print_chunk_on_a_full_disk_is_retried_then_completes(full_disk, django_capture_on_commit_callbacks):
    order = paid_order(1, passes_per_booklet=5)
    run = PrintRun.objects.create(order=order, kind=PrintRun.Kind.PROOF, total_booklets=1, chunk_size=1)
    filler = fill(full_disk)

    outcome = print_chunk.apply(args=(run.pk, 0), retries=print_chunk.max_retries, throw=False)  # last try
    assert outcome.state == "FAILURE" and isinstance(outcome.result, StorageUnavailable)
    run.refresh_from_db()
    assert run.status != PrintRun.Status.DONE and not run.files.exists()
    assert run.error == "Lot 1 : Le stockage des fichiers est plein ou indisponible : le travail sera repris plus tard."
    assert [p for p in (full_disk / "print").rglob("*") if p.is_file()] == []  # nothing half-written

    with pytest.raises(Retry, match="Retry in 60s"):  # a first try is put back in the queue for later
        print_chunk.apply(args=(run.pk, 0), throw=False)

    filler.unlink()  # space freed
    assert print_chunk.apply(args=(run.pk, 0)).state == "SUCCESS"
    run.refresh_from_db()
    assert (run.status, run.error, run.files.count()) == (PrintRun.Status.DONE, "", 1)
