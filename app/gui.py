"""`minutes-gui`: the desktop window (built in a later release)."""

from __future__ import annotations

import sys


def main() -> int:
    print(
        "minutes-gui: the Minutes window is not part of this release yet. "
        "Transcribe files with: minutes transcribe FILE",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
