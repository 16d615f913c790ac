"""Round trips through the encoders (MP4, WebM, GIF, PNG) and the GIF preview's byte budget."""

import io

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from render.encode import GifWriter, VideoWriter, to_yuv420p, write_png
from render.frames import BASE_CELL, Layout, layer_frames
from render.palette import colorize, to_rgb
from render.preview import fit_gif, strided_indices

PROBES, CHANNELS, STEPS = 3, 2, 6


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
    return layer_frames(values, probes, name="conv5", steps=list(range(len(values))), domain=(-1, 1), cell=cell,
                        indices=indices)


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
    layout = Layout(probes=PROBES, channels=CHANNELS, cell=BASE_CELL)
    path = tmp_path / f"conv5.{suffix}"
    with VideoWriter(path, layout.width, layout.height, fps=10, codec=codec) as writer:
        for frame in _frames(values):
            writer.write(frame)
    decoded, size = _decode_video(path)
    assert len(decoded) == STEPS and size == (layout.width, layout.height)
    expected = colorize(np.float16(-0.8), (-1, 1)).astype(int)
    for frame in decoded:
        assert np.abs(_cell_centre(frame, layout) - expected).max() <= 12


def test_h264_bytes_are_deterministic(tmp_path):
    values = _layer()
    layout = Layout(probes=PROBES, channels=CHANNELS, cell=BASE_CELL)
    written = []
    for name in ("a.mp4", "b.mp4"):
        with VideoWriter(tmp_path / name, layout.width, layout.height) as writer:
            for frame in _frames(values):
                writer.write(frame)
        written.append((tmp_path / name).read_bytes())
    assert written[0] == written[1]


def test_odd_sizes_are_refused_not_resized(tmp_path):
    with pytest.raises(ValueError, match="even"):
        to_yuv420p(np.zeros((5, 4), np.uint8))
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "x.mp4", 581, 312)


def test_gif_round_trip_is_exact(tmp_path):
    values = _layer()
    frames = list(_frames(values))
    height, width = frames[0].shape
    writer = GifWriter(width, height)
    for frame in frames:
        writer.write(frame, 100)
    data = writer.getvalue()
    image = Image.open(io.BytesIO(data))
    assert image.n_frames == STEPS and image.size == (width, height)
    for index, frame in enumerate(frames):
        image.seek(index)
        assert np.array_equal(np.asarray(image.convert("RGB")), to_rgb(frame)), index
        assert image.info["duration"] == 100


def test_identical_frames_are_merged_into_a_longer_one():
    frame = next(_frames(_layer()))
    writer = GifWriter(frame.shape[1], frame.shape[0])
    for _ in range(3):
        writer.write(frame, 100)
    image = Image.open(io.BytesIO(writer.getvalue()))
    assert image.n_frames == 1 and image.info["duration"] == 300


def test_png_keeps_exact_colours_and_no_timestamp(tmp_path):
    frame = next(_frames(_layer()))
    size = write_png(frame, tmp_path / "a.png")
    write_png(frame, tmp_path / "b.png")
    assert size == (tmp_path / "a.png").stat().st_size
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png").convert("RGB")), to_rgb(frame))


def _fit(values, budget, min_frames=4):
    count = len(values)

    def size_at(cell):
        layout = Layout(probes=values.shape[1], channels=values.shape[4], cell=cell)
        return layout.width, layout.height

    return fit_gif(lambda cell, indices: _frames(values, cell, indices), size_at, count=count, base_cell=BASE_CELL,
                   fps=10, budget=budget, min_frames=min_frames)


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
    assert record["attempts"][0] == {"scale": 1.0, "stride": 1, "frames": 41, "bytes": record["attempts"][0]["bytes"],
                                     "complete": False, "fits": False}
    decoded = list(_gif_frames(data))
    assert len(decoded) == record["frames"]
    first, last = _frames(values, record["cell_px"], [0, 40])
    assert np.array_equal(decoded[0], to_rgb(first)) and np.array_equal(decoded[-1], to_rgb(last))


def test_the_preview_lowers_the_scale_when_fewer_frames_are_not_enough():
    values = _layer(steps=41, probes=10, channels=4, size=28)
    at_min_frames, _ = _fit(values, budget=10**9, min_frames=41)
    data, record = _fit(values, budget=len(at_min_frames) // 2, min_frames=41)
    assert record["scale"] < 1 and record["reduced"] and len(data) <= len(at_min_frames) // 2
    assert record["cell_px"] < BASE_CELL and record["width"] < Layout(probes=10, channels=4, cell=BASE_CELL).width
    first, last = _frames(values, record["cell_px"], [0, 40])
    decoded = list(_gif_frames(data))
    assert np.array_equal(decoded[0], to_rgb(first)) and np.array_equal(decoded[-1], to_rgb(last))


def test_an_impossible_budget_says_what_to_do():
    with pytest.raises(ValueError, match="gif_budget_bytes"):
        _fit(_layer(), budget=100)


def test_the_mp4_starts_with_its_index_for_streaming(tmp_path):
    values = _layer(steps=2)
    layout = Layout(probes=PROBES, channels=CHANNELS, cell=BASE_CELL)
    with VideoWriter(tmp_path / "a.mp4", layout.width, layout.height) as writer:
        for frame in _frames(values):
            writer.write(frame)
    data = (tmp_path / "a.mp4").read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
