"""Errors a user can fix, shown without a traceback."""


class UserError(ValueError):
    """A mistake in how carealloc was called (a missing option, an unknown id, ...)."""


class NotBuiltYetError(UserError):
    """A capability the product does not have yet; the message says which."""
