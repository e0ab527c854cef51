"""`guanjia telemetry <subcommand> … [--json]`.

Each subcommand is a module `guanjia.telemetry.cli.<name>` (a trailing underscore is
dropped) with `SUMMARY`, `add_arguments(parser)` and `run(options) -> dict`, and optionally
`render(result) -> str`; this command finds them, dispatches and prints. A result with
`"failed": true` ends with a non-zero exit status after printing.
"""

import importlib
import json
import pkgutil

from django.core.management.base import BaseCommand, CommandError

from guanjia.core.context import acting_as
from guanjia.telemetry import cli


def subcommands() -> dict[str, str]:
    return {
        info.name.rstrip("_"): f"{cli.__name__}.{info.name}"
        for info in pkgutil.iter_modules(cli.__path__)
        if not info.name.startswith("_")
    }


class Command(BaseCommand):
    help = "车辆实时监控：轨迹查询、归档压缩与保留、规则与行程"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, module_name in sorted(subcommands().items()):
            module = importlib.import_module(module_name)
            p = sub.add_parser(name, help=module.SUMMARY, description=module.SUMMARY)
            module.add_arguments(p)
            p.add_argument("--json", action="store_true", help="输出一个 JSON 文档")

    def handle(self, *args, subcommand, **options):
        module = importlib.import_module(subcommands()[subcommand])
        with acting_as(source="cli"):
            try:
                result = module.run(options)
            except (ValueError, LookupError) as e:
                raise CommandError(str(e)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
        elif hasattr(module, "render"):
            self.stdout.write(module.render(result))
        else:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=1, default=str))
        if result.get("failed"):
            raise CommandError(result.get("message", "操作失败"))
