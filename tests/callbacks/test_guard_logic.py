"""DivergenceGuard and GracefulStop hook by hook, on a stand-in trainer: what each reads, counts, names and writes."""

import signal
from types import SimpleNamespace

import pytest
import torch

from dlstudy.callbacks import guards
from dlstudy.callbacks.guards import DivergenceGuard, Diverged, GracefulStop


class Writer:
    def __init__(self):
        self.scalars, self.texts, self.flushed = [], [], 0

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def add_text(self, tag, text, step):
        self.texts.append((tag, text, step))

    def flush(self):
        self.flushed += 1


def trainer(step: int = 0, epoch: int = 0, lr: float | None = 0.5):
    optimizers = [] if lr is None else [torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)]
    return SimpleNamespace(global_step=step, current_epoch=epoch, optimizers=optimizers)


def feed(guard: DivergenceGuard, t, losses, as_dict: bool = True) -> None:
    """One batch at the trainer's step, then the step advances by the number of losses the batch carries."""
    loss = torch.as_tensor(losses, dtype=torch.float32)
    guard.on_train_batch_start(t, None, None, 0)
    guard.on_train_batch_end(t, None, {"loss": loss} if as_dict else loss, None, 0)
    t.global_step += loss.numel()


@pytest.fixture
def writer(monkeypatch):
    w = Writer()
    monkeypatch.setattr(guards, "writer_of", lambda trainer: w)
    return w


def test_a_bare_tensor_output_is_a_loss_too(writer):
    guard, t = DivergenceGuard(), trainer()
    feed(guard, t, 1.0, as_dict=False)
    with pytest.raises(Diverged, match="at step 1 "):
        feed(guard, t, float("inf"), as_dict=False)


def test_divergence_is_written_to_tensorboard_at_its_step(writer):
    guard, t = DivergenceGuard(), trainer(step=7, epoch=2)
    with pytest.raises(Diverged) as e:
        feed(guard, t, float("nan"))
    assert writer.scalars == [("status/diverged", 1.0, 7)]
    assert writer.texts == [("status", str(e.value), 7)] and writer.flushed == 1


def test_the_step_inside_a_group_of_losses(writer):
    """A multistep batch carries its steps' losses, the first at the batch's start: the bad one is named exactly."""
    guard, t = DivergenceGuard(every_n_steps=100), trainer(step=10, epoch=1)
    feed(guard, t, [1.0, 1.0, 1.0, 1.0])
    feed(guard, t, [1.0, 1.0, float("nan"), 1.0])  # steps 14..17, NaN at 16
    with pytest.raises(Diverged, match=r"loss = nan at step 16 \(epoch 1\); .*lr = 0.5"):
        guard.check(t)


def test_every_pending_batch_is_read(writer):
    guard, t = DivergenceGuard(every_n_steps=100), trainer()
    for loss in (1.0, 1.0, float("inf")):
        feed(guard, t, loss)
    with pytest.raises(Diverged, match="at step 2 "):
        guard.on_train_epoch_end(t, None)


@pytest.mark.parametrize("hook", ["on_train_epoch_end", "on_train_end", "on_validation_start"])
def test_hooks_that_read_what_is_pending(writer, hook):
    guard, t = DivergenceGuard(every_n_steps=100), trainer(lr=None)
    feed(guard, t, [1.0, float("nan")])
    with pytest.raises(Diverged, match=r"at step 1 .*\(lr = None\)"):
        getattr(guard, hook)(t, None)


def test_the_count_restarts_after_each_read(monkeypatch, writer):
    guard, t = DivergenceGuard(every_n_steps=3), trainer()
    reads = []
    check = guard.check
    monkeypatch.setattr(guard, "check", lambda tr: (reads.append(tr.global_step), check(tr)))
    for _ in range(9):
        feed(guard, t, 1.0)
    assert reads == [2, 5, 8], "read after every third step"


def test_off_the_cpu_losses_wait_for_fifty_steps(monkeypatch):
    """A loss on an accelerator (the meta device stands in: it has no values to read) is not read at once."""
    guard, t, reads = DivergenceGuard(), trainer(), []
    monkeypatch.setattr(guard, "check", lambda tr: reads.append(tr.global_step))
    for _ in range(50):
        guard.on_train_batch_start(t, None, None, 0)
        guard.on_train_batch_end(t, None, {"loss": torch.empty((), device="meta")}, None, 0)
        t.global_step += 1
    assert reads == [49]


@pytest.mark.parametrize("first, loss, diverged", [
    (2.0, 20.0, False),  # exactly the multiple: not above it
    (2.0, 20.001, True),
    (0.5, 4.0, False),  # 10 x 0.5 = 5; a factor divided by the first loss would be 20
    (0.5, 5.5, True),
    (0.0, 1.0, False),  # a first loss of 0 has no multiple
    (-1.0, 100.0, False),
])
def test_the_multiple_of_the_first_loss(first, loss, diverged):
    guard = DivergenceGuard(max_loss_factor=10)
    guard.first_loss = first
    assert guard.diverged(loss) is diverged
    assert DivergenceGuard(max_loss_factor=10).diverged(loss, first=first) is diverged, "before the first loss is read"


class Strategy:
    def __init__(self, answer: bool):
        self.answer, self.calls = answer, []

    def reduce_boolean_decision(self, decision, all=True):
        self.calls.append((decision, all))
        return self.answer


def ranks(world_size: int, answer: bool, tmp_path, last_batch: bool = False, validates: bool = False):
    """A trainer in the middle of an epoch of 10 batches (or at its last batch); `validates`: Lightning runs a
    validation after the current batch. Its saves are recorded in `saved`."""
    progress = SimpleNamespace(is_last_batch=last_batch)
    epoch_loop = SimpleNamespace(batch_progress=progress, _should_check_val_fx=lambda fetcher: validates)
    saved = []
    return SimpleNamespace(world_size=world_size, strategy=Strategy(answer), checkpoint_callback=None,
                           checkpoint_callbacks=[], sanity_checking=False, default_root_dir=str(tmp_path),
                           save_checkpoint=saved.append, saved=saved, should_stop=False,
                           fit_loop=SimpleNamespace(epoch_loop=epoch_loop, _data_fetcher=None), num_training_batches=10)


def test_under_ddp_any_rank_signalled_stops_all(tmp_path):
    stop = GracefulStop()
    t = ranks(2, answer=True, tmp_path=tmp_path)  # another rank was signalled
    with pytest.raises(guards.Interrupted) as e:
        stop.on_train_batch_end(t, None, None, None, 0)
    assert t.strategy.calls == [(False, False)], "this rank's own answer, reduced with any(), not all()"
    assert e.value.exit_code == 128 + signal.SIGTERM, "a rank not signalled itself stops as if TERM"


def test_one_process_asks_no_other_rank(tmp_path):
    stop = GracefulStop()
    t = ranks(1, answer=True, tmp_path=tmp_path)
    stop.on_train_batch_end(t, None, None, None, 0)
    assert t.strategy.calls == [], "no collective call with one rank"


def test_a_signal_reaches_the_callback_and_the_old_handler_comes_back(tmp_path):
    """The handler that was there before is one that fails the test if it is ever called."""

    def unhandled(signum, frame):
        raise AssertionError("the signal reached the previous handler, not GracefulStop")

    before = signal.signal(signal.SIGUSR2, unhandled)
    try:
        stop = GracefulStop()
        stop.on_train_start(None, None)
        signal.raise_signal(signal.SIGUSR2)
        assert stop.signum == signal.SIGUSR2
        with pytest.raises(guards.Interrupted, match="stopped by SIGUSR2"):
            stop.on_train_batch_end(ranks(1, answer=False, tmp_path=tmp_path), None, None, None, 0)
        stop.teardown(None, None, "fit")
        assert signal.getsignal(signal.SIGUSR2) is unhandled
    finally:
        signal.signal(signal.SIGUSR2, before)


def test_a_signal_in_an_epochs_last_batch_stops_after_the_epoch_ends(tmp_path):
    """Validation and the epoch's metrics come after the last batch: the stop waits for them, then for the fit."""
    stop, t = GracefulStop(), ranks(1, answer=False, tmp_path=tmp_path, last_batch=True)
    stop.signum = signal.SIGTERM
    stop.on_train_batch_end(t, None, None, None, 9)
    assert not t.should_stop, "not yet: Lightning would log this step's metrics again"
    stop.on_train_epoch_end(t, None)
    assert t.should_stop
    with pytest.raises(guards.Interrupted, match="stopped by SIGTERM"):
        stop.on_train_end(t, None)


def test_a_signal_in_the_last_batch_by_count_also_waits(tmp_path):
    """limit_train_batches: the fetcher is not done, but the epoch's batch count is reached."""
    stop, t = GracefulStop(), ranks(1, answer=False, tmp_path=tmp_path)
    stop.signum = signal.SIGINT
    stop.on_train_batch_end(t, None, None, None, 9)  # batch 10 of 10
    stop.on_train_epoch_end(t, None)
    assert t.should_stop


def test_where_lightning_goes_on_after_the_epoch_the_next_batch_stops(tmp_path):
    """min_epochs not reached: Lightning starts another epoch despite should_stop; the stop comes after its first batch."""
    stop, t = GracefulStop(), ranks(1, answer=False, tmp_path=tmp_path, last_batch=True)
    stop.signum = signal.SIGTERM
    stop.on_train_batch_end(t, None, None, None, 9)
    stop.on_train_epoch_end(t, None)
    stop.on_train_epoch_start(t, None)
    t.fit_loop.epoch_loop.batch_progress.is_last_batch = False
    with pytest.raises(guards.Interrupted):
        stop.on_train_batch_end(t, None, None, None, 0)


def test_a_signal_before_a_mid_epoch_validation_stops_after_it(tmp_path):
    """val_check_interval: the validation after the signalled batch runs, last.ckpt is written at its end (where
    Lightning resumes from a validation's checkpoint), and the run stops before the next batch; a sanity check's
    validation does not count."""
    stop, t = GracefulStop(), ranks(1, answer=False, tmp_path=tmp_path, validates=True)
    stop.signum = signal.SIGTERM
    stop.on_train_batch_end(t, None, None, None, 4)
    assert t.saved == []
    t.sanity_checking = True
    stop.on_validation_end(t, None)
    assert t.saved == []
    t.sanity_checking = False
    stop.on_validation_end(t, None)
    assert t.saved == [str(tmp_path / "checkpoints" / "last.ckpt")]
    with pytest.raises(guards.Interrupted, match="stopped by SIGTERM"):
        stop.on_train_batch_start(t, None, None, 5)


def test_the_stop_waits_for_model_checkpoint_to_save_first(tmp_path):
    """The checkpoint holds ModelCheckpoint's state after the validation (best score and paths), so theirs runs
    before the save; its last.ckpt is the one written, not one it would keep apart as last-v1.ckpt."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    order = []

    class Recording(ModelCheckpoint):
        def on_validation_end(self, trainer, pl_module):
            order.append("ModelCheckpoint")

    stop, t = GracefulStop(), ranks(1, answer=False, tmp_path=tmp_path, validates=True)
    t.checkpoint_callback = Recording(dirpath=tmp_path / "checkpoints", save_last=True)
    t.checkpoint_callbacks = [t.checkpoint_callback]
    t.save_checkpoint = lambda path: order.append(path)
    stop.signum = signal.SIGINT
    stop.on_train_batch_end(t, None, None, None, 4)
    stop.on_validation_end(t, None)
    last = str(tmp_path / "checkpoints" / "last.ckpt")
    assert order == ["ModelCheckpoint", last] and t.checkpoint_callback.last_model_path == last


def test_a_validation_that_does_not_come_stops_the_next_batch(tmp_path):
    """A time-based interval may decide otherwise after the batch than at its end: the next batch stops as usual."""
    stop, t = GracefulStop(), ranks(1, answer=False, tmp_path=tmp_path, validates=True)
    stop.signum = signal.SIGTERM
    stop.on_train_batch_end(t, None, None, None, 4)
    stop.on_train_batch_start(t, None, None, 5)  # no validation came
    with pytest.raises(guards.Interrupted):
        stop.on_train_batch_end(t, None, None, None, 5)
    assert len(t.saved) == 1


def test_a_fit_that_ends_with_the_deferred_validation_still_stops(tmp_path):
    """max_steps reached at the signalled batch: no next batch starts, the end of the fit stops it."""
    stop, t = GracefulStop(), ranks(1, answer=False, tmp_path=tmp_path, validates=True)
    stop.signum = signal.SIGTERM
    stop.on_train_batch_end(t, None, None, None, 4)
    stop.on_validation_end(t, None)
    with pytest.raises(guards.Interrupted):
        stop.on_train_end(t, None)
    assert len(t.saved) == 1


def test_teardown_without_training_is_harmless():
    """`trainer.validate` or `trainer.test` tear a callback down that never saw a training start."""
    GracefulStop().teardown(None, None, "validate")


def test_a_checkpoint_reads_what_is_pending_first(writer):
    guard, t = DivergenceGuard(every_n_steps=100), trainer()
    feed(guard, t, [1.0, float("inf")])
    with pytest.raises(Diverged, match="at step 1 "):
        guard.on_save_checkpoint(t, None, {})
