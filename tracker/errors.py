"""Domain exceptions: raised by services with a message a coordinator can read."""


class DomainError(Exception):
    """A refused action. `str(error)` is shown to the user as it is."""

    status_code = 400


class NotFound(DomainError):
    status_code = 404


class IllegalTransition(DomainError):
    status_code = 409


class Conflict(DomainError):
    """The data changed under the user (a stale edit) or a unique value is taken."""

    status_code = 409


class ValidationFailed(DomainError):
    """Input broke a rule; `field` names the input it concerns, when there is one."""

    def __init__(self, message: str, field: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.field = field
        # The message without the value, for a report that names the value itself.
        self.reason = reason or message


class CountedRefusal(ValidationFailed):
    """A refusal whose own bookkeeping must stay (a wrong code's try): the transaction
    commits what was written before it was raised, then the refusal goes on as any other.
    Raise it only before the refused action has written anything else."""


class RequestBudgetSpent(ValidationFailed):
    """This request has done all the work it may (pictures decoded, entries read): what is
    left waits for the next request, so no request holds a worker, or others, for long."""
