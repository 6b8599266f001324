"""python -m dlstudy.reports <study> <sweep folder>... [--doc docs/studies.md]: print a study's results block,
and write it between the study's markers in --doc."""

import argparse
from pathlib import Path

from dlstudy.reports import conv_vs_mlp, rnn_memory
from dlstudy.reports.docs import write_block

STUDIES = {"conv_vs_mlp": conv_vs_mlp.report, "rnn_memory": rnn_memory.report}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dlstudy.reports", description=__doc__)
    parser.add_argument("study", choices=sorted(STUDIES))
    parser.add_argument("sweeps", type=Path, nargs="+", help="rnn_memory: its sweep, then rnn_clipping's (optional)")
    parser.add_argument("--doc", type=Path, default=None, help="write the block into this file's markers")
    args = parser.parse_args(argv)
    try:
        text = STUDIES[args.study](*args.sweeps)
        if args.doc:
            write_block(args.doc, args.study, text)
    except (ValueError, TypeError) as e:
        parser.exit(2, f"error: {e}\n")
    print(text)


if __name__ == "__main__":
    main()
