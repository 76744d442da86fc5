"""Domain errors: every refusal has a machine code and a French sentence a person understands."""


class DomainError(Exception):
    """A rule of the domain refused an action.

    ``code`` is stable and machine-readable (used by the API and the tests); ``message`` is
    the French sentence shown to the person; ``field`` ties the error to a form field.
    """

    code = "refused"
    message = "Cette action n'est pas possible."
    status = 400

    def __init__(self, message=None, *, code=None, field=None, status=None, **details):
        self.code = code or self.code
        # A refusal of ``passnum.refusals`` carries its own status.
        self.status = status or getattr(code, "status", None) or self.status
        self.message = message or self.message
        self.field = field
        self.details = details
        super().__init__(self.message)

    def as_dict(self):
        body = {"code": self.code, "message": self.message}
        body.update(self.details)
        return {"error": body}
