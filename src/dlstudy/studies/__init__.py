"""The studies behind docs/studies.md. Each is an experiment config (conf/experiment/<name>.yaml, swept over seeds
and its own settings) and a report function that turns the sweep into its block of the document, between
`<!-- results:<name> -->` and `<!-- /results -->`. `make studies` (python -m dlstudy.studies) runs them all.

A new study plugs in with one entry below: its name, its report ("module:function", called as
report(sweep: Path, figures: Path) -> str), and optionally extra overrides (a tuple, or a "module:function"
returning a list when the study runs) or a whole command of its own (`command`, for a study that is not one sweep),
and optionally `after` ("module:function", called as after(sweep)) for work beside the sweep.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Study:
    name: str
    report: str
    overrides: tuple[str, ...] | str = ()  # or "module:function" returning the list when the study runs
    command: tuple[str, ...] | None = None  # default: dlstudy-train -m experiment=<name>; "{sweep}": its folder
    after: str | None = None  # "module:function" run with the sweep's folder once the sweep is done


STUDIES = [
    Study("lr_stability", "dlstudy.studies.lr_stability:report"),
    Study("nonlinearity", "dlstudy.studies.nonlinearity:report"),
    Study("universal_approximation", "dlstudy.studies.universal_approximation:report"),
    Study("loss_comparison", "dlstudy.studies.loss_comparison:report",
          overrides="dlstudy.studies.data:loss_comparison"),
    Study("relu_prime", "dlstudy.studies.relu_prime:report", after="dlstudy.studies.relu_prime:section3"),
    Study("init_depth", "dlstudy.studies.init_depth:report"),
    Study("entropy_kl", "dlstudy.studies.entropy_kl:report"),
    Study("conv_vs_mlp", "dlstudy.studies.conv_vs_mlp:study_report", overrides="dlstudy.studies.data:conv_vs_mlp"),
    Study("rnn_memory", "dlstudy.studies.rnn_memory:study_report"),
    Study("rnn_clipping", "dlstudy.studies.rnn_memory:clipping_study_report"),
]
