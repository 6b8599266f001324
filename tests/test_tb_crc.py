"""TensorBoard's record checksums in C (dlstudy.tb_crc): the same bytes as TensorBoard's own code writes."""

import io
import os

import pytest
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tensorboard_crc
from tensorboard.summary.writer import record_writer
from torch.utils.tensorboard import SummaryWriter

from dlstudy import tb_crc
from tests.conftest import event_accumulator


@pytest.fixture
def restore():
    yield
    tb_crc.uninstall()


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 63, 64, 65, 1000, 4099])
def test_the_checksum_is_tensorboards(size):
    data = os.urandom(size)
    assert tb_crc.masked_crc32c(data) == tensorboard_crc(data)


def test_records_are_written_byte_for_byte_as_tensorboard_writes_them(restore):
    records = [os.urandom(n) for n in (0, 5, 300, 1300)]

    def written() -> bytes:
        out = io.BytesIO()
        writer = record_writer.RecordWriter(out)
        for r in records:
            writer.write(r)
        return out.getvalue()

    tb_crc.uninstall()
    theirs = written()
    tb_crc.install()
    assert record_writer.masked_crc32c is tb_crc.masked_crc32c
    assert written() == theirs


def test_tensorboards_reader_accepts_the_files(restore, tmp_path):
    """The reader checks every record's checksums with TensorBoard's own code (a mismatch is a DataLossError)."""
    tb_crc.install()
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalar("x", step / 2, step)
            writer.add_histogram_raw("h", 0.0, 1.0, 4, 2.0, 1.5, [0.5, 1.0], [2.0, 2.0], step)
    ea = event_accumulator(tmp_path)
    assert [(e.step, e.value) for e in ea.Scalars("x")] == [(0, 0.0), (1, 0.5), (2, 1.0)]
    assert [e.step for e in ea.Histograms("h")] == [0, 1, 2]


def test_building_a_trainer_installs_it(restore, tmp_path):
    from dlstudy.build import build, build_trainer, compose_train

    tb_crc.uninstall()
    cfg = compose_train("trainer=cpu", output_dir=tmp_path)
    build(cfg)  # fills the shapes the run config resolves
    build_trainer(cfg)
    assert record_writer.masked_crc32c is tb_crc.masked_crc32c
