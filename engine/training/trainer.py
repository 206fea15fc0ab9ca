"""Fine-tuning Whisper on a manifest: the loop the ``minutes train`` CLI and the Training tab run.

AdamW with warm-up and cosine decay, gradient accumulation, AMP on CUDA, a frozen encoder or
low-rank adapters, encoder input trimmed to the batch's longest clip, dynamic batches by audio
duration, dev WER every few steps with early stopping on it, atomic checkpoints and an exact
resume after a kill, a JSONL event log, a cancel, and the same code under ``torchrun`` (DDP).

Pieces: config.py (settings, presets), data.py (features, batches), forward.py (the training
forward, greedy decoding), lora.py, schedule.py, checkpoint.py, events.py, distributed.py.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from engine.asr.model import Whisper
from engine.asr.tokenizer import Tokenizer
from engine.errors import Cancelled, DeviceError, MinutesError
from engine.scoring import score
from engine.training import distributed
from engine.training.checkpoint import (
    MODEL_FILE,
    checkpoint_path,
    load_checkpoint,
    load_trainable,
    rng_state,
    save_checkpoint,
    save_model,
    set_rng_state,
    trainable_state,
)
from engine.training.config import TrainConfig
from engine.training.data import IGNORE, AugmentAudio, AugmentMel, ClipData, epoch_batches, eval_batches
from engine.training.events import EVENTS_FILE, EventCallback, EventLog
from engine.training.forward import TrainForward
from engine.training.lora import add_lora, merge_lora
from engine.training.manifest import Manifest, ManifestError, read_manifest
from engine.training.schedule import make_scheduler

# Settings that change which tensors train: a checkpoint made with others cannot be resumed.
STRUCTURAL = ("freeze_encoder", "lora_rank", "lora_alpha", "lora_encoder")


@dataclass
class TrainResult:
    model_path: Path  # the fine-tuned model (best dev weights, adapters merged), OpenAI checkpoint format
    best_dev_wer: float | None  # WER (CER for character-scored languages) of those weights; None without dev
    steps: int  # optimizer steps taken
    wall_s: float  # training time over all sessions of this run (resumes add up)
    stopped: str  # "steps" | "early_stop" | "time_limit"
    events_path: Path
    checkpoint_path: Path


def load_base_model() -> tuple[Whisper, Tokenizer]:
    """The packaged Whisper base as a float32 torch model, and its tokenizer."""
    from engine.asr.convert import load_ct2
    from engine.models.store import packaged_model

    src = packaged_model()
    return load_ct2(src.path, src.alignment_heads).float(), Tokenizer(src.tokenizer)


def _manifest(m: str | os.PathLike[str] | Manifest | None) -> Manifest | None:
    return m if isinstance(m, Manifest) or m is None else read_manifest(m)


def resolve_device(name: str, world: distributed.World) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError("Training on CUDA was asked for, but no CUDA GPU is usable here: use device = 'cpu'.")
        return torch.device("cuda", world.local_rank) if world.distributed else torch.device(name)
    if name != "cpu":
        raise DeviceError(f"Unknown training device '{name}': use auto, cpu or cuda.")
    return torch.device("cpu")


def resolve_amp(mode: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for fp32. On the CPU 'auto' is off: bf16 autocast halved the step
    time of Whisper base on a CPU with AVX512-BF16 (same loss), but CPUs without native bf16 emulate
    it; ask for amp = 'bf16' where it helps."""
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        return None
    if mode == "fp16" and device.type != "cuda":
        raise DeviceError("fp16 training needs a CUDA GPU: use amp = 'bf16' or 'off' on the CPU.")
    if mode == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float16 if mode == "fp16" else torch.bfloat16


class _Run:
    """One training run's state; ``train()`` builds it and calls ``run()``."""

    def __init__(
        self,
        train_data: ClipData,
        dev_data: ClipData | None,
        out: Path,
        config: TrainConfig,
        model: Whisper,
        tokenizer: Tokenizer,
        world: distributed.World,
        log: EventLog,
        cancel: threading.Event | None,
        augment_audio: AugmentAudio | None,
        augment_mel: AugmentMel | None,
    ):
        self.data, self.dev, self.out, self.cfg = train_data, dev_data, out, config
        self.model, self.tokenizer, self.world, self.log, self.cancel = model, tokenizer, world, log, cancel
        self.augment_audio, self.augment_mel = augment_audio, augment_mel
        self.device = resolve_device(config.device, world)
        self.amp = resolve_amp(config.amp, self.device)
        self.ckpt_path = checkpoint_path(out)

        torch.manual_seed(config.seed)
        if config.freeze_encoder:
            for p in model.encoder.parameters():
                p.requires_grad_(False)
        if config.lora_rank:
            add_lora(
                model,
                config.lora_rank,
                config.lora_alpha,
                not config.freeze_encoder and config.lora_encoder,
                config.seed,
            )
        model.to(self.device)
        self.forward = TrainForward(model, config.freeze_encoder, config.grad_checkpointing)
        self.module: torch.nn.Module = self.forward
        if world.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.module = torch.nn.parallel.DistributedDataParallel(self.forward, device_ids=ids)
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise MinutesError("Nothing to train: every weight is frozen (set lora_rank or freeze_encoder = false).")
        self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        self.total_steps = self._total_steps()
        self.scheduler = make_scheduler(self.optimizer, self.total_steps, config.warmup_steps, config.min_lr_ratio)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp == torch.float16)
        self.plans: dict[int, list[list[int]]] = {}
        # progress, all of it in the checkpoint
        self.step, self.epoch, self.offset = 0, 0, 0
        self.best_wer: float | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_evals = 0
        self.elapsed_before = 0.0
        self.started = time.monotonic()
        self.step_times: list[float] = []

    # ------------------------------------------------------------------ data
    def plan(self, epoch: int) -> list[list[int]]:
        if epoch not in self.plans:
            self.plans = {
                epoch: epoch_batches(
                    self.data.durations, self.cfg.batch_seconds, self.cfg.seed, epoch, self.world.rank, self.world.size
                )
            }
        return self.plans[epoch]

    def _total_steps(self) -> int:
        if self.cfg.steps:
            return self.cfg.steps
        micro = sum(len(self.plan(e)) for e in range(self.cfg.epochs))
        return max(1, micro // self.cfg.accumulation)

    def next_batch(self):
        while self.offset >= len(self.plan(self.epoch)):
            self.epoch, self.offset = self.epoch + 1, 0
        indices = self.plan(self.epoch)[self.offset]
        batch = self.data.batch(
            indices, self.cfg.trim_encoder, (self.cfg.seed, self.epoch), self.augment_audio, self.augment_mel
        )
        self.offset += 1
        return batch.to(self.device)

    # ------------------------------------------------------------------ state
    @property
    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "config": self.cfg.to_dict(),
            "model": trainable_state(self.model),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "offset": self.offset,
            "best_dev_wer": self.best_wer,
            "best": self.best_state,
            "bad_evals": self.bad_evals,
            "elapsed_s": self.elapsed,
            "rng": rng_state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        old = state.get("config", {})
        changed = [k for k in STRUCTURAL if old.get(k) != getattr(self.cfg, k)]
        if changed:
            raise MinutesError(
                f"The checkpoint in '{self.out}' was made with other {', '.join(changed)}: resume with the same "
                "settings, or start in a new folder."
            )
        load_trainable(self.model, state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.step, self.epoch, self.offset = state["step"], state["epoch"], state["offset"]
        self.best_wer, self.best_state, self.bad_evals = state["best_dev_wer"], state["best"], state["bad_evals"]
        self.elapsed_before = state["elapsed_s"]
        set_rng_state(state["rng"])

    def save(self) -> None:
        if self.world.main:
            save_checkpoint(self.ckpt_path, self.state())
            self.emit("checkpoint", message=str(self.ckpt_path))

    def emit(self, kind: str, **fields: Any) -> None:
        if not self.world.main:
            return
        remaining = self.total_steps - self.step
        eta = sum(self.step_times[-20:]) / len(self.step_times[-20:]) * remaining if self.step_times else None
        base = dict(
            step=self.step,
            total_steps=self.total_steps,
            epoch=self.epoch,
            elapsed_s=round(self.elapsed, 2),
            eta_s=None if eta is None else round(eta, 1),
            best_dev_wer=self.best_wer,
        )
        self.log.emit(kind, **{**base, **fields})

    # ------------------------------------------------------------------ steps
    def autocast(self):
        if self.amp is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp)

    def train_step(self) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for micro in range(self.cfg.accumulation):
            batch = self.next_batch()
            last = micro == self.cfg.accumulation - 1
            sync = nullcontext() if last or not self.world.distributed else self.module.no_sync()
            with sync:
                with self.autocast():
                    logits = self.module(batch.mel, batch.tokens)
                loss = F.cross_entropy(logits.float().transpose(1, 2), batch.targets, ignore_index=IGNORE)
                self.scaler.scale(loss / self.cfg.accumulation).backward()
            total += float(loss.detach()) / self.cfg.accumulation
        if self.cfg.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(
                [p for g in self.optimizer.param_groups for p in g["params"]], self.cfg.grad_clip
            )
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.step += 1
        return total

    def evaluate(self) -> tuple[float, Any]:
        """Greedy decoding of the dev set with the torch model: (WER or CER, the Score)."""
        assert self.dev is not None
        was_training = self.model.training
        self.model.eval()
        refs, hyps, langs = [], [], []
        with self.autocast():
            for indices in eval_batches(self.dev.durations, self.cfg.batch_seconds):
                batch = self.dev.batch(indices, self.cfg.trim_encoder).to(self.device)
                groups: dict[tuple[int, ...], list[int]] = {}  # rows by SOT prefix (languages may differ)
                for row, i in enumerate(indices):
                    groups.setdefault(tuple(self.dev.sequences[i][: self.dev.prefix_lengths[i]]), []).append(row)
                for prefix, rows in groups.items():
                    clips = [indices[r] for r in rows]
                    max_new = [int(8 * self.dev.utterances[i].duration) + 10 for i in clips]
                    start = torch.tensor([prefix] * len(rows), device=self.device)
                    tok = self.tokenizer
                    out = self.forward.greedy(
                        batch.mel[rows], start, max_new, tok.eot, tok.non_speech_tokens, tok.blank_tokens
                    )
                    for i, ids in zip(clips, out):
                        u = self.dev.utterances[i]
                        refs.append(u.text)
                        hyps.append(self.tokenizer.decode(ids).strip())
                        langs.append(u.language or self.cfg.language)
        self.model.train(was_training)
        result = score(refs, hyps, langs)
        return result.rate, result

    def eval_and_track(self) -> bool:
        """Evaluate (rank 0), keep the best weights; True when patience has run out."""
        if self.dev is None or not self.world.main:
            return False
        t0 = time.monotonic()
        rate, result = self.evaluate()
        improved = self.best_wer is None or rate < self.best_wer - 1e-9
        if improved:
            self.best_wer, self.best_state, self.bad_evals = rate, trainable_state(self.model), 0
        else:
            self.bad_evals += 1
        message = f"dev WER {rate:.1%} on {len(result.utterances)} clips"
        eval_s = round(time.monotonic() - t0, 2)
        self.emit("eval", dev_wer=rate, dev_cer=result.cer, improved=improved, eval_s=eval_s, message=message)
        return bool(self.cfg.patience) and self.bad_evals >= self.cfg.patience

    def run(self, resume: bool) -> TrainResult:
        cfg = self.cfg
        note = ""
        if resume and self.ckpt_path.exists():
            self.restore(load_checkpoint(self.ckpt_path))
            note = f"resumed at step {self.step}; "
        elif resume:
            note = "no checkpoint yet, starting from the beginning; "
        skipped = f", {len(self.data.skipped)} left out" if self.data.skipped else ""
        self.emit(
            "start",
            message=f"{note}{len(self.data)} clips ({self.data.duration / 60:.1f} min){skipped}, "
            f"device {self.device}, amp {self.amp or 'off'}, world size {self.world.size}",
            config=cfg.to_dict(),
            lr=self.scheduler.get_last_lr()[0],
        )
        self.model.train()
        stopped, evaluated_at = "steps", -1
        while self.step < self.total_steps:
            cancel = self.cancel is not None and self.cancel.is_set()
            timeout = bool(cfg.time_limit_s) and self.elapsed >= cfg.time_limit_s
            cancel, timeout = distributed.any_of(self.world, [cancel, timeout], self.device)
            if cancel:
                self.save()
                self.emit("cancelled", message=f"cancelled at step {self.step}; resume continues from here")
                raise Cancelled()
            if timeout:
                stopped = "time_limit"
                break
            t0 = time.monotonic()
            lr = self.scheduler.get_last_lr()[0]
            loss = distributed.mean(self.world, self.train_step(), self.device)
            self.step_times.append(time.monotonic() - t0)
            if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                self.emit("step", loss=round(loss, 5), lr=lr, step_s=round(self.step_times[-1], 3))
            stop = False
            if cfg.eval_every and self.step % cfg.eval_every == 0:
                stop, evaluated_at = self.eval_and_track(), self.step
            (stop,) = distributed.any_of(self.world, [stop], self.device)
            if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0 and self.step < self.total_steps:
                self.save()
            if stop:
                stopped = "early_stop"
                break
        if evaluated_at != self.step:
            self.eval_and_track()
        self.save()
        return self.finish(stopped)

    def finish(self, stopped: str) -> TrainResult:
        """Best weights, adapters merged, written as one plain Whisper checkpoint (rank 0)."""
        if self.best_state is not None:
            load_trainable(self.model, self.best_state)
        merge_lora(self.model)
        path = self.out / MODEL_FILE
        if self.world.main:
            save_model(path, self.model)
            self.emit("done", dev_wer=self.best_wer, message=f"stopped: {stopped}; model in {path}")
        distributed.barrier(self.world)
        return TrainResult(
            path, self.best_wer, self.step, self.elapsed, stopped, self.out / EVENTS_FILE, self.ckpt_path
        )


def train(
    train_manifest: str | os.PathLike[str] | Manifest,
    dev_manifest: str | os.PathLike[str] | Manifest | None,
    out_dir: str | os.PathLike[str],
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    events: EventCallback | None = None,
    cancel: threading.Event | None = None,
    augment_audio: AugmentAudio | None = None,
    augment_mel: AugmentMel | None = None,
    model: Whisper | None = None,
    tokenizer: Tokenizer | None = None,
    append_events: bool = False,
) -> TrainResult:
    """Fine-tune ``model`` (default: the packaged Whisper base; trained in place) on a manifest.

    Writes ``out_dir/events.jsonl`` (one event a line), ``checkpoint.pt`` (every
    ``checkpoint_every`` steps, on cancel and at the end) and ``model.pt`` (the best dev weights,
    adapters merged); ``append_events`` keeps what a caller logged there before. ``resume``
    continues from ``checkpoint.pt`` exactly where it stopped. A set ``cancel`` saves a checkpoint
    and raises Cancelled. Under torchrun every rank calls this; rank 0 alone writes files and
    events."""
    config = config or TrainConfig()
    out = Path(out_dir)
    cuda = config.device.startswith("cuda") or (config.device == "auto" and torch.cuda.is_available())
    world = distributed.setup(cuda)
    log = EventLog(None)
    threads = torch.get_num_threads()
    try:
        if world.main:
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise MinutesError(f"Cannot create the training folder '{out}': {e.strerror or e}.") from None
            log = EventLog(out / EVENTS_FILE, events, append=resume or append_events)
        distributed.barrier(world)
        if config.threads:
            torch.set_num_threads(config.threads)
        train_m, dev_m = _manifest(train_manifest), _manifest(dev_manifest)
        if model is None:
            model, packaged_tok = load_base_model()
            tokenizer = tokenizer or packaged_tok
        if tokenizer is None:
            from engine.models.store import packaged_tokenizer

            tokenizer = Tokenizer(packaged_tokenizer())
        d = model.dims
        args = (tokenizer, d.n_mels, d.n_text_ctx, config.max_clip_seconds, config.language)
        train_data = ClipData(train_m.utterances, *args)
        if not len(train_data):
            raise ManifestError(f"'{train_m.path}' has no usable clip (each is too long or its text is).")
        dev_data = ClipData(dev_m.utterances, *args) if dev_m is not None and dev_m.utterances else None
        run = _Run(train_data, dev_data, out, config, model, tokenizer, world, log, cancel, augment_audio, augment_mel)
        return run.run(resume)
    except Cancelled:
        raise
    except BaseException as e:
        if world.main and log.file is not None:
            log.emit("error", message=str(e) or type(e).__name__)
        raise
    finally:
        log.close()
        torch.set_num_threads(threads)  # a caller's process keeps its own setting
        distributed.teardown(world)
