"""`guanjia standards <import|show|search|compare|requirements|check> … [--json]`.

Each subcommand lives in its own module `guanjia.standards.cli.<name>` with
`add_arguments(parser)` and `run(options) -> dict`; this command only dispatches and prints.
"""

import importlib
import json

from django.core.management.base import BaseCommand, CommandError

from guanjia.core.context import acting_as

SUBCOMMANDS = {
    "import": "导入标准文件（.txt/.md/.docx/NISO STS XML），同编号同年代号则更新",
    "show": "显示一项标准：状态、条款、术语、引用",
    "search": "中文全文检索标准（编号、名称、条款、术语）",
    "compare": "逐条比对两项标准",
    "requirements": "列出标准中的量化要求",
    "check": "标准文本质量检查（编号、助动词、引用、章节）",
}


class Command(BaseCommand):
    help = "标准库：import / show / search / compare / requirements / check"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, summary in SUBCOMMANDS.items():
            p = sub.add_parser(name, help=summary, description=summary)
            self._module(name).add_arguments(p)
            p.add_argument("--json", action="store_true", help="输出一个 JSON 文档")

    @staticmethod
    def _module(name):
        return importlib.import_module(f"guanjia.standards.cli.{name.replace('import', 'import_')}")

    def handle(self, *args, subcommand, **options):
        module = self._module(subcommand)
        with acting_as(source="cli"):
            try:
                result = module.run(options)
            except (ValueError, LookupError) as e:
                raise CommandError(str(e)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
        else:
            self.stdout.write(
                module.render(result)
                if hasattr(module, "render")
                else json.dumps(result, ensure_ascii=False, indent=1, default=str)
            )
        if result.get("failed"):
            raise CommandError(result.get("message", "部分操作失败"))
