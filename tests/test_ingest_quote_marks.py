"""key_values.quote_marks / marked_values: quote marks as positions in the text buffer, keys and their values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.key_values import HIDDEN_QUOTE, key_numbers, last_words, marked_values, quote_marks

WANTED = [" src=", " dst="]
ENTRIES = [f'"{key}' for key in WANTED]


def values_of(*lines: str, typographic: bool = False, text: pa.Array | None = None) -> dict[str, list[str | None]]:
    marks = quote_marks(pa.array(lines) if text is None else text, typographic=typographic)
    first_keys = pc.binary_join_element_wise(" ", last_words(marks.head()), "")
    keys = ENTRIES + [f"{mark}{key}" for mark in "\u201c\u201d" for key in WANTED] if typographic else ENTRIES
    numbers = key_numbers(marks.keyed_pieces(), keys)
    numbers[numbers >= 0] %= len(WANTED)
    return {key.strip(" ="): value.to_pylist()
            for key, value in marked_values(marks, first_keys, numbers, WANTED).items()}


def test_every_line_gets_an_even_number_of_marks_and_heads_are_the_text_before_the_first() -> None:
    text = pa.array(['a "b" c', "no quotes", 'open "end', ""])
    marks = quote_marks(text)
    assert np.diff(marks.first).tolist() == [2, 0, 2, 0]
    assert marks.head().to_pylist() == ["a ", "no quotes", "open ", ""]
    assert marks.keyed_pieces().buffers()[2].address == text.buffers()[2].address


def test_first_key_later_keys_and_first_occurrence() -> None:
    assert values_of('<14>1 h [x src="1.1.1.1" dst="2.2.2.2" src="9.9.9.9"]', 'p dst="4.4.4.4" src="3.3.3.3"') == {
        "src": ["1.1.1.1", "3.3.3.3"], "dst": ["2.2.2.2", "4.4.4.4"]}


def test_a_key_inside_a_quoted_value_is_no_key() -> None:
    assert values_of('x msg="a src=\\"5.5.5.5\\" b" dst="2.2.2.2"')["src"] == [None]


def test_escaped_quotes_stay_in_the_value_an_unclosed_value_runs_to_the_end_and_a_key_ending_the_line_has_none(
) -> None:
    assert values_of('x src="a\\"b" dst=') == {"src": [f"a{HIDDEN_QUOTE}b"], "dst": [None]}
    assert values_of('x src="1" dst="2', 'y dst="3"') == {"src": ["1", None], "dst": ["2", "3"]}
    assert values_of('"x src="1"', 'src="2"') == {"src": [None, "2"], "dst": [None, None]}


def test_a_quote_opening_a_line_is_not_escaped_by_the_line_before() -> None:
    assert values_of('a src="1\\', '" src="2"') == {"src": ["1\\", None], "dst": [None, None]}


def test_quote_marks_pair_in_order_so_a_missing_one_shifts_the_pairs() -> None:
    assert values_of('x src="1.1.1.1 dst="2.2.2.2"') == {"src": ["1.1.1.1 dst="], "dst": [None]}


def test_typographic_quotes_count_as_quote_marks_when_asked() -> None:
    line = "x src=\u201c1.1.1.1\u201d dst=\u201c2.2.2.2\u201d \u20ac"
    assert values_of(line, 'p src="3"', typographic=True) == {"src": ["1.1.1.1", "3"], "dst": ["2.2.2.2", None]}
    assert values_of(line) == {"src": [None], "dst": [None]}


def test_a_slice_of_lines_reads_its_own_lines() -> None:
    text = pa.array(['a src="0"', 'b src="1" dst="2"', "c src=\u201c3\u201d", 'd dst="4"']).slice(1, 2)
    assert values_of(text=text, typographic=True) == {"src": ["1", "3"], "dst": ["2", None]}


def test_key_marks_are_the_opening_marks_after_each_line_first() -> None:
    marks = quote_marks(pa.array(['a "b" c "d" e "f"', "x", 'p "q']))
    found, lines = marks.key_marks(np.array([True, True, True]))
    assert marks.key_texts(found).to_pylist() == [" c ", " e "]
    assert lines.tolist() == [0, 0]


def test_many_lines_each_get_their_own_values() -> None:
    lines = [f'x dst="{n}" src="{n + 1}"' for n in range(40_000)]
    found = values_of(*lines)
    assert found["dst"] == [str(n) for n in range(40_000)] and found["src"] == [str(n + 1) for n in range(40_000)]


def test_lines_not_read_get_no_values_and_the_others_the_same() -> None:
    lines = ['x src="1" dst="2"', 'x src="3" src="4"', 'x dst="5" src="6"']
    marks = quote_marks(pa.array(lines))
    first_keys = pc.binary_join_element_wise(" ", last_words(marks.head()), "")
    numbers = key_numbers(marks.keyed_pieces(), ENTRIES)
    every = marked_values(marks, first_keys, numbers, WANTED)
    some = marked_values(marks, first_keys, numbers, WANTED, read=np.array([True, False, True]))
    assert {key: value.to_pylist() for key, value in every.items()} == {
        " src=": ["1", "3", "6"], " dst=": ["2", None, "5"]}
    assert {key: value.to_pylist() for key, value in some.items()} == {
        " src=": ["1", None, "6"], " dst=": ["2", None, "5"]}
    nothing = marked_values(marks, first_keys, numbers, WANTED, read=np.zeros(3, bool))
    assert all(value.null_count == 3 and value.type == pa.string() for value in nothing.values())
