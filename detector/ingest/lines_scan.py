"""The reader's compiled step: complete lines cut out of the bytes read and copied, without their newline and the
CRs before it, one after the other into a batch's text buffer (see reader.py for when it is used).

Why compiled: numpy's and Arrow's way takes four passes over every byte (`== 10`, `flatnonzero`, offsets, Arrow's
`ascii_rtrim` copying each line into a fresh buffer), ~0.5-0.66 s per GB of JSON lines (OCSF, Suricata, Defender;
8 MiB reads, /tmp/reader/kbench.py). Here each line is found by the C library's `memchr` and copied by `memcpy`
while it is in the cache: ~0.07-0.085 s per GB. And the lines of a whole batch land in one buffer: one Arrow chunk
a batch, so parsers that need the lines as one array no longer copy them (a batch's 32 MiB, ~6 ms).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from detector.ingest.compiled import kernel

_NEWLINE = 10
_CR = 13


@intrinsic
def _find_byte(typingctx, array, start, stop, byte):  # type: ignore[no-untyped-def]
    """Where `byte` first is in array[start:stop] (the C library's memchr, many bytes a cycle), or `stop`."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        data = context.make_array(signature.args[0])(context, builder, args[0])
        bytes_pointer = ir.IntType(8).as_pointer()
        memchr_type = ir.FunctionType(bytes_pointer, [bytes_pointer, ir.IntType(32), ir.IntType(64)])
        memchr = cgutils.get_or_insert_function(builder.module, memchr_type, "memchr")
        base = builder.bitcast(data.data, bytes_pointer)
        found = builder.call(memchr, [builder.gep(base, [args[1]]), builder.trunc(args[3], ir.IntType(32)),
                                      builder.sub(args[2], args[1])])
        at = builder.sub(builder.ptrtoint(found, ir.IntType(64)), builder.ptrtoint(base, ir.IntType(64)))
        return builder.select(builder.icmp_unsigned("==", found, ir.Constant(bytes_pointer, None)), args[2], at)

    return types.int64(array, types.int64, types.int64, types.int64), codegen


@intrinsic
def _copy(typingctx, target, target_at, source, source_at, count):  # type: ignore[no-untyped-def]
    """source[source_at:source_at + count] into target from `target_at` (memcpy)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        into = context.make_array(signature.args[0])(context, builder, args[0])
        out_of = context.make_array(signature.args[2])(context, builder, args[2])
        cgutils.raw_memcpy(builder, builder.gep(into.data, [args[1]]), builder.gep(out_of.data, [args[3]]), args[4], 1)

    return types.void(target, types.int64, source, types.int64, types.int64), codegen


@kernel
def trimmed_lines(data, out, written, ends, first):  # type: ignore[no-untyped-def]
    """The lines of `data` (complete lines, each ending with a newline) copied into `out` from `written`, without
    their newline and the CRs before it; line k's end in ends[first + 1 + k] (ends[first] is where the first
    starts). Stops where `ends` is full. Returns (lines, bytes of `data` consumed, end of the text in `out`, the
    longest line's length). `out` needs room for len(data) bytes from `written`."""
    at = 0
    lines = 0
    longest = 0
    room = len(ends) - first - 1
    stop = len(data)
    while at < stop and lines < room:
        newline = _find_byte(data, np.int64(at), np.int64(stop), np.int64(_NEWLINE))
        end = newline
        while end > at and data[end - 1] == _CR:
            end -= 1
        length = end - at
        _copy(out, np.int64(written), data, np.int64(at), np.int64(length))
        written += length
        longest = max(longest, length)
        lines += 1
        ends[first + lines] = written
        at = newline + 1
    return lines, at, written, longest
