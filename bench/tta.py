"""What test-time augmentation costs: the network time of each pass, and the merge.

    python bench/tta.py --model ../shared/models/tfpose-mobilenet-thin.onnx \
        --image ../shared/data/coco-mini/000000196141.jpg --scales 1 1.5 2 --repeat 5

Runs the image through ``OnnxPoseModel.tfpose(flip=True, scales=...)`` once to warm up,
then `repeat` times, and prints the median of each pass's ``inference_ms`` (from
``model.last_timing["passes"]``), of ``merge_ms`` and of ``decode_ms``, all from the same
calls, so that their ratios hold on a loaded machine too.
"""

import argparse
import statistics

from pafdecode import OnnxPoseModel, load_image


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 1.5, 2.0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    model = OnnxPoseModel.tfpose(args.model, flip=True, scales=args.scales)
    image = load_image(args.image, "BGR")
    model(image)
    runs = []
    for _ in range(args.repeat):
        people = len(model(image))
        runs.append(model.last_timing)
    print(f"{args.image}: {image.shape[1]}x{image.shape[0]}, {people} people found with "
          f"flip and scales {args.scales}; medians of {args.repeat} calls")
    print(f"{'pass':<12} {'input':>9} {'network ms':>11}")
    base = None
    for i, (scale, flip) in enumerate((p["scale"], p["flip"]) for p in runs[0]["passes"]):
        ms = statistics.median(r["passes"][i]["inference_ms"] for r in runs)
        base = base or ms
        size = model.transform_for(image.shape[:2], scale).input_size
        print(f"{scale:<5g}{' flip' if flip else '':<7} {size[1]:>4}x{size[0]:<4} "
              f"{ms:11.1f}  ({ms / base:.2f}x scale 1)")
    for key in ("inference_ms", "merge_ms", "decode_ms"):
        print(f"{key:<12} {statistics.median(r[key] for r in runs):>21.1f}")


if __name__ == "__main__":
    main()
