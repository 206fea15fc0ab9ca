"""Audio in and out: decoding, capture, mixing, recording, voice activity, playback.

``SAMPLE_RATE`` is the one rate the engine works at (Whisper's, the VAD's and the speaker
encoder's): every module takes it from here.
"""

SAMPLE_RATE = 16000
