"""relu_prime in `make studies`: the training sweep (experiment=relu_prime), then Bertoin et al.'s Section 3 grid
(dlstudy-relu-prime) written beside the jobs, and one block of docs/studies.md from both.

    dlstudy-relu-prime-report --section3 relu_prime_section3.json --sweep outputs/sweeps/<relu_prime sweep> ...

replaces what lies between `<!-- results:relu_prime -->` and `<!-- /results -->` in the document.
"""

import argparse
import json
from pathlib import Path

from dlstudy.resolvers import PROJECT_ROOT
from dlstudy.studies.relu_prime_section3 import changes_table, figure, section3_findings, section3_tables
from dlstudy.studies.relu_prime_training import training_findings, training_groups, training_table
from dlstudy.studies.report import span_seconds

SECTION3 = "section3.json"
SHARED_MNIST = PROJECT_ROOT.parent / "shared" / "data" / "mnist" / "raw"


def section3(sweep: Path) -> None:
    """The grid without training: MNIST's images where ../shared has them, else Fashion-MNIST's first 10,000."""
    from dlstudy.relu_prime import main

    data = ["--data", "mnist", "--folder", str(SHARED_MNIST)] if SHARED_MNIST.is_dir() else ["--data", "fashion"]
    main([*data, "--images", "10000", "--out", str(sweep / SECTION3)])


def report(sweep: Path, figures: Path) -> str:
    result = json.loads((sweep / SECTION3).read_text())
    figures.mkdir(parents=True, exist_ok=True)
    figure(result).savefig(figures / "relu_prime.png", dpi=100)
    return section(result, [sweep])


def section(result: dict, sweeps: list[Path]) -> str:
    """The markdown between the markers."""
    cpu = sum(r["cpu_seconds"] for r in result["rows"])
    lines = ["### Section 3: how often ReLU'(0) changes a gradient, without training", "",
             "![](studies/relu_prime.png)", ""]
    lines += section3_tables(result) + [""] + section3_findings(result)
    if result.get("changes"):
        lines += ["", "Size of the change, on the first batch of 256 images, 20 inits: under the chain rule "
                      "ReLU'(0) = 1 adds alpha times a gradient that is already there; the paper's rule writes a 1.",
                  ""] + changes_table(result["changes"])
    planned = result.get("cells", len(result["rows"]))
    if len(result["rows"]) < planned:
        lines += ["", f"Only {len(result['rows'])} of the grid's {planned} cells were measured (the run was stopped)."]
    lines += ["", f"Wall time: {result['seconds']:.0f} s for {len(result['rows'])} cells in {result['jobs']} worker "
                  f"processes ({cpu:.0f} s of CPU time in all; torch {result['torch']}, CPU)."]
    if sweeps:
        groups = training_groups(sweeps)
        lines += ["", "### Training: alpha in {0, 1}, both rules, with and without batch norm", ""]
        lines += training_table(groups) + [""] + training_findings(groups)
        seconds = " + ".join(f"{span_seconds(s):.0f} s" for s in sweeps)
        lines += ["", f"Wall time of the sweep{'s' if len(sweeps) > 1 else ''}: {seconds} "
                      f"({sum(len(v) for v in groups.values())} finished runs)."]
    return "\n".join(lines)


def write_block(doc: Path, text: str) -> None:
    """Replace the text between the relu_prime markers of `doc`."""
    from dlstudy.docblocks import write_block as write

    write(doc, "relu_prime", text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dlstudy-relu-prime-report", description=__doc__.split("\n")[0])
    parser.add_argument("--section3", type=Path, required=True, help="the JSON that dlstudy-relu-prime wrote")
    parser.add_argument("--sweep", type=Path, nargs="*", default=[],
                        help="sweep folders of experiment=relu_prime (several: their seeds are pooled)")
    parser.add_argument("--doc", type=Path, default=Path("docs/studies.md"))
    args = parser.parse_args(argv)
    try:
        result = json.loads(args.section3.read_text())
        for sweep in args.sweep:
            if not list(sweep.glob("*/.hydra")):
                raise ValueError(f"{sweep} is not a sweep folder (no job folders with .hydra/ inside)")
        write_block(args.doc, section(result, args.sweep))
        (args.doc.parent / "studies").mkdir(exist_ok=True)
        figure(result).savefig(args.doc.parent / "studies" / "relu_prime.png", dpi=100)
    except (OSError, ValueError, KeyError) as e:
        parser.error(str(e))
    print(f"relu_prime results written to {args.doc}")


if __name__ == "__main__":
    main()
