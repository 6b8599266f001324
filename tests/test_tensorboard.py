"""TensorBoard itself, served on loopback, reads a sweep: runs, scalar tags and the HPARAMS experiment."""

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dlstudy.runs import read_status


def request(base: str, path: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, headers={"X-XSRF-Protected": "1",
                                                                  "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


@pytest.fixture
def served(train, tmp_path):
    sweep = train("-m", "debug=fast", "loss=cross_entropy,square", "init=xavier_normal", run_dir=tmp_path / "sweep")
    exe = Path(sys.executable).with_name("tensorboard")
    proc = subprocess.Popen([str(exe), "--logdir", str(sweep), "--host", "127.0.0.1", "--port", "0",
                             "--load_fast", "false"], stderr=subprocess.PIPE, text=True)
    try:
        deadline, base = time.time() + 60, None
        while base is None and time.time() < deadline:
            line = proc.stderr.readline()
            if m := re.search(r"(http://127\.0\.0\.1:\d+)/", line):
                base = m.group(1)
        assert base, "TensorBoard did not start"
        for _ in range(100):  # the first load of the event files takes a moment
            if len(request(base, "/data/runs")) == 2:
                break
            time.sleep(0.2)
        yield base, sweep
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stderr.close()


def test_tensorboard_serves_every_job_with_hparams_and_metrics(served):
    served, sweep = served
    runs = request(served, "/data/runs")
    assert sorted(runs) == ["0_init=xavier_normal,loss=cross_entropy", "1_init=xavier_normal,loss=square"]
    tags = request(served, "/data/plugin/scalars/tags")
    assert all({"train/loss", "val/acc", "test/acc"} <= set(tags[run]) for run in runs)

    experiment = request(served, "/data/plugin/hparams/experiment", {"experimentName": ""})
    hparams = {h["name"] for h in experiment["hparamInfos"]}
    metrics = [m["name"]["tag"] for m in experiment["metricInfos"]]
    assert {"loss", "init", "optimizer/lr", "seed"} <= hparams and "test/acc" in metrics

    columns = [{"hparam": "loss", "includeInResult": True}] + \
              [{"metric": {"group": "", "tag": m}, "includeInResult": True} for m in metrics]
    groups = request(served, "/data/plugin/hparams/session_groups", {
        "experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        "colParams": columns, "startIndex": 0, "sliceSize": 10})["sessionGroups"]
    assert sorted(g["hparams"]["loss"] for g in groups) == ["cross_entropy", "square"]
    for g in groups:
        values = {m["name"]["tag"]: m["value"] for m in g["metricValues"]}
        (session,) = g["sessions"]
        final = read_status(sweep / session["name"])["metrics"]["test/acc"]
        assert values["test/acc"] == pytest.approx(final, rel=1e-6), "each job shows its own final test accuracy"
