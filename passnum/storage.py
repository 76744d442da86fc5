"""File storage of Passnum: PDFs, print files, documents and exports go through ``STORAGES``.

The embedded default keeps a local folder (``MEDIA_ROOT``) written atomically; production can
point ``default`` at an S3-compatible object store (``PASSNUM_S3_BUCKET``…) so that several web
and worker hosts share their files.
"""

import errno
import os
import tempfile

from django.core.files import locks
from django.core.files.storage import FileSystemStorage

from passnum.errors import DomainError


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
