"""Expected errors, one convention everywhere: a machine-readable code and a message naming the field.

Services raise these; the GraphQL layer puts `code` (and `field`) into the error's extensions, the CLI
prints the message. Anything else is unexpected and reaches a client only as a generic error with a
request id.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def extensions(self) -> dict[str, str]:
        ext = {"code": self.code}
        if self.field:
            ext["field"] = self.field
        return ext


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Conflict(DomainError):
    code = "CONFLICT"


class Unavailable(DomainError):
    """A dependency (PostgreSQL, Redis) is unreachable; the caller may retry."""

    code = "SERVICE_UNAVAILABLE"
