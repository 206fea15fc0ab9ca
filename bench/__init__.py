"""Benchmark scripts (not tests): ASR accuracy and speed against faster-whisper."""
