import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import pafdecode
from pafdecode import Tracker, cli
from pafdecode.draw import draw_text

pytestmark = pytest.mark.video


def _pan_and_zoom(photo, path, frames=10, size=(240, 320), fps=10):
    """A short video from a photo: a slow pan left to right while zooming in."""
    av = pytest.importorskip("av", reason="video needs PyAV (pafdecode[video])")
    image = pafdecode.load_image(photo, "RGB")
    big_h, big_w = image.shape[:2]
    h, w = size
    container = av.open(str(path), "w")
    stream = container.add_stream("mpeg4", rate=fps)
    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
    for i in range(frames):
        zoom = 1.0 + 0.03 * i
        crop_w, crop_h = big_w / zoom, big_h / zoom
        x0 = (big_w - crop_w) * i / max(frames - 1, 1)
        y0 = (big_h - crop_h) / 2
        ys = np.clip(np.rint(y0 + (np.arange(h) + 0.5) * crop_h / h - 0.5), 0, big_h - 1)
        xs = np.clip(np.rint(x0 + (np.arange(w) + 0.5) * crop_w / w - 0.5), 0, big_w - 1)
        frame = np.ascontiguousarray(image[ys.astype(int)][:, xs.astype(int)])
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    return path


@pytest.fixture
def tfpose(shared):
    return shared / "models" / "tfpose-mobilenet-v2-small.onnx"


@pytest.mark.shared
def test_video_command_round_trip(tmp_path, shared, tfpose, pafdecode_command):
    av = pytest.importorskip("av", reason="video needs PyAV (pafdecode[video])")
    video = _pan_and_zoom(shared / "data" / "images" / "p3_dance.png", tmp_path / "pan.mp4")
    jsonl, drawn = tmp_path / "tracks.jsonl", tmp_path / "drawn.mp4"
    done = subprocess.run([pafdecode_command, "video", str(video), "--model", str(tfpose),
                           "--json", str(jsonl), "--out", str(drawn), "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("pafdecode video: 10 frames")
    for part in ("read", "network", "decode", "track", "write"):
        assert part in summary
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["frame"] for r in lines] == list(range(10))
    assert lines[1]["time"] == pytest.approx(0.1, abs=1e-3)
    people = [p for r in lines for p in r["people"]]
    assert people, "the dancers must be found"
    assert all(len(p["keypoints"]) == 18 * 3 and isinstance(p["track_id"], int)
               for p in people)
    # The same dancers through a slow pan: few identities for many detections.
    ids = {p["track_id"] for p in people if p["track_id"] >= 0}
    assert ids and len(ids) <= len(people) // 3
    with av.open(str(drawn)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 10 and frames[0].shape == (240, 320, 3)


@pytest.mark.shared
def test_video_command_every_max_frames_and_image_folder(tmp_path, shared, tfpose, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    photo = pafdecode.load_image(shared / "data" / "images" / "p3_dance.png", "RGB")
    small = photo[::4, ::4]
    for i in range(6):
        pafdecode.save_image(folder / f"{i:03d}.png", np.ascontiguousarray(np.roll(small, 3 * i, axis=1)))
    jsonl = tmp_path / "t.jsonl"
    assert cli.main(["video", str(folder), "--model", str(tfpose), "--json", str(jsonl),
                     "--every", "2", "--max-frames", "2", "--fps", "5", "--quiet"]) == 0
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [(r["frame"], r["time"]) for r in lines] == [(0, 0.0), (2, 0.4)]


def _decoded_frames(path):
    av = pytest.importorskip("av", reason="video needs PyAV (pafdecode[video])")
    with av.open(str(path)) as container:
        codec = container.streams.video[0].codec_context.name
        return codec, [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_writer_falls_back_to_mpeg4_without_h264(tmp_path, monkeypatch):
    pytest.importorskip("av", reason="video needs PyAV (pafdecode[video])")
    from pafdecode import video

    # This build's H.264 encoders made unavailable: the probe is what the writer asks.
    monkeypatch.setattr(video, "_has_encoder", lambda av, codec: codec == "mpeg4")
    writer = video.VideoWriter(tmp_path / "fallback.mp4", 10)
    frames = [np.full((31, 41, 3), 40 * i, np.uint8) for i in range(4)]
    for frame in frames:
        writer.write(frame)
    writer.close()
    assert writer.codec == "mpeg4"
    codec, back = _decoded_frames(tmp_path / "fallback.mp4")
    assert codec == "mpeg4" and len(back) == 4 and back[0].shape == (32, 42, 3)
    # Flat grey frames survive the lossy round trip to within a few levels.
    for i, got in enumerate(back):
        assert abs(float(got.mean()) - 40 * i) < 4

    monkeypatch.setattr(video, "_has_encoder", lambda av, codec: False)
    writer = video.VideoWriter(tmp_path / "none.mp4", 10)
    with pytest.raises(video.VideoError, match="no H.264 or MPEG-4 encoder.*none.mp4"):
        writer.write(frames[0])


def test_writer_prefers_h264_where_the_build_has_it(tmp_path):
    av = pytest.importorskip("av", reason="video needs PyAV (pafdecode[video])")
    from pafdecode import video

    writer = video.VideoWriter(tmp_path / "h.mp4", 10)
    writer.write(np.zeros((16, 16, 3), np.uint8))
    writer.close()
    expected = next(c for c in video._ENCODERS if video._has_encoder(av, c))
    assert writer.codec == expected
    assert _decoded_frames(tmp_path / "h.mp4")[0] == ("mpeg4" if expected == "mpeg4" else "h264")


@pytest.mark.shared
def test_a_stream_that_ends_early_is_named_and_its_frames_kept(tmp_path, shared, tfpose,
                                                               pafdecode_command):
    video = _pan_and_zoom(shared / "data" / "images" / "p3_dance.png", tmp_path / "pan.mp4",
                          frames=4)
    url = f"file://{video}"            # read as a stream: it may end before --max-frames
    jsonl = tmp_path / "t.jsonl"
    done = subprocess.run([pafdecode_command, "video", url, "--model", str(tfpose), "--json",
                           str(jsonl), "--max-frames", "10", "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    err = done.stderr.strip().splitlines()
    assert err == [f"pafdecode: {url} ended after 4 of the 10 frames asked for; the "
                   f"outputs hold them"]
    assert [json.loads(line)["frame"] for line in jsonl.read_text().splitlines()] == [0, 1, 2, 3]


@pytest.mark.shared
def test_ctrl_c_stops_cleanly_and_keeps_valid_outputs(tmp_path, shared, tfpose,
                                                      pafdecode_command):
    frames = 400
    video = _pan_and_zoom(shared / "data" / "images" / "p3_dance.png", tmp_path / "long.mp4",
                          frames=frames)
    jsonl, drawn = tmp_path / "t.jsonl", tmp_path / "drawn.mp4"
    job = subprocess.Popen([pafdecode_command, "video", str(video), "--model", str(tfpose),
                            "--json",
                            str(jsonl), "--out", str(drawn), "--quiet"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while (not jsonl.exists() or jsonl.read_text().count("\n") < 3) \
                and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.poll() is None, "the job ended before it could be interrupted"
        job.send_signal(signal.SIGINT)
        out, err = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == 130, err
    assert "Traceback" not in err and err.strip() == ""
    assert out.strip().splitlines()[-1].startswith("pafdecode video: interrupted: ")
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert 3 <= len(lines) < frames
    assert [r["frame"] for r in lines] == list(range(len(lines)))
    # Each frame is written to the JSON, then drawn: a stop falls between or after.
    _, back = _decoded_frames(drawn)
    assert len(back) in (len(lines) - 1, len(lines)) and back[0].shape == (240, 320, 3)


def test_bad_inputs_print_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("av", reason="video needs PyAV (pafdecode[video])")
    model = tmp_path / "m.onnx"
    model.write_bytes(b"not a model")
    assert cli.main(["video", str(tmp_path / "none.mp4"), "--model", str(model)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pafdecode: ") and "m.onnx" in err[0]


@pytest.mark.shared
def test_not_a_video_and_bad_camera(tmp_path, capsys, tfpose):
    pytest.importorskip("av", reason="video needs PyAV (pafdecode[video])")
    junk = tmp_path / "junk.mp4"
    junk.write_text("hello")
    assert cli.main(["video", str(junk), "--model", str(tfpose), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pafdecode: ") and "junk.mp4" in err[0]
    assert cli.main(["video", "--camera", "97", "--model", str(tfpose), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "camera 97" in err[0]
    assert cli.main(["video", str(junk), "--model", str(tfpose), "--every", "0"]) == 1
    assert "--every must be >= 1" in capsys.readouterr().err


@pytest.mark.shared
def test_model_track_yields_tracked_frames_in_order(shared, tfpose):
    model = pafdecode.OnnxPoseModel.tfpose(tfpose)
    photo = pafdecode.load_image(shared / "data" / "images" / "p3_dance.png", "BGR")[::3, ::3]
    frames = [np.ascontiguousarray(np.roll(photo, 4 * i, axis=1)) for i in range(5)]
    got = list(model.track(frames, Tracker(model.skeleton, min_hits=1)))
    assert [i for i, _ in got] == list(range(5))
    single = [model(f) for f in frames]
    for (_, poses), alone in zip(got, single):
        np.testing.assert_allclose(poses.keypoints, alone.keypoints, atol=1e-4)
        for key in ("read_ms", "inference_ms", "decode_ms", "track_ms"):
            assert poses.stats[key] >= 0
    assert (got[-1][1].track_ids >= 0).any()
    # A consumer that stops early stops the worker; errors in frames surface here.
    gen = model.track(iter(frames))
    next(gen)
    gen.close()
    with pytest.raises(ValueError, match="image must be an"):
        list(model.track([frames[0], np.zeros((4, 4))]))
    with pytest.raises(ValueError, match="tracker must be"):
        model.track(frames, tracker="sort")


def test_draw_text_writes_the_glyphs():
    canvas = np.zeros((20, 40, 3), np.uint8)
    draw_text(canvas, "1", (0, 0), color=(255, 0, 0), scale=1, background=None)
    ink = canvas[..., 0] > 0
    # "1" is rows 010, 110, 010, 010, 111 inside a one-pixel margin.
    expected = np.array([[0, 1, 0], [1, 1, 0], [0, 1, 0], [0, 1, 0], [1, 1, 1]], bool)
    np.testing.assert_array_equal(ink[1:6, 1:4], expected)
    assert ink.sum() == expected.sum()
    with pytest.raises(ValueError, match="text may hold only"):
        draw_text(canvas, "id", (0, 0))


def test_importing_pafdecode_does_not_import_video_dependencies():
    code = ("import sys, pafdecode, pafdecode.cli, pafdecode.video, pafdecode.mot; "
            "print(sorted(m for m in ('av', 'motmetrics', 'tqdm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
