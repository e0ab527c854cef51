"""Which terminals may talk to the gateway, and their auth codes.

The gateway keeps the register's terminal keys (Vehicle.terminal_key → vehicle id, agency
id) and the issued auth codes (Terminal.key → auth_code) in memory, refreshed every
`registry_refresh_s` seconds, so the event loop answers most frames from dicts. The
blocking methods (`refresh`, `lookup`, `register`, `authenticate`, `unregister`, `touch`)
run ORM queries and are called through `asyncio.to_thread`, never on the loop.

Registration (0x0100 → 0x8100, JT/T 808-2013 表 8): a terminal number that is not in the
register gets result 4 (终端数据库中无该终端); a car disposed of gets 2 (数据库中无该车辆);
a terminal already registered by another device (another terminal ID) gets 3; otherwise 0
with the auth code, the same one again for a device that registers twice (its first 0x8100
may have been lost).
"""

from __future__ import annotations

import secrets
import threading
import time

from django.db import close_old_connections, transaction
from django.utils import timezone

REG_OK, REG_VEHICLE_TAKEN, REG_NO_VEHICLE, REG_TERMINAL_TAKEN, REG_NO_TERMINAL = range(5)
MISS_TTL = 30.0  # an unknown key is looked up in the database at most this often


class Registry:
    def __init__(self):
        self.vehicles: dict[str, tuple[int, int]] = {}  # terminal key → (vehicle, agency)
        self.auth: dict[str, str] = {}  # terminal key → auth code
        self._misses: dict[str, float] = {}
        self._mutex = threading.Lock()
        self.loaded_at = 0.0

    # -- memory (loop-safe) ------------------------------------------------------------------

    def vehicle_of(self, key: str) -> tuple[int, int] | None:
        return self.vehicles.get(key)

    def known(self, key: str) -> bool | None:
        """True/False when memory knows; None when the database must be asked."""
        if key in self.vehicles:
            return True
        seen = self._misses.get(key)
        if seen is not None and time.monotonic() - seen < MISS_TTL:
            return False
        return None

    def check_auth(self, key: str, code: str) -> bool | None:
        """True/False from memory; None when the database must be asked."""
        have = self.auth.get(key)
        if have is None:
            return None
        return secrets.compare_digest(have, code)

    # -- database (call in a thread) ----------------------------------------------------------

    def refresh(self) -> int:
        from guanjia.vehicles.models import Vehicle

        from .models import Terminal

        close_old_connections()
        vehicles = {
            key: (pk, agency)
            for key, pk, agency in Vehicle.objects.exclude(terminal_key="")
            .exclude(status=Vehicle.Status.DISPOSED)
            .values_list("terminal_key", "pk", "agency_id")
            .iterator(chunk_size=20000)
        }
        auth = dict(Terminal.objects.values_list("key", "auth_code").iterator(chunk_size=20000))
        with self._mutex:
            self.vehicles, self.auth = vehicles, auth
            self._misses.clear()
            self.loaded_at = time.monotonic()
        return len(vehicles)

    def lookup(self, key: str) -> tuple[int, int] | None:
        from guanjia.vehicles.models import Vehicle

        close_old_connections()
        row = (
            Vehicle.objects.filter(terminal_key=key)
            .exclude(status=Vehicle.Status.DISPOSED)
            .values_list("pk", "agency_id")
            .first()
        )
        with self._mutex:
            if row is None:
                self._misses[key] = time.monotonic()
                if len(self._misses) > 100_000:  # a scanner trying numbers: bounded
                    self._misses.clear()
            else:
                self.vehicles[key] = row
        return row

    def register(
        self, key: str, *, edition: int, maker: str = "", model: str = "", device_id: str = ""
    ) -> tuple[int, str | None]:
        """(result, auth code) for a 0x0100 from terminal `key`."""
        from guanjia.core.context import acting_as
        from guanjia.vehicles.models import Vehicle

        from .models import Terminal

        close_old_connections()
        vehicle = Vehicle.objects.filter(terminal_key=key).first()
        if vehicle is None:
            with self._mutex:
                self._misses[key] = time.monotonic()
            return REG_NO_TERMINAL, None
        if vehicle.status == Vehicle.Status.DISPOSED:
            return REG_NO_VEHICLE, None
        with acting_as(source="system"), transaction.atomic():
            terminal = Terminal.objects.select_for_update().filter(key=key).first()
            if terminal is not None:
                if terminal.device_id and device_id and terminal.device_id != device_id:
                    return REG_TERMINAL_TAKEN, None
                if terminal.vehicle_id != vehicle.pk:
                    terminal.vehicle = vehicle
                    terminal.save()
            else:
                terminal = Terminal.objects.create(
                    key=key,
                    vehicle=vehicle,
                    auth_code=secrets.token_hex(8),
                    edition=str(edition),
                    manufacturer=maker[:16],
                    model=model[:32],
                    device_id=device_id[:32],
                )
        with self._mutex:
            self.auth[key] = terminal.auth_code
            self.vehicles[key] = (vehicle.pk, vehicle.agency_id)
        return REG_OK, terminal.auth_code

    def authenticate(self, key: str, code: str) -> bool:
        from .models import Terminal

        close_old_connections()
        have = Terminal.objects.filter(key=key).values_list("auth_code", flat=True).first()
        if have is None:
            return False
        with self._mutex:
            self.auth[key] = have
        if key not in self.vehicles:
            self.lookup(key)
        return secrets.compare_digest(have, code) and key in self.vehicles

    def unregister(self, key: str) -> None:
        """0x0003: the auth code is void; the terminal registers again to get a new one."""
        from guanjia.core.context import acting_as

        from .models import Terminal

        close_old_connections()
        with acting_as(source="system"):
            for terminal in Terminal.objects.filter(key=key):
                terminal.delete()
        with self._mutex:
            self.auth.pop(key, None)

    def touch(self, keys: list[str]) -> None:
        """Record when terminals were last online (one UPDATE, no audit: excluded field)."""
        from .models import Terminal

        if keys:
            close_old_connections()
            Terminal.objects.filter(key__in=keys).update(last_seen=timezone.now())
