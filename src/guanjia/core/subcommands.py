"""`guanjia <app> <subcommand> … [--json]` for apps whose subcommands are modules.

Each subcommand is a module of the app's `cli` package with `SUMMARY`,
`add_arguments(parser)` and `run(options) -> dict`, and optionally `render(result) -> str`;
the command finds them, dispatches and prints. The module name gives the subcommand's: a
trailing underscore is dropped (`import_` is `import`) and an inner one is a hyphen
(`waste_import` is `waste-import`). A result with `"failed": true` ends with a non-zero
exit status after printing.
"""

import importlib
import json
import pkgutil

from django.core.management.base import BaseCommand, CommandError

from guanjia.core.context import acting_as


def subcommands(package) -> dict[str, str]:
    return {
        info.name.rstrip("_").replace("_", "-"): f"{package.__name__}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    }


class PackageCommand(BaseCommand):
    """Subclass with `cli_package` (the imported package of subcommand modules) and `help`."""

    cli_package = None

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, module_name in sorted(subcommands(self.cli_package).items()):
            module = importlib.import_module(module_name)
            p = sub.add_parser(name, help=module.SUMMARY, description=module.SUMMARY)
            module.add_arguments(p)
            p.add_argument("--json", action="store_true", help="输出一个 JSON 文档")

    def handle(self, *args, subcommand, **options):
        module = importlib.import_module(subcommands(self.cli_package)[subcommand])
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
