"""The shared file store on a real S3 API server (``moto_server``, started by the test on a free
local port): a print file written by the print task lands in the bucket, is served by the
access-checked view to its sponsor only (another organisation gets 404) or by a short-lived signed
URL; a missing bucket gives a clear error, the chunk is retried and nothing is half-written."""

import subprocess
import time

import boto3
import pytest
import requests
from celery.exceptions import Retry
from django.urls import reverse

from clearing import services as clearing_services
from clearing.models import Statement
from clearing.tasks import render_statement_pdfs
from passnum.passes.models import PrintRun
from passnum.passes.tasks import print_chunk
from passnum.storage import StorageUnavailable
from tests.clearing.factories import paris, redemptions_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.mediators.factories import redeeming_site
from tests.passes.test_printing import paid_order
from tests.production.conftest import BIN, ROOT, free_port

pytestmark = pytest.mark.django_db

CREDENTIALS = {"aws_access_key_id": "passnum-test", "aws_secret_access_key": "passnum-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """A real S3 API server in a subprocess, for the module."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(endpoint, timeout=1)
            break
        except requests.ConnectionError:
            assert server.poll() is None and time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.2)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture(autouse=True)
def _local_media_in_tmp(settings, tmp_path):
    """Files written before the bucket is configured stay out of the working copy."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bucket_client(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)


def use_bucket(settings, endpoint, bucket):
    """``STORAGES["default"]`` as production sets it from ``PASSNUM_S3_*``."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "passnum.storage.SharedObjectStorage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 300,
                "signature_version": "s3v4",
                "file_overwrite": False,
            },
        },
    }


def keys(client, bucket):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def proof_run():
    order = paid_order(1, passes_per_booklet=5)
    return PrintRun.objects.create(order=order, kind=PrintRun.Kind.PROOF, total_booklets=1, chunk_size=1)


def admin_of(organisation):
    user = UserFactory(with_mfa=True)
    MembershipFactory(user=user, organisation=organisation, role="admin")
    return user


def test_a_print_file_lives_in_the_bucket_and_only_its_sponsor_gets_it(
    settings, tmp_path, s3_endpoint, bucket_client, client
):
    bucket_client.create_bucket(Bucket="passnum-files")
    use_bucket(settings, s3_endpoint, "passnum-files")
    run = proof_run()

    assert print_chunk.apply(args=(run.pk, 0)).state == "SUCCESS"

    (print_file,) = run.files.all()
    invoice = run.order.invoice  # the sponsor's invoice PDF went to the bucket too
    assert keys(bucket_client, "passnum-files") == sorted([print_file.file.name, invoice.pdf.name])
    stored = bucket_client.get_object(Bucket="passnum-files", Key=print_file.file.name)["Body"].read()
    assert stored.startswith(b"%PDF") and len(stored) == print_file.size
    assert not (tmp_path / "media").exists()  # nothing written locally

    url = reverse("sponsors:print_file", args=[print_file.pk])
    client.force_login(admin_of(run.order.programme.sponsor))
    response = client.get(url)
    assert response.status_code == 200 and response.content == stored
    assert "no-store" in response["Cache-Control"]

    client.force_login(admin_of(OrganisationFactory(sponsor=True)))
    assert client.get(url).status_code == 404

    # A signed URL works for a few minutes only; the bare object address is refused.
    signed = print_file.file.url
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=300" in signed
    assert requests.get(signed, timeout=5).content == stored
    assert requests.get(signed.split("?")[0], timeout=5).status_code == 403


def test_a_missing_bucket_is_a_clear_error_and_the_chunk_is_retried(settings, s3_endpoint, bucket_client, caplog):
    run = proof_run()
    use_bucket(settings, s3_endpoint, "passnum-absent")

    outcome = print_chunk.apply(args=(run.pk, 0), retries=print_chunk.max_retries, throw=False)  # last try
    assert outcome.state == "FAILURE" and isinstance(outcome.result, StorageUnavailable)
    run.refresh_from_db()
    assert run.status != PrintRun.Status.DONE and not run.files.exists()
    assert run.error == "Lot 1 : Le stockage des fichiers est plein ou indisponible : le travail sera repris plus tard."
    assert any("passnum-absent" in r.getMessage() and "NoSuchBucket" in r.getMessage() for r in caplog.records)

    with pytest.raises(Retry, match="Retry in 60s"):  # a first try is put back in the queue for later
        print_chunk.apply(args=(run.pk, 0), throw=False)

    bucket_client.create_bucket(Bucket="passnum-absent")  # the operator creates it
    assert keys(bucket_client, "passnum-absent") == []  # nothing half-written meanwhile
    assert print_chunk.apply(args=(run.pk, 0)).state == "SUCCESS"
    run.refresh_from_db()
    assert (run.status, run.error, run.files.count()) == (PrintRun.Status.DONE, "", 1)
    assert keys(bucket_client, "passnum-absent") == [run.files.get().file.name]


def test_statement_pdfs_wait_for_a_missing_bucket_then_are_stored_and_mailed_from_it(
    settings, s3_endpoint, bucket_client, mailoutbox, django_capture_on_commit_callbacks
):
    place = redeeming_site()
    MembershipFactory(organisation=place.organisation, role="finance", user__email="compta@example.org")
    redemptions_in(place, paris(2026, 10, 5), count=2)
    use_bucket(settings, s3_endpoint, "passnum-statements")
    with django_capture_on_commit_callbacks(execute=False):  # the PDF task is run by hand below
        (number,) = clearing_services.close_month(month="2026-10", now=paris(2026, 11, 1, 2)).numbers
    statement = Statement.objects.get(number=number)

    with pytest.raises(Retry, match="Retry in 60s"):  # the bucket is missing: tried again later
        render_statement_pdfs.apply(args=([statement.pk],), throw=False)
    statement.refresh_from_db()
    assert not statement.pdf and mailoutbox == []

    bucket_client.create_bucket(Bucket="passnum-statements")
    with django_capture_on_commit_callbacks(execute=True):
        assert render_statement_pdfs.apply(args=([statement.pk],)).result == 1
    statement.refresh_from_db()
    assert keys(bucket_client, "passnum-statements") == [statement.pdf.name]
    stored = bucket_client.get_object(Bucket="passnum-statements", Key=statement.pdf.name)["Body"].read()
    (message,) = mailoutbox  # its attachment read back from the bucket
    assert message.to == ["compta@example.org"] and message.attachments == [
        (f"{number}.pdf", stored, "application/pdf")
    ]
