"""The ``interplay`` command: one subcommand per pipeline stage, each what a ``dvc.yaml`` stage runs.

Stages are looked up in :data:`STAGES` and imported lazily, so ``interplay fetch`` does not pay
for importing torch. Errors a user can act on (bad parameters, a bad input record, a failed
download) end with a one-paragraph message and exit code 2, not a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from interplay.config.env import apply_offline_defaults
from interplay.config.params import ParamsError, load_params
from interplay.errors import BadRecordError, FetchError
from interplay.human_eval.errors import HumanEvalError
from interplay.models.base import BaseModelError
from interplay.publish.errors import PublishError
from interplay.releases.versions import ReleaseError
from interplay.text.redaction import install_redaction
from interplay.validation import ValidationFailed

#: Stage name (as in dvc.yaml) -> the thin entry-point module under ``tasks/``.
STAGES: dict[str, str] = {
    "fetch": "tasks.fetch",
    "preprocess": "tasks.preprocess",
    "base_model": "tasks.base_model",
    "finetune_user": "tasks.finetune_user",
    "finetune_recommender": "tasks.finetune_recommender",
    "finetune_script": "tasks.finetune_script",
    "simulate": "tasks.simulate",
    "baselines": "tasks.baselines",
    "validate": "tasks.validate",
    "evaluate": "tasks.evaluate",
    "publish": "tasks.publish",
}

_USER_ERRORS = (
    FileNotFoundError, ParamsError, BadRecordError, FetchError, PublishError, ValidationFailed, ReleaseError,
    BaseModelError, HumanEvalError,
)
#: Where ``interplay human-eval export`` writes a study (under data/: beside what it is made from).
HUMAN_EVAL_DIR = Path("data/human_eval")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interplay", description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in STAGES:
        sub.add_parser(name, help=f"run the {name} stage")
    sample = sub.add_parser("sample", help="print a few generated turns of a fine-tuned role")
    sample.add_argument("--role", choices=["user", "recommender"], required=True)
    sample.add_argument("-n", "--num-profiles", type=int, default=3, help="held-out profiles to show")
    release = sub.add_parser("release", help="run the whole release flow (Prefect), as `make run` does")
    release.add_argument("--tag", action="store_true", help="also tag a release: git tag, dvc.lock, dvc push")
    reproduce = sub.add_parser("reproduce", help="check a release out and verify its dataset hashes")
    reproduce.add_argument("version", help="a release tag, e.g. v0.1.0")
    reproduce.add_argument("--workspace", type=Path, help="scratch folder (default: beside the project)")
    reproduce.add_argument("--rebuild", action="store_true", help="dvc repro everything instead of dvc pull")
    _human_eval_parser(sub)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: expected at least 1")
    return value


def _human_eval_parser(sub: argparse._SubParsersAction) -> None:
    """``interplay human-eval export | analyze``: the human-evaluation kit (README, "Human evaluation")."""
    group = sub.add_parser("human-eval", help="blinded pairwise human evaluation in Label Studio: export, analyze")
    steps = group.add_subparsers(dest="step", required=True, metavar="STEP")
    export = steps.add_parser("export", help="write Label Studio tasks, labeling config and the key of a study")
    export.add_argument(
        "--baseline", default="reference_dependent", choices=["reference_dependent", "zero_shot"],
        help="the system Interplay is compared with (default: reference_dependent)",
    )
    export.add_argument("--seed", type=int, default=0, help="draws the order of the tasks and each one's sides (default: 0)")
    export.add_argument("--limit", type=_positive, help="at most this many tasks (a random sample of the shared profiles)")
    export.add_argument("--out", type=Path, default=HUMAN_EVAL_DIR, help=f"folder to write into (default: {HUMAN_EVAL_DIR})")
    analyze = steps.add_parser("analyze", help="win / tie / loss and agreement of a Label Studio JSON export")
    analyze.add_argument("export", type=Path, help="Label Studio's JSON export of the project (Export > JSON)")
    analyze.add_argument("--key", type=Path, default=HUMAN_EVAL_DIR / "key.json", help="the study's key (default: %(default)s)")
    analyze.add_argument("--report", type=Path, default=Path("reports/human_eval.md"), help="where the report is written (default: %(default)s)")


def _human_eval(root: Path, args: argparse.Namespace) -> int:
    from interplay.human_eval.files import analyze_export, export_study
    from interplay.simulation.records import GENERATED_PATHS

    if args.step == "export":
        study = export_study(
            root / GENERATED_PATHS["interplay"], root / GENERATED_PATHS[args.baseline], args.baseline,
            root / args.out, args.seed, args.limit,
        )
        print(f"{study.count} tasks of {study.shared_profiles} shared profiles (interplay vs {args.baseline}):")
        print(f"  Label Studio tasks:   {study.tasks}")
        print(f"  labeling config:      {study.config}")
        print(f"  key (keep it hidden): {study.key}")
        return 0
    text = analyze_export(root / args.export, root / args.key, root / args.report)
    print(text, end="")
    print(f"written to {root / args.report}")
    return 0


def _reproduce(root: Path, version: str, workspace: Path | None, rebuild: bool) -> int:
    from interplay.releases.versions import default_workspace, reproduce

    result = reproduce(root, version, workspace or default_workspace(root, version), rebuild)
    why = {difference.path: difference.verdict for difference in result.differences}
    for path in sorted(result.expected.keys() | result.actual.keys()):
        actual = result.actual.get(path, "missing")
        same = result.expected.get(path) == actual
        print(f"{'ok      ' if same else 'DIFFERS '} {path}  {actual[:16]}")
        if not same:
            print(f"         {why.get(path, 'differs')}")
    verdict = "identical to" if result.identical else "DIFFERENT from"
    print(f"{version} reproduced in {result.workspace}: dataset files {verdict} the release")
    return 0 if result.identical else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_redaction()  # no credential in any log line, -v included (raw HTTP headers)
    apply_offline_defaults()
    root = Path.cwd()
    try:
        if args.command == "release":
            from flows.release import check_release, release

            check_release(root, args.params, args.tag)  # refusals before Prefect starts: one line each
            release(params_file=args.params, tag=args.tag)
            return 0
        if args.command == "reproduce":
            return _reproduce(root, args.version, args.workspace, args.rebuild)
        if args.command == "human-eval":
            return _human_eval(root, args)
        params = load_params(root / args.params)
        if args.command == "sample":
            importlib.import_module("tasks.sample").run(
                params, root, role=args.role, num_profiles=args.num_profiles
            )
        else:
            importlib.import_module(STAGES[args.command]).run(params, root)
    except _USER_ERRORS as exc:
        print(f"interplay {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
