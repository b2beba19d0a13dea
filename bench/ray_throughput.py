"""Images per second: one OnnxPoseModel in one process against Ray Data jobs with N actors.

The photos are the shared ones (coco-mini and images/), repeated to --images paths. Each
setting runs once untimed (warm-up: sessions, Ray's workers) and then --repeat times; the
median wall time, from building the Dataset to the last row on the driver, is reported.

    python bench/ray_throughput.py --model ../shared/models/tfpose-mobilenet-thin.onnx \
        --images 96 --actors 1 2 --repeat 3
"""

import argparse
import statistics
import time
from pathlib import Path

from pafdecode import OnnxPoseModel, load_image


def photos(shared, count):
    data = Path(shared) / "data"
    found = sorted((data / "coco-mini").glob("*.jpg")) + sorted((data / "images").iterdir())
    return [str(found[i % len(found)]) for i in range(count)]


def one_process(paths, model_path, threads):
    options = None
    if threads:
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
    model = OnnxPoseModel.tfpose(model_path, session_options=options)
    model(load_image(paths[0], "BGR"))
    start = time.perf_counter()
    people = sum(len(model(load_image(p, "BGR"))) for p in paths)
    return time.perf_counter() - start, people


def ray_job(paths, model_path, actors, threads, batch_size):
    from pafdecode.distributed import predict_images

    start = time.perf_counter()
    ds = predict_images(paths, model_path, concurrency=actors, num_cpus=1,
                        intra_op_threads=threads, batch_size=batch_size)
    people = sum(int(b["num_people"].sum()) for b in
                 ds.iter_batches(batch_size=None, batch_format="numpy"))
    return time.perf_counter() - start, people


def timed(fn, repeat):
    fn()
    runs = [fn() for _ in range(repeat)]
    return statistics.median(t for t, _ in runs), runs[0][1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per actor")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    args = parser.parse_args()
    paths = photos(args.shared, args.images)
    print(f"{len(paths)} images, {Path(args.model).name}")
    print("| setting | intra-op threads | images/s | people |")
    print("|---|---|---|---|")
    for threads in (0, 1):
        t, people = timed(lambda: one_process(paths, args.model, threads), args.repeat)
        label = "ort default" if threads == 0 else str(threads)
        print(f"| one process | {label} | {len(paths) / t:.1f} | {people} |", flush=True)
    import ray

    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    for actors in args.actors:
        t, people = timed(lambda: ray_job(paths, args.model, actors, args.threads,
                                          args.batch_size), args.repeat)
        print(f"| Ray, {actors} actor(s) | {args.threads} each | {len(paths) / t:.1f} | "
              f"{people} |", flush=True)
    ray.shutdown()


if __name__ == "__main__":
    main()
