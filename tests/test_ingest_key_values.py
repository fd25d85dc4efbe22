"""key_values.py: quote marks found in the text buffer, keys and their quoted values, as the SQL parsers read them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.key_values import (
    HIDDEN_QUOTE,
    key_items,
    key_numbers,
    last_words,
    quoted_pieces,
    quoted_values,
)

WANTED = [" src=", " dst="]
ENTRIES = [f'{key}"' for key in WANTED]


def values_of(*lines: str, typographic: bool = False) -> dict[str, list[str | None]]:
    split = quoted_pieces(pa.array(lines), typographic=typographic)
    first_keys = pc.binary_join_element_wise(" ", last_words(split.piece(0)), "")
    keys = ENTRIES + [f"{key}\u201c" for key in WANTED] if typographic else ENTRIES
    numbers = key_numbers(split.entries, keys)
    numbers[numbers >= 0] %= len(WANTED)
    return {key.strip(" ="): value.to_pylist()
            for key, value in quoted_values(split, first_keys, numbers, WANTED).items()}


def test_pieces_are_the_text_between_quote_marks_without_a_copy() -> None:
    text = pa.array(['a "b" c', "no quotes", 'open "end'])
    split = quoted_pieces(text)
    assert split.entries.buffers()[2].address == text.buffers()[2].address
    assert [split.piece(j).to_pylist() for j in range(3)] == [["a ", "no quotes", "open "], ["b", None, "end"],
                                                              [" c", None, None]]
    assert split.piece_counts().tolist() == [3, 1, 2]


def test_first_key_later_keys_and_first_occurrence() -> None:
    assert values_of('<14>1 h [x src="1.1.1.1" dst="2.2.2.2" src="9.9.9.9"]', 'p dst="4.4.4.4" src="3.3.3.3"') == {
        "src": ["1.1.1.1", "3.3.3.3"], "dst": ["2.2.2.2", "4.4.4.4"]}


def test_a_key_inside_a_quoted_value_is_no_key() -> None:
    assert values_of('x msg="a src=\\"5.5.5.5\\" b" dst="2.2.2.2"')["src"] == [None]


def test_escaped_quotes_stay_in_the_value_and_a_key_ending_the_line_has_none() -> None:
    found = values_of('x src="a\\"b" dst=')
    assert found == {"src": [f"a{HIDDEN_QUOTE}b"], "dst": [None]}


def test_quote_marks_pair_in_order_so_a_missing_one_shifts_the_pairs() -> None:
    assert values_of('x src="1.1.1.1 dst="2.2.2.2"') == {"src": ["1.1.1.1 dst="], "dst": [None]}


def test_typographic_quotes_count_as_quote_marks_when_asked() -> None:
    line = "x src=\u201c1.1.1.1\u201d dst=\u201c2.2.2.2\u201d"
    assert values_of(line, typographic=True) == {"src": ["1.1.1.1"], "dst": ["2.2.2.2"]}
    assert values_of(line) == {"src": [None], "dst": [None]}


def test_key_items_are_pieces_two_four_and_so_on() -> None:
    split = quoted_pieces(pa.array(['a "b" c "d" e', "x", 'p "q']))
    items, lines = key_items(split, np.array([True, True, True]))
    assert split.entries.take(pa.array(items)).to_pylist() == [' c "', " e"]
    assert lines.tolist() == [0, 0]
