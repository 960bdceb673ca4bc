"""GCN's final PASCAL VOC stage (GCN Table 7, Stage-3): VOC train at 512² from a stage-2 model.

    python recipes/voc_stage3.py                          # GCN + BR, from runs/'s stage 2
    python recipes/voc_stage3.py --init-from STAGE2.keras # from your stage-2 model
    python recipes/voc_stage3.py --stages 1,2,3           # train all three stages first
    python recipes/voc_stage3.py --head GCN               # another head of Table 7
    python recipes/voc_stage3.py --smoke                  # CI: a few steps on tiny data

It runs Table 7's rows (`recipes/gcn/table7_voc_stages.py`, whose docstring gives the
full setting and every choice the paper leaves open) for one head: Stage-3, and for
GCN + BR also the multi-scale and multi-scale + CRF tests of the same model (the
paper's 80.3 / 80.4 / 81.0 on VOC 2012 val). Every other option (--data-dir,
--manual-dir, --strategy, --precision, --seeds, ...) is Table 7's; `--help` lists them.
"""

import argparse
import os
import sys

from keras_lk.experiments.coverage import load_recipe

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))


def _table7():
    return load_recipe(os.path.join(HERE, "gcn", "table7_voc_stages.py"))


def rows_for(table7, head, stages):
    """Table 7's rows for `head` and `stages` (stage 3 adds GCN + BR's MS and CRF tests)."""
    if head not in table7.HEADS:
        raise ValueError(f"`--head` must be one of {tuple(table7.HEADS)}, received {head!r}.")
    unknown = sorted(set(stages) - {1, 2, 3})
    if unknown or 3 not in stages:
        raise ValueError(f"`--stages` must be a subset of 1,2,3 that holds 3, received "
                         f"{','.join(map(str, stages))}.")
    rows = [f"Stage-{stage} {head}" for stage in sorted(stages)]
    if head == "GCN + BR":
        rows += ["Stage-3-MS GCN + BR", "Stage-3-MS-CRF GCN + BR"]
    return rows


def run(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, add_help=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-h", "--help", action="store_true")
    parser.add_argument("--head", default="GCN + BR", help="Baseline, GCN or GCN + BR")
    parser.add_argument("--stages", default="3",
                        help="stages to train, e.g. 1,2,3 (default 3: from a stage-2 model)")
    args, rest = parser.parse_known_args(argv)
    table7 = _table7()
    if args.help:
        parser.print_help()
        print("\nTable 7's options (--init-from, --data-dir, --manual-dir, --strategy, ...):")
        return table7.main(table7.TABLE, ["--help"], description=table7.__doc__)
    try:
        stages = [int(stage) for stage in args.stages.split(",")]
        rows = rows_for(table7, args.head, stages)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    return table7.main(table7.TABLE, ["--rows", *rows, *rest], description=table7.__doc__)


if __name__ == "__main__":
    sys.exit(run())
