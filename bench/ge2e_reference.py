"""Reference GE2E embeddings from resemblyzer itself (librosa front end + its torch encoder).

Runs in its own venv (`make .venv-rz/.done`), because the app must not install librosa.
Writes tests/data/ge2e_reference.npz, which tests/test_speakers.py compares our numpy front
end + ONNX encoder against.

    .venv-rz/bin/python bench/ge2e_reference.py
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import soundfile as sf

sys.modules.setdefault("webrtcvad", types.ModuleType("webrtcvad"))  # only its silence trimmer needs it
from resemblyzer import VoiceEncoder, audio  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
FILES = [
    "asr_en/jfk.wav",
    "speaker_pool/118-121721-0000.flac",
    "speaker_pool/7113-86041-0000.flac",
    "diarization/pyannote_sample/sample.wav",
]


def main() -> None:
    enc = VoiceEncoder("cpu", verbose=False)
    out: dict[str, np.ndarray] = {}
    for i, rel in enumerate(FILES):
        wav, sr = sf.read(DATA / rel, dtype="float32")
        assert sr == 16000, rel
        wav = audio.normalize_volume(wav[: 12 * sr], audio.audio_norm_target_dBFS, increase_only=True)
        embed, partials, slices = enc.embed_utterance(wav, return_partials=True)
        out[f"f{i}_path"] = np.array(rel)
        out[f"f{i}_spans"] = np.array([[s.start / sr, s.stop / sr] for s in slices], dtype=np.float64)
        out[f"f{i}_partials"] = partials
        out[f"f{i}_embed"] = embed
        mel = audio.wav_to_mel_spectrogram(wav)
        out[f"f{i}_mel_head"] = mel[:50]
    target = REPO / "tests" / "data" / "ge2e_reference.npz"
    np.savez_compressed(target, **out)
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
