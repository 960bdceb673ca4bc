"""The command line of a test-server table (GCN Tables 8 and 10): the paper's table,
and the submission archive of a trained model to upload for our row.

Test labels are not public, so these recipes do not train: they predict the test images
of the official archive with the protocol of the validated row that the paper
submitted (e.g. GCN Table 7's "Stage-3-MS-CRF GCN + BR") and write the archive the
server takes (`keras_lk.evaluation.submission`). The server's score is the figure to set
beside the paper's.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

from keras_lk.experiments.table import Evaluation


@dataclasses.dataclass(frozen=True)
class Submission:
    """A test-server table.

    Args:
        paper, table, title: as in `Table`.
        benchmark: ``"voc"`` or ``"cityscapes"`` (`keras_lk.evaluation.write_submission`).
        paper_rows: the paper's table, ``{method: mIoU}``, in its order; ``ours`` names
            the paper's own row.
        ours: the paper's row for its own method.
        evaluation: the test-time protocol (the submitted validation row's).
        default_model: the run of that row that `--model` defaults to.
        smoke_model: how `--smoke` makes a tiny model to submit (CI).
    """

    paper: str
    table: str
    title: str
    benchmark: str
    paper_rows: dict
    ours: str
    evaluation: Evaluation
    default_model: str
    smoke_model: object = None


def format_paper_table(submission) -> str:
    width = max(len(name) for name in submission.paper_rows)
    lines = [f"{submission.paper.upper()} {submission.table}: {submission.title}",
             f"{'method':<{width}}  paper mIoU"]
    for name, miou in submission.paper_rows.items():
        mark = "  ← ours: upload the archive below" if name == submission.ours else ""
        lines.append(f"{name:<{width}}  {miou:10.1f}{mark}")
    return "\n".join(lines)


def main(submission, argv=None, description=None):
    """``python recipes/<paper>/<table>.py --manual-dir DIR [--model PATH] [--output F]``."""
    from keras_lk.evaluation import submission as servers

    suffix = ".tar.gz" if submission.benchmark == "voc" else ".zip"
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manual-dir", required=True,
                        help="directory of the official archive holding the test images")
    parser.add_argument("--model", default=submission.default_model,
                        help=f"the trained model (default: {submission.default_model})")
    parser.add_argument("--output", default=os.path.join(
        "runs", "submissions", f"{submission.paper}_{submission.table.replace(' ', '_').lower()}"
        f"{suffix}"), help="the archive to write")
    parser.add_argument("--num-images", type=int,
                        help="only the first N test images (a partial archive, on purpose)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny untrained model and single-scale test (CI)")
    args = parser.parse_args(argv)
    print(format_paper_table(submission), flush=True)
    evaluation = submission.evaluation
    try:
        if args.smoke:
            model = submission.smoke_model()
            evaluation = Evaluation(splits=evaluation.splits)
        else:
            import keras

            from keras_lk.training.initialization import model_file

            model = keras.saving.load_model(model_file(args.model), safe_mode=True)
        reader = {"voc": servers.voc_test_images,
                  "cityscapes": servers.cityscapes_test_images}[submission.benchmark]
        images = reader(args.manual_dir, num_images=args.num_images)
        print(f"\nPredicting the test images ({evaluation.describe()}) with "
              f"{'a smoke model' if args.smoke else args.model}", flush=True)
        path = servers.write_submission(
            model, images, args.output, submission.benchmark, scales=evaluation.scales,
            flip=evaluation.flip, tile=evaluation.tile, overlap=evaluation.overlap,
            crf=evaluation.crf)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(f"\nUpload {path} to the {submission.benchmark} evaluation server; its mIoU is "
          f"ours for the row {submission.ours!r} (paper: "
          f"{submission.paper_rows[submission.ours]}).")
    return 0
