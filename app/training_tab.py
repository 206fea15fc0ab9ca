"""Wires the Training view to the fine-tune child, the registry and the rest of the window.

Everything slow runs elsewhere: sources are imported and checked in the Background pool, the run
in app/training_controller.py's child process, registry reads in the pool. A run left paused or
cancelled (also by closing the window) is offered for resuming at the next start.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QDoubleSpinBox, QMessageBox, QSpinBox

from app.background import Background
from app.training_controller import TrainingController, run_dir

log = logging.getLogger(__name__)


def _registered() -> list[tuple[str, str]]:
    """(name, one-line summary of what it was trained on) of every fine-tuned model."""
    from engine.models import registry
    from engine.paths import data_dir
    from engine.training.manifest import read_manifest

    out = []
    for m in registry.list_models():
        i = m.info

        def pct(x):
            return "–" if x is None else f"{100 * x:.1f}%"

        data = f"data {i.manifest_sha256[:8] or '?'}"
        train = data_dir() / "training" / m.name / "train.jsonl"
        if train.is_file():  # trained in this window: say how much
            try:
                utts = read_manifest(train).utterances
                data = f"{len(utts)} clips ({sum(u.duration for u in utts) / 60:.1f} min)"
            except Exception:  # moved or damaged since: the fingerprint still says which data
                pass
        summary = (
            f"{m.name}: {i.base_model or 'whisper'}, {i.steps or 0} steps on {data}; "
            f"dev WER {pct(i.dev_wer_before)} → {pct(i.dev_wer_after)}; trained {i.date[:16].replace('T', ' ')}"
        )
        out.append((m.name, summary))
    return out


def _resumable() -> str:
    """The newest run folder with a checkpoint whose model is not registered yet ("" if none)."""
    from engine.models import registry
    from engine.paths import data_dir

    runs = [p.parent for p in (data_dir() / "training").glob("*/wizard.json") if (p.parent / "checkpoint.pt").exists()]
    runs = [p for p in runs if registry.find(p.name) is None]
    return max(runs, key=lambda p: p.stat().st_mtime).name if runs else ""


class TrainingTab(QObject):
    def __init__(self, app) -> None:
        super().__init__(app)
        self.app = app
        self.view = app.training_view
        self.controller = TrainingController(self)
        self.background = Background(self)
        self._player = None
        v = self.view
        v.data.source_requested.connect(self.load_source)
        v.train.start_requested.connect(self.start)
        v.train.pause_requested.connect(lambda: self.controller.stop("paused"))
        v.train.cancel_requested.connect(lambda: self.controller.stop("cancelled"))
        v.train.resume_requested.connect(self.resume)
        v.export.activate_requested.connect(self.activate)
        v.export.rename_requested.connect(self.rename)
        v.export.delete_requested.connect(self.delete)
        v.evaluate.play_requested.connect(self.play)
        v.augment.preview_requested.connect(self.preview)
        v.augment.play_requested.connect(self.play_preview)
        v.data.changed.connect(self._data_changed)
        for box in (v.augment.spec_on, v.augment.noise_on, v.augment.speed_on):
            box.toggled.connect(self.preview)
        for spin in [*v.augment.findChildren(QSpinBox), *v.augment.findChildren(QDoubleSpinBox)]:
            spin.valueChanged.connect(self.preview)
        self._preview_audio: dict[str, object] = {}
        self._preview_clip = ""
        self.controller.event.connect(self.on_event)
        self.controller.finished.connect(self.on_finished)
        self.controller.running_changed.connect(self._running_changed)

    def first_start(self) -> None:
        """After the window is up: the Library's meetings, the registry, a run to resume."""
        self.refresh_meetings()
        self.refresh_models()
        self.background.run(_resumable, self._offer_resume, lambda e: log.warning("Training: %s", e))

    def refresh_meetings(self) -> None:
        """The Data page's list of meetings, again: one was added, deleted or renamed."""
        try:
            meetings = [(m.title or m.created[:16], str(m.transcript_path)) for m in self.app.library.list()]
        except Exception as e:  # a damaged library must not stop the window
            log.warning("Training: library: %s", e)
            meetings = []
        self.view.data.set_meetings(meetings)

    def _offer_resume(self, name: str) -> None:
        if name and not self.controller.running():
            self.view.train.name.setText(name)
            text = self.tr("The run '{0}' was stopped before it finished: Resume continues from its last checkpoint.")
            self.view.train.stage.setText(text.format(name))
            self.view.train.set_running(False, resumable=True)

    # -- data -------------------------------------------------------------------------------------
    @Slot(str)
    def load_source(self, path: str) -> None:
        from app.training_data import load_source

        self.background.run(
            lambda: load_source(path), self.view.data.add_report, lambda e: self.view.data.source_failed(path, str(e))
        )

    # -- augmentation preview -------------------------------------------------------------------
    @Slot()
    def _data_changed(self) -> None:
        utts = self.view.data.utterances()
        clip = str(utts[0].audio_filepath) if utts else ""
        if clip and clip != self._preview_clip:
            self._preview_clip = clip
            self.preview()

    @Slot()
    def preview(self, *_args) -> None:
        """Before/after log-mel of the first clip, in numpy off the GUI thread (noise drawn from the
        user's own clips); measured: about 0.3 s to import and 0.15 s a clip on 2 cores."""
        clip = self._preview_clip
        if not clip:
            return
        tables = self.view.augment.values()
        seed = self.view.augment.seed
        paths = [str(u.audio_filepath) for u in self.view.data.utterances()]

        def work():
            import soundfile as sf

            from engine.training.augment import AugmentConfig, preview
            from engine.training.noise import NoiseSource

            config = AugmentConfig.from_dict(tables)
            audio, rate = sf.read(clip, dtype="float32", always_2d=True)
            audio = audio.mean(axis=1)
            if rate != 16000:
                import soxr

                audio = soxr.resample(audio, rate, 16000).astype("float32")
            noise = None
            if config.noise.enabled:
                try:
                    noise = NoiseSource.from_config(config.noise, clips=paths)
                except Exception:  # too few clips for babble: show the rest
                    config = AugmentConfig.from_dict({**tables, "noise": {**tables["noise"], "enabled": False}})
            before, after, after_audio = preview(audio, config, seed, noise)
            return before, after, audio, after_audio

        def done(result) -> None:
            before, after, audio, after_audio = result
            self._preview_audio = {"before": audio, "after": after_audio}
            self.view.augment.set_preview(Path(clip).name, before, after)

        self.background.run(work, done, lambda e: self.view.augment.clip.setText(str(e)))

    @Slot(str)
    def play_preview(self, which: str) -> None:
        samples = self._preview_audio.get(which)
        if samples is not None:
            self._play(lambda player: player.load(samples), lambda e: self.tr("Cannot play: {0}").format(e))

    # -- the run ----------------------------------------------------------------------------------
    @Slot(str)
    def start(self, name: str) -> None:
        from app.training_data import write_split
        from engine.models import registry

        train = self.view.train
        why = self.view.data.ready()
        if not why:
            try:
                name = registry.check_name(name)
                if registry.find(name) is not None:
                    why = self.tr("A model named '{0}' already exists: choose another name.").format(name)
            except Exception as e:
                why = str(e)
        if why:
            train.stage.setText(why)
            return
        split = self.view.data.split()
        folder = run_dir(name)
        for stale in ("checkpoint.pt", "model.pt"):
            (folder / stale).unlink(missing_ok=True)
        train_m, dev_m = write_split(split.train, split.dev, folder)
        train.reset()
        self.view.evaluate.clear()
        self.controller.start(name, train_m, dev_m, self.view.settings.toml(), self.view.data.terms.text())
        train.stage.setText(self.tr("Starting the training process…"))

    @Slot(str)
    def resume(self, name: str) -> None:
        if not name or not (run_dir(name) / "wizard.json").exists():
            self.view.train.stage.setText(self.tr("There is no stopped run named '{0}' to resume.").format(name))
            return
        self.controller.name = name
        self.view.train.reset()
        self.view.evaluate.clear()
        self.view.train.add_line(self.tr("resuming '{0}' from its last checkpoint").format(name))
        self.controller.resume()

    @Slot(object)
    def on_event(self, ev: dict) -> None:
        self.view.train.on_event(ev)
        if ev.get("type") == "result" and ev.get("message") in ("before", "after"):
            self.view.evaluate.set_result(ev["message"], ev.get("data") or {})
        if ev.get("type") == "step" and ev.get("step_s"):
            self.view.settings.set_measured(float(ev["step_s"]), self.view.settings.batch.value())

    @Slot(str, object)
    def on_finished(self, state: str, detail) -> None:
        train = self.view.train
        if state == "done":
            train.stage.setText(self.tr("Finished: the model '{0}' is registered.").format(self.controller.name))
            if isinstance(detail, dict):
                for which in ("before", "after"):
                    if which in detail:
                        self.view.evaluate.set_result(which, detail[which])
            self.refresh_models()
            self.view.show_page(self.view.evaluate)
        elif state in ("paused", "cancelled"):
            text = self.tr("Paused") if state == "paused" else self.tr("Cancelled")
            train.stage.setText(self.tr("{0}: Resume continues from the last checkpoint.").format(text))
            train.add_line(text)
        else:
            train.stage.setText(self.tr("The run stopped with an error: {0}").format(detail))
            train.add_line(f"error: {detail}")
        train.set_running(False, resumable=state in ("paused", "cancelled"))

    @Slot(bool)
    def _running_changed(self, running: bool) -> None:
        self.view.train.set_running(running, resumable=False)

    def busy(self) -> bool:
        return self.controller.running()

    def shutdown(self) -> None:
        """Closing the window: the child checkpoints and stops (Resume continues next time)."""
        if self.controller.running():
            p = self.controller.process
            self.controller.stop("paused")
            if p is not None and not p.waitForFinished(60_000):
                self.controller.kill()
        self.background.wait(5000)

    # -- models -----------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        self.background.run(_registered, self._set_models, lambda e: log.warning("Training: models: %s", e))
        self.app.refresh_models()

    def _set_models(self, models: list[tuple[str, str]]) -> None:
        self.view.export.set_models(models, self.app.prefs.model)

    @Slot(str)
    def activate(self, name: str) -> None:
        prefs = dataclasses.replace(self.app.prefs, model=name)
        self.app.settings_view.set_preferences(prefs)
        self.app.apply_preferences(prefs)
        self.refresh_models()
        self.app.window.statusBar().showMessage(self.tr("New transcriptions use the model '{0}'.").format(name), 10000)

    def _registry_call(self, fn, message: str, after=None) -> None:
        def failed(e: Exception) -> None:
            QMessageBox.warning(self.app.window, self.tr("Minutes"), message.format(e))

        def done(_result) -> None:
            if after is not None:
                after()
            self.refresh_models()

        self.background.run(fn, done, failed)

    @Slot(str, str)
    def rename(self, old: str, new: str) -> None:
        from engine.models import registry

        after = (lambda: self.activate(new)) if self.app.prefs.model == old else None
        self._registry_call(lambda: registry.rename(old, new), self.tr("The model cannot be renamed: {0}"), after)

    @Slot(str)
    def delete(self, name: str) -> None:
        from engine.models import registry

        if self.app.prefs.model == name:
            self.activate("base")
        self._registry_call(lambda: registry.remove(name), self.tr("The model cannot be deleted: {0}"))

    # -- playback ---------------------------------------------------------------------------------
    @Slot(str)
    def play(self, path: str) -> None:
        self._play(
            lambda player: player.load_file(path),
            lambda e: self.tr("Cannot play {0}: {1}").format(Path(path).name, e),
        )

    def _play(self, load, failure) -> None:
        """One player for the previews and the utterances; a failure is a status message."""
        try:
            from engine.audio.playback import Player

            if self._player is None:
                self._player = Player()
            load(self._player)
            self._player.play()
        except Exception as e:
            self.app.window.statusBar().showMessage(failure(e), 10000)
