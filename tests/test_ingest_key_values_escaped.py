"""key_values: escaped quotes are hidden only in the values that hold one, found where quote_marks saw them."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.key_values import HIDDEN_QUOTE, key_numbers, last_words, marked_values, quote_marks

WANTED = [" src=", " dst=", " user="]


def values_of(lines: list[str], forget_escaped: bool = False) -> dict[str, list[str | None]]:
    marks = quote_marks(pa.array(lines), typographic=True)
    if forget_escaped:  # as a QuoteMarks built without the positions: every value with a backslash is read
        marks = dataclasses.replace(marks, escaped=None)
    first_keys = pc.binary_join_element_wise(" ", last_words(marks.head()), "")
    numbers = key_numbers(marks.keyed_pieces(), [f'"{key}' for key in WANTED])
    return {key.strip(" ="): value.to_pylist()
            for key, value in marked_values(marks, first_keys, numbers, WANTED).items()}


def test_escaped_quotes_are_positions_and_only_their_values_change() -> None:
    lines = [
        'x src="1" user="DOM\\\\jan" dst="2"',  # a backslash, no escaped quote
        'x src="a\\"b\\"c" dst="3" user="q\\"',  # two in one value; one closing a value that then runs on
        'x msg="k \\" src=\\"5\\"" dst="4"',  # in a value that is not wanted: no key inside it
        '\\" src="6" dst=\u201c7\u201d',  # escaped after a line's first byte; typographic marks are never escaped
    ]
    marks = quote_marks(pa.array(lines), typographic=True)
    assert marks.escaped is not None and len(marks.escaped) == 7
    expected = {
        "src": ["1", f"a{HIDDEN_QUOTE}b{HIDDEN_QUOTE}c", None, "6"],
        "dst": ["2", "3", "4", "7"],
        "user": ["DOM\\\\jan", f"q{HIDDEN_QUOTE}", None, None],
    }
    assert values_of(lines) == expected
    assert values_of(lines, forget_escaped=True) == expected


def test_no_escaped_quote_leaves_the_values_as_cut() -> None:
    lines = ['x src="C:\\\\dir\\\\" dst="2"', 'x src="\\\\" dst="\\"']
    marks = quote_marks(pa.array(lines))
    assert marks.escaped is not None
    assert values_of(lines) == values_of(lines, forget_escaped=True)
