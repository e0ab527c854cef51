import json

from django.core.management.base import BaseCommand, CommandError

from guanjia.core.backup import restore_backup
from guanjia.core.models import Agency, User


class Command(BaseCommand):
    help = "从备份恢复：替换当前数据库的全部内容（全部成功或全部不变）"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="确认覆盖已有数据")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        from django.db.utils import OperationalError, ProgrammingError

        try:
            has_data = Agency.objects.exists() or User.objects.exists()
        except (OperationalError, ProgrammingError):  # not migrated yet: nothing to lose
            has_data = False
        if has_data and not opts["yes"]:
            raise CommandError("数据库中已有数据；恢复将覆盖全部内容，确认请加 --yes")
        try:
            result = restore_backup(opts["file"])
        except (FileNotFoundError, ValueError) as e:
            raise CommandError(str(e)) from None
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            total = sum(result["restored"].values())
            self.stdout.write(self.style.SUCCESS(f"已从 {result['file']} 恢复 {total} 条记录"))
