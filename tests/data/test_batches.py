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
