"""What a training run does, as one frozen dataclass: presets, a TOML file, overrides.

Frozen so that a run's settings cannot drift after they are written into its checkpoint; the
checkpoint holds ``asdict(config)`` and a resume compares against it.

Presets (the dataclass defaults are ``quick``):
- ``quick``: must finish in 30 minutes on 2 CPU cores for ~15 minutes of audio. Measured here, Whisper
  base with the encoder frozen and its input trimmed (fp32, 2 threads) takes 3.6-4.2 s an optimizer
  step for 8 clips of 5-9 s (52 s of audio), so a 60 s batch costs ~4.5 s. 100 steps (~5 passes
  over 20 minutes of audio): measured by bench/finetune.py, the whole `minutes train` took 10
  minutes; dev WER 63.9% -> 14.9%, plain English 4.9% -> 5.8%. 200 steps reached 1.5% on dev but
  cost 3.5 points of plain English (forgetting), so quick stops at 100. Training only the decoder
  keeps the acoustic model as it was. On a slower or busier machine ``time_limit_s`` stops it at
  20 minutes, keeping the best weights so far.
- ``standard``: the whole model (encoder input trimmed), 2000 steps of 120 s, dev every 200 steps with
  early stopping: hours on a CPU, minutes on a GPU (AMP there).
- ``thorough``: the whole model, 6000 steps of 240 s with gradient checkpointing (bigger batches fit
  in GPU memory) and more patience: a GPU run.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from typing import Any

from engine.atomic import read_bytes
from engine.errors import MinutesError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: TOML files need 3.11 (presets and overrides still work)
    tomllib = None  # type: ignore[assignment]

AMP_MODES = ("off", "fp16", "bf16", "auto")


class ConfigError(MinutesError):
    """A training setting that cannot be used: one line names it and what is allowed."""


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 1e-5
    weight_decay: float = 0.01
    steps: int = 100  # optimizer steps; 0 = run ``epochs`` passes over the data
    epochs: int = 0
    warmup_steps: int = 20
    min_lr_ratio: float = 0.0  # the cosine ends at lr * min_lr_ratio
    batch_seconds: float = 60.0  # audio per micro-batch (summed clip durations)
    accumulation: int = 1  # micro-batches per optimizer step
    grad_clip: float = 1.0  # max gradient norm; 0 = off
    freeze_encoder: bool = True
    lora_rank: int = 0  # 0 = train the weights themselves
    lora_alpha: float = 16.0
    lora_encoder: bool = True  # adapters on the encoder too, when it is not frozen
    amp: str = "auto"  # off | fp16 | bf16 | auto (bf16/fp16 on CUDA, off on CPU)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    threads: int = 0  # CPU threads for torch; 0 = torch's default
    trim_encoder: bool = True
    grad_checkpointing: bool = False
    eval_every: int = 50  # optimizer steps between dev evaluations; 0 = only at the end
    checkpoint_every: int = 50  # optimizer steps between checkpoints (and always at the end)
    patience: int = 3  # evaluations without a better dev WER before stopping; 0 = never stop early
    seed: int = 0
    max_clip_seconds: float = 30.0  # longer clips are left out (Whisper sees 30 s at most)
    language: str = "en"  # for utterances whose manifest line names none
    time_limit_s: float = 1200.0  # stop (keeping the best weights) after this much training; 0 = none
    log_every: int = 1  # optimizer steps between "step" events

    def __post_init__(self) -> None:
        checks = [
            (self.lr > 0, "lr", "a positive number"),
            (self.steps >= 0 and self.epochs >= 0 and (self.steps or self.epochs), "steps", "steps > 0 or epochs > 0"),
            (self.warmup_steps >= 0, "warmup_steps", "0 or more"),
            (0 <= self.min_lr_ratio <= 1, "min_lr_ratio", "between 0 and 1"),
            (self.accumulation >= 1, "accumulation", "1 or more"),
            (self.lora_rank >= 0, "lora_rank", "0 (off) or more"),
            (self.amp in AMP_MODES, "amp", " | ".join(AMP_MODES)),
            (0 < self.max_clip_seconds <= 30, "max_clip_seconds", "more than 0 and at most 30"),
            (self.batch_seconds >= self.max_clip_seconds, "batch_seconds", "at least max_clip_seconds"),
            (self.patience >= 0 and self.eval_every >= 0, "patience", "0 or more (and eval_every too)"),
            (self.checkpoint_every >= 0 and self.log_every >= 1, "checkpoint_every", "0 or more"),
        ]
        for ok, key, allowed in checks:
            if not ok:
                raise ConfigError(f"Training setting '{key}' = {getattr(self, key)!r} is not allowed: use {allowed}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PRESETS: dict[str, dict[str, Any]] = {
    "quick": {},  # the dataclass defaults are the quick preset
    "standard": dict(
        freeze_encoder=False, steps=2000, warmup_steps=100, batch_seconds=120.0, eval_every=200,
        checkpoint_every=200, patience=3, time_limit_s=0.0,
    ),
    "thorough": dict(
        freeze_encoder=False, steps=6000, warmup_steps=300, batch_seconds=240.0, eval_every=300,
        checkpoint_every=300, patience=5, grad_checkpointing=True, time_limit_s=0.0,
    ),
}  # fmt: skip


def _valid_keys() -> list[str]:
    return [f.name for f in fields(TrainConfig)]


def _coerce(key: str, value: Any) -> Any:
    """A value from TOML or a command line, as the field's type (``"3"`` -> 3 for an int field)."""
    kind = {f.name: f.type for f in fields(TrainConfig)}[key]
    try:
        if kind == "bool":
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError
                return value.lower() in ("true", "1", "yes", "on")
            if not isinstance(value, bool):
                raise ValueError
            return value
        if kind in ("int", "float") and isinstance(value, bool):
            raise ValueError
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"Training setting '{key}' = {value!r} is not a {kind}.") from None


def make_config(preset: str = "quick", overrides: dict[str, Any] | None = None) -> TrainConfig:
    """A preset with ``overrides`` applied; an unknown key or preset is a ConfigError naming the valid ones."""
    if preset not in PRESETS:
        raise ConfigError(f"Unknown training preset '{preset}': use one of {', '.join(PRESETS)}.")
    values = dict(PRESETS[preset])
    valid = _valid_keys()
    for key, value in (overrides or {}).items():
        if key not in valid:
            raise ConfigError(f"Unknown training setting '{key}': valid settings are {', '.join(valid)}.")
        values[key] = _coerce(key, value)
    return TrainConfig(**values)


def load_config(
    path: str | os.PathLike[str] | None = None, preset: str | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """Preset, then the TOML file's values, then ``overrides`` (the command line): later wins.

    The file may name its preset (``preset = "standard"``) and hold the settings at the top level or
    under ``[train]``; ``preset`` given here wins over the file's."""
    values: dict[str, Any] = {}
    if path is not None:
        if tomllib is None:
            raise ConfigError("Reading a training config file needs Python 3.11 or newer.")
        raw = read_bytes(path, "a TOML file", ConfigError)
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"'{path}' is not a valid TOML file: {e}.") from None
        if isinstance(data.get("train"), dict):
            data = {**{k: v for k, v in data.items() if k != "train"}, **data["train"]}
        data.pop("augment", None)  # the [augment] table is AugmentConfig's (engine/training/augment.py)
        file_preset = data.pop("preset", None)
        preset = preset or file_preset
        values.update(data)
    values.update(overrides or {})
    return make_config(preset or "quick", values)
