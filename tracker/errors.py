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


class ValidationProblems(ValidationFailed):
    """Several inputs broke their rules: each refusal keeps its field, and a form shows
    them all at once (collected with `gathered`)."""

    def __init__(self, problems: list[ValidationFailed]):
        super().__init__(" ".join(str(problem) for problem in problems))
        self.problems = problems


class gathered:  # noqa: N801  (used as a context: `with gathered() as check:`)
    """Check several inputs and refuse with every problem, not only the first:

        with gathered() as check:
            name = check(clean_name, raw_name)
            day = check(clean_day, raw_day)

    `check(f, *args)` gives f's result, or None when it refused; leaving the block raises
    the refusal (one) or `ValidationProblems` (several)."""

    def __init__(self):
        self.problems: list[ValidationFailed] = []

    def __enter__(self):
        return self.check

    def check(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValidationFailed as problem:
            self.problems.extend(getattr(problem, "problems", None) or [problem])
            return None

    def __exit__(self, kind, error, trace):
        if kind is None and self.problems:
            if len(self.problems) == 1:
                raise self.problems[0]
            raise ValidationProblems(self.problems)
        return False


class CountedRefusal(ValidationFailed):
    """A refusal whose own bookkeeping must stay (a wrong code's try): the transaction
    commits what was written before it was raised, then the refusal goes on as any other.
    Raise it only before the refused action has written anything else."""


class RequestBudgetSpent(ValidationFailed):
    """This request has done all the work it may (pictures decoded, entries read): what is
    left waits for the next request, so no request holds a worker, or others, for long."""
