r"""User names as users.csv names them, and client addresses that are addresses: shared by the formats whose
fields carry a directory path or a placeholder where a name or an address belongs (CEF/LEEF, CSV, JSON).

User names: Forcepoint Web Security's SIEM feed writes the user as its directory path (`suser=%<=userPath>`,
"NameSpace, Domain, and UserName"): `LDAP://10.0.0.5 OU=Users,DC=example,DC=local/jdevries`, or
`WinNT://EXAMPLE/jdevries`; other sources write a distinguished name, `CN=jdevries,OU=Users,DC=example,DC=local`.
users.csv holds the account (sAMAccountName, or a UPN), so such a value becomes its last path element, or the
first RDN's value where it is a DN (`CN=`/`UID=`, escapes such as `\,` undone); an LDAP path that names only a
server and no user is no user (null). `DOMAIN\user` and `user@domain` stay as written: the pseudonym
(enrich/pseudonym.normalise_user) reduces those to `user` for every format alike.

Addresses: a client or server address column holds an IPv4 or IPv6 address; a placeholder (`Not available`,
`N/A`, `unknown`, `-`), the unspecified address (0.0.0.0, ::) or any other text is no address: null, the row kept.
An IPv4 address written with a port (`10.0.0.7:51234`) or an IPv6 one in brackets keeps the address.

Both work on the distinct values of a column (its dictionary), with pyarrow.compute, never per line.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.ingest.arrow_ops import only_where
from detector.ingest.distinct_sql import encoded

# A directory path: a namespace's scheme (LDAP, LDAPS, WinNT: Forcepoint's and ADSI's spellings; NDS: eDirectory)
_PATH = r"(?i)^\s*(?:ldaps?|winnt|nds)://"
# what follows the scheme's last '/' (greedy: the last one); without a '/' after the scheme, the text after its
# server address (a DN, if any)
_LAST_ELEMENT = r"(?i)^\s*(?:ldaps?|winnt|nds)://.*/(?P<name>[^/]*)$"
_AFTER_SERVER = r"(?i)^\s*(?:ldaps?|winnt|nds)://\S*\s*(?P<name>.*)$"
# A DN: the value of its first RDN where that is a CN or a UID (`\,` and other escapes kept, undone after)
_DN = r"(?i)^\s*(?:cn|uid)\s*=\s*(?P<name>(?:[^,\\]|\\.)*)"
_DN_START = r"(?i)^\s*(?:cn|uid)\s*="
_ESCAPE = (r"\\(.)", r"\1")

# IPv4 (each octet 0-255), optionally with a port; IPv6 (hex groups and colons, an embedded IPv4 tail, a zone),
# optionally in brackets with a port.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"^(?P<ip>{_OCTET}(?:\.{_OCTET}){{3}})(?::\d{{1,5}})?$"
_BRACKETED = r"^\[(?P<ip>[^\]]*)\](?::\d{1,5})?$"
_IPV6 = r"^[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?:%[0-9A-Za-z._-]+)?$"
_UNSPECIFIED = pa.array(["0.0.0.0", "::", "0:0:0:0:0:0:0:0"])


def account_names(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """`values` (user names) with directory paths and DNs reduced to the account name they end in; null where
    such a path names no user. Other values are returned as they are."""
    values = encoded(values)
    names = values.dictionary
    is_path = pc.match_substring_regex(names, _PATH)
    is_dn = pc.match_substring_regex(names, _DN_START)
    if not pc.any(pc.or_(is_path, is_dn)).as_py():
        return values
    last = pc.struct_field(pc.extract_regex(names, _LAST_ELEMENT), [0])
    after_server = pc.struct_field(pc.extract_regex(names, _AFTER_SERVER), [0])
    # a path: its last element, else (no '/' after the scheme) what follows the server; either may be a DN
    named = pc.if_else(is_path, pc.coalesce(last, after_server), names)
    rdn = pc.struct_field(pc.extract_regex(named, _DN), [0])
    rdn = pc.replace_substring_regex(rdn, *_ESCAPE)
    path_or_dn = pc.or_(is_path, is_dn)
    # a path without a DN keeps its element; a path with a DN but no CN/UID in front (an OU only) names no user
    reduced = pc.if_else(pc.match_substring_regex(pc.fill_null(named, ""), r"(?i)^\s*[a-z]+\s*=\s*"),
                         rdn, named)
    account = pc.utf8_trim_whitespace(pc.if_else(path_or_dn, reduced, names))
    account = only_where(account, pc.not_equal(account, ""))
    if not account.null_count and pc.all(pc.equal(account, names)).as_py():
        return values
    return _onto(values, account)


def _onto(values: pa.DictionaryArray, per_value: pa.Array) -> pa.DictionaryArray:
    """`per_value` (one per value of `values`' dictionary, null allowed) on `values`' rows, dictionary-encoded
    with a dictionary free of nulls and repeats."""
    inner = pc.dictionary_encode(per_value)
    at = pc.fill_null(inner.indices, -1).to_numpy(zero_copy_only=False)
    rows = pc.fill_null(values.indices, -1).to_numpy(zero_copy_only=False)
    mapped = np.append(at, -1)[rows]
    missing = mapped < 0
    return pa.DictionaryArray.from_arrays(pa.array(mapped.astype(np.int32), mask=missing if missing.any() else None),
                                          inner.dictionary)


def addresses(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """`values` (an address column's texts) as IP addresses: the address where a value is one (a port or brackets
    dropped), null where it is a placeholder, the unspecified address or no address at all."""
    values = encoded(values)
    texts = pc.utf8_trim_whitespace(values.dictionary)
    v4 = pc.struct_field(pc.extract_regex(texts, _IPV4), [0])
    unbracketed = pc.coalesce(pc.struct_field(pc.extract_regex(texts, _BRACKETED), [0]), texts)
    # (six colon-separated pairs are a MAC address: an IPv6 address has '::', eight groups, or six and an IPv4 tail)
    colons = pc.count_substring(unbracketed, ":")
    whole = pc.or_(pc.match_substring(unbracketed, "::"),
                   pc.or_(pc.equal(colons, 7), pc.and_(pc.equal(colons, 6), pc.match_substring(unbracketed, "."))))
    v6 = only_where(unbracketed, pc.and_(pc.match_substring_regex(unbracketed, _IPV6), whole))
    address = pc.coalesce(v4, v6)
    address = only_where(address, pc.and_(pc.not_equal(address, ""),
                                          pc.invert(pc.is_in(address, value_set=_UNSPECIFIED))))
    if not address.null_count and pc.all(pc.equal(address, values.dictionary)).as_py():
        return values
    return _onto(values, address)
