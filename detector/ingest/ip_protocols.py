"""IP protocol numbers as firewalls log them (FortiGate `proto=6`, Check Point `proto:"6"`, Junos `protocol-id`).

One definition of the names the lake uses for them, for every format that reads a protocol number.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# IANA "Assigned Internet Protocol Numbers": the ones the lake names; any other number stays as written.
NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp"}


def protocol_name_sql(number: str) -> str:
    """SQL naming the protocol whose number is the SQL expression `number` (e.g. a column name)."""
    cases = " ".join(f"when '{code}' then '{name}'" for code, name in NAMES.items())
    return f"case {number} {cases} else {number} end"


def protocol_names(numbers: pa.Array) -> pa.Array:
    """`protocol_name_sql` in Arrow: each distinct number named once; the result stays dictionary-encoded."""
    encoded = pc.dictionary_encode(numbers)
    names = pa.array([NAMES.get(number, number) for number in encoded.dictionary.to_pylist()], pa.string())
    return pa.DictionaryArray.from_arrays(encoded.indices, names)
