"""The trainer (engine/training/trainer.py) on a tiny Whisper and real clips.

What a user notices: the loss falls on their data, a killed or cancelled run resumes to the same
weights as one that never stopped, a full disk keeps the last checkpoint, a config typo is named
with the valid settings, the Training tab's event lines parse, adapters merge into a plain
Whisper, and two torchrun processes agree on the weights.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.asr.convert import load_openai_checkpoint
from engine.asr.tokenizer import Tokenizer
from engine.errors import Cancelled
from engine.models.store import packaged_tokenizer
from engine.training.checkpoint import CheckpointError, load_checkpoint
from engine.training.config import ConfigError, load_config, make_config
from engine.training.data import ClipData, epoch_batches
from engine.training.events import EVENT_TYPES, FIELDS
from engine.training.forward import TrainForward
from engine.training.lora import LoRALinear, add_lora, merge_lora
from engine.training.schedule import lr_factor
from engine.training.trainer import train
from tests.training_tiny import checksum, clips, tiny_config, tiny_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(packaged_tokenizer())


@pytest.fixture(scope="module")
def four(data_dir):
    return clips(4, data_dir)


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def overfit(four, tokenizer, tmp_path_factory):
    """20 steps on 4 clips (one batch), dev = the same clips, evaluated every 10 steps."""
    out = tmp_path_factory.mktemp("overfit")
    seen: list[dict] = []
    cfg = tiny_config(steps=20, eval_every=10, checkpoint_every=10)
    result = train(four, four, out, cfg, model=tiny_model(), tokenizer=tokenizer, events=seen.append)
    return result, seen


# ----------------------------------------------------------------------------- learning


def test_loss_falls_when_overfitting_four_clips(overfit):
    result, seen = overfit
    losses = [e["loss"] for e in seen if e["type"] == "step"]
    assert len(losses) == 20 and result.steps == 20
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3]), losses
    wers = [e["dev_wer"] for e in seen if e["type"] == "eval"]
    assert len(wers) == 2 and result.best_dev_wer == min(wers)


def test_the_model_file_is_a_whisper_checkpoint_with_its_word_timing_heads(overfit):
    result, _ = overfit
    model = load_openai_checkpoint(result.model_path)
    assert model.dims.n_text_state == 64
    assert model.alignment_heads == tiny_model().alignment_heads


def test_event_log_lines_parse_and_carry_every_field(overfit):
    result, seen = overfit
    lines = _events(result.events_path)
    assert [e["type"] for e in lines] == [e["type"] for e in seen]
    assert lines[0]["type"] == "start" and lines[-1]["type"] == "done"
    assert {e["type"] for e in lines} <= set(EVENT_TYPES)
    for e in lines:
        assert set(FIELDS) <= set(e), e
    steps = [e for e in lines if e["type"] == "step"]
    assert steps[-1]["step"] == steps[-1]["total_steps"] == 20
    assert all(e["lr"] > 0 and e["elapsed_s"] >= 0 and e["eta_s"] is not None for e in steps)


def test_trimmed_encoder_at_full_length_is_whisper_itself(four, tokenizer):
    model = tiny_model().eval()
    batch = ClipData(four.utterances, tokenizer, 80, 64).batch([0, 1], trim=False)
    assert batch.mel.shape[-1] == 3000
    with torch.no_grad():
        ours = TrainForward(model)(batch.mel, batch.tokens)
        theirs = model(batch.mel, batch.tokens)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    trimmed = ClipData(four.utterances, tokenizer, 80, 64).batch([0, 1], trim=True)
    assert trimmed.mel.shape[-1] == 1000  # short clips: the 10 s minimum
    long = ClipData([replace(four.utterances[0], duration=12.0)], tokenizer, 80, 64)
    long.cache = {0: np.zeros(16000 * 12, dtype=np.float32)}
    assert long.batch([0], trim=True).mel.shape[-1] == 1300  # + 1 s of silence


def test_greedy_decoding_with_its_cache_matches_recomputing_every_position(four, tokenizer):
    model = tiny_model().eval()
    fwd = TrainForward(model)
    batch = ClipData(four.utterances, tokenizer, 80, 64).batch([0, 1], trim=True)
    prefix = batch.tokens[:, :4]
    fast = fwd.greedy(batch.mel, prefix, [12, 12], tokenizer.eot)
    tokens, slow = prefix, [[], []]
    with torch.no_grad():
        xa = fwd.encode(batch.mel)
        for _ in range(12):
            logits = fwd.decode(tokens, xa)[:, -1]
            logits[:, tokenizer.eot + 1 :] = float("-inf")
            nxt = logits.argmax(-1)
            tokens = torch.cat([tokens, nxt[:, None]], dim=1)
    for row in range(2):
        ids = tokens[row, 4:].tolist()
        slow[row] = ids[: ids.index(tokenizer.eot)] if tokenizer.eot in ids else ids
    assert fast == slow


def test_targets_are_the_text_and_eot_after_the_sot_prefix(four, tokenizer):
    data = ClipData(four.utterances, tokenizer, 80, 64)
    b = data.batch([0], trim=True)
    want = tokenizer.encode(" " + four.utterances[0].text.strip()) + [tokenizer.eot]
    assert b.targets[0][b.targets[0] >= 0].tolist() == want
    assert b.tokens[0, :4].tolist() == [*tokenizer.sot_sequence("en"), tokenizer.no_timestamps]


# ----------------------------------------------------------------------------- schedule and batches


def test_learning_rate_warms_up_linearly_then_decays_by_a_cosine():
    factors = [lr_factor(s, 100, 10) for s in range(100)]
    assert factors[:10] == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert factors[10] == pytest.approx(1.0)
    assert factors[55] == pytest.approx(0.5, abs=0.02)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert lr_factor(100, 100, 10, min_ratio=0.1) == pytest.approx(0.1)


def test_dynamic_batches_never_pass_batch_seconds_and_ranks_get_disjoint_equal_shares():
    rng = np.random.default_rng(1)
    durations = rng.uniform(0.5, 30.0, 500).tolist()
    for epoch in range(3):
        batches = epoch_batches(durations, 60.0, seed=7, epoch=epoch)
        assert all(sum(durations[i] for i in b) <= 60.0 for b in batches)
        assert sorted(i for b in batches for i in b) == list(range(500))
        shares = [epoch_batches(durations, 60.0, 7, epoch, rank=r, world=3) for r in range(3)]
        assert len({len(s) for s in shares}) == 1
        flat = [i for s in shares for b in s for i in b]
        assert len(flat) == len(set(flat))
    assert epoch_batches(durations, 60.0, 7, 0) == epoch_batches(durations, 60.0, 7, 0)
    assert epoch_batches(durations, 60.0, 7, 0) != epoch_batches(durations, 60.0, 7, 1)


# ----------------------------------------------------------------------------- resume, disk, cancel


class _Kill(BaseException):
    """Stands in for a SIGKILL: nothing after it runs, only what is on disk survives."""


def _kill_at(step: int):
    def hook(event: dict) -> None:
        if event["type"] == "checkpoint" and event["step"] == step:
            raise _Kill()

    return hook


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["model_state_dict"]


def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_weights(four, tokenizer, tmp_path):
    # 3 batches an epoch and 2 a step: the kill falls mid-epoch, the resume crosses epochs
    cfg = tiny_config(batch_seconds=3.5, max_clip_seconds=3.0, accumulation=2)
    straight = train(four, None, tmp_path / "a", cfg, model=tiny_model(), tokenizer=tokenizer)
    with pytest.raises(_Kill):
        train(four, None, tmp_path / "b", cfg, model=tiny_model(), tokenizer=tokenizer, events=_kill_at(3))
    assert load_checkpoint(tmp_path / "b" / "checkpoint.pt")["step"] == 3
    resumed = train(four, None, tmp_path / "b", cfg, model=tiny_model(), tokenizer=tokenizer, resume=True)
    assert resumed.steps == straight.steps == 6
    a, b = _weights(straight.model_path), _weights(resumed.model_path)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=0)
    lines = _events(resumed.events_path)
    starts = [e for e in lines if e["type"] == "start"]
    assert len(starts) == 2 and starts[1]["message"].startswith("resumed at step 3")


def test_a_full_disk_while_saving_keeps_the_previous_checkpoint(four, tokenizer, tmp_path, monkeypatch):
    cfg = tiny_config(steps=4, checkpoint_every=2)
    with pytest.raises(_Kill):
        train(four, None, tmp_path, cfg, model=tiny_model(), tokenizer=tokenizer, events=_kill_at(2))

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("engine.atomic.os.fsync", full)
    with pytest.raises(CheckpointError) as err:
        train(four, None, tmp_path, cfg, model=tiny_model(), tokenizer=tokenizer, resume=True)
    message = str(err.value)
    assert "\n" not in message and "disk is full" in message and "previous checkpoint is kept" in message
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "events.jsonl"]  # no temp file left
    last = _events(tmp_path / "events.jsonl")[-1]
    assert last["type"] == "error" and "disk is full" in last["message"]


def test_cancel_stops_within_a_step_and_leaves_a_resumable_checkpoint(four, tokenizer, tmp_path):
    cancel = threading.Event()

    def hook(event: dict) -> None:
        if event["type"] == "step" and event["step"] == 2:
            cancel.set()

    cfg = tiny_config(steps=4, checkpoint_every=0)
    with pytest.raises(Cancelled):
        train(four, None, tmp_path, cfg, model=tiny_model(), tokenizer=tokenizer, events=hook, cancel=cancel)
    lines = _events(tmp_path / "events.jsonl")
    assert lines[-1]["type"] == "cancelled" and lines[-1]["step"] == 2
    assert max(e["step"] for e in lines if e["type"] == "step") == 2
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 2
    done = train(four, None, tmp_path, cfg, model=tiny_model(), tokenizer=tokenizer, resume=True)
    assert done.steps == 4 and done.model_path.exists()


# ----------------------------------------------------------------------------- config


def test_an_unknown_setting_is_named_with_the_valid_ones(tmp_path):
    with pytest.raises(ConfigError) as err:
        make_config("quick", {"learning_rate": 1e-4})
    msg = str(err.value)
    assert "'learning_rate'" in msg and "lr" in msg and "batch_seconds" in msg and "\n" not in msg
    toml = tmp_path / "train.toml"
    toml.write_text('preset = "standard"\n[train]\nlr = 2e-5\nwarmpu_steps = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'warmpu_steps'"):
        load_config(toml)


def test_toml_values_override_the_preset_and_the_command_line_overrides_both(tmp_path):
    toml = tmp_path / "train.toml"
    toml.write_text('preset = "standard"\nlr = 2e-5\nsteps = 10\n', encoding="utf-8")
    cfg = load_config(toml, overrides={"steps": "12", "freeze_encoder": "true"})
    assert (cfg.lr, cfg.steps, cfg.freeze_encoder, cfg.batch_seconds) == (2e-5, 12, True, 120.0)
    assert load_config(None).time_limit_s == 1200.0  # quick
    with pytest.raises(ConfigError, match="'amp'"):
        make_config("quick", {"amp": "fp8"})


# ----------------------------------------------------------------------------- adapters


def test_lora_trains_only_the_adapters_and_merging_changes_no_output(four, tokenizer):
    model = tiny_model()
    params = add_lora(model, rank=4, alpha=8.0, encoder=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(".lora_" in n for n in trainable) and len(params) == len(trainable)
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    batch = ClipData(four.utterances, tokenizer, 80, 64).batch([0, 1, 2], trim=True)
    fwd, opt = TrainForward(model), torch.optim.AdamW(params, lr=1e-2)
    for _ in range(2):
        logits = fwd(batch.mel, batch.tokens)
        torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.targets, ignore_index=-100).backward()
        opt.step()
        opt.zero_grad()
    for n, p in model.named_parameters():
        if n in frozen:
            assert torch.equal(p, frozen[n]), n
    with torch.no_grad():
        before = fwd(batch.mel, batch.tokens)
        merge_lora(model)
        after = fwd(batch.mel, batch.tokens)
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    assert set(model.state_dict()) == set(tiny_model().state_dict())
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


def test_a_lora_run_writes_a_plain_whisper_and_small_checkpoints(four, tokenizer, tmp_path):
    cfg = tiny_config(steps=2, lora_rank=4, freeze_encoder=True, checkpoint_every=0)
    result = train(four, None, tmp_path, cfg, model=tiny_model(), tokenizer=tokenizer)
    saved = load_checkpoint(result.checkpoint_path)["model"]
    assert saved and all(".lora_" in k for k in saved)
    merged = _weights(result.model_path)
    start = tiny_model().state_dict()
    assert set(merged) == set(start)
    assert torch.equal(merged["decoder.token_embedding.weight"], start["decoder.token_embedding.weight"])
    assert not torch.equal(merged["decoder.blocks.0.attn.query.weight"], start["decoder.blocks.0.attn.query.weight"])


# ----------------------------------------------------------------------------- torchrun


def test_two_gloo_processes_hold_identical_weights_after_a_step(data_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(REPO / "tests" / "training_tiny.py"),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sums = [(tmp_path / f"rank{r}.txt").read_text().split() for r in (0, 1)]
    assert sums[0][0] == sums[1][0] == checksum(tiny_model())  # same start
    assert sums[0][1] == sums[1][1] != sums[0][0]  # one step taken, the same on both ranks
    lines = _events(tmp_path / "events.jsonl")  # rank 0 alone writes the log
    assert [e["type"] for e in lines].count("start") == 1 and "world size 2" in lines[0]["message"]


def test_early_stopping_keeps_the_best_weights_and_the_time_limit_stops(four, tokenizer, tmp_path):
    cfg = tiny_config(lr=1e-9, steps=10, eval_every=1, patience=1, checkpoint_every=0)  # the WER cannot improve
    result = train(four, four, tmp_path / "a", cfg, model=tiny_model(), tokenizer=tokenizer)
    assert (result.stopped, result.steps) == ("early_stop", 2)
    evals = [e for e in _events(result.events_path) if e["type"] == "eval"]
    assert [e["improved"] for e in evals] == [True, False]
    assert result.best_dev_wer == evals[0]["dev_wer"]
    timed = train(four, None, tmp_path / "b", tiny_config(time_limit_s=1e-3), model=tiny_model(), tokenizer=tokenizer)
    assert timed.stopped == "time_limit" and timed.steps < 6 and timed.model_path.exists()


def test_gradient_checkpointing_gives_the_same_gradients(four, tokenizer):
    batch = ClipData(four.utterances, tokenizer, 80, 64).batch([0, 1], trim=True)
    grads = []
    for ckpt in (False, True):
        model = tiny_model()
        logits = TrainForward(model, grad_checkpointing=ckpt)(batch.mel, batch.tokens)
        torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.targets, ignore_index=-100).backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    for n in grads[0]:
        torch.testing.assert_close(grads[0][n], grads[1][n], atol=1e-6, rtol=1e-5)


@pytest.mark.slow
def test_whisper_base_with_a_frozen_trimmed_encoder_takes_a_step_and_still_transcribes(data_dir, tmp_path):
    """The packaged weights through the training path: one step, then greedy dev decoding."""
    from engine.training.trainer import load_base_model

    model, tok = load_base_model()
    dev = clips(4, data_dir, seconds=(5.0, 9.0))  # base gets these right at 30 s
    cfg = tiny_config(lr=1e-6, steps=1, warmup_steps=0, freeze_encoder=True, checkpoint_every=0, threads=0)
    result = train(dev, dev, tmp_path, cfg, model=model, tokenizer=tok)
    assert result.steps == 1 and result.best_dev_wer is not None and result.best_dev_wer < 0.05


def test_augmentation_hooks_see_each_clip_with_a_reproducible_key(four, tokenizer, tmp_path):
    seen: list[tuple] = []

    def audio(a: np.ndarray, key: tuple) -> np.ndarray:
        seen.append(("audio", key))
        return a * 0.5

    def mel(m: np.ndarray, n_frames: int, key: tuple) -> np.ndarray:
        seen.append(("mel", key, n_frames <= m.shape[-1]))
        return m

    cfg = tiny_config(seed=5, steps=2, batch_seconds=3.5, max_clip_seconds=3.0, checkpoint_every=0)
    train(four, None, tmp_path, cfg, model=tiny_model(), tokenizer=tokenizer, augment_audio=audio, augment_mel=mel)
    keys = [s[1] for s in seen if s[0] == "audio"]
    assert keys == [s[1] for s in seen if s[0] == "mel"] and all(s[2] for s in seen if s[0] == "mel")
    assert all(k[:2] == (5, 0) for k in keys) and len(set(keys)) == len(keys)
