"""glibc's malloc told to keep the memory a training step frees, for the next step to reuse (Linux).

torch's CPU allocator asks malloc for every tensor. glibc serves a large block (above 128 KB at first, a
threshold it raises as such blocks are freed) from a fresh mapping, and gives memory back to the system when
the free space at the top of its heap grows past a trim threshold. A training step that makes and drops many
tensors of a few MB (a recurrent net's backward over 100 steps, a CNN's activations) then has the kernel map and
zero fresh pages at every step: page faults, not arithmetic. `keep_freed_memory()` sets the mapping threshold
to glibc's largest (32 MB: smaller blocks come from the heap) and the trim threshold to 1 GiB (freed memory
stays with the process). The results are the same to the bit (an allocator does no arithmetic); the cost is a
process that holds on to its peak heap. PyTorch's CPU tuning guide gets the same effect by preloading jemalloc
or tcmalloc. Elsewhere than glibc (macOS, musl) it does nothing.
"""

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest on 64-bit systems (HEAP_MAX_SIZE / 2); mallopt refuses more
TRIM_THRESHOLD = 2**30


def keep_freed_memory() -> bool:
    """Set both thresholds in this process (and the processes it forks from now on); whether malloc took them."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
