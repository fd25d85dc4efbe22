"""A 407 (Proxy Authentication Required) is the proxy asking for credentials, not a verdict on the site.

The browser sends the request again with them (RFC 9110 15.5.8); with NTLM/Negotiate every connection starts so.
Squid, Cisco WSA, W3C and ProxySG read it as action `unknown` (challenge_sql, AUTH_CHALLENGE); the generic CEF/LEEF, CSV
and JSON formats do the same here wherever their line carries the HTTP status, whatever the vendor's action field
says (`act=TCP_DENIED`, `action=denied`): counted as blocked, an allowed AI site showed refused attempts that in
fact went through. A 401 logged with a Squid-style `TCP_DENIED` result code as the action is the same challenge,
answered by a proxy that authenticates transparently (Symantec KB 167686: ProxySG logs its NTLM handshake as
`401 TCP_DENIED`), as w3c.py reads it; a 401 with any other action (a server's, passed through) keeps its action.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.distinct_sql import encoded

AUTH_CHALLENGE = 407  # Proxy Authentication Required
SERVER_AUTH = 401  # (Unauthorized: a challenge too where the proxy answered it itself, TCP_DENIED)
DENIED_CODE = "TCP_DENIED"


def challenge_sql(status: str, code: str) -> str:
    """The SQL condition of a challenge, for formats that read their status and result code in SQL: a 407, or a
    401 with a DENIED result code (`status` an integer expression, `code` the upper-case result code)."""
    return f"({status} = {AUTH_CHALLENGE} or ({status} = {SERVER_AUTH} and {code} like '%DENIED%'))"


def unknown_where_challenged(action: pa.Array, http_status: pa.Array,
                             result: pa.Array | pa.ChunkedArray | None = None) -> pa.Array:
    """`action` (plain or dictionary-encoded text, its type kept), `unknown` where `http_status` is 407, or 401 where
    the line's raw action text `result` is a TCP_DENIED result code (looked at once per distinct text, and only when
    a 401 is there). One comparison over the status column; the action's dictionary gains `unknown` at most once."""
    challenged = _plain(pc.fill_null(pc.equal(http_status, AUTH_CHALLENGE), False))
    if result is not None:
        server = _plain(pc.fill_null(pc.equal(http_status, SERVER_AUTH), False))
        if pc.any(server).as_py():
            codes = encoded(result)
            text = codes.dictionary.type
            if not (pa.types.is_string(text) or pa.types.is_large_string(text)):
                codes = pa.DictionaryArray.from_arrays(codes.indices, codes.dictionary.cast(pa.string()))
            denied = pc.starts_with(pc.utf8_upper(pc.utf8_trim_whitespace(codes.dictionary)), DENIED_CODE)
            challenged = pc.or_(challenged, pc.and_(server, pc.fill_null(denied.take(codes.indices), False)))
    if not pc.any(challenged).as_py():
        return action
    if isinstance(action, pa.ChunkedArray):
        action = action.combine_chunks()
    if not pa.types.is_dictionary(action.type):
        return pc.if_else(challenged, pa.scalar("unknown", action.type), action)
    dictionary = action.dictionary
    at = pc.index(dictionary, pa.scalar("unknown", dictionary.type)).as_py()
    if at < 0:
        dictionary, at = pa.concat_arrays([dictionary, pa.array(["unknown"], dictionary.type)]), len(dictionary)
    indices = pc.if_else(challenged, pa.scalar(at, action.indices.type), action.indices)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _plain(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
