"""Loops over a batch's bytes compiled to machine code (Numba), for formats whose fields numpy and SQL cannot
find without many passes over every byte.

Why compiled: a key=value or JSON line of 400-900 bytes costs numpy a full pass per character it looks for (quote
marks, `=`, spaces ...) and SQL tens of nanoseconds per row per string function; a compiled loop reads each byte
once, in the CPU's cache, and releases the GIL, so that both parsing threads run at once.

Numba compiles a kernel on its first call and caches the machine code on disk: in `__pycache__` beside the
kernel's module, or in the user's cache directory where that is read-only (`NUMBA_CACHE_DIR` chooses another).
Later runs only load it. Nothing is fetched from the network. The cache is renewed when the kernel's own source
file changes, not when another module does: so a kernel calls only kernels of its own module, and reads module
constants, not variables (Numba fixes a global's value when it compiles). A call from one kernel to another that
passes arrays costs ~60 ns unless LLVM inlines it (FortiGate's and CEF's first scans were 2-4x slower so): a
step done per byte or per key belongs inside the loop. `NUMBA_DISABLE_JIT=1` runs the kernels as plain Python,
to step through them in a debugger.

Kernels live in modules of their own (`*_scan.py`) that import this one, and a format imports its kernel module
when it makes a parser: `import detector.ingest`, and formats without kernels, never load Numba (about 0.2 s
CPU of imports, and 0.5 s more to load the first kernel).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

Kernel = TypeVar("Kernel", bound=Callable)


def _array_support_without_blas() -> None:
    """Numba's array functions (`numba.np.arraymath`, loaded with the first kernel) check whether SciPy's BLAS is
    there by importing `scipy.linalg`: ~0.2-0.3 s CPU per process, for linear algebra that no kernel uses (one that
    calls `np.dot` would not compile). They are loaded here with that module hidden, so the check finds none;
    SciPy itself stays importable for the model (the module is hidden only while they load)."""
    hidden = "scipy.linalg.cython_blas"
    if hidden in sys.modules:  # (already imported: nothing to save)
        return
    sys.modules[hidden] = None  # type: ignore[assignment]
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if hidden in sys.modules and sys.modules[hidden] is None:
            del sys.modules[hidden]


_array_support_without_blas()


def kernel(function: Kernel) -> Kernel:
    """`function` compiled on its first call (for the argument types of that call), cached on disk, run without
    the GIL. Its body may use only what Numba compiles: numpy arrays and scalars, loops, other kernels."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


def inlined(function: Kernel) -> Kernel:
    """A step of a kernel compiled into each call's place (Numba IR inlining): a call that passes arrays costs
    ~60 ns otherwise (see above), which a step run for every token of a line cannot afford."""
    return numba.njit(inline="always", cache=True, nogil=True)(function)


class WantedKeys:
    """Keys (or field names) a kernel looks for, as it reads them: their UTF-8 bytes one after the other in order
    of length (`text`, each one's `start`), each one's place in the given order (`number`), and per length the
    first of them (`first`) and how many there are (`count`): a word is compared, byte by byte in the kernel's
    own loop, only with the keys of its length."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = tuple(keys)
        encoded = [key.encode() for key in keys]
        by_length = sorted(range(len(keys)), key=lambda number: len(encoded[number]))
        self.number = np.array(by_length, np.int64)
        self.text = np.frombuffer(b"".join(encoded[number] for number in by_length), np.uint8)
        lengths = np.array([len(encoded[number]) for number in by_length], np.int64)
        self.start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        # the keys of each length: number[first[n]:first[n] + count[n]]
        self.count = np.bincount(lengths, minlength=int(lengths.max(initial=0)) + 1).astype(np.int64)
        self.first = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)


@intrinsic
def load_word(typingctx, array, at):
    """The eight bytes of a byte array from position `at` as one word (little-endian), in one unaligned load."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0])
        load = builder.load(builder.bitcast(builder.gep(data.data, [args[1]]), ir.IntType(64).as_pointer()))
        load.align = 1
        return load

    return types.uint64(array, at), codegen


@intrinsic
def store_word(typingctx, array, at, word):
    """`word`'s eight bytes into a byte array from position `at` (little-endian), in one unaligned store."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0])
        store = builder.store(args[2], builder.bitcast(builder.gep(data.data, [args[1]]), ir.IntType(64).as_pointer()))
        store.align = 1

    return types.void(array, at, word), codegen


# Set last: this module is in sys.modules from the start of its import, while a parse thread may still be importing
# Numba through it. line_cuts lets the reading thread use its kernel only once this is set: importing Numba's modules
# in two threads at once can hand one of them a half-initialised module (Python's import locks break the deadlock so).
LOADED = True
