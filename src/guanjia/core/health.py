"""What /healthz reports: each component's state, and overall ok when the database is."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import Heartbeat

log = logging.getLogger(__name__)


def database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"state": "ok", "vendor": connection.vendor}
    except Exception:  # any driver error means "down": logged, never shown (hosts, users)
        log.exception("health check: database unavailable")
        return {"state": "down", "vendor": connection.vendor}


def worker_state() -> dict:
    """The worker is ok when it ran the heartbeat task recently (the queue works end to end)."""
    try:
        beat = Heartbeat.objects.filter(name="worker").first()
    except Exception:
        return {"state": "unknown"}
    if beat is None:
        return {"state": "not_seen"}
    age = (timezone.now() - beat.seen_at).total_seconds()
    state = "ok" if age <= 3 * settings.WORKER_HEARTBEAT_SECONDS else "stale"
    return {"state": state, "last_seen": beat.seen_at.isoformat(), "age_s": round(age, 1)}


def gateway_state() -> dict:
    return {
        "state": "not_implemented",
        "port": settings.GATEWAY_PORT,
        "note": "JT/T 808 网关将在车辆实时监控功能中提供；端口参数 --gateway-port 已预留。",
    }


def report() -> dict:
    components = {
        "database": database_state(),
        "worker": worker_state(),
        "gateway": gateway_state(),
    }
    ok = components["database"]["state"] == "ok"
    return {"status": "ok" if ok else "error", "components": components}
