"""Round trips through the encoders (MP4, WebM, GIF, PNG) and the GIF preview's byte budget."""

import io

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from render.encode import VideoWriter, fit_gif, gif_bytes, to_yuv420p, write_png
from render.frames import BASE_CELL, Layout, block_for, layer_frames, layer_layout
from render.page_data import strided_indices
from render.palette import colorize, to_rgb

PROBES, CHANNELS, STEPS = 3, 2, 6
TANH = {"kind": "fixed", "domain": [-1.0, 1.0]}


def _layer(steps=STEPS, probes=PROBES, channels=CHANNELS, size=7, seed=0):
    """Smoothly varying tanh maps, with cell (probe 0, channel 0) held at -0.8 (a strong red)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(probes, size, size, channels))
    ramp = np.linspace(0.2, 2.0, steps)[:, None, None, None, None]
    values = np.tanh(ramp * base).astype(np.float16)  # (T, N, H, W, C)
    values[:, 0, ..., 0] = -0.8
    return values


def _frames(values, cell=BASE_CELL, indices=None):
    probes = np.zeros((values.shape[1], 28, 28), np.uint8)
    return layer_frames(values, probes, name="conv5", steps=list(range(len(values))), scale=TANH,
                        block=block_for(*values.shape[2:4], cell), indices=indices)


def _decode_video(path):
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader], (width, height)


def _cell_centre(frame, layout, row=1, column=0):
    y, x = layout.cell_origin(row, column)
    return frame[y + layout.cell // 2, x + layout.cell // 2].astype(int)


@pytest.mark.parametrize("codec, suffix", [("h264", "mp4"), ("vp9", "webm")])
def test_video_round_trip_keeps_frame_count_size_and_cell_colour(tmp_path, codec, suffix):
    values = _layer()
    layout = layer_layout(values.shape)  # the frames' own layout, with its column of row numbers
    path = tmp_path / f"conv5.{suffix}"
    with VideoWriter(path, (layout.width, layout.height), codec, fps=10) as writer:
        for frame in _frames(values):
            writer.write(frame)
    decoded, size = _decode_video(path)
    assert len(decoded) == STEPS and size == (layout.width, layout.height)
    expected = colorize(np.float16(-0.8), (-1, 1)).astype(int)
    for frame in decoded:
        assert np.abs(_cell_centre(frame, layout) - expected).max() <= 12


def test_h264_bytes_are_deterministic(tmp_path):
    values = _layer()
    layout = layer_layout(values.shape)  # the frames' own layout, with its column of row numbers
    written = []
    for name in ("a.mp4", "b.mp4"):
        with VideoWriter(tmp_path / name, (layout.width, layout.height)) as writer:
            for frame in _frames(values):
                writer.write(frame)
        written.append((tmp_path / name).read_bytes())
    assert written[0] == written[1]


def test_odd_sizes_are_refused_not_resized(tmp_path):
    with pytest.raises(ValueError, match="even"):
        to_yuv420p(np.zeros((5, 4), np.uint8))
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "x.mp4", (581, 312))
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "x.mp4", (580, 313))
    assert not list(tmp_path.iterdir())


def test_gif_round_trip_is_exact_with_every_palette_colour():
    frames = np.stack(list(_frames(_layer())))  # (T, H, W)
    frames[1, :15, :17] = np.arange(255, dtype=np.uint8).reshape(15, 17)  # every colour but 255 (never drawn)
    frames[-1, -1, -1] = 254  # the grey ramp's white, the same RGB as the table's white (95)
    height, width = frames.shape[1:]
    image = Image.open(io.BytesIO(gif_bytes(frames, [100, 120, 100, 100, 100, 1600])))
    assert image.n_frames == STEPS and image.size == (width, height) and image.info["loop"] == 0
    for index, frame in enumerate(frames):
        image.seek(index)
        assert np.array_equal(np.asarray(image.convert("RGB")), to_rgb(frame)), index
        assert image.info["duration"] == [100, 120, 100, 100, 100, 1600][index]


def test_a_single_frame_gif_keeps_its_duration():
    frame = next(_frames(_layer()))
    image = Image.open(io.BytesIO(gif_bytes(frame[None], [1500])))
    assert image.n_frames == 1 and image.info["duration"] == 1500
    assert np.array_equal(np.asarray(image.convert("RGB")), to_rgb(frame))


def test_identical_frames_are_merged_into_a_longer_one():
    frame = next(_frames(_layer()))
    image = Image.open(io.BytesIO(gif_bytes(np.stack([frame] * 3), [100] * 3)))
    assert image.n_frames == 1 and image.info["duration"] == 300


def test_png_keeps_exact_colours_and_no_timestamp(tmp_path):
    frame = next(_frames(_layer()))
    size = write_png(frame, tmp_path / "a.png")
    write_png(frame, tmp_path / "b.png")
    assert size == (tmp_path / "a.png").stat().st_size
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png").convert("RGB")), to_rgb(frame))


def _fit(values, budget, min_frames=4, first_stride=1):
    return fit_gif(lambda cell, indices: _frames(values, cell, indices), count=len(values), base_cell=BASE_CELL,
                   fps=10, budget=budget, min_frames=min_frames, first_stride=first_stride)


def _gif_frames(data):
    image = Image.open(io.BytesIO(data))
    for index in range(image.n_frames):
        image.seek(index)
        yield np.asarray(image.convert("RGB"))


def test_the_preview_meets_its_budget_and_keeps_the_first_and_last_step():
    values = _layer(steps=41, probes=10, channels=4, size=28)
    full, _ = _fit(values, budget=10**9)
    budget = len(full) // 3
    data, record = _fit(values, budget=budget)
    assert len(data) <= budget == record["budget_bytes"] and record["bytes"] == len(data)
    assert record["stride"] > 1 and record["frames"] == len(strided_indices(41, record["stride"]))
    one_more, _ = _fit(values, budget=10**9, first_stride=record["stride"] - 1)  # the next smaller stride's GIF
    assert len(one_more) > budget  # the preview keeps the most frames that fit
    assert all(attempt["fits"] == (attempt["bytes"] <= budget) for attempt in record["attempts"])
    decoded = list(_gif_frames(data))
    assert len(decoded) == record["frames"]
    first, last = _frames(values, record["cell_px"], [0, 40])
    assert np.array_equal(decoded[0], to_rgb(first)) and np.array_equal(decoded[-1], to_rgb(last))


def test_the_preview_lowers_the_scale_when_fewer_frames_are_not_enough():
    values = _layer(steps=41, probes=10, channels=4, size=28)
    at_min_frames, _ = _fit(values, budget=10**9, min_frames=41)
    data, record = _fit(values, budget=len(at_min_frames) // 2, min_frames=41)
    assert record["scale"] < 1 and record["reduced"] and len(data) <= len(at_min_frames) // 2
    first, last = _frames(values, record["cell_px"], [0, 40])
    decoded = list(_gif_frames(data))
    assert record["cell_px"] < BASE_CELL and decoded[0].shape[1] < Layout(probes=10, channels=4, cell=BASE_CELL).width
    assert np.array_equal(decoded[0], to_rgb(first)) and np.array_equal(decoded[-1], to_rgb(last))


def test_the_preview_starts_from_the_videos_stride():
    values = _layer(steps=41)
    data, record = _fit(values, budget=10**9, first_stride=5)
    assert record["stride"] == 5 and record["frames"] == 9 == len(list(_gif_frames(data)))
    assert record["frame_ms"] == 250 and min(attempt["stride"] for attempt in record["attempts"]) == 5


def test_an_impossible_budget_says_what_to_do():
    with pytest.raises(ValueError, match="gif_budget_bytes"):
        _fit(_layer(), budget=100)


def test_the_mp4_starts_with_its_index_for_streaming(tmp_path):
    values = _layer(steps=2)
    layout = layer_layout(values.shape)  # the frames' own layout, with its column of row numbers
    with VideoWriter(tmp_path / "a.mp4", (layout.width, layout.height)) as writer:
        for frame in _frames(values):
            writer.write(frame)
    data = (tmp_path / "a.mp4").read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
