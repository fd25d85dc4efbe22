"""Where the values of wanted keys are in FortiOS `key=value` lines: one compiled pass over each line's bytes.

The rules (FortiOS writes `key=value` pairs separated by spaces, string values in double quotes):
- A line's text starts after its PRI (`<189>`: up to the first `>`, when the line starts with `<` and the `>`
  comes before any quote mark), else at the line's start.
- A key is the text before an `=`, back to the previous space or `=` (or the text's start). An `=` with an odd
  number of quote marks before it in its line is inside a quoted value (a message, a user agent, a URL's query)
  and ends no key.
- A key's first occurrence in a line counts.
- Its value is the text between the quote marks after `="` (to the line's end when the closing one is missing),
  else the text after the `=` up to a space or a quote mark, or just past another `=`.
"""

from __future__ import annotations

import numpy as np

from detector.ingest.compiled import WantedKeys, kernel

_QUOTE, _SPACE, _EQUALS, _LESS, _GREATER = ord('"'), ord(" "), ord("="), ord("<"), ord(">")


def value_spans(data: np.ndarray, offsets: np.ndarray, keys: WantedKeys) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per line and key (in `keys.keys` order): whether the line has the key, and where its value starts and ends
    in `data` (undefined where the line has no such key)."""
    lines = len(offsets) - 1
    found = np.empty((lines, len(keys.keys)), np.bool_)
    starts = np.empty((lines, len(keys.keys)), np.int32)
    ends = np.empty((lines, len(keys.keys)), np.int32)
    _value_spans(data, offsets, keys.text, keys.start, keys.number, keys.first, keys.count, found, starts, ends)
    return found, starts, ends


@kernel
def _value_spans(data, offsets, key_text, key_start, key_number, first_of_length, count_of_length,
                 found, starts, ends):
    longest = len(first_of_length) - 1
    for line in range(len(offsets) - 1):
        line_start, line_end = offsets[line], offsets[line + 1]
        found[line, :] = False
        text = line_start
        if line_end > line_start and data[line_start] == _LESS:
            for at in range(line_start, line_end):
                if data[at] == _GREATER:
                    text = at + 1
                    break
                if data[at] == _QUOTE:
                    break
        quoted = False
        word = text  # where the text before the next `=` begins
        at = text
        while at < line_end:
            byte = data[at]
            if byte == _QUOTE:
                quoted = not quoted
            elif byte == _SPACE:
                word = at + 1
            elif byte == _EQUALS:
                length = at - word
                if not quoted and length <= longest:
                    for candidate in range(first_of_length[length], first_of_length[length] + count_of_length[length]):
                        same = True
                        for i in range(length):
                            if data[word + i] != key_text[key_start[candidate] + i]:
                                same = False
                                break
                        if same:
                            key = key_number[candidate]
                            if not found[line, key]:
                                found[line, key] = True
                                # the value: quoted, to the closing quote mark; else to a space, a quote mark, or
                                # just past another `=`
                                if at + 1 < line_end and data[at + 1] == _QUOTE:
                                    begin = end = at + 2
                                    while end < line_end and data[end] != _QUOTE:
                                        end += 1
                                else:
                                    begin = end = at + 1
                                    while end < line_end and data[end] != _QUOTE and data[end] != _SPACE:
                                        end += 1
                                        if data[end - 1] == _EQUALS:
                                            break
                                starts[line, key], ends[line, key] = begin, end
                            break
                word = at + 1
            at += 1
