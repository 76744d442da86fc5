"""gunicorn's access log, with pass codes masked (see ``passnum.logmask``)."""

from gunicorn.glogging import Logger

from passnum.logmask import mask_codes


class MaskedLogger(Logger):
    """Every atom of the access-log line (request line, path, query string, referer…) masked."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_codes(value) for key, value in atoms.items()}
