"""Tests for report/words/'s sentences: each one chosen by the numbers, with grammatical counts.

Run: .venv/bin/python -m pytest tests/test_commentary_sentences.py -q
"""

import dataclasses

import numpy as np

from report.numbers.groups import duplicate_groups, group_details, pair_summary
from report.words.channel_text import channel_sentence
from report.words.layer_text import kind_sentences, similarity_sentences
from report.words.post_observations import comparison_sentences
from tests.commentary_fixtures import channel, layer


def test_copy_counts_are_grammatical():
    one = layer([channel("copy", 0, copy_r=0.91)] + [channel("other", i, copy_r=0.3) for i in (1, 2, 3)])
    text = kind_sentences(one)
    assert text[0] == "One of the four channels copies the input (|r| = 0.91 with the input)."
    three = layer([channel("copy", i, copy_r=r) for i, r in enumerate((0.91, -0.88, 0.86))]
                  + [channel("other", 3, copy_r=0.3)])
    text = kind_sentences(three)
    assert text[0] == ("Three of the four channels copy the input (|r| = 0.91, 0.88, 0.86 with the input), "
                       "one of them inverted (negative on the ink).")
    assert text[-1].startswith("One of the four channels matches neither")
    every = layer([channel("copy", i, copy_r=-0.9) for i in range(8)])
    assert kind_sentences(every)[0] == ("All eight channels copy the input (|r| = 0.90 each with the "
                                                   "input), all inverted (negative on the ink).")
    spread = layer([channel("copy", i, copy_r=0.7 + 0.03 * i) for i in range(8)])
    assert kind_sentences(spread)[0] == ("All eight channels copy the input (|r| from 0.70 to 0.91 with "
                                                    "the input).")


def test_idle_sentence_singular_and_plural():
    single = layer([channel("copy", 0), channel("idle", 1, spread=0.004)])
    assert ("Channel 2 is idle: its final map barely varies (spread 0.004, below 0.03)."
            in kind_sentences(single))
    double = layer([channel("idle", 0, spread=0.001), channel("copy", 1), channel("idle", 2, spread=0.002)])
    assert ("Channels 1 and 3 are idle: their final maps barely vary (spread 0.001 and 0.002, below 0.03)."
            in kind_sentences(double))


def test_no_edge_sentence_gives_the_right_reason():
    weak = layer([channel("copy", 0, best_edge_r=0.3), channel("copy", 1, best_edge_r=0.2)])
    assert "has |r| = 0.30, below 0.6)" in kind_sentences(weak)[1]
    # An edge match above the threshold that loses to the copy match is not "below 0.6".
    strong = layer([channel("copy", 0, copy_r=0.9, best_edge_r=0.65), channel("copy", 1)])
    assert "but it matches the input more closely, |r| = 0.90" in kind_sentences(strong)[1]


def test_edge_sentence_names_orientation_and_side():
    detectors = layer([channel("edge", 0, copy_r=0.1, best_edge="horizontal", best_edge_r=-0.84),
                       channel("copy", 1)])
    sentence = kind_sentences(detectors)[1]
    assert sentence == ("One of the two channels responds to edges: channel 1 to horizontal edges, positive along "
                        "the bottom side of strokes (r = \u22120.84).")


def test_copy_closeness_follows_the_number():
    close = channel_sentence(channel("copy", copy_r=0.95), 290)
    rough = channel_sentence(channel("copy", copy_r=0.75), 290)
    assert "a close copy" in close and "a rough copy" in rough
    inverted = channel_sentence(channel("copy", copy_r=-0.95), 290)
    assert "close inverted copy of the input (r = \u22120.95)" in inverted
    unsettled = channel_sentence(channel("copy", pattern_step=290), 290)
    assert "still changing at the last step" in unsettled


def with_pairs(item, matrix):
    """Return a layer's findings with the pair summary, groups and details of a (C, C) r matrix, as the analysis."""
    matrix = np.asarray(matrix, float)
    groups = duplicate_groups(matrix, 0.9)
    return dataclasses.replace(item, pair_r=matrix.tolist(), pairs=pair_summary(matrix, 0.9),
                               duplicate_groups=groups, groups=group_details(matrix, groups))


def test_similarity_sentences():
    channels = [channel("copy", i, previous_r=(0.95, -0.97, 0.93, 0.2)[i]) for i in range(4)]
    every = np.full((4, 4), 0.95)
    np.fill_diagonal(every, 1.0)
    all_same = similarity_sentences(with_pairs(layer(channels, previous="conv2"), every))
    assert all_same[0] == ("All four channels are near-duplicates of one another: all six pairs of channels "
                           "correlate at |r| \u2265 0.9 (lowest 0.95).")
    assert all_same[1] == "Three of the four channels repeat a conv2 channel (|r| = 0.97, 0.95, 0.93)."
    apart = np.eye(4) + 0.62 * (1 - np.eye(4))
    none = similarity_sentences(with_pairs(layer([channel("copy", i) for i in range(4)], pair_max=0.62),
                                                      apart))
    assert none[0] == "None of the six pairs of channels reaches |r| \u2265 0.9 (|r| = 0.62 for every pair)."
    assert none[1].startswith("No two channels are near-duplicates (the closest pair, channels 1 and 2")
    # A chain: 1~2 and 2~3 reach 0.9, 1 and 3 do not, so they are not one group.
    chain = np.eye(3) + np.array([[0, 0.95, 0.5], [0.95, 0, 0.93], [0.5, 0.93, 0]])
    text = similarity_sentences(with_pairs(layer([channel("copy", i) for i in range(3)]), chain))
    assert text[0].startswith("Of the three pairs of channels, two (67%) correlate at |r| \u2265 0.9")
    assert "one group of near-duplicates: channels 1 and 2 (one pair, lowest |r| 0.95); channel 3 is in none" in text[1]
    # Findings without a pair summary still read true.
    legacy = similarity_sentences(layer([channel("copy", i) for i in range(4)], groups=[(0, 1, 2, 3)]))
    assert legacy[0] == "Channels 1, 2, 3 and 4 are near-duplicates (every pair at |r| \u2265 0.9)."


def test_conv3_horizontal_edges_comparison():
    both = layer([channel("edge", 0, best_edge_r=0.8), channel("edge", 1, best_edge_r=-0.7),
                  channel("copy", 2)])
    text = comparison_sentences(both)
    assert any(s.startswith("Like the post, this run has both a top-edge and an underside channel") for s in text)
    top_only = layer([channel("edge", 0, best_edge_r=0.8), channel("copy", 1)])
    assert any("only the top-edge one" in s and "no underside one" in s
               for s in comparison_sentences(top_only))
    neither = layer([channel("copy", 0), channel("copy", 1)])
    assert any(s.startswith("Neither of the post's horizontal-stroke channels appears")
               for s in comparison_sentences(neither))


def test_count_comparison_agrees_or_differs():
    agrees = layer([channel("copy", i) for i in range(4)], name="conv2")
    assert comparison_sentences(agrees)[0] == ("The post's reading implies four copies of the input; "
                                                          "this run agrees: four copies of the input.")
    differs = layer([channel("copy", i) for i in range(3)] + [channel("idle", 3, spread=0.0)], name="conv2")
    assert comparison_sentences(differs)[0] == (
        "The post's reading implies four copies of the input; this run has three copies of the input and "
        "one idle channel.")


def test_conv2_near_identical_channels_by_group_size():
    def sentence(groups):
        item = layer([channel("copy", i) for i in range(4)], name="conv2", groups=groups)
        return comparison_sentences(item)[1]
    assert sentence([(0, 1, 2, 3)]).endswith("here four channels are near-duplicates, more than the post saw.")
    assert sentence([(0, 2, 3)]).endswith("here too three channels are near-duplicates.")
    assert sentence([(1, 2)]).endswith("here only two channels are near-duplicates.")
    assert sentence([]).endswith("here no two channels are near-duplicates.")


def test_other_layer_width_is_said():
    wide = layer([channel("copy", i) for i in range(6)], name="conv2")
    assert comparison_sentences(wide)[0].startswith(
        "The post's conv2 had 4 channels and this run's has 6, so only the kinds compare")
