"""The window's composition root: views, the Library, settings, and the workers behind them.

``App`` lives in the GUI thread. It builds every view, gives each the data it shows, and wires
the views' requests to the controllers that run engine work elsewhere (file jobs in a child
process: app/file_queue.py; live meetings: app/live_controller.py). Exports read the edited
transcript the editor holds, so names and corrections are always in the files.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from app import i18n
from app.settings import Preferences, Settings
from engine.errors import MinutesError
from engine.library import Library, LibraryError
from ui import theme
from ui.files.queue_model import JobQueueModel
from ui.files.view import FilesView
from ui.library.view import LibraryView
from ui.live.view import LiveView
from ui.main_window import EXPORT_FORMATS, MainWindow
from ui.settings.view import SettingsView
from ui.training.view import TrainingView
from ui.transcript import TranscriptEditor

log = logging.getLogger("minutes.gui")


class App(QObject):
    def __init__(
        self, qapp: QApplication, settings_path: str | None = None, smoke: bool = False, recovery: bool = True
    ) -> None:
        super().__init__()
        self.qapp = qapp
        self.smoke_mode = smoke
        self.offer_recovery = recovery and not smoke
        self.settings = Settings(settings_path)
        self.prefs: Preferences = self.settings.load()
        theme.apply(qapp, self.prefs.theme, self.prefs.font_size)
        self.language = i18n.install(qapp, self.prefs.ui_language)
        self._install_excepthook()

        self.library = Library(self.prefs.data_folder or None, sync=False)
        self.meeting_id: str | None = None  # the meeting open in the editor

        w = self.window = MainWindow()
        self.live_view = LiveView()
        self.files_model = JobQueueModel(self)
        self.files_view = FilesView(self.files_model)
        self.editor = TranscriptEditor()
        self.library_view = LibraryView(self.library)
        self.settings_view = SettingsView(self.prefs)
        self.training_view = TrainingView()
        from app.bundle import training_unavailable_reason

        if training_unavailable_reason() is not None:
            self.training_view.set_unavailable()
        w.add_view("live", self.live_view, self.tr("Live"), w.standard_icon("SP_MediaPlay"), "Ctrl+1")
        w.add_view("files", self.files_view, self.tr("Files"), w.standard_icon("SP_DirOpenIcon"), "Ctrl+2")
        w.add_view(
            "transcript", self.editor, self.tr("Transcript"), w.standard_icon("SP_FileDialogContentsView"), "Ctrl+3"
        )
        w.add_view("library", self.library_view, self.tr("Library"), w.standard_icon("SP_DirHomeIcon"), "Ctrl+4")
        w.add_view(
            "settings", self.settings_view, self.tr("Settings"), w.standard_icon("SP_FileDialogDetailedView"), "Ctrl+5"
        )
        w.add_view("training", self.training_view, self.tr("Training"), w.standard_icon("SP_ComputerIcon"), "Ctrl+6")
        w.set_device(self.tr("Model not loaded yet"))
        w.set_edit_actions(self.editor.actions())

        from app.file_queue import FileQueue
        from app.live_controller import LiveController

        self.files = FileQueue(self)
        self.live = LiveController(self)
        self.files.meeting_added.connect(self._on_meeting_added)
        from app.training_tab import TrainingTab

        self.training = TrainingTab(self)

        w.files_dropped.connect(self.add_files)
        w.open_action.triggered.connect(self.files_view.choose_files)
        w.export_requested.connect(self.export)
        w.close_requested.connect(self.request_close)
        w.about_action.triggered.connect(self.about)
        self.files_view.files_dropped.connect(self.add_files)
        self.library_view.meeting_opened.connect(self.open_meeting)
        self.library_view.hit_opened.connect(self.open_meeting_at)
        self.library_view.meeting_deleted.connect(self._on_meeting_deleted)
        self.library_view.meeting_renamed.connect(self._on_meeting_renamed)
        self.editor.saved.connect(self._on_saved)
        self.editor.save_failed.connect(self._on_save_failed)
        self.editor.voice_profile_requested.connect(self.files.save_voice_profile)
        self.settings_view.preferences_changed.connect(self.apply_preferences)
        self.settings_view.look_changed.connect(self.apply_look)

        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            w.restoreGeometry(geometry)
        QTimer.singleShot(0, self._first_start)
        w.show_view("library" if self.library.count() else "files")

    # -- start-up --------------------------------------------------------------------------------
    @Slot()
    def _first_start(self) -> None:
        """After the window is up: index the library in a worker; a new user gets the demo meeting."""
        threading.Thread(target=_preload, name="minutes-preload", daemon=True).start()
        self.library_view.sync_in_background()
        self.refresh_models()
        self.training.first_start()
        if self.library.count() == 0 and not self.settings.value("demo/added"):
            self.files.add_demo()
            self.settings.set_value("demo/added", True)
        if self.offer_recovery:
            self.live.offer_recovery()

    def refresh_models(self) -> None:
        """Fill the Files and Settings model lists with the built-in and the fine-tuned models
        (the registry is read off the GUI thread: it sums each model folder's size)."""
        self.files.background.run(_model_choices, self._set_models, lambda e: log.warning("Models: %s", e))

    def _set_models(self, choices: list[tuple[str, str]]) -> None:
        models = [("base", self.tr("Whisper base (built in)"))]
        models += [(name, self.tr("{0} (fine-tuned)").format(name)) for name, _ in choices]
        self.files_view.set_models(models)
        self.settings_view.set_models(models)

    def _install_excepthook(self) -> None:
        """An exception anywhere becomes a message; the window stays alive."""

        def hook(kind, value, tb) -> None:
            log.error("Unexpected error", exc_info=(kind, value, tb))
            text = "".join(traceback.format_exception_only(kind, value)).strip()
            QTimer.singleShot(0, lambda: self.show_error(self.tr("Something went wrong: {0}").format(text)))

        sys.excepthook = hook

    # -- files and meetings ----------------------------------------------------------------------
    @Slot(list)
    def add_files(self, paths: list[str]) -> None:
        added = self.files.add_paths(paths)
        if added:
            self.window.show_view("files")

    @Slot(str)
    def open_meeting(self, meeting_id: str, at: float | None = None) -> None:
        try:
            meeting = self.library.get(meeting_id)
            transcript = self.library.transcript(meeting_id)
        except (LibraryError, MinutesError, OSError, ValueError) as e:
            self.show_error(self.tr("This meeting cannot be opened: {0}").format(e))
            return
        self.meeting_id = meeting_id
        self.editor.set_transcript(transcript, meeting.audio_path, str(meeting.transcript_path))
        if at is not None:
            self.editor.seek(at)
        self.window.set_export_enabled(True)
        self.window.setWindowTitle(self.tr("{0} — Minutes").format(meeting.title or self.tr("Live meeting")))
        self.window.show_view("transcript")

    @Slot(str)
    def _on_meeting_added(self, meeting_id: str) -> None:
        self.training.refresh_meetings()
        if self.window.current_view() == "library" and self.meeting_id is None and self.library.count() == 1:
            self.open_meeting(meeting_id)  # the demo meeting of a first start

    @Slot(str, float)
    def open_meeting_at(self, meeting_id: str, seconds: float) -> None:
        self.open_meeting(meeting_id, seconds)

    @Slot(str)
    def _on_meeting_deleted(self, meeting_id: str) -> None:
        self.training.refresh_meetings()
        if meeting_id == self.meeting_id:
            self.meeting_id = None
            self.editor.set_transcript(_empty_transcript(), None, None)
            self.window.set_export_enabled(False)
            self.window.setWindowTitle(self.tr("Minutes"))

    @Slot(str, str)
    def _on_meeting_renamed(self, meeting_id: str, title: str) -> None:
        self.training.refresh_meetings()
        if meeting_id == self.meeting_id:
            self.window.setWindowTitle(self.tr("{0} — Minutes").format(title))

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        if self.meeting_id is not None:
            self.files.reindex(self.meeting_id)

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 15000)

    # -- export ----------------------------------------------------------------------------------
    @Slot(str)
    def export(self, fmt: str) -> None:
        if self.meeting_id is None:
            return
        transcript = self.editor.transcript()
        meeting = self.library.get(self.meeting_id)
        stem = Path(meeting.audio_path).stem if meeting.audio_path else "meeting"
        label = dict(EXPORT_FORMATS).get(fmt, fmt)
        start = str(Path(self.prefs.export_folder or Path(meeting.audio_path or ".").parent) / f"{stem}.{fmt}")
        path, _ = QFileDialog.getSaveFileName(
            self.window, self.tr("Export"), start, f"{self.window.tr(label)} (*.{fmt})"
        )
        if path:
            self.files.export(transcript, fmt, path, title=meeting.title)

    # -- settings --------------------------------------------------------------------------------
    @Slot(object)
    def apply_preferences(self, prefs: Preferences) -> None:
        self.prefs = prefs
        self.settings.save(prefs)
        self.files.preferences_changed(prefs)

    @Slot(object)
    def apply_look(self, prefs: Preferences) -> None:
        changed_language = prefs.ui_language != self.prefs.ui_language
        self.prefs = prefs
        self.settings.save(prefs)
        theme.apply(self.qapp, prefs.theme, prefs.font_size)
        if changed_language:
            self.language = i18n.install(self.qapp, prefs.ui_language)
            self.window.statusBar().showMessage(self.tr("The new language is used fully after a restart."), 10000)

    # -- closing and errors ----------------------------------------------------------------------
    @Slot()
    def request_close(self) -> None:
        busy = []
        if self.live.active():
            busy.append(self.tr("a live recording (it will be stopped and saved)"))
        if self.files.busy():
            busy.append(self.tr("files being transcribed (they will be cancelled)"))
        if self.training.busy():
            busy.append(self.tr("a training run (it will be paused; Resume continues it)"))
        if busy:
            answer = QMessageBox.question(
                self.window,
                self.tr("Quit Minutes?"),
                self.tr("Minutes is still working on {0}. Quit anyway?").format(self.tr(" and ").join(busy)),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.shutdown()
        self.window.really_close()

    def shutdown(self) -> None:
        self.settings.set_value("window/geometry", self.window.saveGeometry())
        self.live.shutdown()
        self.files.shutdown()
        self.training.shutdown()
        self.editor.flush()

    def show_error(self, message: str) -> None:
        QMessageBox.warning(self.window, self.tr("Minutes"), message)

    @Slot()
    def about(self) -> None:
        QMessageBox.about(
            self.window,
            self.tr("About Minutes"),
            self.tr("<b>Minutes</b><p>Meeting transcription on your own machine: nothing leaves your computer.</p>"),
        )

    # -- smoke test ------------------------------------------------------------------------------
    def smoke(self, shown_seconds: float) -> int:
        """Offscreen check for CI: the Library loads and a transcript opens in the editor."""
        import time

        print(f"minutes-gui: window shown in {shown_seconds:.2f} s", flush=True)
        deadline = time.monotonic() + 20
        while self.library.count() == 0 and time.monotonic() < deadline:  # a first start adds the demo
            self.qapp.processEvents()
            time.sleep(0.02)
        meetings = self.library.list()
        if meetings:
            self.open_meeting(meetings[0].id)
        self.qapp.processEvents()
        lines = len(self.editor.transcript().segments)
        heavy = [m for m in ("torch", "onnxruntime") if m in sys.modules]
        print(f"minutes-gui: heavy modules in the window's process: {', '.join(heavy) or 'none'}", flush=True)
        print(
            f"minutes-gui: library has {len(meetings)} meeting(s); transcript open with {lines} lines",
            flush=True,
        )
        self.shutdown()
        return 0 if lines else 1


def _empty_transcript():
    from engine.transcript import AudioInfo, ModelInfo, Transcript

    return Transcript(AudioInfo("", 0.0), None, ModelInfo("", "", ""))


PRELOADED = threading.Event()  # set once the engine modules are imported (bench/gui_stall.py waits for it)


def _model_choices() -> list[tuple[str, str]]:
    """(name, base model) of every registered fine-tuned model; a damaged registry lists none."""
    from engine.models import registry

    return [(m.name, m.info.base_model) for m in registry.list_models()]


def _preload() -> None:
    """Import the engine modules the controllers use, in a thread: imported in the GUI thread when
    the first job starts they froze the window for 40-180 ms (bench/gui_stall.py)."""
    import multiprocessing.queues  # noqa: F401

    import engine.asr.streaming  # noqa: F401
    import engine.export  # noqa: F401
    import engine.jobs  # noqa: F401
    import engine.live.events  # noqa: F401
    import engine.live.options  # noqa: F401
    import engine.live.worker  # noqa: F401
    import engine.transcript  # noqa: F401

    PRELOADED.set()
