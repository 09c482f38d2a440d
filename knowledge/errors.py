"""The core's own exceptions: adapters (CLI, Discord) turn them into short messages for people."""


class ComputeDeskError(Exception):
    """Base class: its message is safe and meant to be shown to a user as is."""


class BadInputError(ComputeDeskError):
    """A question, file, URL or argument that cannot be used; the message says why."""


class IngestError(BadInputError):
    """One source could not be ingested; the rest of a batch goes on."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class UnsafeURLError(IngestError):
    """A URL (or a redirect hop) points somewhere URL ingestion must never go."""


class NotFoundError(ComputeDeskError):
    """A document, protocol or record that does not exist."""


class PermissionDeniedError(ComputeDeskError):
    """The caller may not change the knowledge base."""


class SourceUnavailableError(ComputeDeskError):
    """An external metrics source failed (down, slow, rate-limited or malformed)."""
