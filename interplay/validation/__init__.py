"""The validation gate over generated dialogues (Great Expectations 1.x, in code, offline).

Importing this package is cheap (Great Expectations is imported by :mod:`.runner` only), so the
CLI can catch :class:`ValidationFailed` without paying for it. Entry point:
:func:`interplay.validation.runner.run_validation`.
"""


class ValidationFailed(RuntimeError):
    """A critical expectation failed on the gated dialogues; the message lists each failure."""


__all__ = ["ValidationFailed"]
