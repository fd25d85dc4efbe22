"""What the host classifier sees: features of a host's name, and of its traffic in the lake.

Name features work for any host (a bare `lookup` too): character n-grams of the registered domain and of
the subdomain labels, AI-ish words as whole tokens or word segments (chat+gpt) rather than letters inside
another word (raiffeisen, chatelet), the top-level domain and the shape of the labels.
Behaviour features come from `queries/host_behaviour.sql`, computed once for all hosts of the lake; a
column a log format lacks stays null and is handled by the model (an indicator), never guessed.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence, Set
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import tldextract

from detector import db
from detector.classify import api_paths, vendor_categories
from detector.signatures import SIGNATURES_DIR, Catalog, Match, load_catalog, normalise_host, read_domain_list

# Bump when the features change meaning: a stored model built with another version is retrained.
FEATURE_VERSION = 2


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that suggest an AI product when they stand as a token or a word segment of a name.
AI_WORDS = _words("""
ai gpt llm llms chat chatbot bot bots copilot pilot genius agent agents agentic prompt prompts neural
vision voice voices transcribe transcript transcription write writer writing ml nlp model models deep mind
brain cognitive intelligence intelligent smart magic assistant assist synth synthesia gen genai generate
generative diffusion speech tts dub dubbing translate translator summary summarize summarizer notes
notetaker paraphrase paraphraser avatar avatars clone humanize humanizer detect detector tutor copy
labs lab studio autopilot sense cortex neuro quantum robot robo cognition reason think inference
embed embedding vector rag token tokens answer answers ask
""") | _words("""
ki ia kunstmatige kunstliche kuenstliche intelligentie intelligenz intelligenza inteligencia
vertaal vertaling vertalen samenvatting schrijf schrijven spraak slimme assistent
ubersetzer uebersetzer ubersetzung zusammenfassung transkription
traduction traducteur traductor traduttore redaction resume resumen generateur asistente escritor
zhineng rengong moxing damoxing duihua fanyi xiezuo huihua shengcheng jiqiren yuyin wenda zhushou
""")  # the same ideas in Dutch, German, French, Spanish, Italian and Chinese pinyin (KI/IA = AI)
# The strongest of those: a whole-token match of one of these is counted separately.
CORE_WORDS = _words("ai gpt llm llms chatbot copilot genai agentic neural prompt prompts ml nlp")
# Glue in names like getchat, myai, tryai, useai, askgpt: allowed in a segmentation, never a signal alone.
GLUE_WORDS = _words("get my try use the go hey hi ask open your you one me we app hq io")
SEGMENT_WORDS = AI_WORDS | GLUE_WORDS
MAX_WORD = max(len(w) for w in SEGMENT_WORDS)

# Leading labels that say what a host does (api.x, chat.x) or that it is plumbing (cdn.x, static.x).
PREFIX_LABELS = _words("""
api app apps chat ai www cdn static assets img images media m mail login auth sso accounts account id
platform console dashboard studio beta labs lab docs help support status blog news shop store play
gateway inference model models agent agents playground web portal my
""")
# Top-level domains whose relative frequency differs between AI start-ups and everyone else.
TLDS = _words("ai io so app dev co com net org nl be de eu uk fr gov edu info me chat bot tech cloud studio inc "
              "xyz site online")

_TOKEN = re.compile(r"[a-z]+|[0-9]+")
# Every position where an AI word starts (the longest one there), overlapping matches included.
_AI_WORD_AT = re.compile("(?=(" + "|".join(sorted((w for w in AI_WORDS if len(w) > 1), key=len, reverse=True)) + "))")
_DIGITS = re.compile(r"[0-9]+")


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The Public Suffix List bundled with tldextract only: nothing fetched, nothing cached on disk.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=1 << 18)
def split_host(host: str) -> tuple[str, str, str]:
    """(subdomain, domain label, public suffix) of a host; an IP or unknown suffix has an empty suffix."""
    parts = _extractor()(host)
    return parts.subdomain, parts.domain, parts.suffix


def tokens(label: str) -> list[str]:
    """Letters and digit runs of a label (hyphens, underscores and letter/digit changes split)."""
    return _TOKEN.findall(label)


@functools.lru_cache(maxsize=65536)
def segment(token: str) -> tuple[str, ...] | None:
    """The token as a sequence of known words (chatgpt -> chat, gpt; tryai -> try, ai), else None.

    Only a complete segmentation counts, so 'chatelet' (chat + elet) and 'raiffeisen' are not split:
    the AI words in them are letters inside another word, not words.
    """
    n = len(token)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for end in range(1, n + 1):
        for start in range(max(0, end - MAX_WORD), end):
            prefix = best[start]
            word = token[start:end]
            if prefix is not None and word in SEGMENT_WORDS:
                candidate = (*prefix, word)
                # Fewest words wins (chatbot over chat + bot); ties keep the first found.
                if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = candidate
    return best[n]


def word_features(words: Iterable[str], where: str, features: dict[str, float]) -> None:
    """Per AI word: 'whole' (a token or a segment of one), 'edge' (starts/ends a longer token), 'inside'."""
    for token in words:
        if token.isdigit():
            continue
        parts = segment(token)
        if parts is not None:
            for word in parts:
                if word in AI_WORDS:
                    features[f"{where}whole:{word}"] = 1.0
                    features[f"{where}whole_any"] = features.get(f"{where}whole_any", 0.0) + 1.0
                    if word in CORE_WORDS:
                        features[f"{where}core_any"] = 1.0
            continue
        for found in _AI_WORD_AT.finditer(token):
            word, start = found.group(1), found.start()
            if start == 0 or start + len(word) == len(token):
                features[f"{where}edge:{word}"] = 1.0
                features[f"{where}edge_any"] = 1.0
            else:
                features[f"{where}inside:{word}"] = 1.0


_NO_DIGITS = str.maketrans("", "", "0123456789")
_NO_VOWELS = str.maketrans("", "", "aeiouy")
_NO_LETTERS = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")


def _digit_share(text: str) -> float:
    return (len(text) - len(text.translate(_NO_DIGITS))) / len(text) if text else 0.0


def _vowel_share(text: str) -> float:
    letters = len(text) - len(text.translate(_NO_LETTERS))
    return (len(text) - len(text.translate(_NO_VOWELS))) / letters if letters else 0.0


@functools.lru_cache(maxsize=1 << 16)
def _char_entropy(text: str) -> float:
    if not text:
        return 0.0
    total = len(text)
    # Characters in order of first appearance (as Counter gives them), so the sum is the same to the bit.
    return -sum(n / total * math.log2(n / total) for n in map(text.count, dict.fromkeys(text)))


@functools.lru_cache(maxsize=1 << 16)
def _word_features(words: tuple[str, ...], where: str) -> dict[str, float]:
    found: dict[str, float] = {}
    word_features(words, where, found)
    return found


class _DomainSide(NamedTuple):
    """What depends on the registered domain alone: computed once per domain, not per host (hosts share
    their domain: www., api., mail., CDN edge names)."""

    text: str
    words: dict[str, float]
    tld: str
    two_labels: bool
    length: float
    hyphens: float
    digits: float
    token_count: float
    vowels: float
    entropy: float


@functools.lru_cache(maxsize=1 << 16)
def _domain_side(domain: str, suffix: str) -> _DomainSide:
    domain_tokens = tokens(domain)
    tld = suffix.rsplit(".", 1)[-1] if suffix else ""
    return _DomainSide(
        text=" ".join([_ngram_text(domain_tokens), *("." + s for s in suffix.split(".") if s)]),
        words=_word_features(tuple(domain_tokens), "d:"),
        tld=f"tld:{tld if tld in TLDS else 'other' if tld else 'none'}",
        two_labels=bool(suffix) and suffix != tld,  # co.uk, com.au, gov.nl ...
        length=min(len(domain), 30) / 30,
        hyphens=min(domain.count("-"), 4) / 4,
        digits=_digit_share(domain),
        token_count=min(len(domain_tokens), 5) / 5,
        vowels=_vowel_share(domain),
        entropy=_char_entropy(domain) / 5,
    )


def _ngram_text(parts: Sequence[str]) -> str:
    return " ".join(_DIGITS.sub("0", t) for t in parts)


def name_parts(host: str) -> tuple[str, str, dict[str, float]]:
    """Texts for the n-gram hashers (registered domain, subdomain labels) and the handcrafted features."""
    name = normalise_host(host)
    subdomain, domain, suffix = split_host(name)
    if not suffix or not domain:  # an IP address, a bare word or an unknown top-level domain
        domain, subdomain, suffix = name.replace(".", "-"), "", ""
    side = _domain_side(domain, suffix)
    sub_labels = [label for label in subdomain.split(".") if label]
    sub_tokens = tuple(t for label in sub_labels for t in tokens(label))

    features: dict[str, float] = dict(side.words)
    features.update(_word_features(sub_tokens, "s:"))
    features[side.tld] = 1.0
    if side.two_labels:
        features["suffix_two_labels"] = 1.0
    if sub_labels:
        first = sub_labels[0]
        features[f"first:{first if first in PREFIX_LABELS else 'other'}"] = 1.0
        for label in sub_labels:
            if label in PREFIX_LABELS:
                features[f"sublabel:{label}"] = 1.0
    else:
        features["first:none"] = 1.0
    labels = name.split(".")
    features["labels"] = min(len(labels), 8) / 8
    features["sub_labels"] = min(len(sub_labels), 6) / 6
    features["host_len"] = min(len(name), 80) / 80
    features["domain_len"] = side.length
    features["max_label_len"] = min(max(len(label) for label in labels), 63) / 63
    features["domain_hyphens"] = side.hyphens
    features["domain_digits"] = side.digits
    features["sub_digits"] = _digit_share(subdomain)
    features["domain_tokens"] = side.token_count
    features["domain_vowels"] = side.vowels
    features["domain_entropy"] = side.entropy
    features["sub_entropy"] = _char_entropy(subdomain.replace(".", "")) / 5
    return side.text, _ngram_text(sub_tokens), features


# ---- behaviour -------------------------------------------------------------------------------------------

# Columns of queries/host_behaviour.sql after `host`, in the order the model uses them.
BEHAVIOUR_COLUMNS = ("requests", "clients", "requests_per_client", "post_share", "upload_ratio",
                     "mean_request_bytes", "median_request_bytes", "long_share", "stream_share", "co_use",
                     "hour_spread")
# Heavy-tailed counts and sizes enter the model as log1p.
_LOG_COLUMNS = frozenset({"requests", "clients", "requests_per_client", "upload_ratio", "mean_request_bytes",
                          "median_request_bytes"})
AI_HOSTS = pa.schema([("host", pa.string()), ("service", pa.string())])


# Non-AI lists that are known (their hosts score 0) but never training data: platforms.txt, hosting platforms'
# user-content domains (a container's name is not an example of a non-AI name), trackers.txt and
# infrastructure.txt, the ad-tech and analytics sites and the infrastructure sites (updates, security vendors, PKI,
# DNS, CDN ...) every network talks to, and ai_adjacent.txt, sites about AI that are no AI service (directories,
# news, prompt libraries): added after the figures of docs/model.md, so that they stay comparable.
PLATFORMS = "platforms"
NOT_TRAINED = frozenset({PLATFORMS, "trackers", "infrastructure", "ai_adjacent"})


def non_ai_lists(catalog_dir: Path = SIGNATURES_DIR) -> dict[str, list[str]]:
    """signatures/non_ai/*.txt by file stem (the configured catalog's folder if it has one)."""
    folder = catalog_dir / "non_ai"
    if not folder.is_dir():
        folder = SIGNATURES_DIR / "non_ai"
    return {path.stem: [normalise_host(n) for n in read_domain_list(path)] for path in sorted(folder.glob("*.txt"))}


def under(host: str, names: Set[str]) -> bool:
    """Whether the host is one of `names` or a subdomain of one."""
    if not names:
        return False
    parts = host.split(".")
    return any(".".join(parts[i:]) in names for i in range(len(parts)))


@functools.cache
def _default_catalog() -> Catalog:
    return load_catalog(SIGNATURES_DIR)


def catalog_ai_hosts(hosts: Iterable[str], match: Callable[[str], Match | None]) -> pa.Table:
    """The hosts the catalog knows by name, with their service: the reference for co-use. `match`:
    `catalog.match_host`, or a lookup in matches the caller made already (classify)."""
    rows = [(h, found.service.id) for h in hosts if h and (found := match(h)) is not None]
    return pa.table({"host": [h for h, _ in rows], "service": [s for _, s in rows]}, schema=AI_HOSTS)


def model_judged(seen: Iterable[str], ai_hosts: pa.Table, catalog_dir: Path = SIGNATURES_DIR) -> list[str]:
    """The hosts the model judges, and so the ones whose traffic features are described: not the catalog's
    AI hosts, not under a non-AI list's site. Except hosting platforms' user sites (platforms.txt): the model
    scores them 0, but each is someone's own app, and one that calls a model API path is a model API (a
    gateway on `*.azurewebsites.net`), so their traffic is described for that (api_paths). `catalog_dir`: whose
    non-AI lists (the configured catalog's, as the model's training reads them)."""
    known = set(ai_hosts.column("host").to_pylist())
    listed = frozenset(name for origin, names in non_ai_lists(catalog_dir).items() if origin != PLATFORMS
                       for name in names)
    return [h for h in seen if h not in known and not under(normalise_host(h), listed)]


def behaviour(connection: duckdb.DuckDBPyConnection, catalog: Catalog | None = None,
              all_hosts: bool = False, seen: Sequence[str] | None = None) -> pa.Table:
    """One row of traffic features per host of the `events` view (queries/host_behaviour.sql).

    By default only for the hosts the model will judge: not the catalog's, not under a non-AI list's
    site (the bulk of the traffic, so the query skips most events); `all_hosts` for training.
    Co-use needs the catalog's AI hosts: the lake's distinct hosts are matched here (thousands of names,
    not millions of events) and registered, with the hosts to describe, for the query. `seen`: the
    lake's distinct hosts, where the caller has them already (a scan of every event otherwise).
    """
    catalog = catalog if catalog is not None else _default_catalog()
    if seen is None:
        seen = [row[0] for row in connection.sql("select distinct host from events where host is not null").fetchall()]
    ai_hosts = catalog_ai_hosts(seen, catalog.match_host)
    return host_features(connection, ai_hosts, seen if all_hosts else model_judged(seen, ai_hosts))


def host_features(connection: duckdb.DuckDBPyConnection, ai_hosts: pa.Table, described: Sequence[str],
                  every_host: bool = False, catalog_dir: Path = SIGNATURES_DIR) -> pa.Table:
    """queries/host_behaviour.sql's rows of the `described` hosts, with `ai_hosts` (catalog_ai_hosts of
    the lake's hosts) for co-use; `every_host`: and the other hosts' traffic, without the per-client
    features (co-use, median request size, calls to model API paths), which cost most and which only the
    described need. `catalog_dir`: where signatures/ai_api_paths.txt is read from."""
    connection.register("model_ai_hosts", ai_hosts)
    connection.register("model_hosts", pa.table({"host": pa.array(described, pa.string())}))
    try:
        return db.run(connection, "host_behaviour", every_host=every_host,
                      api_path_pattern=api_paths.default_pattern(catalog_dir),
                      ai_category_pattern=vendor_categories.default_pattern(catalog_dir))
    finally:
        connection.unregister("model_ai_hosts")
        connection.unregister("model_hosts")


def behaviour_matrix(table: pa.Table, hosts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, present): the behaviour features of `hosts` (NaN where unknown), and which hosts have any."""
    index = {h: i for i, h in enumerate(table.column("host").to_pylist())}
    where = np.array([index.get(h, -1) for h in hosts], dtype=np.int64)
    present = where >= 0
    matrix = np.full((len(hosts), len(BEHAVIOUR_COLUMNS)), np.nan)
    if present.any():
        for j, column in enumerate(BEHAVIOUR_COLUMNS):
            values = table.column(column).to_numpy(zero_copy_only=False).astype(np.float64)
            values = values[where[present]]
            matrix[present, j] = np.log1p(values) if column in _LOG_COLUMNS else values
    return matrix, present
