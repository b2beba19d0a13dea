"""Hostile input to the public API: masked arrays, foreign byte orders, and the
agreement of the Python checks with the C core's own."""

import math

import numpy as np
import pytest

from pafdecode import Decoder, DecoderConfig, Skeleton, synth
from pafdecode._params import PARAMS, RECORD_DTYPE, to_record
from pafdecode.backends import load_backend

COCO = Skeleton.openpose_coco18()


@pytest.fixture(scope="module")
def scene():
    return synth.crowd_scene(4, 3, image_size=(160, 240), noise=0.02)


def same_people(a, b):
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.stats == b.stats


# -- masked arrays -----------------------------------------------------------------

def _masks(heat, rng):
    mask = rng.random(heat.shape) < 0.3
    # Hide every trace of the strongest peak of channel 0, so the mask changes people.
    y, x = np.unravel_index(np.argmax(heat[0]), heat.shape[1:])
    mask[:, max(y - 3, 0):y + 4, max(x - 3, 0):x + 4] = True
    return mask


def test_masked_cells_read_as_zero(make_decoder, scene, rng):
    decoder = make_decoder(COCO)
    heat_mask, paf_mask = _masks(scene.heatmaps, rng), _masks(scene.pafs, rng)
    # NaN under the mask must not leak through either.
    heat_data = np.where(heat_mask, np.float32(np.nan), scene.heatmaps)
    heat = np.ma.masked_array(heat_data, mask=heat_mask)
    paf = np.ma.masked_array(scene.pafs, mask=paf_mask)
    got = decoder(heat, paf)
    expected = decoder(np.where(heat_mask, 0, scene.heatmaps).astype(np.float32),
                       np.where(paf_mask, 0, scene.pafs).astype(np.float32))
    same_people(got, expected)
    # The mask matters: the unmasked data decode differently.
    assert not np.array_equal(decoder(scene.heatmaps, scene.pafs).keypoints, got.keypoints)


def test_a_mask_of_nothing_changes_nothing(make_decoder, scene):
    decoder = make_decoder(COCO)
    heat = np.ma.masked_array(scene.heatmaps)        # mask = nomask
    paf = np.ma.masked_array(scene.pafs, mask=np.zeros(scene.pafs.shape, bool))
    same_people(decoder(heat, paf), decoder(scene.heatmaps, scene.pafs))


def test_masked_batches_and_hwc(make_decoder, scene, rng):
    mask = _masks(scene.heatmaps, rng)
    zeroed = np.where(mask, 0, scene.heatmaps).astype(np.float32)
    masked = np.ma.masked_array(scene.heatmaps, mask=mask)
    chw = make_decoder(COCO)
    batch = chw.decode_batch(np.ma.stack([masked, masked]), np.stack([scene.pafs] * 2))
    for poses in batch:
        same_people(poses, chw(zeroed, scene.pafs))
    hwc = make_decoder(COCO, layout="HWC")
    same_people(hwc(np.ma.masked_array(masked.data.transpose(1, 2, 0),
                                       mask=mask.transpose(1, 2, 0)),
                    scene.pafs.transpose(1, 2, 0)),
                chw(zeroed, scene.pafs))


def test_masked_integer_arrays_are_still_refused(make_decoder):
    heat = np.ma.masked_array(np.zeros((18, 4, 4), np.int32), mask=True)
    with pytest.raises(ValueError, match="heatmaps must be float16, float32 or float64"):
        make_decoder(COCO)(heat, np.zeros((38, 4, 4), np.float32))


# -- byte orders --------------------------------------------------------------------

@pytest.mark.parametrize("native", ["f2", "f4", "f8"])
def test_every_byte_order_decodes_as_native(make_decoder, scene, native):
    decoder = make_decoder(COCO)
    heat, paf = scene.heatmaps.astype(native), scene.pafs.astype(native)
    expected = decoder(heat, paf)
    for order in "<>":
        foreign = (heat.astype(order + native), paf.astype(order + native))
        assert foreign[0].dtype.str[1:] == native
        same_people(decoder(*foreign), expected)


def test_big_endian_float32_converts_losslessly(make_decoder, scene):
    big = scene.heatmaps.astype(">f4")
    assert not big.dtype.isnative or big.dtype.byteorder == ">"
    np.testing.assert_array_equal(big.astype(np.float32), scene.heatmaps)
    same_people(make_decoder(COCO)(big, scene.pafs.astype(">f4")),
                make_decoder(COCO)(scene.heatmaps, scene.pafs))


@pytest.mark.parametrize("dtype", [">i4", "<u2", ">c8", "S4", np.longdouble])
def test_other_dtypes_are_refused_in_any_byte_order(make_decoder, dtype):
    if np.dtype(dtype).itemsize == 8 and np.dtype(dtype).kind == "f":
        pytest.skip("longdouble is float64 on this platform")
    heat = np.zeros((18, 4, 4), dtype)
    with pytest.raises(ValueError, match="heatmaps must be float16, float32 or float64"):
        make_decoder(COCO)(heat, np.zeros((38, 4, 4), np.float32))


# -- one validation: the Python table and the C core agree --------------------------

def _edge_values(p):
    """Values at and past each limit of option `p`, as a hostile caller would pass."""
    f32 = np.float32
    values = [p.minimum, p.maximum, -1, 0, 1, 2**31 - 1, 2**31, -2**31, 2**63, 1e-300,
              1e-40, 1e38, 1e39, float(np.finfo(f32).max), math.inf, math.nan]
    for bound in (p.minimum, p.maximum):
        if math.isfinite(bound):
            values += [bound + 1, bound - 1, math.nextafter(bound, math.inf),
                       math.nextafter(bound, -math.inf),
                       float(np.nextafter(f32(bound), f32(math.inf))),
                       float(np.nextafter(f32(bound), f32(-math.inf)))]
    return values


def _raw_record(p, value):
    """The default record with `value` stored in `p`'s field as C would hold it, or None
    if the field cannot hold it at all (so no C caller could pass it)."""
    record = to_record(DecoderConfig())
    kind = RECORD_DTYPE.fields[p.name][0]
    if kind.kind == "i":
        if not (isinstance(value, int) or float(value).is_integer()) or \
                not -2**31 <= value < 2**31:
            return None
        record[p.name] = int(value)
    else:
        with np.errstate(over="ignore"):
            stored = kind.type(value)
        if float(stored) != value:
            return None       # rounding would change it: C sees another number
        record[p.name] = stored
    return record


@pytest.mark.parametrize("p", [p for p in PARAMS if p.type != "enum"], ids=lambda p: p.name)
def test_python_rejects_everything_the_core_rejects_with_the_tables_message(backend, p):
    core = load_backend(backend).CoreDecoder
    sk = COCO
    args = (sk.limbs, sk.paf_channels, sk.redundant, sk.num_keypoints)
    checked = 0
    for value in _edge_values(p):
        try:
            DecoderConfig(**{p.name: value})
            python_ok = True
        except ValueError as exc:
            python_ok = False
            message = str(exc)
            assert message.startswith(f"{p.name} must be {p.range_text()}"), message
            assert f"got {value!r}" in message, message
        record = _raw_record(p, value)
        if record is None:
            assert not python_ok or p.type != "int", value
            continue
        checked += 1
        try:
            core(*args, record)
            core_ok = True
        except ValueError as exc:
            core_ok = False
            assert p.name in str(exc)
        # The core never rejects what Python let through, so its own message is
        # unreachable from the public API; on values both can hold they agree.
        assert core_ok or not python_ok, value
        if p.off_zero and value == 0:
            continue          # 0 is C's spelling of None (off), which Python spells None
        assert core_ok == python_ok, value
    assert checked >= 8


@pytest.mark.parametrize("p", [p for p in PARAMS if p.type != "enum"], ids=lambda p: p.name)
def test_the_decoder_names_the_option_before_the_core_sees_it(backend, p):
    for value in _edge_values(p):
        try:
            DecoderConfig(**{p.name: value})
        except ValueError as exc:
            with pytest.raises(ValueError) as info:
                Decoder(COCO, backend=backend, **{p.name: value})
            assert str(info.value) == str(exc)
            assert "C core" not in str(info.value) and "code -1" not in str(info.value)
        else:
            Decoder(COCO, backend=backend, **{p.name: value})
