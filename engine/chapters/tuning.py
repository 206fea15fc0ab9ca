"""The method's numbers, in one place: fixed on the development set of bench/chapters.py and
checked on its held-out meetings, so a change here is a change to measure (docs/benchmarks.md)."""

MIN_CHAPTER_SECONDS = 30.0  # shorter stretches are not worth a heading
BLOCK_TOKENS = 30  # content words compared on each side of a candidate boundary
SETTLE_SECONDS = 120.0  # live: a boundary is final once this much speech follows it
CUE_BONUS = 0.15  # added to the depth score where a sentence opens with a cue phrase
SWITCH_PENALTY = 0.6  # agenda mode: price of changing topic, in units of typical sentence relevance
MAX_KEYWORDS = 5
