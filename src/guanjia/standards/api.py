"""REST API of the standards library under /api/v1/standards/."""

from ninja import Router

router = Router(tags=["标准库"])
