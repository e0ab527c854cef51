"""`guanjia` = Django's management commands with Guanjia's settings, ours listed first."""

import os
import sys

OURS_FIRST_HEADER = "[guanjia]"


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "guanjia"
    from django.core.management import ManagementUtility

    from guanjia.core.context import acting_as

    utility = ManagementUtility(argv)
    if len(argv) < 2 or (argv[1] in ("help", "--help", "-h") and len(argv) == 2):
        sys.stdout.write(_help(utility) + "\n")
        return
    # What a command writes is audited as "cli", under one request id for the whole run.
    with acting_as(source="cli"):
        utility.execute()


def _help(utility) -> str:
    """Django's help with our commands moved to the top, each with its one-line summary."""
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    ours = sorted(name for name, app in get_commands().items() if app.startswith("guanjia."))
    lines = ["用法 / usage: guanjia <command> [options]", "", "管家 Guanjia commands:"]
    for name in ours:
        summary = load_command_class(get_commands()[name], name).help.split("\n")[0]
        lines.append(f"    {name:<14} {summary}")
    rest = utility.main_help_text(commands_only=False).split("\n")
    lines += ["", "Django and library commands (guanjia help <command>):"]
    lines += (
        [
            line
            for line in rest[rest.index("Available subcommands:") + 1 :]
            if line.strip() not in ours
        ]
        if "Available subcommands:" in rest
        else rest
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
