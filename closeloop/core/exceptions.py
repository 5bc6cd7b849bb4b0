class DomainError(Exception):
    """A rule a user broke; the message is shown to them as it is (form error or 4xx)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
