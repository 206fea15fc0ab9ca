"""From two manifests to a registered model: what `minutes train` and the Training tab run.

Stages, each announced in the run's event log (``stage`` events between the trainer's own):
check the data and the name, score the packaged model (dev set, terms, general set), train,
export to ONNX, score the export the same way, register it with what it was trained on. The
name is checked first and registered last, so a failed or cancelled run never leaves a model
half there; ``resume`` continues the training from its last checkpoint in the same run folder.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import MinutesError
from engine.training.augment import AugmentConfig
from engine.training.config import TrainConfig
from engine.training.events import EVENTS_FILE, EventCallback, EventLog
from engine.training.manifest import Manifest, ManifestError, read_manifest


@dataclass(frozen=True)
class FinetuneJob:
    train: Path
    dev: Path
    name: str
    config: TrainConfig = TrainConfig()
    augment: AugmentConfig = AugmentConfig()
    terms: tuple[str, ...] = ()
    general: Path | None = None  # path<TAB>text clips for the forgetting check; None: skipped
    resume: bool = False
    run_dir: Path | None = None  # default: <data dir>/training/<name>
    precision: str = "int8"  # what the before/after scores are measured with (the CPU default)


@dataclass
class FinetuneResult:
    name: str
    folder: Path  # the registered export
    scores: dict[str, Any] = field(default_factory=dict)  # {"before"|"after": {"dev": ..., "general": ...}}
    steps: int = 0
    train_seconds: float = 0.0
    run_dir: Path | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "folder": str(self.folder),
            "steps": self.steps,
            "train_seconds": round(self.train_seconds, 1),
            **self.scores,
        }


def load_augment(path: str | Path | None) -> AugmentConfig:
    """The ``[augment]`` table of a training TOML file (defaults without a file or a table)."""
    if path is None:
        return AugmentConfig()
    import tomllib

    from engine.atomic import read_bytes
    from engine.training.config import ConfigError

    try:
        data = tomllib.loads(read_bytes(path, "a TOML file", ConfigError).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"'{path}' is not a valid TOML file: {e}.") from None
    return AugmentConfig.from_dict(data.get("augment", {}))


def run_dir_for(name: str) -> Path:
    from engine.paths import data_dir

    return data_dir() / "training" / name


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _checked(path: Path, what: str) -> Manifest:
    """The manifest, or one line saying what is wrong and where to see every problem."""
    from engine.training.check import check_manifest

    if not Path(path).is_file():
        raise ManifestError(f"The {what} manifest '{path}' does not exist.")
    problems = check_manifest(path)
    if problems:
        first = problems[0]
        raise ManifestError(
            f"The {what} manifest '{path}' has {len(problems)} problem(s), the first at line {first.line}: "
            f"{first.problem}. `minutes data check {path}` lists them all."
        )
    manifest = read_manifest(path)
    if not manifest.utterances:
        raise ManifestError(f"The {what} manifest '{path}' holds no utterances.")
    return manifest


def _scores(recognizer, dev: Manifest, terms, general, cancel) -> dict[str, Any]:
    from engine.training.evaluate import EvalOptions, evaluate

    report = evaluate(recognizer, dev.utterances, terms, EvalOptions(), None, cancel).to_dict()
    keys = ("wer", "cer", "rate", "term_recall", "terms", "per_utterance")  # per utterance: the Training tab's diffs
    out: dict[str, Any] = {"dev": {k: report.get(k) for k in keys}}
    if general:
        g = evaluate(recognizer, general, (), EvalOptions(language="en"), None, cancel).to_dict()
        out["general"] = {k: g.get(k) for k in ("wer", "rate")}
    return out


def run_finetune(
    job: FinetuneJob,
    events: EventCallback | None = None,
    cancel: threading.Event | None = None,
    recognizer_factory: Callable[[str | None, str], Any] | None = None,
) -> FinetuneResult:
    """Run every stage of ``job``; MinutesError (one line) for bad input, Cancelled on ``cancel``."""
    from engine.models import registry

    name = registry.check_name(job.name)
    if registry.find(name) is not None:
        raise MinutesError(f"A model named '{name}' already exists: choose another name or remove it first.")
    train_m, dev_m = _checked(job.train, "training"), _checked(job.dev, "dev")
    general = _general(job.general)
    run_dir = Path(job.run_dir or run_dir_for(name))
    run_dir.mkdir(parents=True, exist_ok=True)
    log = EventLog(run_dir / EVENTS_FILE, events, append=job.resume and (run_dir / EVENTS_FILE).exists())
    load = recognizer_factory or _recognizer
    try:
        log.emit("stage", message="scoring the packaged model")
        before = _scores(load(None, job.precision), dev_m, job.terms, general, cancel)
        log.emit("result", message="before", data=before)
        log.close()  # the trainer appends to the same log
        result = _train(job, train_m, dev_m, run_dir, events, cancel)
        log = EventLog(run_dir / EVENTS_FILE, events, append=True)
        log.emit("stage", message="exporting to ONNX")
        with tempfile.TemporaryDirectory(dir=run_dir) as tmp:
            folder = _export(result.model_path, Path(tmp) / "export", name, job, cancel)
            log.emit("stage", message="scoring the fine-tuned model")
            after = _scores(load(str(folder), job.precision), dev_m, job.terms, general, cancel)
            log.emit("result", message="after", data=after)
            info = registry.TrainingInfo(
                base_model="whisper-base",
                manifest_sha256=_sha256(Path(job.train)),
                augmentations=job.augment.to_dict(),
                steps=result.steps,
                dev_wer_before=before["dev"]["rate"],
                dev_wer_after=after["dev"]["rate"],
            )
            registered = registry.register(name, folder, info, move=True)
        log.emit("done", message=f"registered '{name}'", step=result.steps)
        return FinetuneResult(
            name, registered.path, {"before": before, "after": after}, result.steps, result.wall_s, run_dir
        )
    except MinutesError as e:
        log.emit("error", message=str(e))
        raise
    finally:
        log.close()


def _general(path: Path | None):
    if path is None:
        return None
    from engine.training.evaluate import general_set

    if not Path(path).is_file():
        raise ManifestError(f"The general set '{path}' does not exist.")
    return general_set(path)


def _recognizer(model: str | None, precision: str):
    from engine.recognizer import RecognizerSpec

    return RecognizerSpec(model, "cpu" if precision != "fp16" else "cuda", precision).load()


def _train(job: FinetuneJob, train_m: Manifest, dev_m: Manifest, run_dir: Path, events, cancel):
    from engine.training.augment import AugmentKey, augment_audio, augment_mel
    from engine.training.noise import NoiseSource
    from engine.training.trainer import train

    aug = job.augment
    noise = None
    if aug.noise.enabled:
        noise = NoiseSource.from_config(aug.noise, clips=[u.audio_filepath for u in train_m.utterances])

    paths = [u.audio_filepath for u in train_m.utterances]

    def audio_hook(audio, key):
        own = paths[key[2]] if 0 <= key[2] < len(paths) else None  # not in its own babble
        return augment_audio(audio, AugmentKey(*key), aug, noise, own)

    def mel_hook(mel, n_frames, key):
        return augment_mel(mel, n_frames, AugmentKey(*key), aug)

    return train(
        train_m,
        dev_m,
        run_dir,
        job.config,
        resume=job.resume,
        events=events,
        cancel=cancel,
        augment_audio=audio_hook,
        augment_mel=mel_hook if aug.spec_augment.enabled else None,
        append_events=True,  # after the run's own "stage"/"result" events
    )


def _export(model_path: Path, out: Path, name: str, job: FinetuneJob, cancel) -> Path:
    """The fine-tuned weights as an exported-model folder (fp32 and INT8; fp16 too on CUDA)."""
    import torch

    from engine.asr.convert import load_openai_checkpoint
    from engine.asr.onnx_export import export_model
    from engine.models.store import packaged_model

    base = packaged_model()
    model = load_openai_checkpoint(model_path)
    precisions = ["fp32", "int8"] + (["fp16"] if torch.cuda.is_available() else [])
    export_model(
        model,
        out,
        precisions,
        name=name,
        tokenizer_json=base.tokenizer,
        suppress_ids=base.suppress_ids,
        suppress_ids_begin=base.suppress_ids_begin,
        per_channel=True,
        cancel=cancel,
    )
    return out
