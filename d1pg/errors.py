"""The one exception type that reaches a person: a clear one-line message, never a traceback."""


class D1pgError(Exception):
    """A problem the user can act on. ``str(err)`` is the whole message, one line.

    ``exit_code`` follows the tasks' convention: 1 a check failed, 2 bad usage or input,
    3 the database refused or failed.
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None):
        super().__init__(" ".join(message.split()))
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(D1pgError):
    """The backup file (or an option) is wrong: exit code 2."""

    exit_code = 2


class DatabaseError(D1pgError):
    """The database refused or failed: exit code 3."""

    exit_code = 3


class CheckFailed(D1pgError):
    """A validation check found offending rows: exit code 1."""

    exit_code = 1
