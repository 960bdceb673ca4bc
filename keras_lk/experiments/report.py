"""Tables of a results file: on the console, in a paper's README, and as a plot.

Each `recipes/<paper>/README.md` holds its tables between the markers
``<!-- results: begin -->`` and ``<!-- results: end -->``: one model-zoo table per
full-scale recipe (row, backbone, crop, schedule, the paper's figure, ours or "not run",
command, results file), then every results file's table, generated from the recipes and
`recipes/<paper>/results/*.json` by::

    python -m keras_lk.experiments.report recipes/gcn    # rewrites the README section
    python -m keras_lk.experiments.report --check recipes/gcn   # exit 1 if out of date

so a figure in a README is always one a results file holds. The `measure` figures a
table declares (`Table.measured`: valid receptive field, step time, latency...) are
columns beside its metrics (mean ± std over seeds) and panels of its plot (the main
metric against each).

Claims are recomputed from each file's runs with the claims its recipe declares now
(`keras_lk.experiments.statistics`), never read from the file's stored ``claims``
(older files stored another rule's verdicts), and corrected over the paper: every
results file of one paper and scale is one Benjamini–Hochberg family
(`paper_verdicts`), each comparison counted once; a table that checks the CPU-scale
regime rather than the paper (`Table.regime_check`) is a family of its own. A table's
claims show the corrected verdict beside their uncorrected 95 % t-interval; a "Claims,
corrected" table lists each comparison once with the tables that show it. The console report of one run
(`format_results`) knows one table only: its verdicts are uncorrected.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

from keras_lk.experiments.statistics import (
    FDR,
    LEVEL,
    correct_claims,
    format_claim,
    format_p,
    summarize,
)

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


def _measured_cell(results, row, key):
    """Mean ± std over the row's runs of a `measure` figure (`Table.measured`): a count
    that every seed shares as it is (``193,672``), figures under 10 with two decimals;
    "—" where no run recorded a number (a skipped measurement records None and why)."""
    values = [run.get("measurements", {}).get(key) for run in results["runs"]
              if run["row"] == row]
    values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not values:
        return "—"
    if len(set(values)) == 1 and all(isinstance(v, int) for v in values):
        return f"{values[0]:,}"
    stats = summarize(values)
    digits = 2 if abs(stats["mean"]) < 10 else 1
    return (f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}" if stats["n"] > 1
            else f"{stats['mean']:.{digits}f}")


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
    measured = results.get("measured", [])  # `Table.measured`: (key, label) pairs
    header += [label for _, label in measured]
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
        cells += [_measured_cell(results, row["name"], key) for key, _ in measured]
        lines.append(cells)
    if markdown:
        text = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(lines[0])]
        text += ["| " + " | ".join(cells) + " |" for cells in lines[1:]]
        return text
    widths = [max(len(str(cells[i])) for cells in lines) for i in range(len(lines[0]))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(cells, widths)) for cells in lines]


def format_results(results, claims=None) -> str:
    """The console report: settings, the table, the claims (`claims`, default the
    file's, as `Greater.evaluate` returns them) with their uncorrected t-intervals."""
    split = results["evaluation"]["splits"][-1]
    lines = [f"{results['paper'].upper()} {results['table']}: {results['title']}",
             (f"scale {results['scale']}{' (smoke)' if results['smoke'] else ''}: "
             f"{results['scale_description']}"),
             f"reported on {split}; metric values in %, mean ± std over seeds", ""]
    lines += rows_table(results)
    claims = results.get("claims") if claims is None else claims
    if claims:
        lines += ["", (f"Claims of the paper, tested on {split} (paired by seed, "
                       f"{100 * LEVEL:.0f} % t-intervals). Verdicts uncorrected for the "
                       "paper's other claims: the README's are corrected (Benjamini–Hochberg "
                       f"over the paper's comparisons, python -m keras_lk.experiments.report "
                       f"recipes/{results['paper']}):")]
        lines += ["  " + format_claim(claim) for claim in claims]
    return "\n".join(lines)


def _number(value, digits=2, sign=True):
    return "—" if value is None else f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _interval(low, high):
    return "—" if low is None else f"[{low:+.2f}, {high:+.2f}]"


def _t(claim):
    if claim.get("t") is not None:
        return f"{claim['t']:+.2f}"
    return "±∞" if claim.get("p") == 0.0 else "—"


def _verdict_cell(claim):
    cell = f"**{claim['verdict']}**"
    if claim.get("untestable"):
        cell += f" ({claim['untestable']})"
    elif claim.get("corrected") and claim["verdict_uncorrected"] != claim["verdict"]:
        cell += f" (uncorrected: {claim['verdict_uncorrected']})"
    return cell


def claims_table(claims, numbering="C") -> list[str]:
    """A markdown table of a table's claims: statement, verdict (corrected where the
    paper-level correction ran), effect mean ± std, the uncorrected 95 % t-interval, n,
    t, p, the BH-adjusted p and the comparison's number in its corrected family, after
    `numbering` ("C": the paper's corrected table; "R": a regime check's own family)."""
    lines = [("| claim | verdict | effect (mean ± std) | 95 % t-interval | n | t | p | "
              "BH-adjusted p | comparison |"), "|---|---|---|---|---|---|---|---|---|"]
    for claim in claims:
        effect = "—" if claim["effect"] is None else (
            f"{claim['effect']:+.2f} ± {claim['std']:.2f} {claim['unit']}")
        comparison = f"{numbering}{claim['comparison']}" if claim.get("comparison") else "—"
        lines.append(f"| {claim['statement']} | {_verdict_cell(claim)} | {effect} | "
                     f"{_interval(claim.get('low'), claim.get('high'))} | {claim['n']} | "
                     f"{_t(claim)} | {format_p(claim.get('p'))} | "
                     f"{format_p(claim.get('p_adjusted'))} | {comparison} |")
    return lines


def _cpus(runs, unrecorded) -> str:
    """The CPUs that ran `runs`, with how many each (`unrecorded` where none recorded
    its CPU); runs from before results recorded their CPU are counted apart, and the
    runs of a suite lane (their seconds count cores shared with another run) are named."""
    counts = {}
    for run in runs:
        counts[run.get("cpu")] = counts.get(run.get("cpu"), 0) + 1
    if list(counts) in ([None], []):
        return unrecorded
    text = "; ".join(f"{cpu or 'CPU not recorded'}: {n} run{'s' * (n != 1)}"
                     for cpu, n in sorted(counts.items(), key=lambda item: -item[1]))
    threads = [run["tf_threads"] for run in runs if run.get("tf_threads")]
    if threads:
        counts = "/".join(map(str, sorted(set(threads))))
        text += (f"; {len(threads)} of them beside another suite lane, {counts} TensorFlow "
                 f"thread{'s' * (max(threads) > 1)} each")
    return text


def markdown_section(results, results_file, claims=None, regime_check=False) -> str:
    """A results file's README section: settings, the table, its claims (`claims`: the
    corrected results `paper_verdicts` gives for this file, or, for a `regime_check`
    table, its own family's; default the file's own)."""
    split = results["evaluation"]["splits"][-1]
    seeds = sorted({run["seed"] for run in results["runs"]})
    own = [run for run in results["runs"] if "reused_from" not in run]
    seconds = sum(run["train_seconds"] + run["eval_seconds"] for run in own)
    reused = len(results["runs"]) - len(own)
    machine = results["machine"]
    cpus = _cpus(own, machine["processor"] or machine["platform"])
    lines = [f"#### {results['table']}: {results['title']} ({results['scale']} scale)", "",
             (f"{results['scale_description']}. Reported on `{split}`, mean ± std over seeds "
             f"{seeds}; {len(results['runs'])} runs"
             + (f" ({reused} of them reused from other tables, where they are timed)"
                if reused else "")
             + f", {seconds / 60:.0f} min of training and evaluation on "
             f"{machine['cpu_count']} CPU cores ({cpus})."), ""]
    if results.get("seed_rule"):
        lines[-2] += f" Seeds declared before the runs: {results['seed_rule']['rule']}."
    lines += rows_table(results, markdown=True)
    claims = results.get("claims") if claims is None else claims
    if claims:
        corrected = all(claim.get("corrected") for claim in claims)
        lines += ["", (f"Claims on `{split}`, paired by seed: effect, its "
                       f"{100 * LEVEL:.0f} % t-interval (uncorrected), t and p with n − 1 "
                       "degrees of freedom; " + (
                           "the verdict and the adjusted p are Benjamini–Hochberg's over "
                           + ("this table's comparisons, a check of the regime corrected "
                              "apart from the paper's claims." if regime_check else
                              "the paper's comparisons (see \"Claims, corrected\").")
                           if corrected else "verdicts uncorrected.")), ""]
        lines += claims_table(claims, numbering="R" if regime_check else "C")
    commit = (results.get("commit") or "?")[:10]
    lines += ["", (f"Command: `{results['command']}` (commit `{commit}`, TensorFlow "
              f"{results['versions']['tensorflow']}, Keras {results['versions']['keras']}); "
              f"results: [`{results_file}`]({results_file}).")]
    if results.get("notes"):
        lines += ["", results["notes"]]
    return "\n".join(lines)


def corrected_table(correction, scale) -> str:
    """The paper's "Claims, corrected" section at one scale: each comparison once."""
    m, rejections, q = correction["m"], correction["rejections"], correction["q"]
    level = correction["fcr_level"]
    lines = [f"#### Claims, corrected ({scale} scale)", "",
             (f"Each comparison once, with the tables that show it (a comparison is the rows' "
              "training configurations without seed and output folder, their evaluation "
              "protocol, the metric and the split), tested on the table with the most paired "
              f"seeds, in its first claim's direction. Benjamini–Hochberg at q = {q:g} over the "
              f"m = {m} testable comparisons ({rejections} rejected); the FCR-adjusted "
              "interval (Benjamini–Yekutieli) has level 1 − max(R, 1)·q/m"
              + ("" if level is None else f" = {100 * level:.2f} %")
              + ": it excludes 0 exactly for the rejected comparisons. Comparisons not testable "
              "here, or with fewer than 2 seeds, are left out of the family "
              "(`keras_lk/experiments/statistics.py`)."), "",
             ("| # | comparison | tables | metric (split) | effect (mean ± std) | n | "
              "95 % t-interval | p | BH-adjusted p | FCR interval | verdict |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for entry in correction["comparisons"]:
        statement = " / ".join(entry["statements"])
        effect = "—" if entry["effect"] is None else (
            f"{entry['effect']:+.2f} ± {entry['std']:.2f}")
        tables = ", ".join(f"**{t}**" if t == entry["source"] and len(entry["tables"]) > 1
                           else t for t in entry["tables"])
        lines.append(f"| C{entry['number']} | {statement} | {tables} | {entry['metric']} "
                     f"({entry['split']}) | {effect} | {entry['n']} | "
                     f"{_interval(entry['low'], entry['high'])} | {format_p(entry['p'])} | "
                     f"{format_p(entry['p_adjusted'])} | "
                     f"{_interval(entry['fcr_low'], entry['fcr_high'])} | "
                     f"{_verdict_cell(entry)} |")
    notes = []
    if any(len(entry["tables"]) > 1 for entry in correction["comparisons"]):
        notes.append("In bold: the table a comparison shown in several was tested on.")
    if correction["not_run"]:
        notes.append(f"Not listed: {len(correction['not_run'])} claims whose rows do not run "
                     f"at {scale} scale (shown with their tables, comparison \"—\").")
    if notes:
        lines += ["", " ".join(notes)]
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


def _results_files(paper_dir) -> list:
    """``[(path, results)]`` of `paper_dir`'s results files: the paper's tables first, in
    order, then experiments of ours (the regime sweep)."""
    paths = sorted((path for path in glob.glob(os.path.join(paper_dir, "results", "*.json"))
                    if not os.path.basename(path).startswith("plateau_")),
                   key=lambda p: (not os.path.basename(p).startswith("table"), p))
    found = []
    for path in paths:
        with open(path) as f:
            found.append((path, json.load(f)))
    return found


def paper_tables(paper_dir) -> dict:
    """``{table name: Table}`` of the recipes in `paper_dir` (their claims are the ones
    a results file is judged by)."""
    from keras_lk.experiments import coverage

    paper = os.path.basename(os.path.normpath(paper_dir))
    tables = {}
    for path in sorted(glob.glob(os.path.join(paper_dir, "*.py"))):
        module = coverage.load_recipe(path)
        for table in [getattr(module, "TABLE", None), *getattr(module, "TABLES", {}).values()]:
            if table is not None and hasattr(table, "claims") and table.paper == paper:
                tables.setdefault(table.table, table)
    return tables


def _corrections(tables, files) -> dict:
    """``{(scale, regime_check): correct_claims(...)}`` over `files` whose table is in
    `tables`: per scale, the paper's family and the regime checks' (`Table.regime_check`)."""
    families = {}
    for _, results in files:
        table = tables.get(results["table"])
        if table is not None:
            families.setdefault((results["scale"], table.regime_check), []).append(
                (results["table"], results, table.claims))
    return {key: correct_claims(family, q=FDR) for key, family in families.items()}


def paper_verdicts(paper_dir, scale) -> dict:
    """The corrected claims of every results file of `paper_dir` at `scale`: one
    Benjamini–Hochberg family (`keras_lk.experiments.statistics.correct_claims`), with
    each file's claims recomputed from its runs and its recipe's claims."""
    files = [(path, results) for path, results in _results_files(paper_dir)
             if results["scale"] == scale]
    return (_corrections(paper_tables(paper_dir), files).get((scale, False))
            or correct_claims([]))


def plateau_section(path) -> str:
    """The training budget a scale's plateau rule chose (`keras_lk.experiments.plateau`):
    the rule, the mean val mIoU of each budget tried, the decision."""
    with open(path) as f:
        state = json.load(f)
    decision = state.get("decision")
    selection = state["evaluation"]["splits"][0]
    lines = [f"#### Training budget of the {state['scale']} scale (plateau rule)", "",
             (f"Rule, declared before any run: {state['rule']['text']}."
              if not state.get("superseded") else
              f"Rule, declared before any table run, after the earlier rule's reference "
              f"runs (below): {state['rule']['text']}."), ""]
    if decision is None:
        by_steps = {}
        for run in state["runs"]:
            by_steps.setdefault(run["steps"], []).append(100 * run["metrics"][selection]["miou"])
        expected = len(state["rule"]["rows"]) * len(state["rule"]["seeds"])
        means = {(str(steps) if len(v) == expected else f"{steps} ({len(v)} of {expected} "
                  "runs)"): sum(v) / len(v) for steps, v in sorted(by_steps.items())}
    else:
        means = decision["means"]
    effects = (decision or {}).get("effects")
    if effects is None:
        lines += [f"| steps | mean {selection} mIoU of the reference runs |", "|---|---|"]
        lines += [f"| {steps} | {mean:.1f} |" for steps, mean in means.items()]
    else:
        baseline, compared = state["rule"]["rows"]
        lines += [(f"| steps | mean {selection} mIoU of the reference runs | {compared} − "
                  f"{baseline} (mean of paired seeds) |"), "|---|---|---|"]
        lines += [f"| {steps} | {mean:.1f} | {effects[steps]:+.2f} |"
                  for steps, mean in means.items()]
    if decision is None:
        waiting = (f"Not decided yet: {len(state['runs'])} reference runs so far (the "
                   "decision resumes where it stopped).")
        return "\n".join([*lines, "", waiting])
    seconds = sum(run["train_seconds"] for run in state["runs"])
    reached = ("reached" if decision["reached"] else
               "**not reached** (claims that need it are not testable here)")
    cpus = _cpus(state["runs"], "")
    cpus = f" ({cpus})" if cpus else ""
    lines += ["", (f"Budget: **{decision['steps']} steps**, plateau {reached}; "
              f"{len(state['runs'])} reference runs, {seconds / 60:.0f} min of training"
              f"{cpus}; file: [`{os.path.basename(path)}`](results/{os.path.basename(path)}).")]
    for earlier in state.get("superseded", []):
        before = earlier["decision"]
        outcome = ("undecided" if before is None else
                   f"{before['steps']} steps, plateau "
                   f"{'reached' if before['reached'] else 'not reached'}; mean {selection} "
                   "mIoU " + ", ".join(f"{m:.1f}" for m in before["means"].values())
                   + " at " + ", ".join(before["means"]) + " steps")
        lines += ["", (f"It replaced an earlier rule, {earlier['rule']} "
                       f"({earlier['runs']} runs): {outcome}.")]
    return "\n".join(lines)


def results_section(paper_dir) -> str:
    """The generated README section of every results file of `paper_dir`, each scale's
    corrected claims first."""
    files, tables = _results_files(paper_dir), paper_tables(paper_dir)
    corrections = _corrections(tables, files)
    sections = [plateau_section(path) for path in
                sorted(glob.glob(os.path.join(paper_dir, "results", "plateau_*.json")))]
    sections += [corrected_table(correction, scale) for (scale, regime), correction
                 in sorted(corrections.items()) if not regime and correction["comparisons"]]
    for path, results in files:
        table = tables.get(results["table"])
        regime = table is not None and table.regime_check
        correction = corrections.get((results["scale"], regime), {"claims": {}})
        claims = correction["claims"].get(results["table"])
        if claims is None and results.get("claims"):
            results = {**results, "notes": (results.get("notes", "") + "\n\n(Claims as the "
                       "file stored them: no recipe declares this table now.)").strip()}
        sections.append(markdown_section(results, os.path.relpath(path, paper_dir), claims,
                                         regime_check=regime))
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
    split, beside the paper's figure (on its own axis: another dataset and scale); and,
    where the file shows `measure` figures (`Table.measured`), one panel per figure with
    the score against it, per seed (dots) and per row (its mean, labelled)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    split = results["evaluation"]["splits"][-1]
    metric = results["metrics"][0]
    rows = [row for row in results["rows"] if any(r["row"] == row["name"]
                                                  for r in results["runs"])]
    measured = results.get("measured", [])
    width = max(5.0, 0.9 * len(rows) + 2)
    figure = Figure(figsize=(width + 3.6 * len(measured), 3.6))
    axis, *measure_axes = figure.subplots(
        1, 1 + len(measured), squeeze=False,
        gridspec_kw={"width_ratios": [width] + [3.6] * len(measured)})[0]
    for measure_axis, (key, label) in zip(measure_axes, measured):
        _plot_against_measurement(measure_axis, results, rows, metric, split, key, label)
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


def _plot_against_measurement(axis, results, rows, metric, split, key, label):
    """`metric` on `split` against the `measure` figure `key`: one colour per row, a
    dot per seed that recorded the figure, the row's mean labelled."""
    import matplotlib

    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, row in enumerate(rows):
        pairs = [(run["measurements"][key], 100 * run["metrics"][split][metric])
                 for run in results["runs"] if run["row"] == row["name"]
                 and isinstance(run.get("measurements", {}).get(key), (int, float))]
        if not pairs:
            continue
        xs, ys = zip(*pairs)
        colour = colours[i % len(colours)]
        axis.scatter(xs, ys, color=colour, s=14, alpha=0.6)
        mean = (sum(xs) / len(xs), sum(ys) / len(ys))
        axis.scatter(*mean, color=colour, marker="D", s=36, edgecolors="black", zorder=3)
        axis.annotate(row["name"], mean, textcoords="offset points", xytext=(4, 4),
                      fontsize=7)
    axis.set_xlabel(label, fontsize=8)
    axis.set_ylabel(f"{metric} on {split} (%)", fontsize=8)
    axis.tick_params(labelsize=7)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paper_dirs", nargs="+", help="recipes/<paper> folders")
    parser.add_argument("--check", action="store_true", help="exit 1 if a README is stale")
    parser.add_argument("--plots", action="store_true", help="also redraw results/*.png")
    args = parser.parse_args(argv)
    stale = []
    for paper_dir in args.paper_dirs:
        if args.plots:
            for path, results in _results_files(paper_dir):
                plot_results(results, os.path.splitext(path)[0] + ".png")
        if not update_readme(paper_dir, check=args.check):
            stale.append(paper_dir)
    if args.check and stale:
        print(f"stale README tables in {stale}: run python -m keras_lk.experiments.report "
              + " ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
