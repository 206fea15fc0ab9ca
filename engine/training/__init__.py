"""Fine-tuning the recognizer on a team's own words: data in, training, evaluation, export.

manifest.py (utterances as JSONL, train/dev split), importers.py (a folder, a TSV, corrected
Minutes transcripts), check.py (every problem of a manifest, by line), augment.py (speed, noise
at an SNR, SpecAugment; seeded) with noise.py (noise folders and babble). Scoring is in
engine/scoring.py, shared with the benchmarks.
"""
