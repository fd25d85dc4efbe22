"""A 407 (Proxy Authentication Required) is the proxy asking for credentials, not a verdict on the site.

The browser sends the request again with them (RFC 9110 15.5.8); with NTLM/Negotiate every connection starts so.
Squid, Cisco WSA, W3C and ProxySG read it as action `unknown` (squid.AUTH_CHALLENGE); the generic CEF/LEEF, CSV
and JSON formats do the same here wherever their line carries the HTTP status, whatever the vendor's action field
says (`act=TCP_DENIED`, `action=denied`): counted as blocked, an allowed AI site showed refused attempts that in
fact went through.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.squid import AUTH_CHALLENGE


def unknown_where_challenged(action: pa.Array, http_status: pa.Array) -> pa.Array:
    """`action` (plain or dictionary-encoded text, its type kept), `unknown` where `http_status` is 407.
    One comparison over the status column; the action's dictionary gains `unknown` at most once."""
    challenged = pc.fill_null(pc.equal(http_status, AUTH_CHALLENGE), False)
    if isinstance(challenged, pa.ChunkedArray):
        challenged = challenged.combine_chunks()
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
