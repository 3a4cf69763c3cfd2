"""The few kinds of error the apps' services raise, known to no domain: each app's errors subclass one, and the
API handler (``config.api_errors``) maps each kind to its HTTP status, so config imports no app."""


class DomainError(Exception):
    """A request the product refuses; the message says why, in a sentence a reader can act on."""


class InvalidInput(DomainError, ValueError):
    """The request's own input is wrong (400). ``field_path`` names where (``("params", "epochs")``); empty when
    the message says it all."""

    field_path: tuple[str, ...] = ()


class Gone(DomainError):
    """What the request names does not exist, or not for this reader (404)."""


class StateConflict(DomainError):
    """The request conflicts with the current state (409): another run is open, a version is not ready."""


class ServiceDown(DomainError):
    """A service the request needs is unreachable (503)."""
