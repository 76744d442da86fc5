"""File storage of Passnum: PDFs, print files, documents and exports go through ``STORAGES``.

The embedded default keeps a local folder (``MEDIA_ROOT``) written atomically; production can
point ``default`` at an S3-compatible object store (``PASSNUM_S3_BUCKET``…) so that several web
and worker hosts share their files.
"""

import errno
import logging
import os
import tempfile

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import locks
from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage

from passnum.errors import DomainError

logger = logging.getLogger("passnum.storage")


class StorageUnavailable(DomainError):
    code = "storage_unavailable"
    status = 503
    message = "Le stockage des fichiers est plein ou indisponible : le travail sera repris plus tard."


class AtomicFileSystemStorage(FileSystemStorage):
    """A local folder where a file appears whole or not at all.

    The content is written to a hidden temporary file of the same folder, flushed to disk, then
    linked under its final name: a full disk or a killed worker never leaves half a PDF under a
    name that the database could point to, and the temporary file is removed on any error.
    """

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        temporary = None
        try:
            os.makedirs(directory, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
            with os.fdopen(descriptor, "wb") as handle:
                locks.lock(handle, locks.LOCK_EX)
                for chunk in content.chunks() if hasattr(content, "chunks") else [content.read()]:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            while True:
                try:
                    os.link(temporary, full_path)  # never replaces an existing file
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
                    full_path = self.path(name)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise StorageUnavailable() from error
            raise
        finally:
            if temporary and os.path.exists(temporary):
                os.unlink(temporary)
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        return str(name).replace("\\", "/")


def _object_store_refusal(error):
    """A ``StorageUnavailable`` for errors of the object store itself (unreachable, missing bucket,
    refused credentials, server error), ``None`` for the rest (a missing file stays a missing file)."""
    if isinstance(error, BotoCoreError):  # endpoint unreachable, timeout, no credentials
        return StorageUnavailable()
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch") or status >= 500:
            return StorageUnavailable()
    return None


class SharedObjectStorage(S3Storage):
    """An S3-compatible bucket shared by every web and worker host (``PASSNUM_S3_*`` variables).

    An object appears whole or not at all (one PUT, or a multipart upload completed at the end).
    A missing bucket, refused credentials or an unreachable endpoint raise ``StorageUnavailable``:
    the job is retried later, the page says so, the log says why."""

    def _save(self, name, content):
        try:
            return super()._save(name, content)
        except (S3UploadFailedError, BotoCoreError, ClientError) as error:
            logger.error("Stockage S3 refusé (compartiment « %s ») : %s", self.bucket_name, error)
            raise StorageUnavailable() from error

    def _open(self, name, mode="rb"):
        try:
            return super()._open(name, mode)
        except (BotoCoreError, ClientError) as error:
            refusal = _object_store_refusal(error)
            if refusal is None:
                raise
            logger.error("Stockage S3 injoignable (compartiment « %s ») : %s", self.bucket_name, error)
            raise refusal from error

    def exists(self, name):
        try:
            return super().exists(name)
        except (BotoCoreError, ClientError) as error:
            logger.error("Stockage S3 injoignable (compartiment « %s ») : %s", self.bucket_name, error)
            raise StorageUnavailable() from error
