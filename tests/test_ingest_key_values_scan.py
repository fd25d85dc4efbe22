"""key_values_scan.QuotedValues: quote marks, keys and their values found by one compiled pass over each line."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.compiled import WantedKeys
from detector.ingest.key_values import HIDDEN_QUOTE
from detector.ingest.key_values_scan import LastWordLines, QuotedValues

SPACED = WantedKeys(["src=", "dst="])


def scanned(*lines: str, text: pa.Array | None = None, typographic: bool = False) -> QuotedValues:
    return QuotedValues(pa.array(lines, pa.string()) if text is None else text, SPACED, " ", LastWordLines.PAIRED,
                        typographic=typographic)


def values_of(*lines: str, text: pa.Array | None = None, typographic: bool = False,
              read: np.ndarray | None = None) -> dict[str, list[str | None]]:
    found = scanned(*lines, text=text, typographic=typographic)
    return {key.strip("="): value.to_pylist() for key, value in found.columns(read).items()}


def test_heads_are_the_text_before_the_first_mark_and_values_are_counted_in_pairs() -> None:
    found = scanned('a "b" c', "no quotes", 'open "end', "", '"', 'x "1" "2" "3"')
    assert found.head().to_pylist() == ["a ", "no quotes", "open ", "", "", "x "]
    assert found.values.tolist() == [1, 0, 1, 0, 1, 3]


def test_first_key_later_keys_and_first_occurrence() -> None:
    assert values_of('<14>1 h [x src="1.1.1.1" dst="2.2.2.2" src="9.9.9.9"]', 'p dst="4.4.4.4" src="3.3.3.3"') == {
        "src": ["1.1.1.1", "3.3.3.3"], "dst": ["2.2.2.2", "4.4.4.4"]}


def test_a_key_inside_a_quoted_value_is_no_key_and_a_key_piece_is_read_exactly() -> None:
    assert values_of('x msg="a src=\\"5.5.5.5\\" b" dst="2.2.2.2"')["src"] == [None]
    assert values_of('x a="1"  src="2" dst="3"', 'x a="1" xsrc="2" dst="3"', 'x a="1"src="2"') == {
        "src": [None, None, None], "dst": ["3", "3", None]}


def test_escaped_quotes_stay_in_the_value_an_unclosed_value_runs_to_the_end_and_a_key_ending_the_line_has_none(
) -> None:
    assert values_of('x src="a\\"b" dst=') == {"src": [f"a{HIDDEN_QUOTE}b"], "dst": [None]}
    assert values_of('x src="1" dst="2', 'y dst="3"') == {"src": ["1", None], "dst": ["2", "3"]}
    assert values_of('"x src="1"', 'src="2"') == {"src": [None, "2"], "dst": [None, None]}


def test_escaped_quotes_become_hidden_quotes_only_where_escaped() -> None:
    lines = [
        'x src="1" user="DOM\\\\jan" dst="2"',  # a backslash, no escaped quote
        'x src="a\\"b\\"c" dst="3" user="q\\"',  # two in one value; one closing a value that then runs on
        'x msg="k \\" src=\\"5\\"" dst="4"',  # in a value that is not wanted: no key inside it
        '\\" src="6" dst=\u201c7\u201d',  # escaped after a line's first byte; typographic marks are never escaped
        'x src="C:\\\\dir\\\\" dst="8"',  # `\\"`: the quote after the second backslash is escaped
    ]
    assert values_of(*lines, typographic=True) == {
        "src": ["1", f"a{HIDDEN_QUOTE}b{HIDDEN_QUOTE}c", None, "6", f"C:\\\\dir\\{HIDDEN_QUOTE} dst="],
        "dst": ["2", "3", "4", "7", None],
    }


def test_a_quote_opening_a_line_is_not_escaped_by_the_line_before() -> None:
    assert values_of('a src="1\\', '" src="2"') == {"src": ["1\\", None], "dst": [None, None]}


def test_quote_marks_pair_in_order_so_a_missing_one_shifts_the_pairs() -> None:
    assert values_of('x src="1.1.1.1 dst="2.2.2.2"') == {"src": ["1.1.1.1 dst="], "dst": [None]}


def test_typographic_quotes_count_as_quote_marks_when_asked() -> None:
    line = "x src=\u201c1.1.1.1\u201d dst=\u201c2.2.2.2\u201d \u20ac"
    assert values_of(line, 'p src="3"', typographic=True) == {"src": ["1.1.1.1", "3"], "dst": ["2.2.2.2", None]}
    assert values_of(line) == {"src": [None], "dst": [None]}
    # other three-byte characters sharing the typographic quotes' first byte, or their first two
    assert values_of('x src="\u20ac\u201e" dst="\u2019"', 'x src="1" \u2020', typographic=True) == {
        "src": ["\u20ac\u201e", "1"], "dst": ["\u2019", None]}


def test_a_slice_of_lines_reads_its_own_lines() -> None:
    text = pa.array(['a src="0"', 'b src="1" dst="2"', "c src=\u201c3\u201d", 'd dst="4"']).slice(1, 2)
    assert values_of(text=text, typographic=True) == {"src": ["1", "3"], "dst": ["2", None]}
    assert scanned(text=text).head().to_pylist() == ["b src=", "c src=\u201c3\u201d"]


def test_no_lines_and_empty_lines() -> None:
    assert values_of(text=pa.array([], pa.string())) == {"src": [], "dst": []}
    assert values_of("", "", text=None) == {"src": [None, None], "dst": [None, None]}


def test_many_lines_each_get_their_own_values() -> None:
    lines = [f'x dst="{n}" src="{n + 1}"' for n in range(40_000)]
    found = values_of(*lines)
    assert found["dst"] == [str(n) for n in range(40_000)] and found["src"] == [str(n + 1) for n in range(40_000)]


def test_lines_not_read_get_no_values_and_the_others_the_same() -> None:
    lines = ['x src="1" dst="2"', 'x src="3" src="4"', 'x dst="5" src="6"']
    assert values_of(*lines) == {"src": ["1", "3", "6"], "dst": ["2", None, "5"]}
    assert values_of(*lines, read=np.array([True, False, True])) == {"src": ["1", None, "6"], "dst": ["2", None, "5"]}
    nothing = scanned(*lines).columns(np.zeros(3, bool))
    assert all(value.null_count == 3 and value.type == pa.string() for value in nothing.values())


def test_structured_data_elements_and_their_brackets() -> None:
    found = scanned(
        'h [a src="1"]',  # data ending the line
        'h [a x="0"][b src="2"]',  # two elements: key pieces read by their last word
        'h [a src="3"] more',  # a `]` not ending the line
        'h [a src="4\\]"]',  # an escaped `]`
        'h [a x="5"]text[b src="6"]',  # a `]` not ending the line, no `][`: key pieces exactly ` key=`
        'h a src="7"',
    )
    assert found.data_ends_line().tolist() == [True, True, False, False, False, False]
    assert found.has_open().tolist() == [True, True, True, True, True, False]
    assert found.columns()["src="].to_pylist() == ["1", "2", "3", "4\\]", None, "7"]


def test_check_point_layouts_by_the_text_after_the_second_mark() -> None:
    keys = WantedKeys(["src:", "dst:"])
    lines = pa.array([
        '<134>1 t h CheckPoint 1 - [src:"1"; dst:"2"]',
        '<134>1 t h CheckPoint 1 - [[src:"1" [dst:"2"]',  # not `; `: last words, without their `[`s
        'x [a:"0"; xdst:"3"; src:"4"]',  # `; ` layout: exactly `; key:`
        'x [src:"5";dst:"6"]',  # `;dst:` is its last word
    ])
    found = QuotedValues(lines, keys, "; ", LastWordLines.NOT_PREFIXED, strip_bracket=True)
    assert {key: value.to_pylist() for key, value in found.columns().items()} == {
        "src:": ["1", "1", "4", "5"], "dst:": ["2", "2", None, None]}
    spaced = QuotedValues(lines, keys, "; ", LastWordLines.NOT_PREFIXED)
    assert spaced.columns()["src:"].to_pylist() == [None, None, "4", None]  # `[src:`


def test_values_keep_multibyte_text_and_share_one_buffer_per_scan() -> None:
    columns = scanned('x src="caf\u00e9 \u4e2d" dst="\u00e9"', 'x dst=""').columns()
    assert columns["src="].to_pylist() == ["caf\u00e9 \u4e2d", None]
    assert columns["dst="].to_pylist() == ["\u00e9", ""]
    columns["src="].validate(full=True)
    columns["dst="].validate(full=True)


def test_head_words_are_the_head_split_at_its_first_spaces() -> None:
    lines = ['<14>1 2025-11-18T09:00:00Z host RT_FLOW - X [junos@1 src="1"]', 'one', 'a b', 'a  "b', ' x y z "',
             '', '"', 'a b c', '\u00e9 \u00e8 \u00ea \u00eb']
    text = pa.array(['pad', *lines]).slice(1)
    found = QuotedValues(text, SPACED, " ", LastWordLines.PAIRED, head_spaces=2)
    split = pc.split_pattern(found.head(), " ", max_splits=2)
    expected = [[[*parts, "", "", ""][n] for parts in split.to_pylist()] for n in range(3)]
    assert [words.to_pylist() for words in found.head_words()] == expected
    assert [words.to_pylist() for words in QuotedValues(text, SPACED, " ", LastWordLines.PAIRED).head_words()] == [
        found.head().to_pylist()]


def test_a_buffer_at_any_address_and_lines_across_its_words() -> None:
    raw = b'?x src="1" dst="2" [a long line with "words" src="3"]'
    buffer = pa.py_buffer(raw)[1:]  # (not at a multiple of 8: its 64-bit words are unaligned)
    bounds = pa.py_buffer(np.array([0, 17, 18, len(raw) - 1], np.int32))
    text = pa.Array.from_buffers(pa.string(), 3, [None, bounds, buffer])
    found = scanned(text=text)
    assert {key: value.to_pylist() for key, value in found.columns().items()} == {
        "src=": ["1", None, "3"], "dst=": ["2", None, None]}
    assert found.values.tolist() == [2, 0, 2]
    assert found.data_ends_line().tolist() == [False, False, True]
    assert found.has_open().tolist() == [False, False, True]
