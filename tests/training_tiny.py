"""A tiny Whisper and a few real clips for the trainer's tests (and the torchrun entry they start).

Not a test module (no ``test_`` prefix): shared by tests/test_training_trainer.py and run by
``torch.distributed.run`` as a script, so it imports nothing from pytest.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.asr.convert import default_alignment_heads  # noqa: E402
from engine.asr.model import ModelDims, Whisper  # noqa: E402
from engine.training.config import TrainConfig, make_config  # noqa: E402
from engine.training.manifest import Manifest, Utterance  # noqa: E402

DATA = Path(os.environ.get("MINUTES_DATA", REPO.parent / "shared" / "data"))
TINY = ModelDims(
    n_audio_state=64, n_audio_head=2, n_audio_layer=2, n_text_state=64, n_text_head=2, n_text_layer=2, n_text_ctx=64
)
# Short real clips (1.1-2.0 s) with their transcripts from asr_en.tsv.
CLIPS = [
    "cmu_cards_001",
    "cmu_cards_003",
    "cmu_cards_004",
    "cmu_cards_002",
    "ljspeech_LJ002-0020",
    "ljspeech_LJ002-0035",
]


def tiny_model(seed: int = 0) -> Whisper:
    """A random Whisper small enough to train in a second a step on two shared cores."""
    torch.manual_seed(seed)
    model = Whisper(TINY)
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.01)
    model.alignment_heads = default_alignment_heads(TINY)
    return model


def clips(n: int = 4, data: Path = DATA, seconds: tuple[float, float] | None = None) -> Manifest:
    """``n`` of CLIPS, or with ``seconds`` the first ``n`` clips of asr_en.tsv of that length range."""
    import soundfile as sf

    texts = dict(line.split("\t", 1) for line in (data / "asr_en.tsv").read_text(encoding="utf-8").splitlines())
    names = [f"asr_en/{name}.wav" for name in CLIPS] if seconds is None else list(texts)
    utts = []
    for rel in names:
        duration = sf.info(data / rel).duration
        if seconds is None or seconds[0] <= duration <= seconds[1]:
            utts.append(Utterance(data / rel, texts[rel].strip(), duration, "en"))
    return Manifest(data / "asr_en.tsv", utts[:n])


def tiny_config(**kw: Any) -> TrainConfig:
    """The quick preset made for a tiny model: a high rate, a few steps, one thread, no time limit."""
    base = dict(lr=3e-3, steps=6, warmup_steps=2, batch_seconds=30.0, freeze_encoder=False, eval_every=0,
                checkpoint_every=3, time_limit_s=0.0, device="cpu", patience=0, threads=1)  # fmt: skip
    return make_config("quick", {**base, **kw})


def checksum(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to(torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()


def main(out_dir: str) -> None:
    """Under torchrun: one optimizer step on disjoint batches, then each rank writes its weights' checksum."""
    from engine.asr.tokenizer import Tokenizer
    from engine.models.store import packaged_tokenizer
    from engine.training.trainer import train

    model = tiny_model()
    before = checksum(model)
    cfg = tiny_config(steps=1, lr=1e-3, warmup_steps=0, batch_seconds=3.5, max_clip_seconds=3, checkpoint_every=0)
    train(clips(4), None, out_dir, cfg, model=model, tokenizer=Tokenizer(packaged_tokenizer()))
    rank = os.environ.get("RANK", "0")
    Path(out_dir, f"rank{rank}.txt").write_text(f"{before} {checksum(model)}\n")


if __name__ == "__main__":
    main(sys.argv[1])
