"""Who is acting, from where: the ambient context the audit trail reads.

The request middleware sets it for UI and API calls; CLI commands and imports set it with
`acting_as()`. A context variable, not a thread-local, so it is right under ASGI too.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Actor:
    source: str  # ui / api / cli / import / system
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    user: object | None = None
    request: object | None = None

    def current_user(self):
        if self.request is not None:
            user = getattr(self.request, "user", None)
            if user is not None and user.is_authenticated:
                return user
        return self.user


_actor: ContextVar[Actor | None] = ContextVar("guanjia_actor", default=None)


def current_actor() -> Actor:
    return _actor.get() or Actor(source="system")


@contextmanager
def acting_as(user=None, source: str = "cli", request=None, request_id: str | None = None):
    actor = Actor(source=source, user=user, request=request)
    if request_id:
        actor.request_id = request_id
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)
