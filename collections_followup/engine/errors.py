"""The one exception type of the engine's rules."""


class RuleError(ValueError):
    """Input a rule cannot work with.

    ``code`` says which rule is broken and ``values`` hold its values, so the
    caller can word the message in the user's language."""

    def __init__(self, code, message, **values):
        super().__init__(message)
        self.code = code
        self.values = values
