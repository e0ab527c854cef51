"""What /healthz reports: each component's state, and overall ok when the database is."""

from __future__ import annotations

import json
import logging
import time

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


GATEWAY_STALE_SECONDS = 15  # the gateway writes its status file every 2 s


def _gateway_files() -> list[dict]:
    found = []
    for path in sorted((settings.HOME / "run").glob("gateway-*.json")):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):  # being replaced right now, or half-written by a crash
            continue
    return found


def gateway_state() -> dict:
    """From the status files the JT/T 808 gateways write (guanjia.telemetry.gateway)."""
    gateways = []
    now = time.time()
    for status in _gateway_files():
        age = now - status.get("updated", 0)
        state = status.get("state", "unknown")
        if state == "running" and age > GATEWAY_STALE_SECONDS:
            state = "stale"
        counters = status.get("counters", {})
        gateways.append(
            {
                "state": state,
                "port": status.get("port"),
                "connections": status.get("connections", 0),
                "authenticated": status.get("authenticated", 0),
                "positions": counters.get("positions", 0),
                "acks": counters.get("acks", 0),
                "bad_check": counters.get("bad_check", 0),
                "dropped": counters.get("dropped", 0) + counters.get("rate_limited", 0),
                "age_s": round(age, 1),
            }
        )
    running = [g for g in gateways if g["state"] == "running"]
    if not gateways:
        return {"state": "not_running", "port": settings.GATEWAY_PORT}
    main = next((g for g in gateways if g["port"] == settings.GATEWAY_PORT), gateways[0])
    if running and main["state"] != "running":
        main = running[0]
    result = dict(main)
    if len(gateways) > 1:
        result["gateways"] = gateways
    return result


def report() -> dict:
    components = {
        "database": database_state(),
        "worker": worker_state(),
        "gateway": gateway_state(),
    }
    ok = components["database"]["state"] == "ok"
    return {"status": "ok" if ok else "error", "components": components}
