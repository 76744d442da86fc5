"""The domain error of the mediators app."""

from passnum.errors import DomainError


class SiteError(DomainError):
    code = "site_refused"
