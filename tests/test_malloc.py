"""dlstudy.malloc: after keep_freed_memory(), tensors of a few MB made and dropped step after step reuse the memory
the step before freed, instead of faulting in fresh pages (counted by the kernel: minor page faults)."""

import platform
import subprocess
import sys

import pytest

import dlstudy.train

PROBE = """
import ctypes, ctypes.util, resource, torch
from dlstudy.malloc import M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, keep_freed_memory

# glibc's starting thresholds (128 KB), pinned: its dynamic ones depend on what the process freed before (an
# import that compiled a large module may already have raised them past these tensors)
libc = ctypes.CDLL(ctypes.util.find_library("c"))
assert libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024) and libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024)

def faults():  # ten "steps", each making and dropping ten tensors of 2.4 MB, as a recurrent net's backward does
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        tensors = [torch.ones(600_000) for _ in range(10)]
        del tensors
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start

faults()
before = faults()
took = keep_freed_memory()
faults()
print(before, faults(), took)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_freed_blocks_are_reused_without_page_faults():
    """In a fresh process: glibc's starting thresholds fault in every step's 24 MB afresh (about one fault per
    4 KB page); afterwards the steps fault (next to) nothing."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    before, after, took = int(out[0]), int(out[1]), out[2] == "True"
    assert took
    assert before > 10 * 24 * 2**20 // 4096 // 2, before  # about a page fault per page, every step
    assert after < before / 100, (before, after)


def test_a_run_keeps_freed_memory(train, monkeypatch):
    calls = []
    monkeypatch.setattr(dlstudy.train, "keep_freed_memory", lambda: calls.append(True))
    train("debug=fast")
    assert calls == [True]
