"""`affect data`: check a dataset folder (`check`) and convert label files once (`convert`)."""

from __future__ import annotations

import json

from core.errors import AffectError
from core.io import write_json


def register(sub):
    data = sub.add_parser("data", help="check a dataset folder, convert label files")
    commands = data.add_subparsers(dest="data_command", metavar="ACTION")
    data.set_defaults(func=lambda args: data.print_help() or 1)

    check = commands.add_parser(
        "check", help="parse a dataset folder: counts per subject, class and AU, and every problem found",
        description="Exit status 0 only when the dataset is usable (at least one clip, no error); warnings are "
                    "problems the pipeline handles.")
    check.add_argument("format", help="dataset format (a parser of rawdata/layouts/, declared in rawdata/datasets.py), "
                       "e.g. casme2")
    check.add_argument("--root", required=True, help="the dataset folder")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--images", choices=("all", "key", "none"), default="all",
                       help="decode every frame (all), only onset/apex/offset frames (key), or none")
    check.add_argument("--out", default=None,
                       help="write the JSON report to this file (only when the dataset is usable) and print one "
                       "summary line instead of the report (problems are still printed)")
    check.add_argument("--trust-pickle", action="store_true",
                       help="read Python pickles (DEAP's data_preprocessed_python/*.dat); unpickling runs code "
                       "named in the file, so pass this only for files you downloaded yourself")
    check.set_defaults(func=run_check)

    convert = commands.add_parser("convert", help="convert a label file once into the suite's plain format")
    convert.add_argument("src", help="the label file to convert")
    convert.add_argument("dst", help="where to write the converted file")
    convert.set_defaults(func=run_convert)


def run_check(args) -> int:
    from rawdata.check import check_dataset, format_report, summary_line

    if getattr(args, "trust_pickle", False):
        from rawdata.layouts.deap import trusting_pickles

        with trusting_pickles():
            report = check_dataset(args.format, args.root, images=args.images)
    else:
        report = check_dataset(args.format, args.root, images=args.images)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    elif args.out and not report.problems:
        print(summary_line(report))
    else:
        print(format_report(report))
    if args.out and report.usable:
        write_json(args.out, report.to_dict())
    return 0 if report.usable else 1


def run_convert(args) -> int:
    try:
        from rawdata.convert import convert_labels
    except ModuleNotFoundError as err:
        if err.name != "rawdata.convert":
            raise
        raise AffectError("`affect data convert` is not available: rawdata/convert.py is missing") from err
    result = convert_labels(args.src, args.dst)
    if result is not None:
        print(result)
    return 0
