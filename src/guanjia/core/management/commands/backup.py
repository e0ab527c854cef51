import json

from django.core.management.base import BaseCommand

from guanjia.core.backup import create_backup


class Command(BaseCommand):
    help = "备份数据库与上传文件为一个 .tar.gz（SQLite 与 PostgreSQL 通用）"

    def add_arguments(self, parser):
        parser.add_argument("--output", help="备份文件路径（默认 GUANJIA_HOME/backups/）")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        result = create_backup(opts["output"])
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            total = sum(result["counts"].values())
            self.stdout.write(self.style.SUCCESS(f"已备份 {total} 条记录到 {result['file']}"))
