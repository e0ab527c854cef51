"""`guanjia token create|list|revoke`: bearer tokens for programs."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guanjia.core import services
from guanjia.core.context import acting_as
from guanjia.core.models import ApiToken, User


class Command(BaseCommand):
    help = "管理 API 令牌：create USERNAME / list USERNAME / revoke PREFIX"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="为用户创建令牌（令牌只显示这一次）")
        create.add_argument("username")
        create.add_argument("--name", default="cli")
        create.add_argument("--expires-days", type=int, default=None)
        create.add_argument("--json", action="store_true")
        listing = sub.add_parser("list", help="列出用户的令牌")
        listing.add_argument("username")
        listing.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="吊销令牌（按前缀）")
        revoke.add_argument("prefix")
        revoke.add_argument("--json", action="store_true")

    def handle(self, *args, action, **opts):
        with acting_as(source="cli"):
            result = getattr(self, f"_{action}")(**opts)
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")

    @staticmethod
    def _user(username):
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"用户不存在：{username}") from None

    def _create(self, username, name, expires_days, **_):
        expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token, raw = services.create_token(None, self._user(username), name, expires)
        return {
            "token": raw,
            "prefix": token.prefix,
            "user": username,
            "expires_at": expires.isoformat() if expires else None,
        }

    def _list(self, username, **_):
        tokens = ApiToken.objects.filter(user=self._user(username)).order_by("created_at")
        return {
            "tokens": [
                {
                    "prefix": t.prefix,
                    "name": t.name,
                    "created_at": t.created_at.isoformat(),
                    "revoked": t.revoked_at is not None,
                }
                for t in tokens
            ]
        }

    def _revoke(self, prefix, **_):
        tokens = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True))
        if len(tokens) != 1:
            raise CommandError(f"找不到唯一的有效令牌：{prefix}")
        services.revoke_token(None, tokens[0])
        return {"revoked": prefix}
