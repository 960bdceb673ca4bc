"""CPU-scale training throughput: one run on every core against runs side by side.

`recipes/cpu_suite.py --lanes N` trains N runs at once, each in a process of
``cores // N`` TensorFlow threads. This benchmark measures what that buys: the GCN k = 15
row of `recipes/gcn/` at CPU scale (`GCN_SCENES`, through `keras_lk.training.train`)
first alone with the default threads, then N copies side by side, each with
``TF_NUM_INTRAOP_THREADS`` = ``TF_NUM_INTEROP_THREADS`` = ``cores // N``. A run's step time
is the median of its epochs' `step_time` after the first (which compiles); the lanes'
throughput is the sum of their runs' steps per second.

    python benchmarks/suite_lanes.py              # 2 lanes; ~3 minutes on 2 CPU cores
    python benchmarks/suite_lanes.py --smoke      # tiny images, to check it runs
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ROW = {"head": "gcn", "k": 15, "boundary_refine": False}


def _worker(args):
    """One run; prints its median step time as JSON (the parent reads the last line)."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    sys.path.insert(0, HERE)
    from cpu_scale_step import step_time

    work_dir = tempfile.mkdtemp(prefix="keras_lk_suite_lanes_")
    overrides = {"image_size": 32, "crop_size": 32} if args.smoke else {}
    seconds = step_time(ROW, args.steps_per_epoch, args.epochs, work_dir, tuned=True,
                        **overrides)
    print(json.dumps({"step_seconds": seconds}), flush=True)


def _launch(args, threads):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if threads is not None:
        from keras_lk.utils.machine import with_threads  # main() put ROOT on the path

        env = with_threads(env, threads)
    command = [sys.executable, os.path.abspath(__file__), "--worker",
               "--steps-per-epoch", str(args.steps_per_epoch), "--epochs", str(args.epochs),
               *(["--smoke"] if args.smoke else [])]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def _step_seconds(process):
    out, _ = process.communicate()
    if process.returncode:
        raise RuntimeError(f"a benchmark run exited with {process.returncode}:\n{out}")
    return json.loads(out.strip().splitlines()[-1])["step_seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=2)
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="32² images, a few steps")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be ≥ 2 (the first epoch compiles and is not counted)")
    if args.lanes < 2:
        parser.error(f"--lanes must be at least 2 (one lane is the baseline), got {args.lanes}")
    if args.worker:
        return _worker(args)

    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from keras_lk.utils.machine import cpu_signature

    cores = os.cpu_count() or 1
    threads = max(1, cores // args.lanes)
    alone = _step_seconds(_launch(args, None))
    processes = [_launch(args, threads) for _ in range(args.lanes)]
    side_by_side = [_step_seconds(process) for process in processes]
    alone_rate = 1 / alone
    lanes_rate = sum(1 / seconds for seconds in side_by_side)
    print(f"\n{cpu_signature()}; {cores} cores; GCN k = 15 at CPU scale"
          f"{' (smoke: 32²)' if args.smoke else ''}; median of {args.epochs - 1} epochs of "
          f"{args.steps_per_epoch} steps after the first")
    print("| runs | threads each | ms/step each | steps/s in all | × one run |\n|---|---|---|---|---|")
    print(f"| 1 | default | {1e3 * alone:.1f} | {alone_rate:.2f} | 1.00 |")
    print(f"| {args.lanes} side by side | {threads} | "
          + " / ".join(f"{1e3 * seconds:.1f}" for seconds in side_by_side)
          + f" | {lanes_rate:.2f} | {lanes_rate / alone_rate:.2f} |")


if __name__ == "__main__":
    main()
