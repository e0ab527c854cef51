"""`guanjia vehicles <subcommand> … [--json]`: the modules of guanjia.vehicles.cli (see
guanjia.core.subcommands for the module contract)."""

from guanjia.core.subcommands import PackageCommand
from guanjia.vehicles import cli


class Command(PackageCommand):
    help = "公务用车：车辆登记导入、列表、配备审计、派车与运维"
    cli_package = cli
