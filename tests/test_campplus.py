"""CAM++: our fbank is Kaldi's, the ONNX export is the torch network, and real voices separate."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ModelError

POOL_VOICES = 20


def _load(path: Path) -> np.ndarray:
    from engine.audio.decode import load_audio

    return load_audio(path)


def _pool(data_dir: Path, n: int) -> list[Path]:
    return sorted((data_dir / "speaker_pool").glob("*.flac"))[:n]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """The first-use export, into a fresh data folder."""
    from engine.speakers.campplus import _model_path

    folder = tmp_path_factory.mktemp("minutes-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINUTES_DATA_DIR", str(folder))
        path = _model_path()
    assert path.is_file() and path.parent == folder / "models" / "campplus"
    assert not list(path.parent.glob("*.tmp"))
    return path


@pytest.fixture(scope="module")
def encoder(exported: Path):
    from engine.speakers.campplus import CamEncoder

    return CamEncoder(threads=1, model_path=exported)


@pytest.fixture
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _torch_kaldi_fbank(wav: np.ndarray) -> np.ndarray:
    """torchaudio.compliance.kaldi.fbank(wav, num_mel_bins=80, dither=0), step by step in torch ops."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(wav.astype(np.float32))
    n = 1 + (len(x) - 400) // 160
    frames = x.as_strided((n, 400), (160, 1))
    frames = frames - frames.mean(dim=1, keepdim=True)
    previous = F.pad(frames.unsqueeze(0), (1, 0), mode="replicate").squeeze(0)[:, :-1]
    frames = (frames - 0.97 * previous) * torch.hann_window(400, periodic=False).pow(0.85)
    power = torch.fft.rfft(F.pad(frames, (0, 112))).abs().pow(2.0)

    def mel(f: torch.Tensor) -> torch.Tensor:
        return 1127.0 * torch.log(1.0 + f / 700.0)

    lo, hi = mel(torch.tensor(20.0)), mel(torch.tensor(8000.0))
    delta = (hi - lo) / 81
    b = torch.arange(80).unsqueeze(1)
    left, center, right = lo + b * delta, lo + (b + 1) * delta, lo + (b + 2) * delta
    m = mel(16000 / 512 * torch.arange(256)).unsqueeze(0)
    banks = torch.clamp(torch.minimum((m - left) / (center - left), (right - m) / (right - center)), min=0)
    banks = F.pad(banks, (0, 1))
    return torch.log(torch.clamp(power @ banks.T, min=torch.finfo(torch.float32).eps)).numpy()


def test_fbank_matches_kaldi_native_fbank(data_dir: Path) -> None:
    knf = pytest.importorskip("kaldi_native_fbank")
    from engine.speakers.fbank import fbank

    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0
    opts.mel_opts.num_bins = 80
    for path in _pool(data_dir, 3):
        wav = _load(path)
        ref = knf.OnlineFbank(opts)
        ref.accept_waveform(16000, wav.tolist())
        ref.input_finished()
        expected = np.stack([np.asarray(ref.get_frame(i)) for i in range(ref.num_frames_ready)])
        ours = fbank(wav)
        assert ours.shape == expected.shape
        assert np.abs(ours - expected).max() < 1e-3, path.name


def test_fbank_matches_torch_kaldi_steps(data_dir: Path, one_torch_thread) -> None:
    from engine.speakers.fbank import fbank, num_frames

    wav = _load(data_dir / "diarization" / "pyannote_sample" / "sample.wav")[: 20 * 16000]
    ours = fbank(wav)
    assert ours.shape == (num_frames(len(wav)), 80) == (1998, 80)
    assert np.abs(ours - _torch_kaldi_fbank(wav)).max() < 1e-3
    assert fbank(np.zeros(399, np.float32)).shape == (0, 80)  # no whole frame
    assert fbank(np.zeros(400, np.float32)).shape == (1, 80)


def test_onnx_matches_the_torch_network(encoder, data_dir: Path, one_torch_thread) -> None:
    import torch

    from engine.speakers.campplus import build_module
    from engine.speakers.fbank import fbank

    model = build_module()
    feats = fbank(_load(_pool(data_dir, 1)[0]))
    for frames in (333, 1000):  # 1000 frames: 10 s, and 500 after the stride-2 TDNN (five whole segments)
        x = np.stack([feats[:frames], feats[200 : 200 + frames]])
        x = x - x.mean(axis=1, keepdims=True)
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        got = encoder.session.run(None, {"fbank": x})[0]
        assert got.shape == (2, 192)
        assert np.abs(got - expected).max() < 1e-4 * np.abs(expected).max(), frames


def test_same_speaker_scores_above_different_speakers(encoder, data_dir: Path) -> None:
    """Two halves of one utterance against halves of other voices' utterances."""
    first, second = [], []
    for path in _pool(data_dir, POOL_VOICES):
        wav = _load(path)
        first.append(encoder.embed(wav[: len(wav) // 2]))
        second.append(encoder.embed(wav[len(wav) // 2 :]))
    scores = np.stack(first) @ np.stack(second).T
    same = np.diag(scores)
    different = scores[~np.eye(POOL_VOICES, dtype=bool)]
    # measured: same >= 0.44 (mean 0.81), different <= 0.40 (mean 0.08); 0.4% EER over all 252 voices
    assert same.min() > different.max()
    assert same.mean() - different.mean() > 0.5


def test_window_frames_subsets_find_their_speakers(encoder, data_dir: Path) -> None:
    """One fbank of a 13 s stretch, cut per speaker turn, against each speaker's later turn."""
    folder = data_dir / "diarization" / "librispeech_turns_synthetic"
    wav = _load(folder / "libri_4spk.wav")
    turns = [line.split() for line in (folder / "libri_4spk.rttm").read_text().splitlines()]
    turns = [(float(t[3]), float(t[3]) + float(t[4]), t[7]) for t in turns]
    window = [t for t in turns if t[1] <= 13.0]
    assert len({t[2] for t in window}) == 3
    frames = encoder.features(wav[: 13 * 16000])
    local = encoder.embed_frames([frames[int(a * 100) : int(b * 100) - 2] for a, b, _ in window])
    later = {}
    for a, b, who in turns:
        if a > 13.0 and who not in later:
            later[who] = encoder.embed(wav[int(a * 16000) : int(b * 16000)])
    names = sorted(later)
    best = (local @ np.stack([later[n] for n in names]).T).argmax(axis=1)
    assert [names[i] for i in best] == [who for _, _, who in window]


def test_embed_frames_batches_and_short_arrays(encoder, data_dir: Path) -> None:
    feats = encoder.features(_load(_pool(data_dir, 1)[0]))
    arrays = [feats[:300], feats[0:0], feats[:5], feats[300:600], feats[:19], feats[:20], feats[600:900]]
    together = encoder.embed_frames(arrays)
    assert together.shape == (7, 192) and together.dtype == np.float32 and np.isfinite(together).all()
    assert not together[1].any()  # empty: a zero vector
    norms = np.linalg.norm(np.delete(together, 1, axis=0), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    for i in (0, 2, 3, 4):
        np.testing.assert_allclose(together[i], encoder.embed_frames([arrays[i]])[0], atol=1e-5)
    assert encoder.embed_frames([]).shape == (0, 192)
    with pytest.raises(ValueError):
        encoder.embed_frames([feats[:, :40]])


def test_spans_of_a_clip_embed_like_the_clip_cut_there(encoder, data_dir: Path) -> None:
    audio = _load(_pool(data_dir, 1)[0])
    spans = [(0.0, 1.5), (1.5, 3.0), (2.0, 5.5)]
    got = encoder.embed_spans(audio, spans)
    cut = np.stack([encoder.embed(audio[int(a * 16000) : int(b * 16000)]) for a, b in spans])
    assert got.shape == (3, 192)
    assert (np.sum(got * cut, axis=1) > 0.98).all()  # one fbank of the clip, sliced: frame edges differ
    assert encoder.embed_spans(audio, []).shape == (0, 192)


def test_tampered_weights_name_the_sha256(tmp_path: Path, monkeypatch) -> None:
    from engine.speakers import model_files
    from engine.speakers.campplus import CamEncoder

    bad = tmp_path / "campplus.pt"
    shutil.copyfile(model_files.locate(model_files.CAMPPLUS), bad)
    with open(bad, "r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("MINUTES_CAMPPLUS_WEIGHTS", str(bad))
    monkeypatch.setenv("MINUTES_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(ModelError, match="sha256"):
        CamEncoder(threads=1)
    assert not (tmp_path / "data" / "models").exists()


def test_foreign_weights_and_broken_onnx_are_model_errors(tmp_path: Path) -> None:
    import torch

    from engine.speakers.campplus import CamEncoder, build_module

    foreign = tmp_path / "other.pt"
    torch.save({"linear.weight": torch.zeros(2, 2)}, foreign)
    with pytest.raises(ModelError, match="not the CAM"):
        build_module(foreign)
    broken = tmp_path / "campplus.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="Delete it"):
        CamEncoder(threads=1, model_path=broken)
