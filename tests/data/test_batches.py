import pytest
import torch

from dlstudy.data import BatchLoader


def loader(**kw):
    X = torch.arange(10.0)[:, None]
    return BatchLoader(X, torch.arange(10), batch_size=4, **kw)


def test_every_sample_once_per_epoch_in_whole_batches():
    dl = loader(shuffle=True, seed=3)
    batches = list(dl)
    assert len(dl) == len(batches) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    ys = torch.cat([y for _, y in batches])
    assert sorted(ys.tolist()) == list(range(10))
    assert all(torch.equal(X[:, 0].long(), y) for X, y in batches), "X and y stay paired"


def test_order_follows_seed_and_epoch():
    def order(seed, epoch):
        dl = loader(shuffle=True, seed=seed)
        dl.set_epoch(epoch)
        return torch.cat([y for _, y in dl]).tolist()
    assert order(1, 0) == order(1, 0)
    assert order(1, 0) != order(1, 1)
    assert order(1, 0) != order(2, 0)


def test_unshuffled_and_drop_last():
    assert torch.cat([y for _, y in loader()]).tolist() == list(range(10))
    dl = loader(drop_last=True)
    assert len(dl) == 2 and len(list(dl)) == 2


def rank_loaders(n, batch_size, world_size, **kw):
    X = torch.arange(float(n))[:, None]
    return [BatchLoader(X, torch.arange(n), batch_size, rank=r, world_size=world_size, **kw) for r in range(world_size)]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n, batch_size, world_size", [
    (10, 4, 1), (10, 4, 2), (11, 4, 2), (9, 4, 2), (17, 4, 2), (359, 64, 2), (359, 179, 2), (10, 3, 3), (13, 2, 4),
    (7, 1, 2), (5, 8, 4)])
def test_ranks_share_every_sample_once_in_equal_steps(n, batch_size, world_size, shuffle):
    """Disjoint shards that cover the epoch, the same number of non-empty batches on every rank."""
    loaders = rank_loaders(n, batch_size, world_size, shuffle=shuffle, seed=1)
    epochs = [list(dl) for dl in loaders]
    assert {len(b) for b in epochs} == {len(loaders[0])}, "every rank makes the same number of steps"
    assert all(1 <= len(y) <= batch_size + 1 for b in epochs for _, y in b)
    seen = torch.cat([y for b in epochs for _, y in b]).tolist()
    assert sorted(seen) == list(range(n)), "each sample exactly once across the ranks"
    assert all(torch.equal(X[:, 0].long(), y) for b in epochs for X, y in b), "X and y stay paired"


def test_ranks_with_drop_last_take_whole_global_batches():
    epochs = [list(dl) for dl in rank_loaders(11, 2, 2, drop_last=True)]
    assert [[y.tolist() for _, y in b] for b in epochs] == [[[0, 1], [4, 5]], [[2, 3], [6, 7]]]


def test_fewer_samples_than_ranks_is_refused():
    with pytest.raises(ValueError, match="3 samples cannot be shared between 4 ranks"):
        rank_loaders(3, 1, 4)
