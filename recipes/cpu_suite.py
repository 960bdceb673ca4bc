"""Every CPU-scale table of the three papers, one after another, as a reader reruns them.

    python recipes/cpu_suite.py            # run what is missing, in order; then the READMEs
    python recipes/cpu_suite.py --list     # per table: runs done of those planned, minutes
    python recipes/cpu_suite.py --list --lanes 2   # and the minutes per lane
    python recipes/cpu_suite.py --only gcn/table1_kernel_size.py   # one table of the suite

Each table is its recipe's `--scale cpu` run, in its own process: it decides its paper's
plateau first (once per paper, `results/plateau_cpu.json`), reuses the runs that another
table of the same paper already trained with the same configuration, and writes its
results file as each run ends, so a stopped suite resumes where it stopped. A table that
fails stops the suite. The READMEs are regenerated from the results at the end
(`python -m keras_lk.experiments.report --plots`).

With ``--lanes 2`` the papers run side by side: GCN's tables in one lane, GALD's and
then FCRN's in the other, each lane's recipes one after another in processes of one
TensorFlow thread each (``TF_NUM_INTRAOP_THREADS``/``TF_NUM_INTEROP_THREADS``, unless
set). On 2 cores two one-thread runs train more steps per hour than one two-thread run
(benchmarks/README.md, "CPU-scale suite throughput"); a run's recorded seconds then
count a shared machine. Papers share no runs, so the lanes never wait on each other.
Each lane's lines are printed with its name in front. The tables that measure speed
(`QUIET`: the large-kernel kit's step times and latencies) run after the lanes, alone.

The order puts the tables that others reuse first: GCN Table 1 (its rows are Tables 3
and 5's, the large-kernel kit's and the demo's comparison), FCRN Table 1 (its 5×5 d3
row is Table 4's F/F). `--list` gives the minutes each table's trained runs took, as
recorded in its results file, beside the runs still to train (the seed rule may add up
to twice the planned seeds to the rows of an undecided claim).

`recipes/gcn/transfer.py` is not part of the suite: it measures the regime (scenes weights
against from scratch) rather than a paper's table.
"""

import argparse
import json
import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:  # a checkout run as `python recipes/cpu_suite.py`
    sys.path.insert(0, ROOT)

SCALE = "cpu"
SUITE = (
    "gcn/table1_kernel_size.py",
    "gcn/table5_boundary_refinement.py",
    "gcn/table2_gcn_vs_kxk.py",
    "gcn/table3_gcn_vs_stack.py",
    "gcn/regime_sweep.py",
    "gcn/large_kernel_kit.py",
    "gald/table1b_local_distribution.py",
    "gald/table1e_ld_downsampling.py",
    "gald/ld_initialization.py",
    "fcrn/table1_field_of_view.py",
    "fcrn/table4_bootstrapping.py",
)
PAPERS = ("gcn", "gald", "fcrn")
# Tables whose runs measure speed: with --lanes they run after the lanes, alone.
QUIET = ("gcn/large_kernel_kit.py",)


def cpu_table(relative):
    """The `Table` of a suite recipe that has the CPU scale (`TABLE`, or the one of
    `TABLES` that has it)."""
    from keras_lk.experiments.coverage import load_recipe, tables_of

    module = load_recipe(os.path.join(HERE, relative))
    with_cpu = [table for table in tables_of(module) if SCALE in table.scales]
    if len(with_cpu) != 1:
        raise ValueError(f"{relative} has {len(with_cpu)} tables with a {SCALE!r} scale, "
                         "the suite expects one.")
    return with_cpu[0]


def _runs(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f).get("runs", [])


def _minutes(runs):
    return sum(run.get("train_seconds", 0) + run.get("eval_seconds", 0)
               for run in runs if "reused_from" not in run) / 60


def status(results_dir=None) -> list:
    """One dict per suite table (and per paper's plateau decision): ``name``, the
    ``recipe`` that runs it, runs ``planned`` (rows × the scale's initial seeds),
    ``done``, of them ``reused``, and the ``minutes`` its trained runs took."""
    from keras_lk.experiments.plateau import plateau_path
    from keras_lk.experiments.runner import default_results_path

    lines, seen_plateau = [], set()
    for relative in SUITE:
        table = cpu_table(relative)
        scale = table.scales[SCALE]
        path = default_results_path(table, SCALE, smoke=False, output_dir=None)
        if results_dir is not None:
            path = os.path.join(results_dir, table.paper, os.path.basename(path))
        if scale.plateau is not None and table.paper not in seen_plateau:
            seen_plateau.add(table.paper)
            runs = _runs(plateau_path(path, SCALE))
            planned = (len(scale.plateau.rows) * len(scale.plateau.seeds)
                       * len(scale.plateau.budgets()))
            lines.append({"name": f"{table.paper} plateau (up to)", "recipe": relative,
                          "planned": planned, "done": len(runs), "reused": 0,
                          "minutes": _minutes(runs)})
        runs = _runs(path)
        lines.append({"name": f"{table.paper} {table.table}", "recipe": relative,
                      "planned": len(table.rows_at(SCALE)) * len(scale.seeds),
                      "done": len(runs), "reused": sum("reused_from" in r for r in runs),
                      "minutes": _minutes(runs)})
    return lines


def format_status(lines, lanes=1) -> str:
    """`status` as a Markdown table; with `lanes` > 1, then the minutes recorded per lane
    (`lanes_of`, the `QUIET` recipes apart): a suite run side by side lasts about its
    longest lane plus the quiet recipes."""
    rows = ["| table | runs done / planned | of them reused | minutes recorded |",
            "|---|---|---|---|"]
    rows += [f"| {line['name']} | {line['done']} / {line['planned']} | {line['reused']} | "
             f"{line['minutes']:.0f} |" for line in lines]
    total = sum(line["minutes"] for line in lines)
    rows.append(f"| all | {sum(x['done'] for x in lines)} | "
                f"{sum(x['reused'] for x in lines)} | {total:.0f} ({total / 60:.1f} h) |")
    if lanes > 1:
        recipes = list(dict.fromkeys(line["recipe"] for line in lines))
        quiet = [relative for relative in recipes if relative in QUIET]
        split = lanes_of([relative for relative in recipes if relative not in quiet], lanes)

        def minutes(group):
            return sum(line["minutes"] for line in lines if line["recipe"] in group)

        parts = [f"lane {'+'.join(dict.fromkeys(r.split('/')[0] for r in lane))} "
                 f"{minutes(lane) / 60:.1f} h" for lane in split]
        longest = max((minutes(lane) for lane in split), default=0.0)
        rows.append(f"\nMinutes recorded per lane (--lanes {lanes}): {'; '.join(parts)}; "
                    f"alone after them {minutes(quiet) / 60:.1f} h: about "
                    f"{(longest + minutes(quiet)) / 60:.1f} h side by side.")
    return "\n".join(rows)


def run(relatives, extra=(), env=None, prefix="") -> int:
    """Runs each recipe of `relatives` at the CPU scale in its own process, in order
    (with environment `env`, default this one's; each output line after `prefix`);
    returns the first non-zero exit status (0 when every one finished)."""
    for relative in relatives:
        command = [sys.executable, os.path.join(HERE, relative), "--scale", SCALE, *extra]
        print(f"{prefix}[cpu suite] {' '.join(command[1:])}", flush=True)
        if prefix:
            with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) as process:
                for line in process.stdout:
                    print(prefix + line, end="", flush=True)
            code = process.returncode
        else:
            code = subprocess.call(command, cwd=ROOT, env=env)
        if code:
            print(f"{prefix}[cpu suite] {relative} exited with {code}; the suite stops "
                  "here (rerun to resume).", flush=True)
            return code
    return 0


def lanes_of(relatives, lanes) -> list:
    """`relatives` split into `lanes` lists, whole papers to a lane (a paper's tables
    share its plateau decision and its runs), each keeping the suite's order; the papers
    go to the lane with the fewest recipes so far, in the order `PAPERS` names them."""
    if lanes < 1:
        raise ValueError(f"lanes must be at least 1, got {lanes}.")
    split = [[] for _ in range(lanes)]
    for paper in PAPERS:
        recipes = [relative for relative in relatives if relative.split("/")[0] == paper]
        if recipes:
            min(split, key=len).extend(recipes)
    return [lane for lane in split if lane]


def run_lanes(relatives, lanes, extra=()) -> int:
    """Runs `lanes_of` the recipes of `relatives` outside `QUIET` side by side, each
    lane's recipes in order, in processes of ``cores // lanes`` TensorFlow threads (the
    user's ``TF_NUM_INTRAOP_THREADS``/``TF_NUM_INTEROP_THREADS`` where set), then the
    `QUIET` ones alone; returns the first non-zero exit status (0 when every recipe
    finished). A failed lane stops; the others go on; the quiet recipes then do not run.
    With one lane, `relatives` run in order as `run` runs them."""
    quiet = [relative for relative in relatives if relative in QUIET]
    split = lanes_of([relative for relative in relatives if relative not in quiet], lanes)
    if len(split) <= 1:
        return run(relatives, extra)
    from keras_lk.utils.machine import with_threads

    env = with_threads(os.environ, max(1, (os.cpu_count() or 1) // len(split)),
                       override=False)
    codes = [0] * len(split)

    def lane(index):
        papers = "+".join(dict.fromkeys(relative.split("/")[0] for relative in split[index]))
        codes[index] = run(split[index], extra, env=env, prefix=f"[lane {papers}] ")

    workers = [threading.Thread(target=lane, args=(index,)) for index in range(len(split))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    code = next((code for code in codes if code), 0)
    return code or run(quiet, extra)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true",
                        help="print each table's runs and minutes, run nothing")
    parser.add_argument("--only", nargs="+", choices=SUITE, metavar="RECIPE",
                        help=f"run these recipes of the suite only (of: {', '.join(SUITE)})")
    parser.add_argument("--lanes", type=int, default=1,
                        help="papers to run side by side, each lane in processes of "
                             "cores // lanes TensorFlow threads (default 1)")
    args = parser.parse_args(argv)
    if args.lanes < 1:
        parser.error(f"--lanes must be at least 1, got {args.lanes}")
    if args.list:
        print(format_status(status(), args.lanes))
        return 0
    code = run_lanes(args.only or SUITE, args.lanes)
    if code:
        return code
    return subprocess.call([sys.executable, "-m", "keras_lk.experiments.report", "--plots",
                            *(os.path.join(HERE, paper) for paper in PAPERS)], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
