"""The bundle's one entry point: ``minutes`` (CLI) or ``minutes-gui`` (window), by executable name.

Both executables are built from this script, so they share one folder of libraries. Child
processes the app starts through ``sys.executable`` (spawned workers, ``-c``/``-m`` helpers)
come back here too and are routed before either main runs.
"""

import multiprocessing
import os
import sys


def main() -> int:
    multiprocessing.freeze_support()  # a spawned worker runs its target here and exits
    from app.bundle import dispatch_interpreter_args

    if dispatch_interpreter_args(sys.argv):
        return 0
    called = {os.path.basename(sys.argv[0]).lower(), os.path.basename(sys.executable).lower()}
    if any(name.startswith("minutes-gui") for name in called):  # Linux: a link named minutes-gui
        from app.gui import main as gui_main

        return gui_main()
    from app.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
