"""Speaker colours come from the speaker's number: stable across runs, merges and exports."""

from engine.speaker_colors import DARK, LIGHT, speaker_color, speaker_index


def _luminance(hex_colour: str) -> float:
    c = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def test_eight_distinct_colours_readable_on_white_and_on_a_dark_window():
    assert len(set(LIGHT)) == len(set(DARK)) == 8
    assert all(1.05 / (_luminance(h) + 0.05) >= 4.5 for h in LIGHT)  # WCAG AA on white
    dark_bg = _luminance("1E1E1E")
    assert all((_luminance(h) + 0.05) / (dark_bg + 0.05) >= 4.5 for h in DARK)


def test_colour_follows_the_speaker_number_not_the_list_order():
    assert speaker_index("S1") == 0 and speaker_index("S8") == 7
    assert speaker_color("S3") == LIGHT[2] and speaker_color("S3", dark=True) == DARK[2]
    assert speaker_color("S9") == LIGHT[0]  # the ninth speaker starts the cycle again
    assert speaker_color("Anya", fallback=4) == LIGHT[4]  # a renamed id without a number
