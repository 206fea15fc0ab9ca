"""Refresh the interface translations: lupdate over ui/ and app/, then lrelease to .qm.

    .venv/bin/python tools/update_translations.py     # or: make translations

New or changed strings appear in resources/translations/minutes_zh_CN.ts as
type="unfinished" (tests/test_i18n.py fails until they are translated, e.g. in Qt Linguist:
``pyside6-linguist resources/translations/minutes_zh_CN.ts``). Strings gone from the code stay
as type="vanished" (lupdate offers their translation for a similar new string; nothing loads
them) until ``--drop-obsolete``. The compiled .qm is committed: the window and installers need
no lrelease.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / "resources" / "translations"
LANGUAGES = ("zh_CN",)
SOURCES = ("ui", "app")


def tool(name: str) -> str:
    """pyside6-<name> beside this Python (a venv's bin/), else on PATH."""
    here = Path(sys.executable).parent / f"pyside6-{name}"
    found = str(here) if here.exists() else shutil.which(f"pyside6-{name}")
    if not found:
        sys.exit(f"pyside6-{name} not found (pip install PySide6-Essentials)")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    drop = ["-no-obsolete"] if "--drop-obsolete" in args else []
    sources = sorted(str(p.relative_to(REPO)) for d in SOURCES for p in (REPO / d).rglob("*.py"))
    FOLDER.mkdir(parents=True, exist_ok=True)
    for lang in LANGUAGES:
        ts = FOLDER / f"minutes_{lang}.ts"
        rel = str(ts.relative_to(REPO))
        subprocess.run(
            [tool("lupdate"), *drop, "-locations", "relative", "-target-language", lang, *sources, "-ts", rel],
            cwd=REPO,
            check=True,
        )
        subprocess.run(
            [tool("lrelease"), rel, "-qm", str(ts.with_suffix(".qm").relative_to(REPO))], cwd=REPO, check=True
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
