"""`minutes-gui`: start the window.

The GUI process imports neither torch nor onnxruntime (they load in the worker processes), so
the window appears in about a second. ``--smoke`` starts offscreen, loads the Library, opens a
transcript in the editor and quits with status 0: what CI and installers check.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minutes-gui", description="Minutes: meeting transcription on your own machine.")
    p.add_argument("--smoke", action="store_true", help="start offscreen, open a transcript, quit (for CI)")
    p.add_argument("--settings", metavar="FILE", help="settings file (INI) instead of the user's")
    p.add_argument("--data-dir", metavar="DIR", help="user data folder (models, meetings, sessions)")
    p.add_argument("files", nargs="*", help="recordings to transcribe")
    return p


def _since_process_start() -> float | None:
    """Seconds since this process was created (Linux; None elsewhere): what a user waits for."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    if args.smoke:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.data_dir:
        os.environ["MINUTES_DATA_DIR"] = args.data_dir

    from PySide6.QtWidgets import QApplication

    from app.window import App

    qt_args = [sys.argv[0]]
    qapp = QApplication.instance() or QApplication(qt_args)
    qapp.setApplicationName("Minutes")
    qapp.setOrganizationName("Minutes")
    qapp.setApplicationDisplayName("Minutes")
    app = App(qapp, settings_path=args.settings, smoke=args.smoke)
    app.window.show()
    qapp.processEvents()
    shown = _since_process_start() or time.perf_counter() - started
    if args.files:
        app.add_files(args.files)
    if args.smoke:
        return app.smoke(shown)
    return qapp.exec()


if __name__ == "__main__":
    sys.exit(main())
