"""The gateway over the official nylas SDK, and webhook verification."""

from triage_tui.nylas.errors import (
    AuthError,
    BadRequest,
    BadResponse,
    Conflict,
    GatewayError,
    NotFound,
    RateLimited,
    ServerError,
    Timeout,
    Unreachable,
)

__all__ = [
    "AuthError", "BadRequest", "BadResponse", "Conflict", "GatewayError", "NotFound",
    "RateLimited", "ServerError", "Timeout", "Unreachable",
]
