"""Colours, enlargement and layout of the rendering stage's frames (pure numpy, no encoders)."""

import numpy as np
import pytest

from render.frames import BASE_CELL, Layout, enlarge, layer_frames, layer_layout, step_label
from render.palette import (
    CENTER_INDEX,
    DIVERGING_SIZE,
    NAN_INDEX,
    NAN_RGB,
    PALETTE,
    colorize,
    diverging_table,
    grey_indices,
    symmetric_domain,
    to_rgb,
    value_indices,
)

TANH = {"kind": "fixed", "domain": [-1.0, 1.0]}  # the tanh layers' fixed scale

RED, WHITE, BLUE = (103, 0, 31), (255, 255, 255), (5, 48, 97)  # RdBu's ends, and pure white in the middle


def test_minus_one_zero_plus_one_and_nan_map_to_the_intended_rgb():
    values = np.array([-1.0, 0.0, 1.0, np.nan, np.inf, -np.inf], np.float16)
    colours = colorize(values, (-1, 1))
    assert colours.dtype == np.uint8 and colours.shape == (6, 3)
    assert [tuple(c) for c in colours] == [RED, WHITE, BLUE, NAN_RGB, NAN_RGB, NAN_RGB]


def test_nan_colour_is_on_neither_the_scale_nor_the_grey_ramp():
    others = {tuple(c) for i, c in enumerate(PALETTE[:255]) if i != NAN_INDEX}
    assert tuple(NAN_RGB) not in others


def test_the_diverging_table_is_odd_with_a_pure_white_middle_and_is_monotone_from_red_to_blue():
    table = diverging_table()
    assert len(table) % 2 == 1 and tuple(table[len(table) // 2]) == WHITE
    assert tuple(table[0]) == RED and tuple(table[-1]) == BLUE
    assert np.all(np.diff(table[CENTER_INDEX:, 0].astype(int)) <= 0)  # towards blue, red fades
    assert np.all(np.diff(table[:CENTER_INDEX + 1, 2].astype(int)) >= 0)  # towards red, blue fades
    with pytest.raises(ValueError, match="odd"):
        diverging_table(256)


def test_values_outside_the_domain_clip_to_the_ends_and_inputs_are_not_mutated():
    values = np.array([-3.0, -1.0, 0.5, 1.0, 7.0], np.float32)
    copy = values.copy()
    indices = value_indices(values, (-1, 1))
    assert indices.tolist() == [0, 0, round(0.75 * (DIVERGING_SIZE - 1)), DIVERGING_SIZE - 1, DIVERGING_SIZE - 1]
    assert np.array_equal(values, copy)


def test_symmetric_domain_uses_the_largest_finite_magnitude():
    assert symmetric_domain(np.array([0.5, -3.0, np.nan, np.inf, 2.0])) == (-3.0, 3.0)
    assert symmetric_domain(np.zeros(4)) == (-1.0, 1.0)
    with pytest.raises(ValueError, match="domain"):
        value_indices(np.zeros(2), (1, 1))


def test_each_value_of_a_7x7_map_fills_a_uniform_block():
    maps = np.arange(49, dtype=np.uint8).reshape(7, 7)
    big = enlarge(maps, BASE_CELL)  # (56, 56)
    block = BASE_CELL // 7
    assert big.shape == (56, 56)
    blocks = big.reshape(7, block, 7, block)
    assert np.all(blocks == maps[:, None, :, None])


def test_cells_are_the_same_size_for_every_layer_and_frames_are_even():
    for probes, channels in ((10, 4), (10, 8), (10, 16), (3, 1)):
        layout = Layout(probes=probes, channels=channels, cell=BASE_CELL)
        assert layout.width % 2 == 0 and layout.height % 2 == 0
        assert layout.cell_origin(1, 1)[1] - layout.cell_origin(1, 0)[1] == BASE_CELL + layout.gutter
    widths = {Layout(probes=10, channels=c, cell=BASE_CELL).width for c in (4, 8, 16)}
    assert widths == {582}


def _known_layer(steps=2, probes=3, size=7, channels=2):
    """Each (probe n, channel c) map is the constant (n - 1) / 2 + c / 4 at step 1, a tenth of it at step 0."""
    constants = (np.arange(probes)[:, None] - 1) / 2 + np.arange(channels)[None, :] / 4  # (N, C)
    values = np.empty((steps, probes, size, size, channels), np.float16)  # (T, N, H, W, C)
    for t in range(steps):
        values[t] = (constants * (0.1 if t == 0 else 1.0))[:, None, None, :]
    return values, constants


def test_rows_are_channels_and_columns_are_probes_with_known_values():
    values, constants = _known_layer()
    probes = np.zeros((3, 28, 28), np.uint8)
    probes[1] = 255
    frames = list(layer_frames(values, probes, name="conv5", steps=[0, 1], scale=TANH))
    assert len(frames) == 2 and frames[1].dtype == np.uint8
    layout = layer_layout(values.shape)  # cells of BASE_CELL, a left column numbering the two rows
    assert layout.cell == BASE_CELL and layout.label_column > 0
    assert frames[1].shape == (layout.height, layout.width)
    for n in range(3):
        y, x = layout.cell_origin(0, n)
        image = frames[1][y:y + BASE_CELL, x:x + BASE_CELL]
        assert np.all(image == grey_indices(probes[n])[0, 0])  # the probe row, in grey
        for c in range(2):
            y, x = layout.cell_origin(c + 1, n)
            cell = frames[1][y:y + BASE_CELL, x:x + BASE_CELL]
            assert np.all(cell == value_indices(np.float16(constants[n, c]), (-1, 1))), (n, c)
            gutter = frames[1][y + BASE_CELL:y + BASE_CELL + layout.gutter, x:x + BASE_CELL]
            assert not np.any(np.isin(gutter, value_indices(np.float16(constants[n, c]), (-1, 1))))


def test_the_domain_is_fixed_across_frames():
    values, constants = _known_layer()
    values[0, 0, ..., 0] = 0.25  # the same value at both steps in one cell; everything else differs
    values[1, 0, ..., 0] = 0.25
    frames = list(layer_frames(values, np.zeros((3, 28, 28), np.uint8), name="conv5", steps=[0, 1], scale=TANH))
    y, x = layer_layout(values.shape).cell_origin(1, 0)
    first, second = (frame[y:y + BASE_CELL, x:x + BASE_CELL] for frame in frames)
    assert np.array_equal(first, second)
    assert tuple(to_rgb(first[0, 0])) == tuple(colorize(np.float16(0.25), (-1, 1)))


def test_nan_cells_are_drawn_in_the_nan_colour():
    values, _ = _known_layer()
    values[1, 2, 3, 3, 1] = np.nan
    frame = list(layer_frames(values, np.zeros((3, 28, 28), np.uint8), name="conv5", steps=[0, 1],
                              scale=TANH))[1]
    y, x = layer_layout(values.shape).cell_origin(2, 2)
    block = BASE_CELL // 7
    assert np.all(frame[y + 3 * block:y + 4 * block, x + 3 * block:x + 4 * block] == NAN_INDEX)


def test_the_label_is_drawn_top_left_and_changes_with_the_step():
    values, _ = _known_layer()
    frames = list(layer_frames(values, np.zeros((3, 28, 28), np.uint8), name="conv5", steps=[0, 290], scale=TANH))
    band = Layout(probes=3, channels=2, cell=BASE_CELL).band
    assert step_label("conv3", 57, 290) == "conv3 · step 57/290"
    assert not np.array_equal(frames[0][:band], frames[1][:band])
    assert len(np.unique(frames[0][:band, :40])) > 2  # ink on paper, antialiased


def test_layer_frames_rejects_the_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(T, N, H, W, C\)"):
        next(layer_frames(np.zeros((2, 3, 7, 7)), np.zeros((3, 28, 28), np.uint8), name="x", steps=[0, 1],
                          scale=TANH))
    with pytest.raises(ValueError, match="steps"):
        next(layer_frames(np.zeros((2, 3, 7, 7, 1)), np.zeros((3, 28, 28), np.uint8), name="x", steps=[0],
                          scale=TANH))
