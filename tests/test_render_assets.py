"""The whole rendering stage on small synthetic captures: files, manifest, determinism, bad input."""

import dataclasses
import json

import numpy as np
import pytest

from render.__main__ import main as render_cli
from render.assets import render_capture
from render.encode import RenderSettings
from tests.synthetic_capture import synthetic_capture

LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6")
PREVIEWS = RenderSettings(gif_budget_bytes=5_000_000)


@pytest.fixture(scope="module")
def capture():
    return synthetic_capture(steps=12)


@pytest.fixture(scope="module")
def rendered(capture, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, render_capture(capture, out, PREVIEWS, progress=False)


def test_every_layer_gets_its_files_and_the_manifest_lists_them_with_sizes(rendered):
    out, manifest = rendered
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert [layer["name"] for layer in manifest["layers"]] == list(LAYERS)
    for layer in manifest["layers"]:
        name = layer["name"]
        assert {"mp4", "poster", "gif", "colorbar"} <= set(layer["files"])
        assert layer["files"]["mp4"]["path"] == f"{name}.mp4" and layer["files"]["gif"]["path"] == f"{name}.gif"
        for entry in layer["files"].values():
            assert (out / entry["path"]).stat().st_size == entry["bytes"] > 0
        assert layer["frames"] == 13 == layer["files"]["mp4"]["frames"]
        assert layer["width"] % 2 == 0 and layer["height"] % 2 == 0
        assert layer["domain"] == [-1.0, 1.0] and layer["domain_fixed_tanh"] is True
        gif = layer["files"]["gif"]
        assert {"stride", "scale", "frames", "bytes", "width", "height", "attempts"} <= set(gif)
        assert gif["bytes"] <= manifest["gif_budget_bytes"]
    widths = {layer["width"] for layer in manifest["layers"]}
    assert len(widths) == 1  # same cells, same columns: every layer is as wide
    assert manifest["layers"][4]["block_px"] == 8 and manifest["layers"][0]["block_px"] == 2
    assert {"svg", "png"} <= set(manifest["curves"])
    assert (out / "curves.svg").stat().st_size == manifest["curves"]["svg"]["bytes"]
    assert manifest["colors"]["zero"] == [255, 255, 255]


def test_the_same_capture_gives_the_same_bytes(capture, rendered, tmp_path):
    out, manifest = rendered
    again = render_capture(capture, tmp_path, PREVIEWS, progress=False)
    assert again == manifest
    for path in sorted(out.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_layer_beyond_its_activations_range_gets_a_diverging_scale_and_says_so(capture, tmp_path):
    activations = dict(capture.activations)
    activations["conv6"] = (capture.activations["conv6"].astype(np.float32) * 3).astype(np.float16)
    activations["conv6"][1, 0, 0, 0, 0] = np.nan
    wider = dataclasses.replace(capture, activations=activations)
    manifest = render_capture(wider, tmp_path, layers=["conv5", "conv6"], progress=False)  # both "tanh" in the meta
    conv5, conv6 = manifest["layers"]
    magnitudes = np.abs(activations["conv6"].astype(np.float32))
    magnitudes = magnitudes[np.isfinite(magnitudes)]
    robust = float(np.quantile(magnitudes, 0.999, method="inverted_cdf"))
    assert conv6["scale"]["kind"] == "diverging" and conv6["domain_fixed_tanh"] is False
    assert conv6["domain"] == [-robust, robust] and conv6["scale"]["largest_magnitude"] > 1
    assert conv6["out_of_domain_values"] == int(np.count_nonzero(magnitudes > robust))
    assert "99.9th percentile" in conv6["domain_caption"] and conv6["nonfinite_values"] == 1
    assert conv6["files"]["colorbar"]["path"] == "conv6_colorbar.png"
    assert conv5["files"]["colorbar"]["path"] == "colorbar.png" and conv5["domain"] == [-1.0, 1.0]
    assert conv5["scale"]["kind"] == "fixed" and conv5["activation"] == "tanh"


def test_a_capture_missing_a_layer_is_refused_with_the_fix(capture, tmp_path):
    partial = dataclasses.replace(capture, activations={k: v for k, v in capture.activations.items() if k != "conv3"})
    with pytest.raises(ValueError, match="lacks layer.*conv3.*make site"):
        render_capture(partial, tmp_path, progress=False)


@pytest.mark.parametrize("shape", [(13, 10, 7, 7), (12, 10, 7, 7, 16), (13, 9, 7, 7, 16), (13, 10, 7, 7, 15)])
def test_a_layer_of_the_wrong_shape_is_refused(capture, tmp_path, shape):
    broken = dataclasses.replace(capture, activations={**capture.activations, "conv5": np.zeros(shape, np.float16)})
    with pytest.raises(ValueError, match="conv5"):
        render_capture(broken, tmp_path, progress=False)


def test_the_command_line_reports_an_archive_missing_a_layer(capture, tmp_path, capsys):
    partial = dataclasses.replace(capture, activations={k: v for k, v in capture.activations.items() if k != "conv4"})
    # an archive that lacks a layer its meta's recorded_layers names
    partial.save(tmp_path / "capture.h5")
    assert render_cli([str(tmp_path / "capture.h5"), str(tmp_path / "out"), "--quiet"]) == 2
    assert "recorded_layers" in capsys.readouterr().err
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="gif_budget_bytes"):
        RenderSettings(gif_budget_bytes=0)
    with pytest.raises(ValueError, match="gif_min_frames"):
        RenderSettings(gif_min_frames=1)


def test_the_plateau_is_found_and_a_spike_does_not_squash_the_loss_axis(capture):
    from render.curves import curves_figure, plateau_end

    accuracy = np.r_[np.full(30, 0.1), np.linspace(0.4, 0.95, 60)]
    assert 28 <= plateau_end(accuracy) <= 34
    assert plateau_end(np.linspace(0.5, 0.99, 50)) == 0
    spiky = dataclasses.replace(capture, train_loss=np.r_[capture.train_loss[:5], 40.0, capture.train_loss[6:]])
    loss_axes = curves_figure(spiky).axes[0]
    assert 2.19 < loss_axes.get_ylim()[1] < 1.5 * 2.2 * 1.08
    assert loss_axes.get_xlabel() and loss_axes.get_legend() is not None


def test_the_curves_png_is_the_figure_in_a_palette_of_at_most_256_colours(capture, rendered):
    import io

    from PIL import Image

    from render.curves import PNG_DPI, curves_figure

    out, manifest = rendered
    written = Image.open(out / "curves.png")
    assert written.mode == "P" and (out / "curves.png").stat().st_size == manifest["curves"]["png"]["bytes"]
    assert written.size == (manifest["curves"]["png"]["width"], manifest["curves"]["png"]["height"])
    # the figure drawn again by matplotlib in full colour: the palette keeps its picture
    buffer = io.BytesIO()
    curves_figure(capture).savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    truth = np.asarray(Image.open(buffer).convert("RGB"), np.int16)
    shown = np.asarray(written.convert("RGB"), np.int16)
    difference = np.abs(shown - truth)
    assert shown.shape == truth.shape and difference.mean() < 1.0 and np.percentile(difference, 99.9) <= 24


def test_videos_hold_two_pixels_per_activation_and_every_file_says_what_it_is_for(rendered):
    import imageio_ffmpeg

    from render.frames import layer_layout

    out, manifest = rendered
    for layer in manifest["layers"]:
        side = layer["map_size"][0]
        reader = imageio_ffmpeg.read_frames(str(out / layer["files"]["mp4"]["path"]))
        width, height = next(reader)["size"]
        reader.close()
        # 2 px margins, 2 px gutters, cells of 2 px per activation (a 7x7 map: 14 px), a column numbering the rows
        labels = layer_layout((1, manifest["probes"], side, side, layer["channels"]), block=2).label_column
        assert labels > 0 and width == 2 * 2 + labels + manifest["probes"] * (2 * side + 2) - 2, layer["name"]
        assert layer["files"]["mp4"]["block_px"] == 2 and layer["files"]["mp4"]["width"] == width
        assert layer["files"]["poster"]["width"] == layer["width"]  # the poster keeps full-size cells
        assert all(entry.get("purpose") for entry in layer["files"].values())
    chunks = manifest["explore"]["chunks"]
    assert len(chunks) == len(LAYERS) * manifest["probes"]
    assert all((out / chunk["path"]).stat().st_size == chunk["bytes"] for chunk in chunks)
    assert manifest["explore"]["meta"]["purpose"] and manifest["explore"]["chunk_purpose"]


def test_the_default_shapes_render_as_before_every_channel_on_the_fixed_tanh_scale(capture, rendered):
    from PIL import Image

    from render.frames import layer_layout
    from render.palette import diverging_table

    table = diverging_table().astype(int)
    out, manifest = rendered
    assert manifest["probe_color"] == "grey"
    for layer in manifest["layers"]:
        values = capture.activations[layer["name"]]
        _, probes, side, _, channels = values.shape
        block = 56 // side
        layout = layer_layout(values.shape)
        assert layer["shown_channels"] == list(range(channels)) and layer["label_column_px"] == layout.label_column > 0
        assert layer["cell_size_px"] == [56, 56] and layer["block_px"] == block and layer["width"] == layout.width
        assert layer["files"]["colorbar"]["path"] == "colorbar.png" and layer["activation"] == "tanh"
        legend = Image.open(out / "colorbar.png")  # the page's <img> takes the legend's own size from here
        assert (layer["files"]["colorbar"]["width"], layer["files"]["colorbar"]["height"]) == legend.size
        poster = np.asarray(Image.open(out / layer["files"]["poster"]["path"]).convert("RGB")).astype(int)
        labels = []
        for c in range(channels):  # each row's left column holds ink (its channel's number), a different one per row
            y, x = layout.cell_origin(c + 1, 0)
            column = poster[y:y + 56, 2:x - 2]
            assert column.min() < 120, (layer["name"], c)
            labels.append(column.tobytes())
        assert len(set(labels)) == channels
        for n in range(probes):
            y, x = layout.cell_origin(0, n)
            probe = poster[y:y + 56, x:x + 56]
            assert (probe.max(axis=-1) == probe.min(axis=-1)).all()  # grey probes stay grey
            for c in range(channels):
                y, x = layout.cell_origin(c + 1, n)
                index = np.rint((np.clip(values[-1, n, ..., c].astype(np.float64), -1, 1) + 1) * 95).astype(int)
                assert np.array_equal(poster[y:y + 56:block, x:x + 56:block], table[index]), (layer["name"], n, c)
