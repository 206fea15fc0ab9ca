"""Fine-tuning the recognizer on a team's own words: data in, training, evaluation, export.

manifest.py (utterances as JSONL, train/dev split), importers.py (a folder, a TSV, corrected
Minutes transcripts), check.py (every problem of a manifest, by line), augment.py (speed, noise
at an SNR, SpecAugment; seeded) with noise.py (noise folders and babble). trainer.py
(``train()``: the loop) over config.py (TrainConfig, presets, TOML), data.py (log-mel batches by
duration), forward.py (the training forward and greedy decoding), lora.py, schedule.py,
checkpoint.py, events.py (the JSONL log the Training tab reads) and distributed.py (torchrun).
evaluate.py runs an exported model on clips; scoring is in engine/scoring.py, shared with the
benchmarks.
"""
