"""The explorer's levels, exponents, chunk coding and 7-bit text (render/page_levels.py, pipeline/seven_bit.py)
against the documented rules, recomputed independently in tests/explorer_truth.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline import seven_bit
from render import page_levels
from tests import explorer_truth as truth


def faint_run(seed: int, steps: int = 9, shape=(3, 6, 5, 4)) -> np.ndarray:
    """Return float16 (T, N, H, W, C) activations that grow from a few thousandths to most of tanh's range."""
    rng = np.random.default_rng(seed)
    pattern = rng.normal(size=shape)
    growth = np.geomspace(0.002, 1.5, steps)[:, None, None, None, None]
    return (np.tanh(growth * pattern) + rng.normal(scale=0.0005, size=(steps, *shape))).astype(np.float16)


@pytest.mark.parametrize("seed", range(4))
def test_each_step_gets_the_documented_exponent_and_levels(seed):
    values = faint_run(seed)
    values[2, 0, 0, 0, 0] = np.nan  # NaN and inf are level 0 and no value
    values[3, 1, 1, 1, 1] = np.inf
    values[4] = 0  # nothing to boost
    values[5, 0, 0, 0, 0] = 2.0  # past the scale: clipped at k = 0, so never boosted
    levels, exponents = page_levels.quantise_steps(values, 1.0)
    want, want_exponents = truth.run_levels(values, 1.0)
    assert exponents.tolist() == want_exponents and (levels == want).all()
    assert want_exponents[0] > 0 and want_exponents[4] == want_exponents[5] == want_exponents[-1] == 0
    boosted = [t for t, k in enumerate(want_exponents) if k]
    # A boosted step holds at least 16 distinct levels unless one more halving would clip its largest value.
    for t in boosted:
        distinct = len(np.unique(levels[t][levels[t] > 0]))
        top = np.abs(values[t][np.isfinite(values[t])].astype(np.float64)).max()
        assert distinct >= truth.FINE_LEVELS or want_exponents[t] == truth.MAX_EXPONENT or top > 2.0 ** -(
            want_exponents[t] + 1)
    assert (page_levels.quantise_steps(values.astype(np.float32), 1.0)[0] == levels).all()  # same without the table


def test_a_sequential_scale_and_a_scale_that_is_not_a_power_of_two():
    values = np.abs(faint_run(7)) * np.float16(3.0)
    levels, exponents = page_levels.quantise_steps(values, 2.75)
    want, want_exponents = truth.run_levels(values, 2.75)
    assert exponents.tolist() == want_exponents and (levels == want).all()


@pytest.mark.parametrize("seed", range(3))
def test_chunks_decode_to_their_levels_by_the_documented_format(seed, tmp_path):
    values = faint_run(seed, steps=11)
    values[6, 2, 3, 2, 1] = np.nan
    levels, exponents = page_levels.quantise_steps(values, 1.0)
    meta = {"layers": [{"name": "block/conv", "exponents": exponents.tolist(), "map_size": [6, 5]}]}
    for probe in range(values.shape[1]):
        chunk = levels[:, probe]  # (T, H, W, C)
        data = page_levels.encode_chunk(chunk, exponents)
        ordered = chunk.transpose(0, 3, 1, 2)
        assert (page_levels.decode_chunk(data, ordered.shape, exponents) == ordered).all()  # the numpy twin
        for inline in (False, True):
            script = page_levels.chunk_script("block/conv", probe, 0, data, inline)
            assert page_levels.read_chunk_script(script) == ("block/conv", probe, 0, data)
            path = tmp_path / f"{probe}-{inline}.js"
            path.write_bytes(script)
            name, chunk_probe, group, decoded = truth.read_chunk(path, meta)
            assert (name, chunk_probe, group) == ("block/conv", probe, 0)
            assert (decoded == ordered.reshape(len(ordered), -1)).all()
        assert truth.chunk_script_size("block/conv", probe, 0, chunk, exponents) == len(
            page_levels.chunk_script("block/conv", probe, 0, data))
        assert page_levels.inline_script(page_levels.chunk_script("block/conv", probe, 0, data)) == \
            page_levels.chunk_script("block/conv", probe, 0, data, inline=True)


def test_the_fixed_tables_per_exponent_are_the_renderers_colours():
    import base64

    scale = {"kind": "fixed", "domain": [-1.0, 1.0]}
    tables = page_levels.scale_tables(scale, 7)
    assert [list(base64.b64decode(table)) for table in tables] == \
        [truth.fixed_indices(np.arange(256), k).tolist() for k in range(1, 8)]
    sequential = {"kind": "sequential", "domain": [0.0, 2.5]}
    assert [list(base64.b64decode(table)) for table in page_levels.scale_tables(sequential, 3)] == \
        [truth.scale_table(sequential, k).tolist() for k in range(1, 4)]


UNSAFE_TEXT = {chr(code) for code in seven_bit.UNSAFE}


@pytest.mark.parametrize("size", [0, 1, 6, 7, 8, 13, 14, 15, 100, 4099])
def test_seven_bit_text_round_trips_and_holds_no_unsafe_character(size):
    rng = np.random.default_rng(size)
    for data in (rng.integers(0, 256, size, dtype=np.uint8).tobytes(),  # zlib output looks like this
                 bytes(rng.choice([0, 10, 13, 34, 60, 92, 0x7F, 0xFF], size).astype(np.uint8)),
                 bytes(size)):  # zero bytes: nothing but unsafe groups (NUL), pair after pair
        text = seven_bit.encode(data)
        assert not UNSAFE_TEXT & set(text.decode("utf-8"))
        assert seven_bit.decode(text) == data and truth.from_text(text.decode("utf-8")) == data
        assert text.decode("utf-8") == truth.to_text(data)
        assert len(text) <= -(-size * 8 // 7) + 1  # 8/7 of the bytes, one more for a lone last pair
        json.loads(f'["{text.decode("utf-8")}"]', strict=False)  # a string literal as it stands


def test_seven_bit_text_refuses_what_it_did_not_write():
    for text in (b"\x00", b'a"b', b"\xc3\xa9", b"\xc4", b"\xe2\x82\xac", "\u0700x".encode()):
        with pytest.raises(ValueError):
            seven_bit.decode(text)
