"""nonlinearity: stacked affine layers stay one affine map (a linear classifier); ReLU between them fits spirals."""

from pathlib import Path

from dlstudy.studies.report import Claim, block, ci, figure, group, settings_table, wall_time
from dlstudy.summarize import Sweep, summarize

METRIC = "test/acc"
ACT = "model.net.activation"


def claims(s: Sweep) -> list[Claim]:
    depths = sorted({g.settings["depth"] for g in s.groups}, key=int)
    identity = [group(s, **{"depth": d, ACT: "identity"}) for d in depths]
    relu = [group(s, **{"depth": d, ACT: "relu"}) for d in depths if int(d) >= 2]
    means = [g.summaries[METRIC].mean for g in identity]
    beaten = [g for g in relu if g.summaries[METRIC].mean >= 0.95 and
              all(g.summaries[METRIC].lo > i.summaries[METRIC].hi for i in identity)]
    return [
        Claim("an identity MLP of any depth is a linear classifier: chance level on three spirals, whatever its depth",
              "composition of affine maps is affine; chance = 1/3",
              "; ".join(f"depth {d}: {ci(g.summaries[METRIC])}" for d, g in zip(depths, identity)),
              max(means) < 0.45 and max(means) - min(means) < 0.05),
        Claim("with ReLU between the layers, depth ≥ 2 fits the spirals (test acc ≥ 0.95, interval clear of every "
              "identity net's)", "Goodfellow et al., *Deep Learning*, §6.1 (XOR needs a nonlinearity)",
              "; ".join(f"depth {g.settings['depth']}: {ci(g.summaries[METRIC])}" for g in relu),
              len(beaten) == len(relu) > 0),
    ]


def report(sweep: Path, figures: Path) -> str:
    s = summarize(sweep, METRIC, "max")
    s.groups.sort(key=lambda g: (g.settings[ACT], int(g.settings["depth"])))
    return block(claims(s), settings_table(s, {METRIC: "test acc"}),
                 figure(s, "depth", METRIC, figures / "nonlinearity.png"), wall_time(sweep))
