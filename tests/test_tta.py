"""Test-time augmentation (flip and scales) of OnnxPoseModel.

Two small networks are built here with onnx.helper, each a known function of its input:

* the *ramp* network average-pools the image into its map cells, so a linear ramp in
  the image comes out as the same linear function of image pixels at every scale and
  mirrored or not; the passes' fields, resampled to the scale-1 grid and averaged, must
  equal the plain run's (bilinear resampling of a linear function is exact);
* the *person* network renders the fields of a drawn person (nose, left and right hand,
  two arms) from the image, and is exactly mirror-symmetric as a real network is meant
  to be: on the mirrored image it finds the mirrored person, with left and right
  exchanged (a hand is "left" where the image's red channel rises to the right). Flip
  testing must then give back the plain run's people to rounding, and scales the
  drawn person's pixels.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnx", reason="building test graphs needs onnx (test extra)")
pytest.importorskip("onnxruntime", reason="OnnxPoseModel needs onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

from pafdecode import Skeleton, synth  # noqa: E402
from pafdecode.model import AugmentedOutputs, OnnxPoseModel, _flip_channels  # noqa: E402

STRIDE = 8
SKELETON = Skeleton(["nose", "left_hand", "right_hand"], [(0, 1), (0, 2)],
                    flip_pairs=[(1, 2)], name="three")
# The red channel's slope, per pixel of the full-size input, times this saturates the
# sigmoid that tells left from right.
SIDE_GAIN = 4000.0


def quiet():
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return options


# -- the test networks ---------------------------------------------------------------

def _const(name, values, dims=None):
    values = np.asarray(values, dtype=np.float32)
    return helper.make_tensor(name, TensorProto.FLOAT, dims or values.shape,
                              values.ravel().tolist())


def _graph(nodes, inits, out_layout, fixed_size=None, name="net"):
    """Wraps nodes that turn "x" (1, 3, H, W) into "fields" (1, C, H, W) as a model
    with an NHWC image input and fields pooled to stride 8 in `out_layout`."""
    h, w = fixed_size or ("H", "W")
    nodes = ([helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2]),
              helper.make_node("Mul", ["nchw", "inv255"], ["x"])] + nodes
             + [helper.make_node("AveragePool", ["fields"], ["pooled"],
                                 kernel_shape=[STRIDE, STRIDE], strides=[STRIDE, STRIDE])])
    if out_layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["pooled"], ["out"], perm=[0, 2, 3, 1]))
    else:
        nodes.append(helper.make_node("Identity", ["pooled"], ["out"]))
    inits = inits + [_const("inv255", [1 / 255.0], [1])]
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                    [1, h, w, 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    return model.SerializeToString()


def _split_rgb(nodes, inits):
    inits.append(helper.make_tensor("ones3", TensorProto.INT64, [3], [1, 1, 1]))
    nodes.append(helper.make_node("Split", ["x", "ones3"], ["r", "g", "b"], axis=1))


def ramp_net(out_layout="NHWC", fixed_size=None):
    """Fields = the pooled image: nose = red, both hands = green, PAFs 0."""
    nodes, inits = [], []
    _split_rgb(nodes, inits)
    nodes += [helper.make_node("Sub", ["r", "r"], ["zero"]),
              helper.make_node("Concat", ["r", "g", "g", "zero", "zero", "zero", "zero"],
                               ["fields"], axis=1)]
    return _graph(nodes, inits, out_layout, fixed_size, "ramp")


def person_net(out_layout="NHWC"):
    """The fields of the person `draw_person` draws, mirror-symmetric by construction:
    the red channel's horizontal central difference (antisymmetric, zero-padded
    symmetrically) says which side a hand or an arm is on."""
    nodes, inits = [], []
    _split_rgb(nodes, inits)
    inits += [_const("diff", [-1.0, 0.0, 1.0], [1, 1, 1, 3]),
              _const("gain", [SIDE_GAIN], [1]), _const("half", [0.5], [1]),
              _const("two", [2.0], [1]), _const("minus", [-1.0], [1])]
    nodes += [
        helper.make_node("Conv", ["r", "diff"], ["gx"], pads=[0, 1, 0, 1]),
        helper.make_node("Mul", ["gx", "gain"], ["kgx"]),
        helper.make_node("Sigmoid", ["kgx"], ["right_side"]),     # of the image: left hand
        helper.make_node("Neg", ["kgx"], ["nkgx"]),
        helper.make_node("Sigmoid", ["nkgx"], ["left_side"]),     # right hand
        # green: the nose at 1, the arms at 0.5; blue: the hands.
        helper.make_node("Sub", ["g", "half"], ["g_top"]),
        helper.make_node("Relu", ["g_top"], ["g_top_pos"]),
        helper.make_node("Mul", ["g_top_pos", "two"], ["nose"]),
        helper.make_node("Min", ["g", "half"], ["g_low"]),
        helper.make_node("Mul", ["g_low", "two"], ["arms"]),
        helper.make_node("Mul", ["b", "right_side"], ["left_hand"]),
        helper.make_node("Mul", ["b", "left_side"], ["right_hand"]),
        helper.make_node("Mul", ["arms", "right_side"], ["paf0x"]),   # nose -> left hand: +x
        helper.make_node("Mul", ["arms", "left_side"], ["arms_left"]),
        helper.make_node("Mul", ["arms_left", "minus"], ["paf1x"]),   # nose -> right hand: -x
        helper.make_node("Sub", ["r", "r"], ["zero"]),
        helper.make_node("Concat", ["nose", "left_hand", "right_hand", "paf0x", "zero",
                                    "paf1x", "zero"], ["fields"], axis=1),
    ]
    return _graph(nodes, inits, out_layout, None, "person")


def _blob(image, channel, x, y, sigma):
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    value = 255.0 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma ** 2))
    image[:, :, channel] = np.maximum(image[:, :, channel], value)


def draw_person(image_size, nose, arm):
    """A float RGB image of one person facing the camera, arms out level: red rises
    away from the nose on both sides, green holds the nose (1) and arms (0.5), blue the
    hands. Sizes are in pixels of the 368x432 input. Returns the image and the (3, 2)
    keypoints: nose, left hand (image right), right hand."""
    h, w = image_size
    to_image = 1 / min(368 / h, 432 / w)
    arm, sigma, thickness = arm * to_image, 8 * to_image, 6 * to_image
    x0, y0 = nose
    image = np.zeros((h, w, 3), np.float32)
    image[:, :, 0] = 255.0 * np.abs(np.arange(w) - x0)[None, :] / w
    rows = slice(int(round(y0 - thickness)), int(round(y0 + thickness)) + 1)
    image[rows, int(round(x0 - arm)):int(round(x0 + arm)) + 1, 1] = 127.5
    _blob(image, 1, x0, y0, sigma)
    for x in (x0 + arm, x0 - arm):
        _blob(image, 2, x, y0, sigma)
    return image, np.array([[x0, y0], [x0 + arm, y0], [x0 - arm, y0]])


def model_of(net, skeleton=SKELETON, **kwargs):
    kwargs.setdefault("input_size", (368, 432))
    return OnnxPoseModel(net, skeleton, color="RGB", session_options=quiet(), **kwargs)


def one_person(poses):
    assert len(poses) == 1, f"expected one person, found {len(poses)}"
    kp = np.asarray(poses.keypoints[0])
    assert (kp[:, 2] > 0).all(), kp
    return kp[:, :2]


def merged(model, image, **augment):
    """The averaged fields of every pass (H, W, C) and the plain run's, on one grid."""
    model(image)  # resolves the stride
    (outputs, transforms, _), = model.run_batch([image], **augment)[0]
    assert isinstance(outputs, AugmentedOutputs)
    heat, paf = model._merged_fields(outputs.passes, 0, transforms[0])
    (plain, plain_t, _), = model.run_batch([image], flip=False, scales=(1.0,))[0]
    h, p = model._fields(plain, 0)
    if model.output_layout == "NCHW":
        h, p = h.transpose(1, 2, 0), p.transpose(1, 2, 0)
    assert plain_t[0].input_size == transforms[0].input_size
    return np.concatenate([heat, paf], 2), np.concatenate([h, p], 2), transforms[0]


AUGMENTS = [dict(flip=True), dict(scales=(1.0, 1.5, 2.0)),
            dict(flip=True, scales=(1.0, 1.5, 2.0)), dict(scales=(1.5, 2.0)),
            dict(flip=True, scales=(0.75, 1.25))]


# -- the bookkeeping is exact ----------------------------------------------------------

@pytest.mark.parametrize("augment", AUGMENTS, ids=str)
@pytest.mark.parametrize("out_layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("image_size,resize", [((301, 397), "pad"), ((240, 500), "pad"),
                                               ((301, 397), "fixed")])
def test_ramp_fields_come_back_on_the_scale_1_grid_exactly(augment, out_layout,
                                                           image_size, resize):
    h, w = image_size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    image = np.zeros((h, w, 3), np.float32)
    image[:, :, 0] = 40 + 200 * xx / w
    image[:, :, 1] = 30 + 180 * yy / h
    model = model_of(ramp_net(out_layout), resize=resize)
    fields, plain, base = merged(model, image, **augment)
    assert fields.shape == plain.shape
    # Cells two cells clear of the content's edges: no pass reads padding there.
    ch, cw = base.content_size
    rows, cols = slice(2, ch // STRIDE - 2), slice(2, cw // STRIDE - 2)
    np.testing.assert_allclose(fields[rows, cols], plain[rows, cols], atol=2e-5)
    # The ramp is the image's own coordinates: check the grid itself against them.
    gy, gx = np.mgrid[rows, cols]
    xy = base.to_image(np.stack([(gx + 0.5) * STRIDE - 0.5, (gy + 0.5) * STRIDE - 0.5], -1))
    np.testing.assert_allclose(fields[rows, cols, 0] * 255, 40 + 200 * xy[..., 0] / w,
                               atol=5e-3)
    np.testing.assert_allclose(fields[rows, cols, 1] * 255, 30 + 180 * xy[..., 1] / h,
                               atol=5e-3)


@pytest.mark.parametrize("out_layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("image_size,nose", [((301, 397), (190.3, 150.6)),
                                             ((420, 760), (300.0, 260.2)),
                                             ((368, 432), (120.5, 80.0))])
def test_flip_gives_back_the_plain_runs_person(out_layout, image_size, nose):
    image, truth = draw_person(image_size, nose, arm=70)
    model = model_of(person_net(out_layout))
    plain = one_person(model(image))
    assert np.abs(plain - truth).max() < 0.5
    flipped = model_of(person_net(out_layout), flip=True)
    np.testing.assert_allclose(one_person(flipped(image)), plain, atol=1e-3)


def test_the_mirrored_pass_alone_has_left_and_right_exchanged():
    """The swap is not a no-op: mirrored back without it, the mirrored pass puts the
    left hand's heatmap where the right hand is."""
    image, truth = draw_person((301, 397), (190.3, 150.6), arm=70)
    model = model_of(person_net(), flip=True)
    (outputs, transforms, _), = model.run_batch([image])[0]
    mirrored = outputs.passes[1]
    assert mirrored.flip and not outputs.passes[0].flip
    heat = mirrored.outputs["out"][0]                      # (H, W, C), mirrored image
    cell = transforms[0].to_input(truth[2]) / STRIDE        # the right hand, unmirrored
    wm = heat.shape[1]
    col, row = int(wm - 1 - np.floor(cell[0])), int(np.floor(cell[1]))
    assert heat[row, col, 1] > 0.3 > heat[row, col, 2]      # "left hand" there


@pytest.mark.parametrize("augment", AUGMENTS, ids=str)
@pytest.mark.parametrize("image_size,nose", [((301, 397), (190.3, 150.6)),
                                             ((420, 760), (300.0, 260.2))])
def test_scales_give_back_the_drawn_persons_pixels(augment, image_size, nose):
    image, truth = draw_person(image_size, nose, arm=70)
    plain = one_person(model_of(person_net())(image))
    got = one_person(model_of(person_net(), **augment)(image))
    # Pixels of the image; the networks's fields differ a little from scale to scale.
    assert np.abs(got - truth).max() < 1.0, got - truth
    assert np.abs(got - plain).max() < 1.0, got - plain


def test_skeleton_flip_channels_against_rendered_mirror_images():
    """For every built-in skeleton: the fields rendered for the mirrored person, mirrored
    back and passed through the flip channel maps, are the person's own fields."""
    rng = np.random.default_rng(3)
    for skeleton in (Skeleton.openpose_coco18(), Skeleton.body25()):
        perm, sources, signs = _flip_channels(skeleton)
        k = skeleton.num_keypoints
        size = (160, 200)
        people = np.zeros((2, k, 3))
        people[:, :, 0] = rng.uniform(20, 180, (2, k))
        people[:, :, 1] = rng.uniform(20, 140, (2, k))
        people[:, :, 2] = rng.random((2, k)) > 0.1
        mirror = people.copy()
        mirror[:, perm, 0] = size[1] - 1 - people[:, :, 0]
        mirror[:, perm, 1] = people[:, :, 1]
        mirror[:, perm, 2] = people[:, :, 2]
        heat, paf = synth.render_fields(people, skeleton, size, sigma=1.5, paf_width=1.2)
        mheat, mpaf = synth.render_fields(mirror, skeleton, size, sigma=1.5, paf_width=1.2)
        np.testing.assert_allclose(mheat[:, :, ::-1][perm], heat, atol=1e-5)
        np.testing.assert_allclose(mpaf[:, :, ::-1][sources] * signs[:, None, None], paf,
                                   atol=1e-5)


# -- the API ---------------------------------------------------------------------------

def test_last_timing_has_each_pass():
    image, _ = draw_person((301, 397), (190.3, 150.6), arm=70)
    model = model_of(person_net(), flip=True, scales=(1.0, 2.0))
    poses = model(image)
    t = model.last_timing
    assert [(p["scale"], p["flip"]) for p in t["passes"]] == [
        (1.0, False), (1.0, True), (2.0, False), (2.0, True)]
    assert all(p["inference_ms"] > 0 and p["preprocess_ms"] >= 0 for p in t["passes"])
    assert t["inference_ms"] == pytest.approx(sum(p["inference_ms"] for p in t["passes"]))
    assert 0 < t["merge_ms"] <= t["decode_ms"]
    assert poses.stats["merge_ms"] == pytest.approx(t["merge_ms"])
    plain = model_of(person_net())
    plain(image)
    assert [(p["scale"], p["flip"]) for p in plain.last_timing["passes"]] == [(1.0, False)]
    assert plain.last_timing["merge_ms"] == 0.0


def test_batches_track_and_per_call_options_agree():
    images = [draw_person(size, nose, arm=60)[0] for size, nose in
              (((301, 397), (190.3, 150.6)), ((250, 330), (160.0, 120.0)),
               ((368, 432), (210.0, 190.5)))]
    model = model_of(person_net(), flip=True, scales=(1.0, 1.5))
    singles = [one_person(model(im)) for im in images]
    batch = [one_person(p) for p in model.predict_batch(images)]
    np.testing.assert_allclose(batch, singles, atol=1e-3)
    tracked = [one_person(p) for _, p in model.track(images)]
    np.testing.assert_allclose(tracked, singles, atol=1e-3)
    assert [(p["scale"], p["flip"]) for p in model.last_timing["passes"]] == [
        (1.0, False), (1.0, True), (1.5, False), (1.5, True)]
    plain = model_of(person_net())
    per_call = [one_person(plain(im, flip=True, scales=(1.0, 1.5))) for im in images]
    np.testing.assert_allclose(per_call, singles, atol=1e-3)
    assert plain.flip is False and plain.scales == (1.0,)


def test_fixed_size_networks_flip_but_refuse_scales():
    net = ramp_net(fixed_size=(256, 320))
    with pytest.raises(ValueError, match=r"scales=\(1\.0, 1\.5\) needs a network with a "
                                         r"dynamic input size.*256x320"):
        OnnxPoseModel(net, SKELETON, color="RGB", scales=(1.0, 1.5), input_size=None)
    model = OnnxPoseModel(net, SKELETON, color="RGB", flip=True, input_size=None)
    with pytest.raises(ValueError, match="dynamic input size"):
        model(np.zeros((100, 100, 3), np.uint8), scales=(2.0,))
    h, w = 200, 300
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    image = np.stack([40 + 200 * xx / w, 30 + 180 * yy / h, 0 * xx], -1)
    fields, plain, base = merged(model, image)
    ch, cw = base.content_size
    np.testing.assert_allclose(fields[2:ch // 8 - 2, 2:cw // 8 - 2],
                               plain[2:ch // 8 - 2, 2:cw // 8 - 2], atol=2e-5)


def test_flip_needs_flip_pairs():
    bare = Skeleton(["nose", "left_hand", "right_hand"], [(0, 1), (0, 2)])
    with pytest.raises(ValueError, match="flip=True needs the skeleton's left/right "
                                         "keypoint pairs.*no flip pairs"):
        model_of(ramp_net(), skeleton=bare, flip=True)
    model = model_of(ramp_net(), skeleton=bare)
    with pytest.raises(ValueError, match="flip_pairs"):
        model(np.zeros((50, 50, 3), np.uint8), flip=True)
    lopsided = Skeleton(["nose", "left_hand", "right_hand"], [(0, 1), (1, 2)],
                        flip_pairs=[(1, 2)])
    with pytest.raises(ValueError, match=r"flip=True.*mirrors to \(0, 2\)"):
        model_of(ramp_net(), skeleton=lopsided, flip=True)


@pytest.mark.parametrize("scales", [(), (0.0,), (1.0, -2.0), (1.0, float("nan")),
                                    (True,), "1.5", 1.5, (1.0, 1.0), ("a",)])
def test_bad_scales_are_refused(scales):
    with pytest.raises(ValueError, match="scales"):
        model_of(ramp_net(), scales=scales)


def test_bad_flip_is_refused():
    with pytest.raises(ValueError, match="flip must be True or False, got 'yes'"):
        model_of(ramp_net(), flip="yes")
    with pytest.raises(ValueError, match="flip must be True or False"):
        model_of(ramp_net()).track([], flip=1)


def test_presets_take_the_keywords():
    model = OnnxPoseModel.two_outputs(_two_output_net(), flip=True, scales=[1, 2],
                                      session_options=quiet())
    assert model.flip is True and model.scales == (1.0, 2.0)


def _two_output_net():
    """19 + 38 channels of zeros, NCHW, for the COCO-18 presets."""
    nodes, inits = [], []
    inits.append(_const("w", np.zeros((57, 3, 1, 1))))
    nodes.append(helper.make_node("Conv", ["x", "w"], ["fields"]))
    inits.append(helper.make_tensor("split", TensorProto.INT64, [2], [19, 38]))
    graph_nodes = ([helper.make_node("Transpose", ["image"], ["x"], perm=[0, 3, 1, 2])]
                   + nodes
                   + [helper.make_node("AveragePool", ["fields"], ["pooled"],
                                       kernel_shape=[8, 8], strides=[8, 8]),
                      helper.make_node("Split", ["pooled", "split"], ["heat", "paf"],
                                       axis=1)])
    graph = helper.make_graph(
        graph_nodes, "zeros",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, "H", "W", 3])],
        [helper.make_tensor_value_info("heat", TensorProto.FLOAT, [1, 19, "h", "w"]),
         helper.make_tensor_value_info("paf", TensorProto.FLOAT, [1, 38, "h", "w"])],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]) \
        .SerializeToString()


# -- the command line ------------------------------------------------------------------

def test_cli_flags_reach_the_model(tmp_path):
    from pafdecode.cli import build_parser
    from pafdecode.predict import load_model
    from pafdecode.video import _load_model

    net = tmp_path / "zeros.onnx"
    net.write_bytes(_two_output_net())
    parser = build_parser()
    for argv in (["predict", "x.jpg"], ["eval", "--annotations", "a.json", "--images", "d"],
                 ["video", "in.mp4"]):
        args = parser.parse_args(argv + ["--model", str(net), "--preset", "two-outputs",
                                         "--flip", "--scales", "1", "1.5", "2"])
        model = (_load_model if argv[0] == "video" else load_model)(args)
        assert model.flip is True and model.scales == (1.0, 1.5, 2.0)
        plain = parser.parse_args(argv + ["--model", str(net), "--preset", "two-outputs"])
        model = (_load_model if argv[0] == "video" else load_model)(plain)
        assert model.flip is False and model.scales == (1.0,)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "big"])
def test_cli_refuses_bad_scales_in_one_line(tmp_path, value):
    result = subprocess.run([sys.executable, "-m", "pafdecode.cli", "predict", "x.jpg",
                             "--scales", "1", value], capture_output=True, text=True)
    assert result.returncode == 2
    assert f"--scales: expected a number > 0, got '{value}'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.shared
def test_cli_predict_with_augmentation_matches_the_api(shared, tmp_path):
    pytest.importorskip("PIL", reason="reading the photos needs Pillow (image extra)")
    from pafdecode.io import load_image

    net = shared / "models" / "tfpose-mobilenet-v2-small.onnx"
    photo = shared / "data" / "images" / "p3_dance.png"
    out = tmp_path / "r.json"
    result = subprocess.run([sys.executable, "-m", "pafdecode.cli", "predict", str(photo),
                             "--model", str(net), "--flip", "--scales", "1", "1.5",
                             "--keypoints", "native", "--json", str(out), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())
    model = OnnxPoseModel.tfpose(net, flip=True, scales=(1.0, 1.5))
    poses = model(load_image(photo, "BGR"))
    assert len(rows) == len(poses) > 0
    got = sorted(r["score"] for r in rows)
    np.testing.assert_allclose(got, sorted(np.asarray(poses.scores).tolist()), rtol=1e-4)
    plain = OnnxPoseModel.tfpose(net)(load_image(photo, "BGR"))
    assert sorted(np.asarray(plain.scores).tolist()) != pytest.approx(got)
