"""glibc malloc settings for a gateway worker: keep freed memory for the next answer.

A native answer is megabytes, read in 256 KiB pieces that are freed once sent. By default
glibc hands the top of its heap back to the kernel as soon as 128 KiB of it is free, and
serves large blocks from mappings it unmaps on free, so the next answer faults the same
pages in again. How often depends on how a worker's heap happens to lie: in N3 (`make
bench`, 2 MB answers) one worker took 350 page faults and 0.4 ms more system CPU per
answer than an identical one beside it. Kept, the memory is reused without a fault.

The cost: a worker keeps up to ``KEEP_FREE_BYTES`` of freed heap after a burst instead of
returning it (N5's peak with a hundred 8 MB answers in flight stays far under its target).
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

KEEP_FREE_BYTES = 64 << 20  # free heap top kept rather than trimmed
GROW_BYTES = 16 << 20  # extra asked of the kernel each time the heap grows
# Blocks under this come from the heap, where a free keeps them; past it (a whole answer
# joined for transcoding, say) they are mapped and unmapped as before. glibc's maximum is
# 32 MiB on 64-bit systems.
HEAP_BLOCK_BYTES = 16 << 20


def keep_freed_memory() -> bool:
    """Apply the settings in this process. False where there is no glibc ``mallopt`` (musl,
    macOS): the allocator's defaults then stay, which only costs speed."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    settings = ((M_MMAP_THRESHOLD, HEAP_BLOCK_BYTES), (M_TRIM_THRESHOLD, KEEP_FREE_BYTES),
                (M_TOP_PAD, GROW_BYTES))
    return all([mallopt(parameter, value) == 1 for parameter, value in settings])
