"""The one error of the publish stage that a user can act on."""

from __future__ import annotations


class PublishError(RuntimeError):
    """The release could not be built or published; the message says what to do.

    Never carries a token: messages built from client errors are scrubbed of it first.
    """
