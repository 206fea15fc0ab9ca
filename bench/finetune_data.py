"""The domain-vocabulary set of the fine-tuning benchmark: our own sentences full of unusual
names, products and drugs, spoken by several espeak-ng voices, some with babble behind them.

Train and dev share the vocabulary (every dev term is also in train) but never a sentence, so
a fine-tune is measured on what it should learn (the words), not on sentences it memorised.
Babble is mixed from ``speaker_pool`` (LibriSpeech speakers) at 10-20 dB SNR on a third of the
clips, as in a meeting room. Built once into ``bench/out/finetune/data`` (``--rebuild`` redoes it).

    .venv/bin/python -m bench.finetune_data [--train-minutes 15] [--dev 48]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "finetune" / "data"

# The words a team would need: colleagues, products, drugs, places. Whisper base gets most wrong.
PEOPLE = [
    "Kestrova", "Okonkwo", "Siobhan Brannigan", "Thandiwe Mbeki", "Ragnhild Solberg", "Xiaoling Qu",
    "Oluwaseun Adeyemi", "Marguerite Delacroix", "Tadeusz Wierzbicki", "Anneliese Vogt",
]  # fmt: skip
PRODUCTS = [
    "Zentrafuse", "Quorvix", "Helioplex", "Brindlewave", "Nimbraloom", "Tessaract Cloud", "Vantorium",
    "Ostrelis", "Kaleidra",
]  # fmt: skip
DRUGS = [
    "dapagliflozin", "empagliflozin", "tirzepatide", "ustekinumab", "risankizumab", "secukinumab",
    "apixaban", "rivaroxaban", "semaglutide", "evolocumab",
]  # fmt: skip
PLACES = ["Tromsø", "Wrocław", "Ouagadougou", "Llandudno", "Reykjanesbær", "Kraków"]
TERMS = PEOPLE + PRODUCTS + DRUGS + PLACES

TEMPLATES = [
    "{p} will send the {x} figures before the review on Thursday.",
    "Can we ask {p} whether the {x} pilot is still on track?",
    "The trial compared {d} with {d2} in patients over sixty.",
    "{p} thinks we should move the {x} launch to the spring.",
    "Patients on {d} reported fewer side effects than expected.",
    "I spoke to {p} and {p2} about the office in {l}.",
    "The {x} dashboard shows a drop in usage since the last release.",
    "Please check the dose of {d} with {p} before the ward round.",
    "Our team in {l} has been testing {x} for three weeks.",
    "{p2} asked if {x} can run without a network connection.",
    "We switched two patients from {d} to {d2} last month.",
    "{p} is flying to {l} to meet the {x} customers.",
    "The budget for {x} was approved by {p} yesterday.",
    "Has anyone compared the price of {d} across the regions?",
    "Let's put {x} and {x2} on the agenda for next week.",
    "{p} found a bug in the {x} export and fixed it this morning.",
    "The pharmacy in {l} ran out of {d} again.",
    "I will forward the notes from {p} to everyone after the call.",
]
VOICES = ["en-us+m3", "en-gb+f2", "en-gb-x-rp+m5", "en-us+f4", "en-us+m7", "en-gb-scotland+f3"]
SPEEDS = [150, 165, 180]


def sentences(n: int, rng: random.Random, avoid: set[str]) -> list[str]:
    """``n`` distinct sentences not in ``avoid``, terms drawn so each appears often."""
    out: list[str] = []
    seen = set(avoid)
    while len(out) < n:
        t = rng.choice(TEMPLATES)
        p, p2 = rng.sample(PEOPLE, 2)
        x, x2 = rng.sample(PRODUCTS, 2)
        d, d2 = rng.sample(DRUGS, 2)
        s = t.format(p=p, p2=p2, x=x, x2=x2, d=d, d2=d2, l=rng.choice(PLACES))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def speak(text: str, voice: str, speed: int, wav: Path) -> np.ndarray:
    from engine.audio.decode import load_audio

    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
    return load_audio(wav)


def babble(rng: np.random.Generator, pool: list[Path], n: int) -> np.ndarray:
    from engine.audio.decode import load_audio

    out = np.zeros(n, np.float32)
    for path in rng.choice(pool, size=4, replace=False):
        a = load_audio(path)
        if a.size < n:
            a = np.tile(a, n // a.size + 1)
        start = int(rng.integers(0, a.size - n + 1))
        out += a[start : start + n] / (np.sqrt(np.mean(a**2)) + 1e-9)
    return out


def build(out: Path, train_minutes: float, n_dev: int, seed: int, data: Path) -> tuple[Path, Path]:
    import soundfile as sf

    from engine.training.manifest import Utterance, write_manifest

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    pool = sorted((data / "speaker_pool").glob("*.flac"))
    dev_text = sentences(n_dev, rng, set())
    train_text = sentences(int(train_minutes * 60 / 4.7), rng, set(dev_text))  # ~4.7 s a clip
    assert not set(dev_text) & set(train_text)
    manifests = []
    with tempfile.TemporaryDirectory() as tmp:
        for split, texts in (("train", train_text), ("dev", dev_text)):
            folder = out / split
            folder.mkdir(parents=True, exist_ok=True)
            utts = []
            for i, text in enumerate(texts):
                voice = VOICES[i % len(VOICES)] if split == "train" else VOICES[(i * 7 + 3) % len(VOICES)]
                audio = speak(text, voice, rng.choice(SPEEDS), Path(tmp) / "s.wav")
                audio = np.concatenate([np.zeros(3200, np.float32), audio, np.zeros(3200, np.float32)])
                if i % 3 == 0 and pool:
                    noise = babble(nrng, pool, audio.size)
                    snr = nrng.uniform(10, 20)
                    p_s = np.mean(audio[np.abs(audio) > 1e-4] ** 2)
                    audio = audio + noise * np.sqrt(p_s / (np.mean(noise**2) * 10 ** (snr / 10)))
                    audio = audio / max(1.0, float(np.max(np.abs(audio))) / 0.99)
                wav = folder / f"{i:04d}.wav"
                sf.write(wav, audio, 16000, subtype="PCM_16")
                utts.append(Utterance(wav, text, round(audio.size / 16000, 3), "en", voice))
            manifests.append(write_manifest(out / f"{split}.jsonl", utts))
    (out / "terms.txt").write_text("; ".join(TERMS) + "\n", encoding="utf-8")
    return manifests[0], manifests[1]


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from bench.scoring import data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-minutes", type=float, default=15.0)
    ap.add_argument("--dev", type=int, default=48)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args(argv)
    if (args.out / "dev.jsonl").exists() and not args.rebuild:
        print(f"{args.out} is built (--rebuild redoes it)")
        return 0
    train, dev = build(args.out, args.train_minutes, args.dev, args.seed, data_dir())
    for m in (train, dev):
        n = sum(1 for _ in m.open())
        print(f"{m}: {n} clips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
