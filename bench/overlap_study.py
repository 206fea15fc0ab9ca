"""Overlapped-speech detection study: can a detector trained here add the second speaker AMI needs?

Not part of the app: measured and not kept (docs/benchmarks.md, "Speakers", overlap detector).
No overlap-annotated meeting audio is available for training, so conversations are simulated from
the 251 single-speaker LibriSpeech voices in ``../shared/data/speaker_pool``: turns from 1-4 voices,
about half of them cut into by the next speaker or a short back-channel, each turn at its own
level, each voice through its own simulated room (exponentially decaying noise, RT60 0.1-0.8 s),
plus stationary noise at 5-30 dB SNR. Per-voice activity is Silero VAD on the clean utterance, so
each 10 ms frame is labelled 0, 1 or 2+ speakers. A 2-layer conv + 2-layer BiGRU (64 wide) reads
the speaker encoder's 40 mel bands. Voices 0-199 train, the rest validate; AMI is only scored.

Scoring: the default diarization, then in every run of >= 0.1 s where P(2+) (median-filtered over
0.25 s) exceeds a threshold inside a turn, the other speaker nearest in time is added as a second
label. ``--oracle`` uses the reference's overlap instead of the detector (the ceiling of the rule).

    .venv/bin/python bench/overlap_study.py --train --out /tmp/overlap.onnx   # ~15 min on 2 cores
    .venv/bin/python bench/overlap_study.py --model /tmp/overlap.onnx --thresholds 0.5,0.6,0.7
    .venv/bin/python bench/overlap_study.py --oracle
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.diarization import SETS, Runner, files_of, load_reference, load_uem  # noqa: E402
from bench.scoring import data_dir  # noqa: E402
from engine.speakers.diarize import DiarizationOptions  # noqa: E402
from engine.speakers.embedding import FRAMES_PER_SECOND, SAMPLE_RATE, mel_power, normalize_volume  # noqa: E402

CHUNK_FRAMES = 800  # 8 s: the length it was trained on
STEP_FRAMES = 600  # chunks overlap by 2 s; each frame is read from the chunk where it is most central


def log_features(mel: np.ndarray) -> np.ndarray:
    """Scaled log mel power, [frames, 40] float32."""
    return ((np.log10(np.asarray(mel, dtype=np.float32) + 1e-9) + 3.0) / 2.0).astype(np.float32)


class OverlapDetector:
    """The exported network on 8 s chunks overlapping by 2 s (each frame from its most central chunk)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])

    def probs(self, mel: np.ndarray, batch: int = 16) -> np.ndarray:
        """[frames, 3] probabilities of 0, 1 and 2+ speakers for mel power frames [frames, 40]."""
        n = len(mel)
        out = np.zeros((n, 3), dtype=np.float32)
        if n == 0:
            return out
        feats = log_features(mel)
        starts = list(range(0, max(1, n - CHUNK_FRAMES) + STEP_FRAMES, STEP_FRAMES))
        starts = sorted({min(s, max(0, n - CHUNK_FRAMES)) for s in starts})
        chunks = np.zeros((len(starts), CHUNK_FRAMES, feats.shape[1]), dtype=np.float32)
        for i, s in enumerate(starts):
            piece = feats[s : s + CHUNK_FRAMES]
            chunks[i, : len(piece)] = piece
            chunks[i, len(piece) :] = log_features(np.zeros((1, feats.shape[1])))  # digital silence
        probs = np.concatenate(
            [self.session.run(None, {"features": chunks[i : i + batch]})[0] for i in range(0, len(chunks), batch)]
        )
        # each frame from the chunk in which it sits furthest from an edge
        best = np.full(n, -1.0)
        for i, s in enumerate(starts):
            m = min(CHUNK_FRAMES, n - s)
            idx = np.arange(m)
            margin = np.minimum(idx, CHUNK_FRAMES - 1 - idx).astype(np.float64)
            take = margin > best[s : s + m]
            out[s : s + m][take] = probs[i, :m][take]
            best[s : s + m] = np.maximum(best[s : s + m], margin)
        return out


SECONDS = CHUNK_FRAMES / FRAMES_PER_SECOND


@dataclass
class Voice:
    audio: np.ndarray  # float32, 16 kHz
    active: np.ndarray  # bool per sample: speech by Silero VAD on the clean utterance


def load_pool(folder: Path) -> list[Voice]:
    from engine.audio.decode import load_audio
    from engine.audio.vad import SileroVAD

    vad = SileroVAD(threshold=0.5, min_speech_ms=100, min_silence_ms=100, speech_pad_ms=30, max_speech_s=None)
    voices = []
    for path in sorted(folder.glob("*.flac")):
        audio = load_audio(path)
        active = np.zeros(len(audio), dtype=bool)
        stream = vad.stream()
        for a, b in stream.push(audio) + stream.finish():
            active[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] = True
        voices.append(Voice(audio / (np.sqrt(np.mean(audio[active] ** 2)) + 1e-8) * 0.05, active))
    return voices


def _room(rng: np.random.Generator) -> np.ndarray:
    rt60 = rng.uniform(0.1, 0.8)
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    delay = int(rng.uniform(0.0, 0.01) * SAMPLE_RATE)
    ir = np.zeros(n + delay)
    ir[delay:] = tail * 10 ** (rng.uniform(-12, -3) / 20) * np.sqrt(1.0 / max(1, n // 400))
    ir[0] = 1.0
    return (ir / np.sqrt(np.sum(ir**2))).astype(np.float32)


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    white = rng.standard_normal(n)
    slope = rng.choice([0.0, 0.5, 1.0, 2.0])  # white, pinkish, pink, brown
    spec = np.fft.rfft(white)
    f = np.arange(1, len(spec) + 1, dtype=np.float64)
    spec /= f ** (slope / 2)
    out = np.fft.irfft(spec, n)
    return (out / (np.std(out) + 1e-12)).astype(np.float32)


def simulate(voices: list[Voice], rng: np.random.Generator, seconds: float = SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """One mixture and its per-sample speaker count."""
    from scipy.signal import fftconvolve

    total = int(seconds * SAMPLE_RATE)
    n_spk = int(rng.choice([1, 2, 2, 3, 3, 4]))
    who = rng.choice(len(voices), n_spk, replace=False)
    tracks = np.zeros((n_spk, total), dtype=np.float32)
    acts = np.zeros((n_spk, total), dtype=bool)

    def place(k: int, start: float, length: float) -> float:
        v = voices[who[k]]
        n = min(int(length * SAMPLE_RATE), len(v.audio))
        off = int(rng.integers(0, len(v.audio) - n + 1))
        a = int(start * SAMPLE_RATE)
        lo, hi = max(a, 0), min(a + n, total)
        if hi <= lo:
            return 0.0
        gain = np.float32(10 ** (rng.uniform(-12, 0) / 20))  # per turn, so loudness alone never means overlap
        tracks[k, lo:hi] += gain * v.audio[off + lo - a : off + hi - a]
        acts[k, lo:hi] |= v.active[off + lo - a : off + hi - a]
        return n / SAMPLE_RATE

    t, prev = rng.uniform(-1.5, 0.5), -1
    while t < seconds:
        k = int(rng.integers(n_spk)) if n_spk > 1 else 0
        if n_spk > 1 and k == prev:
            k = (k + 1 + int(rng.integers(n_spk - 1))) % n_spk
        length = place(k, t, rng.uniform(0.6, 5.0))
        if n_spk > 1 and rng.random() < 0.4:  # back-channel or interruption inside the turn
            other = (k + 1 + int(rng.integers(n_spk - 1))) % n_spk
            place(other, t + rng.uniform(0.2, max(0.3, length - 0.3)), rng.uniform(0.3, 1.2))
        if n_spk > 1 and rng.random() < 0.45:
            gap = -rng.uniform(0.15, min(1.5, max(0.2, length * 0.6)))
        else:
            gap = rng.uniform(0.05, 1.2)
        t += length + gap
        prev = k
    mix = np.zeros(total, dtype=np.float32)
    for k in range(n_spk):
        x = tracks[k] * np.float32(10 ** (rng.uniform(-10, 0) / 20))
        if rng.random() < 0.8:
            x = fftconvolve(x, _room(rng))[:total].astype(np.float32)
        mix += x
    if rng.random() < 0.8:
        speech_rms = np.sqrt(np.mean(mix[acts.any(0)] ** 2)) if acts.any() else 0.05
        mix += _noise(rng, total) * np.float32(speech_rms * 10 ** (-rng.uniform(5, 30) / 20))
    mix *= np.float32(10 ** (rng.uniform(-45, -15) / 20) / (np.sqrt(np.mean(mix**2)) + 1e-8))
    return mix, acts.sum(0)


def make_batch(voices: list[Voice], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        mix, count = simulate(voices, rng)
        mel = mel_power(normalize_volume(mix))[:CHUNK_FRAMES]
        xs.append(log_features(mel))
        frames = count[: CHUNK_FRAMES * 160].reshape(CHUNK_FRAMES, 160)
        ys.append(np.minimum(np.round(frames.mean(1)), 2).astype(np.int64))
    return np.stack(xs), np.stack(ys)


def build_model():
    import torch
    from torch import nn

    class OverlapNet(nn.Module):
        """Frames [batch, time, 40] -> logits [batch, time, 3] for 0, 1 and 2+ speakers."""

        def __init__(self, width: int = 64) -> None:
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv1d(40, width, 5, padding=2),
                nn.BatchNorm1d(width),
                nn.ReLU(),
                nn.Conv1d(width, width, 5, padding=2),
                nn.BatchNorm1d(width),
                nn.ReLU(),
            )
            self.rnn = nn.GRU(width, width, num_layers=2, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * width, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.conv(x.transpose(1, 2)).transpose(1, 2)
            h, _ = self.rnn(h)
            return self.out(h)

    return OverlapNet()


def train(pool: Path, out: Path, epochs: int, per_epoch: int, threads: int, seed: int) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    t0 = time.time()
    voices = load_pool(pool)
    train_v, val_v = voices[:200], voices[200:]
    print(f"pool: {len(voices)} voices loaded in {time.time() - t0:.0f}s", flush=True)
    xv, yv = make_batch(val_v, 300, seed + 999)
    print(f"validation: {np.bincount(yv.ravel(), minlength=3) / yv.size} (0/1/2+ speakers)", flush=True)
    model = build_model()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * (per_epoch // 32)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    weight = torch.tensor([1.0, 1.0, 2.0])
    best = -1.0
    for epoch in range(epochs):
        xs, ys = make_batch(train_v, per_epoch, seed + epoch)
        model.train()
        perm = np.random.default_rng(epoch).permutation(len(xs))
        loss_sum = 0.0
        for i in range(0, len(perm) - 31, 32):
            idx = perm[i : i + 32]
            logits = model(torch.from_numpy(xs[idx]))
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, 3), torch.from_numpy(ys[idx]).reshape(-1), weight
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            loss_sum += float(loss.detach())
        model.eval()
        with torch.no_grad():
            prob = torch.softmax(model(torch.from_numpy(xv)), -1).numpy()
        p_ov = prob[..., 2].ravel()
        truth = yv.ravel() == 2
        pred = p_ov >= 0.5
        prec = (pred & truth).sum() / max(1, pred.sum())
        rec = (pred & truth).sum() / max(1, truth.sum())
        f1 = 2 * prec * rec / max(1e-9, prec + rec)
        acc = (prob.argmax(-1) == yv).mean()
        print(
            f"epoch {epoch + 1}/{epochs} loss {loss_sum / (len(perm) // 32):.3f} val acc {acc:.3f} "
            f"overlap P {prec:.2f} R {rec:.2f} F1 {f1:.3f}  ({time.time() - t0:.0f}s)",
            flush=True,
        )
        if f1 > best:
            best = f1
            export(model, out)
    print(f"best validation overlap F1 {best:.3f}; saved {out}")


def export(model, out: Path) -> None:
    import torch

    out.parent.mkdir(parents=True, exist_ok=True)
    model.eval()

    class WithSoftmax(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return torch.softmax(self.inner(x), -1)

    dummy = torch.zeros(2, CHUNK_FRAMES, 40)
    torch.onnx.export(
        WithSoftmax(model),
        (dummy,),
        str(out),
        input_names=["features"],
        output_names=["probs"],
        dynamic_axes={"features": {0: "batch", 1: "time"}, "probs": {0: "batch", 1: "time"}},
        opset_version=17,
        dynamo=False,
    )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def with_second_speaker(hyp, regions):
    """Each region inside a turn also gets the other hypothesised speaker nearest in time."""
    out = hyp.copy()
    segs = sorted(hyp.itertracks(yield_label=True), key=lambda x: x[0].start)
    for i, r in enumerate(regions):
        mid = r.middle
        cur = [lab for s, _, lab in segs if s.start <= mid < s.end]
        if not cur:
            continue
        others = [(max(s.start - mid, mid - s.end, 0.0), lab) for s, _, lab in segs if lab != cur[0]]
        if others:
            out[r, f"_ov{i}"] = min(others)[1]
    return out


def score(model: Path | None, thresholds: list[float], sets: list[str], oracle: bool) -> None:
    from pyannote.core import Segment
    from pyannote.metrics.diarization import DiarizationErrorRate
    from scipy.ndimage import median_filter

    detector = OverlapDetector(model) if model else None
    runner = Runner(threads=1)
    configs: list = [None] + (["oracle"] if oracle else []) + thresholds
    for name in sets:
        der = {
            c: (
                DiarizationErrorRate(collar=0.25, skip_overlap=False),
                DiarizationErrorRate(collar=0.0, skip_overlap=False),
            )
            for c in configs
        }
        hits = {c: [0, 0] for c in thresholds}
        positives = 0
        for wav, rttm, uem_path in files_of(name):
            ref = load_reference(rttm)
            hyp, _, _, _, dur = runner.run(wav, DiarizationOptions())
            uem = load_uem(uem_path, dur)
            mel = runner.cache[wav][0]  # cached by runner.run
            n = len(mel)
            truth, inside, cover = (np.zeros(n, bool) for _ in range(3))
            for s in ref.get_overlap():
                truth[int(s.start * 100) : int(s.end * 100)] = True
            for s in uem:
                inside[int(s.start * 100) : int(s.end * 100)] = True
            for s in hyp.get_timeline():
                cover[int(s.start * 100) : int(np.ceil(s.end * 100))] = True
            positives += int((truth & inside).sum())
            p2 = median_filter(detector.probs(mel)[:, 2], 25) if detector else None
            for c in configs:
                if c is None:
                    h = hyp
                elif c == "oracle":
                    h = with_second_speaker(hyp, list(ref.get_overlap()))
                else:
                    mask = (p2 > c) & cover
                    hits[c][0] += int((mask & truth & inside).sum())
                    hits[c][1] += int((mask & inside).sum())
                    h = with_second_speaker(hyp, [Segment(a / 100, b / 100) for a, b in _runs(mask) if b - a >= 10])
                der[c][0](ref, h, uem=uem)
                der[c][1](ref, h, uem=uem)
        for c in configs:
            comp = der[c][0][:]
            tot = comp["total"] or 1
            line = (
                f"{name:28s} {str(c):8s} DER {100 * abs(der[c][0]):5.1f}% (collar 0: {100 * abs(der[c][1]):5.1f}%) "
                f"missed {100 * comp['missed detection'] / tot:.1f} false alarm {100 * comp['false alarm'] / tot:.1f} "
                f"confusion {100 * comp['confusion'] / tot:.1f}"
            )
            if c in hits:
                tp, pred = hits[c]
                line += f"  detector P {tp / max(1, pred):.2f} R {tp / max(1, positives):.2f}"
            print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("/tmp/overlap.onnx"))
    ap.add_argument("--epochs", type=int, default=14)
    ap.add_argument("--per-epoch", type=int, default=1600)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", type=Path, help="score this exported detector")
    ap.add_argument("--thresholds", default="0.4,0.5,0.6,0.7")
    ap.add_argument("--oracle", action="store_true", help="also score the reference overlap (the rule's ceiling)")
    ap.add_argument("--sets", default=",".join(SETS))
    a = ap.parse_args()
    if a.train:
        train(data_dir() / "speaker_pool", a.out, a.epochs, a.per_epoch, a.threads, a.seed)
        a.model = a.model or a.out
    if a.model or a.oracle:
        ths = [float(t) for t in a.thresholds.split(",")] if a.model else []
        score(a.model, ths, a.sets.split(","), a.oracle)


if __name__ == "__main__":
    main()
