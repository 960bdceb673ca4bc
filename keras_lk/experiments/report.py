"""Tables of a results file: on the console, in a paper's README, and as a plot.

Each `recipes/<paper>/README.md` holds its tables between the markers
``<!-- results: begin -->`` and ``<!-- results: end -->``: one model-zoo table per
full-scale recipe (row, backbone, crop, schedule, the paper's figure, ours or "not run",
command, results file), then every results file's table, generated from the recipes and
`recipes/<paper>/results/*.json` by::

    python -m keras_lk.experiments.report recipes/gcn    # rewrites the README section
    python -m keras_lk.experiments.report --check recipes/gcn   # exit 1 if out of date

so a figure in a README is always one a results file holds.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

from keras_lk.experiments.statistics import format_claim

BEGIN, END = "<!-- results: begin -->", "<!-- results: end -->"


def _mean_std(summary, row, metric):
    stats = summary.get(row, {}).get(metric)
    if not stats or stats["mean"] is None:
        return "—"
    return f"{stats['mean']:.1f} ± {stats['std']:.1f}" if stats["n"] > 1 else f"{stats['mean']:.1f}"


def _seeds(results, row, metric, split):
    values = [f"{100 * run['metrics'][split][metric]:.1f}" for run in
              sorted(results["runs"], key=lambda r: r["seed"]) if run["row"] == row]
    return " / ".join(values) or "—"


def _paper_value(row, metric):
    value = row["paper"].get(metric)
    return "—" if value is None else f"{value:.1f}"


def _reference(results, metric):
    """The first row with a paper figure and runs: deltas are taken against it."""
    ran = {run["row"] for run in results["runs"]}
    for row in results["rows"]:
        if row["name"] in ran and row["paper"].get(metric) is not None:
            return row
    # No paper figure (an experiment of ours, not a paper table): the first row run.
    return next((row for row in results["rows"] if row["name"] in ran), None)


def rows_table(results, markdown=False) -> list[str]:
    """The paper's table with ours beside it, one line per row."""
    split = results["evaluation"]["splits"][-1]
    summary = results.get("summary", {}).get(split, {})
    metrics = results["metrics"]
    reference = _reference(results, metrics[0])
    ref_mean = None if reference is None else summary.get(reference["name"], {}).get(
        metrics[0], {}).get("mean")
    full = results["scale"] == "full"
    header = ["row"]
    for metric in metrics:
        header += [f"paper {metric}", f"ours {metric} ({split})"]
    header += ["Δ ours − paper" if full else f"Δ vs {reference['name'] if reference else '—'}"
               " (paper / ours)", f"{metrics[0]} per seed", "params"]
    lines = [header]
    for row in results["rows"]:
        runs = [run for run in results["runs"] if run["row"] == row["name"]]
        if not runs:
            continue
        cells = [row["name"]]
        for metric in metrics:
            cells += [_paper_value(row, metric), _mean_std(summary, row["name"], metric)]
        mean = summary.get(row["name"], {}).get(metrics[0], {}).get("mean")
        paper = row["paper"].get(metrics[0])
        if full:
            delta = "—" if mean is None or paper is None else f"{mean - paper:+.1f}"
        elif reference is None or mean is None or ref_mean is None:
            delta = "—"
        else:
            reference_paper = reference["paper"].get(metrics[0])
            paper_delta = ("—" if paper is None or reference_paper is None else
                           f"{paper - reference_paper:+.1f}")
            delta = f"{paper_delta} / {mean - ref_mean:+.1f}"
        cells += [delta, _seeds(results, row["name"], metrics[0], split),
                  f"{runs[0]['params']:,}"]
        lines.append(cells)
    if markdown:
        text = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(lines[0])]
        text += ["| " + " | ".join(cells) + " |" for cells in lines[1:]]
        return text
    widths = [max(len(str(cells[i])) for cells in lines) for i in range(len(lines[0]))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(cells, widths)) for cells in lines]


def format_results(results) -> str:
    """The console report: settings, the table, the claims."""
    split = results["evaluation"]["splits"][-1]
    lines = [f"{results['paper'].upper()} {results['table']}: {results['title']}",
             (f"scale {results['scale']}{' (smoke)' if results['smoke'] else ''}: "
             f"{results['scale_description']}"),
             f"reported on {split}; metric values in %, mean ± std over seeds", ""]
    lines += rows_table(results)
    if results.get("claims"):
        lines += ["", f"Claims of the paper, tested on {split} (paired by seed):"]
        lines += ["  " + format_claim(claim) for claim in results["claims"]]
    return "\n".join(lines)


def markdown_section(results, results_file) -> str:
    split = results["evaluation"]["splits"][-1]
    seeds = sorted({run["seed"] for run in results["runs"]})
    seconds = sum(run["train_seconds"] + run["eval_seconds"] for run in results["runs"])
    lines = [f"#### {results['table']}: {results['title']} ({results['scale']} scale)", "",
             (f"{results['scale_description']}. Reported on `{split}`, mean ± std over seeds "
             f"{seeds}; {len(results['runs'])} runs, {seconds / 60:.0f} min of training and "
             f"evaluation on {results['machine']['cpu_count']} CPU cores"
             f" ({results['machine']['processor'] or results['machine']['platform']})."), ""]
    lines += rows_table(results, markdown=True)
    if results.get("claims"):
        lines += ["", "| claim | verdict | effect (mean ± std) | seeds | standard errors |",
                  "|---|---|---|---|---|"]
        for claim in results["claims"]:
            errors = claim["standard_errors"]
            effect = "—" if claim["effect"] is None else (
                f"{claim['effect']:+.2f} ± {claim['std']:.2f} {claim['unit']}")
            lines.append(f"| {claim['statement']} | **{claim['verdict']}** | {effect} | "
                         f"{claim['n']} | {'—' if errors is None else f'{errors:+.1f}'} |")
    commit = (results.get("commit") or "?")[:10]
    lines += ["", (f"Command: `{results['command']}` (commit `{commit}`, TensorFlow "
              f"{results['versions']['tensorflow']}, Keras {results['versions']['keras']}); "
              f"results: [`{results_file}`]({results_file}).")]
    if results.get("notes"):
        lines += ["", results["notes"]]
    return "\n".join(lines)


def _schedule(train) -> str:
    steps = train["steps"]
    steps = f"{steps // 1000}k" if steps >= 1000 and not steps % 1000 else str(steps)
    return (f"{steps} it., batch {train['batch_size']}, {train['optimizer']} lr "
            f"{train['learning_rate']:g}")


def zoo_section(paper_dir) -> str:
    """One table per paper table that has a full-scale recipe: row, backbone, crop,
    schedule, the paper's figure, ours (from ``results/<table>_full.json``, or "not run"),
    with the command and the results file; test-server tables name their archive."""
    from keras_lk.experiments import coverage
    from keras_lk.experiments.table import merge_train

    paper = os.path.basename(os.path.normpath(paper_dir))
    recipes_dir = os.path.dirname(os.path.abspath(paper_dir))
    lines = []
    found = coverage.recipe_tables(recipes_dir)
    for (owner, name), script in sorted(found.items(), key=lambda item: _table_order(item[0])):
        if owner != paper:
            continue
        module = coverage.load_recipe(os.path.join(recipes_dir, script))
        tables = [t for t in [getattr(module, "TABLE", None), getattr(module, "SUBMISSION", None),
                              *getattr(module, "TABLES", {}).values()]
                  if t is not None and t.table == name]
        table = tables[0]
        command = f"python recipes/{script}" + "".join(
            f" --dataset {key}" for key, t in getattr(module, "TABLES", {}).items()
            if t is table)
        if not hasattr(table, "rows"):  # a test-server table
            lines += [f"#### {name}: {table.title}", "",
                      (f"`{command} --manual-dir DIR` writes the server's archive of the model "
                      f"trained for the row the paper submitted (paper: "
                      f"{table.paper_rows[table.ours]:.1f} mIoU, test server)."), ""]
            continue
        if "full" not in table.scales:
            continue
        scale = table.scales["full"]
        results_file = f"results/{table.key}_full.json"
        summary = {}
        if os.path.exists(os.path.join(paper_dir, results_file)):
            with open(os.path.join(paper_dir, results_file)) as f:
                results = json.load(f)
            summary = results.get("summary", {}).get(results["evaluation"]["splits"][-1], {})
        metric = table.metrics[0]
        lines += [f"#### {name}: {table.title}", "",
                  (f"`{command}`; results: `{results_file}`"
                  f"{'' if summary else ' (not run yet)'}."), "",
                  f"| row | backbone | crop | schedule | paper {metric} | ours {metric} |",
                  "|---|---|---|---|---|---|"]
        for row in table.rows_at("full"):
            train = merge_train(scale.train, row.train)
            value = row.paper.get(metric)
            lines.append(f"| {row.name} | {train['backbone']} | {train['crop_size']}² | "
                         f"{_schedule(train)} | {'—' if value is None else f'{value:.1f}'} | "
                         f"{_mean_std(summary, row.name, metric) if summary else 'not run'} |")
        lines.append("")
    return "\n".join(lines).strip()


def _table_order(key):
    """Tables in the paper's order: "Table 2" before "Table 10", parts in order."""
    import re

    number = re.search(r"(\d+)", key[1])
    return (int(number.group(1)) if number else 1_000, key[1])


def readme_section(paper_dir) -> str:
    """The generated README section: every full-scale recipe, then every results file."""
    zoo = zoo_section(paper_dir)
    results = results_section(paper_dir)
    return (f"### Full-scale recipes\n\n{zoo}\n\n### CPU-scale and other results\n\n"
            f"{results}")


def results_section(paper_dir) -> str:
    """The generated README section of every results file of `paper_dir`."""
    # The paper's tables first, in order, then experiments of ours (the regime sweep).
    paths = sorted(glob.glob(os.path.join(paper_dir, "results", "*.json")),
                   key=lambda p: (not os.path.basename(p).startswith("table"), p))
    sections = []
    for path in paths:
        with open(path) as f:
            results = json.load(f)
        sections.append(markdown_section(results, os.path.relpath(path, paper_dir)))
        plot = os.path.splitext(path)[0] + ".png"
        if os.path.exists(plot):
            sections[-1] += f"\n\n![{results['table']}]({os.path.relpath(plot, paper_dir)})"
    return "\n\n".join(sections) if sections else "No results yet."


def update_readme(paper_dir, check=False) -> bool:
    """Rewrites the generated section of ``paper_dir/README.md``; returns whether it was
    up to date. With `check`, only compares."""
    path = os.path.join(paper_dir, "README.md")
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} has no {BEGIN} ... {END} section to generate.")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{readme_section(paper_dir)}\n{END}{tail}"
    if new == text:
        return True
    if not check:
        with open(path, "w") as f:
            f.write(new)
    return False


def plot_results(results, path):
    """Per row: every seed's score (dots) and the mean ± std (bar) on the reported
    split, beside the paper's figure (on its own axis: another dataset and scale)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    split = results["evaluation"]["splits"][-1]
    metric = results["metrics"][0]
    rows = [row for row in results["rows"] if any(r["row"] == row["name"]
                                                  for r in results["runs"])]
    figure = Figure(figsize=(max(5.0, 0.9 * len(rows) + 2), 3.6))
    axis = figure.subplots()
    summary = results["summary"][split]
    for i, row in enumerate(rows):
        values = [100 * r["metrics"][split][metric] for r in results["runs"]
                  if r["row"] == row["name"]]
        axis.scatter([i] * len(values), values, color="tab:blue", s=14, zorder=3)
        stats = summary[row["name"]][metric]
        axis.errorbar(i, stats["mean"], yerr=stats["std"], color="tab:blue", capsize=4,
                      marker="_", markersize=14, zorder=2)
    axis.set_xticks(range(len(rows)), [row["name"] for row in rows], rotation=30, ha="right",
                    fontsize=8)
    axis.set_ylabel(f"ours: {metric} on {split} (%)", color="tab:blue")
    papers = [(i, row["paper"].get(metric)) for i, row in enumerate(rows)
              if row["paper"].get(metric) is not None]
    if papers:
        twin = axis.twinx()
        twin.plot([i for i, _ in papers], [v for _, v in papers], "s--", color="tab:orange")
        twin.set_ylabel(f"paper: {metric} (%)", color="tab:orange")
    axis.set_title(f"{results['paper'].upper()} {results['table']} ({results['scale']} "
                   "scale): dots = seeds, bars = mean ± std", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paper_dirs", nargs="+", help="recipes/<paper> folders")
    parser.add_argument("--check", action="store_true", help="exit 1 if a README is stale")
    parser.add_argument("--plots", action="store_true", help="also redraw results/*.png")
    args = parser.parse_args(argv)
    stale = []
    for paper_dir in args.paper_dirs:
        if args.plots:
            for path in sorted(glob.glob(os.path.join(paper_dir, "results", "*.json"))):
                with open(path) as f:
                    plot_results(json.load(f), os.path.splitext(path)[0] + ".png")
        if not update_readme(paper_dir, check=args.check):
            stale.append(paper_dir)
    if args.check and stale:
        print(f"stale README tables in {stale}: run python -m keras_lk.experiments.report "
              + " ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
