"""Errors a user caused, with the Chinese message shown to them and the HTTP status."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action; never a server fault."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __reduce__(self) -> tuple[type[UserError], tuple[str], dict[str, str | None]]:
        # Keeps `field` when the writer process sends the error back (the default keeps
        # only the message).
        return type(self), (self.message,), {"field": self.field}


class Invalid(UserError):
    status = 422
    code = "invalid"


class NotFound(UserError):
    status = 404
    code = "not_found"


class Forbidden(UserError):
    """The admin's role or unit does not allow this."""

    status = 403
    code = "forbidden"


class Closed(UserError):
    status = 403
    code = "closed"


class Conflict(UserError):
    status = 409
    code = "conflict"


class Archived(UserError):
    """A receipt whose case was closed long ago: the item is kept only as an archive (档案)."""

    status = 410
    code = "archived"


class TooLarge(UserError):
    status = 413
    code = "too_large"


class Unsupported(UserError):
    status = 415
    code = "unsupported_type"


class TooMany(UserError):
    status = 429
    code = "rate_limited"


class Unavailable(UserError):
    status = 503
    code = "unavailable"
