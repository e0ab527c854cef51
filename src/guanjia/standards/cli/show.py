"""Placeholder until this subcommand is built: says so instead of pretending."""


def add_arguments(parser):
    parser.add_argument("args", nargs="*")


def run(options) -> dict:
    raise LookupError("此子命令尚未实现")
