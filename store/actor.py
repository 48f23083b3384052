"""Who submitted a command: recorded with it and in the metadata of every event it produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JWT, API_KEY, NONE = "jwt", "apikey", "none"


@dataclass(frozen=True)
class Actor:
    subject: str  # the token's `sub`, or the API key's name
    credential: str  # JWT, API_KEY, or NONE when authentication is off
    roles: tuple[str, ...] = ()
    expires: float | None = field(default=None, compare=False)  # a JWT's exp (Unix time); never recorded

    def metadata(self) -> dict[str, Any]:
        return {"subject": self.subject, "credential": self.credential, "roles": list(self.roles)}

    @staticmethod
    def from_metadata(value: Any) -> Actor:
        """The actor an event's metadata holds (events recorded before actors were kept hold a
        bare subject)."""
        if isinstance(value, dict):
            roles = tuple(value.get("roles") or ())
            return Actor(str(value.get("subject")), str(value.get("credential")), roles)
        return Actor(str(value or ANONYMOUS.subject), NONE)


ANONYMOUS = Actor("anonymous", NONE)
