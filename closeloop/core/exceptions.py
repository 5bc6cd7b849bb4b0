class DomainError(Exception):
    """A rule a user broke; the message is shown to them as it is (form error or 4xx)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(DomainError):
    """The change collides with the current state: a stale version or a duplicate record.

    Pages show it like any DomainError; the API answers 409 so a client knows to re-read.
    """
