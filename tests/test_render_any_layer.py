"""Rendering layers of any model: scales chosen from the data, RGB probes, many channels, any map size.

Truth is computed here with plain numpy (np.quantile, channel means) and read back from the decoded
poster PNGs and MP4 frames, not from the renderer's own helpers.
"""

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from render.assets import render_capture
from render.encode import RenderSettings
from render.frames import layer_layout
from render.layer_assets import video_block
from render.palette import NAN_RGB, diverging_table
from tests.synthetic_capture import synthetic_capture

LAYERS = ("relu40", "linear", "dense", "tanh28")
TABLE = diverging_table()  # (191, 3): red .. white (95) .. blue
WHITE = 95
PREVIEWS = RenderSettings(gif_budget_bytes=2_000_000, gif_min_frames=2)


@pytest.fixture(scope="module")
def capture():
    return synthetic_capture(steps=6, probes=3, layers=LAYERS, widths=(40, 6, 64, 4),
                             sizes=(14, (6, 9), 1, 28), activations=("relu", "linear", "linear", "tanh"),
                             rgb=True, origin="builder")


@pytest.fixture(scope="module")
def rendered(capture, tmp_path_factory):
    out = tmp_path_factory.mktemp("any")
    manifest = render_capture(capture, out, PREVIEWS, progress=False)
    return out, manifest, {layer["name"]: layer for layer in manifest["layers"]}


def _poster(out, layer):
    return np.asarray(Image.open(out / layer["files"]["poster"]["path"]).convert("RGB")).astype(int)


def _finite(values):
    values = values.astype(np.float32).ravel()
    return values[np.isfinite(values)]


def _expected_rgb(values, scale):
    """The documented colours: signed domains span the whole table, a domain from 0 its white-to-blue half."""
    low, high = scale["domain"]
    values = np.asarray(values, np.float64)
    if low < 0:
        index = np.rint((np.clip(values, low, high) - low) / (high - low) * 190)
    else:
        index = WHITE + np.rint(np.clip(values, 0, high) / high * WHITE)
    return TABLE[index.astype(int)].astype(int)


def _cell_values_check(poster, layer, values, rows):
    """Every activation's block in the poster's channel rows has the colour of its value (last step)."""
    layout = layer_layout(values.shape, shown=layer["shown_channels"])
    block = layer["block_px"]
    map_h, map_w = values.shape[2:4]
    for row, channel in enumerate(rows):
        for probe in range(values.shape[1]):
            y, x = layout.cell_origin(row + 1, probe)
            cell = poster[y:y + block * map_h, x:x + block * map_w]
            blocks = cell.reshape(map_h, block, map_w, block, 3)
            assert (blocks == blocks[:, :1, :, :1]).all(), (layer["name"], row, probe)  # solid blocks
            expected = _expected_rgb(values[-1, probe, ..., channel], layer["scale"])
            assert np.array_equal(blocks[:, 0, :, 0], expected), (layer["name"], channel, probe)


def test_a_relu_layer_gets_a_sequential_scale_at_the_99_9th_percentile(capture, rendered):
    out, manifest, layers = rendered
    values = capture.activations["relu40"]
    finite = _finite(values)
    robust = float(np.quantile(finite, 0.999, method="inverted_cdf"))
    layer = layers["relu40"]
    assert layer["activation"] == "relu" and layer["scale"]["kind"] == "sequential"
    assert layer["domain"] == [0.0, robust] == layer["scale"]["domain"] and robust > 0
    assert layer["scale"]["clipped_values"] == int(np.count_nonzero(finite > robust)) == layer["out_of_domain_values"]
    assert f"0 .. {robust:.3g}" in layer["domain_caption"] and "99.9th percentile" in layer["domain_caption"]
    assert f"{layer['scale']['clipped_values']:,} values above it" in layer["domain_caption"]
    assert layer["domain_fixed_tanh"] is False and layer["files"]["colorbar"]["path"] == "relu40_colorbar.png"
    bar = np.asarray(Image.open(out / "relu40_colorbar.png").convert("RGB"))
    colours = {tuple(c) for c in bar.reshape(-1, 3)}
    assert tuple(TABLE[WHITE]) in colours and tuple(TABLE[-1]) in colours and tuple(TABLE[0]) not in colours


def test_a_signed_linear_layer_gets_a_diverging_scale_and_a_tanh_layer_a_fixed_one(capture, rendered):
    out, manifest, layers = rendered
    magnitudes = np.abs(_finite(capture.activations["linear"]))
    robust = float(np.quantile(magnitudes, 0.999, method="inverted_cdf"))
    linear = layers["linear"]
    assert linear["scale"]["kind"] == "diverging" and linear["domain"] == [-robust, robust]
    assert linear["scale"]["clipped_values"] == int(np.count_nonzero(magnitudes > robust))
    assert f"±{robust:.3g}" in linear["domain_caption"]
    tanh = layers["tanh28"]
    assert tanh["scale"]["kind"] == "fixed" and tanh["domain"] == [-1.0, 1.0] and tanh["domain_fixed_tanh"] is True
    assert tanh["domain_caption"] == "activation (tanh): fixed domain -1 .. +1, 0 = white"
    assert tanh["files"]["colorbar"]["path"] == "colorbar.png"
    for name in ("linear", "tanh28"):
        values = capture.activations[name]
        _cell_values_check(_poster(out, layers[name]), layers[name], values, range(values.shape[4]))


def test_rgb_probes_are_in_colour_in_the_poster_and_the_video(capture, rendered):
    out, manifest, layers = rendered
    assert manifest["probe_color"] == "rgb"
    probes = capture.probe_images.astype(int)  # (N, 28, 28, 3)
    assert probes.std(axis=-1).mean() > 10  # really coloured: the channels differ
    layer = layers["tanh28"]  # 28x28 maps: probes at 2 px a pixel in the poster and the MP4
    values = capture.activations["tanh28"]
    poster = _poster(out, layer)
    layout = layer_layout(values.shape)
    for n, probe in enumerate(probes):
        y, x = layout.cell_origin(0, n)
        assert np.array_equal(poster[y:y + 56:2, x:x + 56:2], probe), n
    reader = imageio_ffmpeg.read_frames(str(out / layer["files"]["mp4"]["path"]))
    width, height = next(reader)["size"]
    first = np.frombuffer(next(reader), np.uint8).reshape(height, width, 3).astype(int)
    reader.close()
    video = layer_layout(values.shape, block=video_block(28, 28))
    for n, probe in enumerate(probes):
        y, x = video.cell_origin(0, n)
        decoded = first[y:y + 56, x:x + 56].reshape(28, 2, 28, 2, 3).mean(axis=(1, 3))
        error = np.abs(decoded - probe)
        grey = np.abs(probe - probe.mean(axis=-1, keepdims=True))  # how far the probe is from its grey
        assert error.mean() < 4 and np.percentile(error, 99) < 24, (n, error.mean())
        assert error.mean() < grey.mean() / 3, n  # colour, not grey


def test_the_gif_preview_shows_rgb_probes_in_grey(capture, rendered):
    out, manifest, layers = rendered
    gif = Image.open(out / layers["tanh28"]["files"]["gif"]["path"])
    pixels = np.asarray(gif.convert("RGB")).astype(int)
    y, x = layer_layout(capture.activations["tanh28"].shape, cell=layers["tanh28"]["files"]["gif"]["cell_px"]) \
        .cell_origin(0, 0)
    probe_row = pixels[y:y + 4, x:x + 40]
    assert (probe_row.max(axis=-1) == probe_row.min(axis=-1)).all()
    assert layers["tanh28"]["files"]["gif"]["probe_color"] == "grey"


def test_forty_channels_show_the_16_most_active_with_their_indices(capture, rendered):
    out, manifest, layers = rendered
    values = capture.activations["relu40"]
    activity = np.abs(values[-1].astype(np.float64)).mean(axis=(0, 1, 2))  # (40,)
    ranking = sorted(range(40), key=lambda c: (-activity[c], c))
    layer = layers["relu40"]
    assert layer["channels"] == 40 and layer["channel_ranking"] == ranking
    assert layer["shown_channels"] == sorted(ranking[:16]) and len(layer["shown_channels"]) == 16
    layout = layer_layout(values.shape, shown=layer["shown_channels"])
    assert layer["label_column_px"] == layout.label_column > 0 and layer["height"] == layout.height
    poster = _poster(out, layer)
    assert poster.shape[:2] == (layer["height"], layer["width"]) == (layer["files"]["poster"]["height"],
                                                                     layer["width"])
    _cell_values_check(poster, layer, values, layer["shown_channels"])
    labels = []
    for row in range(16):  # each row's left column holds ink: its channel's index
        y, x = layout.cell_origin(row + 1, 0)
        column = poster[y:y + layout.cell, 2:x - 2]
        assert column.min() < 120, row
        labels.append(column.tobytes())
    assert len(set(labels)) == 16
    assert layers["linear"]["label_column_px"] > 0 and layers["linear"]["shown_channels"] == list(range(6))
    reader = imageio_ffmpeg.read_frames(str(out / layer["files"]["mp4"]["path"]))
    assert tuple(next(reader)["size"]) == (layer["files"]["mp4"]["width"], layer["files"]["mp4"]["height"])
    reader.close()
    video = layer_layout(values.shape, block=2, shown=layer["shown_channels"])
    assert layer["files"]["mp4"]["height"] == video.height  # 16 rows, not 40


def test_a_dense_layer_renders_as_one_solid_cell_per_unit(capture, rendered):
    out, manifest, layers = rendered
    layer = layers["dense"]
    values = capture.activations["dense"]  # (T, N, 1, 1, 64)
    assert values.shape[2:] == (1, 1, 64) and layer["map_size"] == [1, 1]
    assert layer["cell_size_px"] == [56, 56] and layer["block_px"] == 56
    assert len(layer["shown_channels"]) == 16
    _cell_values_check(_poster(out, layer), layer, values, layer["shown_channels"])
    assert layer["files"]["mp4"]["block_px"] >= 14 and layer["files"]["mp4"]["block_px"] % 2 == 0


def test_a_non_square_map_keeps_square_pixels(capture, rendered):
    out, manifest, layers = rendered
    layer = layers["linear"]  # (6, 9) maps
    assert layer["cell_size_px"] == [6 * layer["block_px"], 9 * layer["block_px"]] and layer["block_px"] % 2 == 0
    assert layer["files"]["mp4"]["cell_size_px"] == [12, 18]


def test_nan_is_grey_on_a_sequential_scale(capture, tmp_path):
    values = capture.activations["relu40"].copy()
    values[-1, 0, 0, 0, :] = np.nan
    broken = synthetic_capture(steps=6, probes=3, layers=("relu40",), widths=(40,), sizes=(14,),
                               activations="relu", rgb=True, origin="builder")
    broken.activations["relu40"] = values
    manifest = render_capture(broken, tmp_path, progress=False)
    layer = manifest["layers"][0]
    assert layer["nonfinite_values"] == 40
    poster = _poster(tmp_path, layer)
    y, x = layer_layout(values.shape, shown=layer["shown_channels"]).cell_origin(1, 0)
    assert tuple(poster[y, x]) == NAN_RGB


def test_the_same_capture_gives_the_same_bytes(capture, rendered, tmp_path):
    out, manifest, _ = rendered
    again = render_capture(capture, tmp_path, PREVIEWS, progress=False)
    assert again == manifest
    for path in sorted(out.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_dense_layer_takes_the_cell_size_of_the_other_layers(tmp_path):
    capture = synthetic_capture(steps=2, probes=2, layers=("conv", "dense"), widths=(3, 5), sizes=(32, 1),
                                activations="relu", origin="builder")
    conv, dense = render_capture(capture, tmp_path, progress=False)["layers"]
    assert conv["cell_size_px"] == [32, 32] and conv["block_px"] == 1  # a 32x32 map at 1 px per activation
    assert dense["cell_size_px"] == [32, 32] and dense["width"] == conv["width"]
