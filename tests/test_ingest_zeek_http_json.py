"""Zeek http.log: URIs read once per distinct value where they repeat give what reading each row gives."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_ingest_zeek import parse

URIS = ["/", "/a/b?x=1#f", "http://www.deepl.com/jsonrpc?m=1", "https://chat.openai.com", "http://h.example?q",
        "/r?next=https://x.com/c", "1http://bad.example/p", "svn+ssh://user@git.example:22/repo"]


def http_line(uri: str | None, method: str = "GET", host: str | None = None) -> str:
    fields = {"ts": 1763452840.5, "id.orig_h": "10.0.0.1", "id.resp_h": "1.2.3.4", "id.resp_p": 80,
              "trans_depth": 1, "method": method}
    fields.update({"host": host} if host else {})
    fields.update({"uri": uri} if uri is not None else {})
    return json.dumps(fields)


def test_repeated_uris_read_as_distinct_rows(tmp_path: Path) -> None:
    lines = [http_line(uri) for uri in URIS]
    lines += [http_line(None), http_line("chatgpt.com:443", "CONNECT"), http_line("/x", host="api.example:8080")]
    alone, _, _ = parse(tmp_path, "zeek_http", lines, batch_lines=1000)
    repeated, _, report = parse(tmp_path, "zeek_http", lines * 10, batch_lines=1000)  # most URIs repeat
    assert report.rejected == 0
    assert [(e["url_path"], e["host"], e["host_source"]) for e in repeated] == \
        [(e["url_path"], e["host"], e["host_source"]) for e in alone] * 10
    assert [(e["url_path"], e["host"]) for e in alone[:8]] == [
        ("/", None), ("/a/b", None), ("/jsonrpc", "www.deepl.com"), ("/", "chat.openai.com"),
        ("/", "h.example"), ("/r", None), ("1http://bad.example/p", None), ("/repo", "git.example")]
    assert (alone[9]["url_path"], alone[9]["host"]) == (None, "chatgpt.com")
