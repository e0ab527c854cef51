"""The small demo world, loaded once per module inside a transaction rolled back at the end,
so the read-only tests of a module share one load (about 2 s) and leave the test database
empty for everyone else."""

import pytest
from django.db import transaction

from guanjia.demo.services import load_demo_world

SEED = 7


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield load_demo_world("small", seed=SEED)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def snapshot() -> dict:
    """What "the same world" means: agencies with tree, codes and contacts, groups, users."""
    from guanjia.core.models import Agency, CollaborationGroup, Role, User

    return {
        "agencies": list(
            Agency.objects.order_by("path").values_list(
                "path",
                "name",
                "kind",
                "region__code",
                "credit_code",
                "contact_person",
                "contact_phone",
                "address",
            )
        ),
        "groups": [
            (g.name, g.agency.name, sorted(m.name for m in g.members.all()))
            for g in CollaborationGroup.objects.order_by("name")
        ],
        "roles": list(Role.objects.order_by("key").values_list("key", "permissions", "data_scope")),
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "real_name", "phone", "agency__name", "roles__key"
            )
        ),
    }
