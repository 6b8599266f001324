"""Write the mutation score of `make mutation` into docs/mutation.md, between its results markers.

    python scripts/mutation_report.py        (after `make mutation`; reads `mutmut results --all true`)
"""

import collections
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "mutation.md"


def results() -> list[tuple[str, str, str]]:
    """(module, mutant, verdict) for every mutant mutmut knows."""
    out = subprocess.run([str(Path(sys.executable).with_name("mutmut")), "results", "--all", "true"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        if ": " in line:
            name, verdict = line.strip().rsplit(": ", 1)
            rows.append((re.split(r"\.x[_ǁ]", name)[0], name, verdict))
    return rows


def block(rows) -> str:
    by_module = collections.defaultdict(collections.Counter)
    for module, _, verdict in rows:
        by_module[module][verdict] += 1
    verdicts = ["killed", "timeout", "survived", "no tests", "not checked"]
    lines = ["| module | " + " | ".join(verdicts) + " | killed / checked |", "|---" * (len(verdicts) + 2) + "|"]
    total = collections.Counter()
    for module, c in sorted(by_module.items()):
        total += c
        lines.append(f"| {module} | " + " | ".join(str(c[v]) for v in verdicts) + f" | {score(c)} |")
    lines.append("| all | " + " | ".join(str(total[v]) for v in verdicts) + f" | {score(total)} |")
    survivors = [name for _, name, verdict in rows if verdict in ("survived", "no tests")]
    return "\n".join(lines) + "\n\nSurvivors (`mutmut show <name>`):\n\n" + "\n".join(f"- `{s}`" for s in survivors)


def score(c: collections.Counter) -> str:
    checked = c["killed"] + c["timeout"] + c["survived"] + c["no tests"]
    return f"{(c['killed'] + c['timeout']) / checked:.1%}" if checked else "–"


def main() -> None:
    text = DOC.read_text()
    new = re.sub(r"(<!-- results:mutation -->\n).*?(<!-- /results -->)", lambda m: m[1] + block(results()) + "\n" + m[2],
                 text, flags=re.S)
    DOC.write_text(new)
    print(f"{DOC.relative_to(ROOT)} updated")


if __name__ == "__main__":
    main()
