"""The host classifier: finds AI services the catalog lacks, from a host's name and, where the lake has
traffic for it, its behaviour.

Two stages, so that a bare name (a `lookup`, a DNS-only lake) and a host with rich proxy traffic are
both scored: a name model (logistic regression over the hashed name columns) for every host, and, when
the lake held enough labelled traffic at training time, a behaviour model over the name model's logit
plus the host's traffic features (missing fields imputed, with an indicator). Training data: the
catalog's domains and examples and `signatures/ai_training.txt` (AI), `signatures/non_ai/*.txt` (not AI),
analysts' labels, and labelled hosts of the lake. The decision threshold is the lowest at which the
cross-validated scores meet the issue's limits: at most 1% of popular sites and 5% of AI-looking names
flagged, precision >= 0.9.
Stored in `<home>/model/` as plain arrays (`scorer.py`, which scores without scikit-learn), facts in
model.json. docs/model.md explains the figures.
"""

from __future__ import annotations

import functools
import logging
import os
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import sklearn
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from detector import db
from detector.classify import features, scorer
from detector.classify.scorer import LinearHostScorer, load, read_meta
from detector.config import Settings
from detector.labels import read_labels
from detector.lake import Lake
from detector.signatures import (
    SIGNATURES_DIR,
    Catalog,
    load_catalog,
    normalise_host,
    read_domain_list,
    registered_domain,
)

log = logging.getLogger(__name__)

DEFAULT_SEED = 1
FOLDS = 5
TARGET_PRECISION = 0.9
FP_TARGET_POPULAR = 0.01  # the targets for AI services the catalog lacks: recall >= 0.8 at
FP_TARGET_LOOKALIKES = 0.05  # <= 1% false positives on popular sites and <= 5% on AI-looking names
NAME_C = 4.0  # inverse L2 strength of the name model (chosen by grouped CV on the training data only)
# The behaviour stage needs this many labelled lake hosts of each class, from this many sites.
MIN_BEHAVIOUR_HOSTS = 8
MIN_BEHAVIOUR_GROUPS = 3
# At most this many lake hosts per site and class: 5,000 subdomains of one CDN would otherwise
# outweigh the whole catalog.
LAKE_HOSTS_PER_DOMAIN = 10
LOOKALIKES = "ai_lookalikes"
# Real AI services kept out of the catalog and out of training: evaluate() measures the name model on them; a
# deployed model knows them (train(know_heldout=True)). The first was inspected while the features were designed;
# the second and third were each written and committed before a round of tuning, and only their overall recall is
# looked at, so they are the honest measures.
HELDOUT_FILES = ("heldout_ai.txt", "heldout_ai_2.txt", "heldout_ai_3.txt")
AI_TRAINING_FILE = "ai_training.txt"  # extra AI positives beyond the catalog (training_positives)
AI_TRAINING = "ai_training"  # their origin
SYNTHETIC = "synthetic"  # origin of the generated subdomain rows: trained on, never counted in the figures
# "chat" too: chat.google.com, chat.whatsapp.com and chat.zoho.com are messaging, and without examples of
# chat. under ordinary sites the model read the label alone as AI (name score 0.81 for chat.google.com).
GENERIC_PREFIXES = ("api", "app", "cdn", "static", "login", "auth", "mail", "m", "assets", "help", "docs", "status",
                    "blog", "support", "id", "images", "chat")


class NameFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Host names -> the sparse matrix of their hashed name columns (`scorer.name_columns`).

    The hashers are stateless (no vocabulary to store); fit keeps only the columns the training names
    use: an n-gram never seen in training would get a zero weight anyway, and a solver over 30k columns
    instead of 500k is ten times faster.
    """

    def fit(self, hosts: Sequence[str], y: Any = None) -> NameFeatures:
        self.fit_transform(hosts)
        return self

    def fit_transform(self, hosts: Sequence[str], y: Any = None, **fit_params: Any) -> sparse.csr_matrix:
        matrix = name_matrix(hosts)
        self.columns_ = np.unique(matrix.indices)
        return matrix[:, self.columns_]

    def transform(self, hosts: Sequence[str]) -> sparse.csr_matrix:
        return name_matrix(hosts)[:, self.columns_]


def name_matrix(hosts: Sequence[str]) -> sparse.csr_matrix:
    """All NAME_COLUMNS of the hosts, the three blocks side by side."""
    blocks = [sparse.csr_matrix((block.values, block.columns, block.indptr()), shape=(len(hosts), width))
              for block, width in zip(scorer.name_columns(hosts),
                                      (scorer.NGRAM_COLUMNS, scorer.NGRAM_COLUMNS, scorer.NAMED_COLUMNS), strict=True)]
    return sparse.hstack(blocks, format="csr")


@dataclass
class HostModel:
    """The fitted classifier as training leaves it: scikit-learn pipelines (for the figures), which
    `exported` turns into the arrays that are stored and that score."""

    names: Pipeline
    behaviour_stage: Pipeline | None
    threshold: float
    name: str
    meta: dict[str, Any] = field(default_factory=dict)
    # The non-AI lists' sites: a host under one is not AI whatever its name looks like (eu.ebay.com,
    # r3.googlevideo.com); AI inside such a site is the catalog's job (gemini.google.com).
    known_non_ai: frozenset[str] = frozenset()
    known_ai: frozenset[str] = frozenset()  # the AI training list's sites (LinearHostScorer.known_ai)

    def name_logits(self, hosts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.names.decision_function(list(hosts)), dtype=np.float64)

    @functools.cached_property
    def exported(self) -> LinearHostScorer:
        """The same model as arrays (what is stored, and what scores everywhere)."""
        transformer, classifier = self.names.named_steps["features"], self.names.named_steps["classifier"]
        weights = np.zeros(scorer.NAME_COLUMNS)
        weights[transformer.columns_] = classifier.coef_[0]
        stage = None
        if self.behaviour_stage is not None:
            steps = self.behaviour_stage.named_steps
            impute, scale, fitted = steps["impute"], steps["scale"], steps["classifier"]
            stage = scorer.BehaviourStage(impute.statistics_, np.asarray(impute.indicator_.features_), scale.mean_,
                                          scale.scale_, fitted.coef_[0], float(fitted.intercept_[0]))
        return LinearHostScorer(threshold=self.threshold, name=self.name, name_weights=weights,
                                name_intercept=float(classifier.intercept_[0]), behaviour_stage=stage, meta=self.meta,
                                known_non_ai=self.known_non_ai, known_ai=self.known_ai)

    def score(self, hosts: Sequence[str],
              behaviour: pa.Table | Callable[[], pa.Table | None] | None = None) -> np.ndarray:
        return self.exported.score(hosts, behaviour)

    def listed_ai(self, host: str) -> bool:
        return self.exported.listed_ai(host)


@dataclass
class TrainingSet:
    """Host names with their class, where each came from, and its CV group (the site)."""

    hosts: list[str]
    y: np.ndarray
    origins: list[str]  # catalog, label, lake, or the non-AI list's name (popular, ai_lookalikes ...)
    groups: list[str]
    behaviour: pa.Table | None = None  # traffic features of the lake hosts among `hosts`

    def sizes(self) -> dict[str, Any]:
        by_origin: dict[str, int] = {}
        for origin in self.origins:
            by_origin[origin] = by_origin.get(origin, 0) + 1
        return {"hosts": len(self.hosts), "positives": int(self.y.sum()), "negatives": int((1 - self.y).sum()),
                "groups": len(set(self.groups)), "by_origin": dict(sorted(by_origin.items())),
                "lake_hosts": self.behaviour.num_rows if self.behaviour is not None else 0}


@dataclass
class Training:
    """A fitted model with the cross-validated evidence it was judged by."""

    model: HostModel
    data: TrainingSet
    cv_scores: np.ndarray  # out-of-fold name-model probability per training host
    metrics: dict[str, Any]


# ---- training data -----------------------------------------------------------------------------------------


def site_of(host: str) -> str:
    """The CV group: the registered domain without its suffix, so that airbnb.nl and airbnb.com (and all
    their subdomains) sit on the same side of every split."""
    _, domain, suffix = features.split_host(host)
    return domain if domain and suffix else host


def catalog_hosts(catalog: Catalog) -> list[str]:
    """Every service's domains, and its example hosts that the catalog attributes to it by name alone
    (an example that needs a path or a user agent is a shared host, not evidence of an AI name)."""
    found: set[str] = set()
    for service in catalog.services.values():
        found.update(service.domains)
        for example in service.examples:
            match = catalog.match_host(example.host)
            if match is not None and match.service.id == service.id:
                found.add(normalise_host(example.host))
    return sorted(found)


def subdomains_of(name: str) -> list[str]:
    """Hosts under a registered domain that belong to it by the lists' and the catalog's own rule (a
    domain covers its subdomains): www., one generic prefix and one CDN-style edge label (digits and
    hex), both picked by the name's hash. Without them the positives (many api./chat. and
    region-numbered hosts) and the negatives (mostly bare domains) differ in shape, and the model would
    learn "has a subdomain" or "has digits" = AI, flagging every mail.x and e1234.x it meets."""
    if registered_domain(name) != name:
        return []
    digest = zlib.crc32(name.encode())
    edge = f"e{digest % 100000}-{digest:08x}"
    return [f"www.{name}", f"{GENERIC_PREFIXES[digest % len(GENERIC_PREFIXES)]}.{name}", f"{edge}.{name}"]


def training_positives(catalog_dir: Path) -> list[str]:
    """signatures/ai_training.txt: real AI services outside the catalog, trained on as AI (never held out)."""
    path = heldout_path(catalog_dir, AI_TRAINING_FILE)
    return [normalise_host(n) for n in read_domain_list(path)] if path.exists() else []


def heldout_services(catalog_dir: Path) -> list[str]:
    """The held-out lists' real AI services: never trained on (evaluate measures the name model on them), yet
    known to a deployed model, as the training list is: withholding vetted AI services from users' installs
    would only make the product miss them."""
    paths = [heldout_path(catalog_dir, name) for name in HELDOUT_FILES]
    return [normalise_host(n) for path in paths if path.exists() for n in read_domain_list(path)]


def training_set(settings: Settings, catalog: Catalog, connection: duckdb.DuckDBPyConnection | None) -> TrainingSet:
    """Catalog and signatures/ai_training.txt (AI) + non-AI lists + labels; and, given a connection with
    the lake views, the lake's hosts that the catalog, a list or a label classifies, with their behaviour.
    Deterministic (sorted)."""
    chosen: dict[str, tuple[int, str]] = {}
    lists = {origin: names for origin, names in features.non_ai_lists(settings.catalog_dir).items()
             if origin not in features.NOT_TRAINED}  # known when deployed, not training data
    listed = {name for names in lists.values() for name in names}
    for origin, names in lists.items():
        for name in names:
            if catalog.match_host(name) is None:
                chosen.setdefault(name, (0, origin))
    for name in training_positives(settings.catalog_dir):
        if not features.under(name, listed):  # a list's site stays not AI (the lists win, as for the catalog)
            chosen[name] = (1, AI_TRAINING)
    for name in catalog_hosts(catalog):
        chosen[name] = (1, "catalog")
    for name, (y, origin) in list(chosen.items()):
        for host in subdomains_of(name):
            # The catalog decides its own and the lists' subdomains; a training-list site covers its own.
            if host not in chosen and (origin == AI_TRAINING or (catalog.match_host(host) is not None) == bool(y)):
                chosen[host] = (y, SYNTHETIC)
    labels = read_labels(settings.home)
    for host, label in labels.items():
        chosen[host] = (int(label.ai), "label")

    behaviour = None
    if connection is not None:
        table = features.behaviour(connection, catalog, all_hosts=True)
        picked: dict[tuple[str, int], list[tuple[float, str]]] = {}
        for host, requests in zip(table.column("host").to_pylist(), table.column("requests").to_pylist(),
                                  strict=True):
            decided = labels.get(host)
            if decided is not None:
                y = int(decided.ai)
            elif catalog.match_host(host) is not None:
                y = 1
            elif features.under(host, listed):
                y = 0
            else:
                continue  # unknown: exactly what the model is for, not training data
            picked.setdefault((site_of(host), y), []).append((-requests, host))
        kept: set[str] = set()
        for (_, y), rows in picked.items():
            for _, host in sorted(rows)[:LAKE_HOSTS_PER_DOMAIN]:  # the busiest hosts of each site
                kept.add(host)
                chosen.setdefault(host, (y, "lake"))  # a catalog, list or label host keeps its origin
        mask = pa.array([h in kept for h in table.column("host").to_pylist()])
        behaviour = table.filter(mask) if kept else None

    hosts = sorted(chosen)
    return TrainingSet(hosts=hosts, y=np.array([chosen[h][0] for h in hosts], dtype=np.int64),
                       origins=[chosen[h][1] for h in hosts], groups=[site_of(h) for h in hosts],
                       behaviour=behaviour)


def lake_connection(settings: Settings) -> duckdb.DuckDBPyConnection | None:
    """An in-memory connection with the lake's `events` view, or None when the lake holds no events."""
    lake = Lake(settings.lake)
    if not settings.lake.exists() or not lake.event_files():
        return None
    connection = duckdb.connect(":memory:")
    connection.execute("set TimeZone = 'UTC'")
    db.create_lake_views(connection, lake)
    return connection


# ---- fitting and cross-validation ----------------------------------------------------------------------------


def _name_classifier() -> LogisticRegression:
    # lbfgs (BLAS limited to one thread, see train): since the start-up negatives made the problem harder,
    # liblinear needed 33 Newton steps and 13 s CPU for one fit where lbfgs takes ~2 s, for the same model
    # (decision values correlate 0.9997; held-out recall 62.1 % with liblinear, 63.3 % with lbfgs).
    return LogisticRegression(C=NAME_C, solver="lbfgs", class_weight="balanced", max_iter=5000)


def _behaviour_stage() -> Pipeline:
    return Pipeline([
        # A column the lake's formats never fill (bytes_out in Squid native) stays, constant: zero weight.
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
        ("scale", StandardScaler()),
        ("classifier", LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)),
    ])


def _folds(y: np.ndarray, groups: Sequence[str], folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds that keep each site on one side, stratified by site class (a site with any AI host counts as
    AI); fewer folds when a class has few sites. (StratifiedGroupKFold gives the same guarantee but
    spends seconds balancing thousands of small groups.)"""
    names, site = np.unique(np.asarray(groups), return_inverse=True)
    site_class = np.zeros(len(names), dtype=np.int64)
    np.maximum.at(site_class, site, y)
    splits = min(folds, int(site_class.sum()), int(len(names) - site_class.sum()))
    if splits < 2:
        return []
    splitter = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed)
    return [(np.flatnonzero(np.isin(site, train)), np.flatnonzero(np.isin(site, test)))
            for train, test in splitter.split(np.zeros(len(names)), site_class)]


def _share_at_or_above(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each threshold, the share of `values` at or above it."""
    ordered = np.sort(values)
    return (len(ordered) - np.searchsorted(ordered, thresholds, side="left")) / max(len(ordered), 1)


def choose_threshold(y: np.ndarray, scores: np.ndarray, popular: np.ndarray, lookalikes: np.ndarray,
                     precision: float = TARGET_PRECISION) -> float:
    """The lowest threshold at which these (cross-validated) scores meet every limit: precision >=
    `precision`, at most FP_TARGET_POPULAR of the `popular` rows and FP_TARGET_LOOKALIKES of the
    `lookalikes` rows flagged. The most recall the limits allow; 0.5 when no threshold meets them."""
    candidates = np.unique(scores)
    positives = _share_at_or_above(scores[y == 1], candidates) * int((y == 1).sum())
    negatives = _share_at_or_above(scores[y == 0], candidates) * int((y == 0).sum())
    ok = ((positives >= precision * np.maximum(positives + negatives, 1))
          & (_share_at_or_above(scores[popular], candidates) <= FP_TARGET_POPULAR)
          & (_share_at_or_above(scores[lookalikes], candidates) <= FP_TARGET_LOOKALIKES))
    return float(candidates[np.argmax(ok)]) if ok.any() else 0.5


def _rates(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    flagged = scores >= threshold
    true_positives = int((flagged & (y == 1)).sum())
    return {
        "precision": round(true_positives / max(int(flagged.sum()), 1), 4),
        "recall": round(true_positives / max(int((y == 1).sum()), 1), 4),
        "pr_auc": round(float(average_precision_score(y, scores)), 4) if 0 < y.sum() < len(y) else None,
        "positives": int((y == 1).sum()), "negatives": int((y == 0).sum()),
    }


def _share_flagged(mask: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    count = int(mask.sum())
    flagged = int((scores[mask] >= threshold).sum())
    return {"rate": round(flagged / count, 4) if count else None, "flagged": flagged, "of": count}


def reference_rows(data: TrainingSet) -> np.ndarray:
    """The rows the threshold and the figures come from: catalog, non-AI lists and labels."""
    return ~np.isin(np.array(data.origins), [SYNTHETIC, "lake"])


def negative_sets(data: TrainingSet) -> tuple[np.ndarray, np.ndarray]:
    """(popular, lookalikes): the reference rows of the non-AI lists the false-positive limits are about;
    popular is every list but the AI-lookalikes."""
    origins = np.array(data.origins)
    negatives = reference_rows(data) & (data.y == 0)
    lookalikes = negatives & (origins == LOOKALIKES)
    popular = negatives & ~np.isin(origins, ["catalog", "label", "lake", LOOKALIKES])
    return popular, lookalikes


def cv_metrics(data: TrainingSet, cv_scores: np.ndarray, threshold: float, folds: int) -> dict[str, Any]:
    """The figures of docs/model.md from out-of-fold scores of the reference hosts (catalog, lists,
    labels; not the synthetic subdomains, not the lake's hosts, so that the figures mean the same on
    every install): each is scored by a model that never saw its site."""
    origins = np.array(data.origins)
    real = reference_rows(data)
    popular, lookalikes = negative_sets(data)
    # The most recall the popular-site FP target (1%) allows on its own, for comparison with the threshold.
    popular_scores = np.sort(cv_scores[popular])[::-1]
    allowed = int(np.floor(FP_TARGET_POPULAR * len(popular_scores)))
    strict = float(np.nextafter(popular_scores[allowed], 1.0)) if len(popular_scores) > allowed else 0.0
    return {
        "threshold": round(threshold, 4),
        "target_precision": TARGET_PRECISION,
        "cv": {**_rates(data.y[real], cv_scores[real], threshold), "folds": folds,
               "grouped_by": "site (registered domain without its suffix)"},
        "catalog_recall": {"by_catalog": None,
                           "model_cv": _share_flagged(origins == "catalog", cv_scores, threshold)["rate"]},
        "fp_rate_popular": _share_flagged(popular, cv_scores, threshold),
        "fp_rate_lookalikes": _share_flagged(lookalikes, cv_scores, threshold),
        "fp_rate_by_list": {name: _share_flagged(popular & (origins == name), cv_scores, threshold)
                            for name in sorted(set(origins[popular]))},
        "at_fp_target": {"fp_rate_popular": FP_TARGET_POPULAR, "threshold": round(strict, 4),
                         **{k: v for k, v in _rates(data.y[real], cv_scores[real], strict).items()
                            if k in ("precision", "recall")},
                         "fp_rate_lookalikes": _share_flagged(lookalikes, cv_scores, strict)["rate"]},
    }


def _fit_behaviour(data: TrainingSet, cv_scores: np.ndarray, folds: int, seed: int,
                   threshold: float) -> tuple[Pipeline | None, dict[str, Any]]:
    """The behaviour stage on the labelled lake hosts: inputs are the name model's out-of-fold logit (so
    it learns how far to trust a name it has not memorised) and the traffic features."""
    if data.behaviour is None or not data.behaviour.num_rows:
        return None, {"trained": False, "reason": "no labelled hosts with traffic in the lake"}
    lake_hosts = data.behaviour.column("host").to_pylist()
    index = {h: i for i, h in enumerate(data.hosts)}
    rows = np.array([index[h] for h in lake_hosts])
    y, groups = data.y[rows], [data.groups[i] for i in rows]
    clipped = np.clip(cv_scores[rows], 1e-6, 1 - 1e-6)
    matrix, _ = features.behaviour_matrix(data.behaviour, lake_hosts)
    stacked = np.column_stack([np.log(clipped / (1 - clipped)), matrix])
    counts = {c: int((y == c).sum()) for c in (0, 1)}
    sites = {c: len({g for g, label in zip(groups, y, strict=True) if label == c}) for c in (0, 1)}
    facts: dict[str, Any] = {"hosts": len(rows), "positives": counts[1], "negatives": counts[0]}
    if min(counts.values()) < MIN_BEHAVIOUR_HOSTS or min(sites.values()) < MIN_BEHAVIOUR_GROUPS:
        return None, {**facts, "trained": False,
                      "reason": f"needs >= {MIN_BEHAVIOUR_HOSTS} labelled lake hosts of each class from >= "
                                f"{MIN_BEHAVIOUR_GROUPS} sites"}
    out_of_fold = np.full(len(rows), np.nan)
    for train, test in _folds(y, groups, folds, seed):
        out_of_fold[test] = _behaviour_stage().fit(stacked[train], y[train]).predict_proba(stacked[test])[:, 1]
    evaluated = ~np.isnan(out_of_fold)
    if evaluated.any():
        facts["cv"] = _rates(y[evaluated], out_of_fold[evaluated], threshold)
        facts["cv_name_only"] = _rates(y[evaluated], cv_scores[rows][evaluated], threshold)
    stage = _behaviour_stage().fit(stacked, y)
    return stage, {**facts, "trained": True}


def train(settings: Settings, seed: int = DEFAULT_SEED, use_lake: bool = True, folds: int = FOLDS,
          catalog: Catalog | None = None, know_heldout: bool = True) -> Training:
    """Fit on all the training data; cross-validate (grouped by site) to choose the threshold and to
    measure. Same data and seed, same model. The held-out lists are never trained on; with `know_heldout`
    (a deployed model) their services are known AI like the training list's, without it (evaluate) the
    name model alone judges them. The fitted model and threshold are the same either way."""
    catalog = catalog if catalog is not None else load_catalog(settings.catalog_dir)
    connection = lake_connection(settings) if use_lake else None
    try:
        data = training_set(settings, catalog, connection)
    finally:
        if connection is not None:
            connection.close()
    transformer = NameFeatures()
    matrix = transformer.fit_transform(data.hosts)
    cv_scores = np.zeros(len(data.hosts))

    def fit_names(rows: np.ndarray | None) -> LogisticRegression:
        return _name_classifier().fit(*((matrix, data.y) if rows is None else (matrix[rows], data.y[rows])))

    # Small problems: BLAS/OpenMP threads only add contention (20x slower on a busy 2-core machine). The six
    # fits (the final one and one per fold) are independent, so they share the cores where the solver
    # releases the GIL.
    with threadpool_limits(1), ThreadPoolExecutor(max_workers=min(folds + 1, os.cpu_count() or 1)) as pool:
        final = pool.submit(fit_names, None)
        fitted = [(test_rows, pool.submit(fit_names, train_rows))
                  for train_rows, test_rows in _folds(data.y, data.groups, folds, seed)]
        for test_rows, fold in fitted:
            cv_scores[test_rows] = fold.result().predict_proba(matrix[test_rows])[:, 1]
        real = reference_rows(data)
        popular, lookalikes = negative_sets(data)
        threshold = choose_threshold(data.y[real], cv_scores[real], popular[real], lookalikes[real])
        names = Pipeline([("features", transformer), ("classifier", final.result())])
        stage, stage_facts = _fit_behaviour(data, cv_scores, folds, seed, threshold)
    metrics = cv_metrics(data, cv_scores, threshold, folds)
    metrics["catalog_recall"]["by_catalog"] = _share_flagged(
        np.ones(len(catalog_hosts(catalog)), dtype=bool),
        np.array([float(catalog.match_host(h) is not None) for h in catalog_hosts(catalog)]), 1.0)["rate"]
    metrics["behaviour_stage"] = stage_facts
    trained_at = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {
        "name": "logreg-names" + ("+behaviour" if stage is not None else ""),
        "threshold": round(threshold, 4), "metrics": metrics, "sklearn_version": sklearn.__version__,
        "feature_version": features.FEATURE_VERSION, "trained_at": trained_at, "seed": seed,
        "training_set": data.sizes(), "catalog_services": len(catalog), "used_lake": use_lake,
    }
    known = frozenset(n for names_ in features.non_ai_lists(settings.catalog_dir).values() for n in names_
                      if catalog.match_host(n) is None)
    listed = training_positives(settings.catalog_dir)
    if know_heldout:
        listed += heldout_services(settings.catalog_dir)
    listed_ai = frozenset(n for n in listed if catalog.match_host(n) is None and not features.under(n, known))
    model = HostModel(names=names, behaviour_stage=stage, threshold=round(threshold, 4), name=meta["name"], meta=meta,
                      known_non_ai=known, known_ai=listed_ai)
    return Training(model=model, data=data, cv_scores=cv_scores, metrics=metrics)


def heldout_path(catalog_dir: Path, name: str) -> Path:
    path = catalog_dir / name
    return path if path.exists() else SIGNATURES_DIR / name


def _heldout_figures(names: list[str], scores: np.ndarray, threshold: float, strict: float) -> dict[str, Any]:
    return {
        "scored": len(names),
        "recall": round(float((scores >= threshold).mean()), 4) if names else None,
        "recall_at_fp_target": round(float((scores >= strict).mean()), 4) if names else None,
        "missed": sorted(n for n, sc in zip(names, scores, strict=True) if sc < threshold),
    }


def evaluate(settings: Settings, seed: int = DEFAULT_SEED, use_lake: bool = True, folds: int = FOLDS) -> dict[str, Any]:
    """Train exactly as `model train` would (in memory, nothing stored) and report the CV figures, plus
    recall on the held-out lists (HELDOUT_FILES): real AI services kept out of the catalog and never trained
    on, scored by the name model alone (not as the known AI a deployed model takes them for), so they measure
    discovery of services nobody has catalogued. Each list is reported
    on its own and together; the targets count as met only if every list meets them."""
    catalog = load_catalog(settings.catalog_dir)
    training = train(settings, seed=seed, use_lake=use_lake, folds=folds, catalog=catalog, know_heldout=False)
    model, metrics = training.model, dict(training.metrics)
    strict = metrics["at_fp_target"]["threshold"]
    known = set(training.data.hosts)
    by_list: dict[str, dict[str, Any]] = {}
    all_fresh: list[str] = []
    all_scores: list[np.ndarray] = []
    total = 0
    for file_name in HELDOUT_FILES:
        path = heldout_path(settings.catalog_dir, file_name)
        names = [normalise_host(n) for n in read_domain_list(path)] if path.exists() else []
        # A held-out name the catalog or the training set already knows (or an earlier list) measures nothing.
        fresh = [n for n in names if n not in known and catalog.match_host(n) is None]
        known.update(fresh)
        scores = model.score(fresh) if fresh else np.zeros(0)
        by_list[file_name] = {"file": str(path), "names": len(names), "skipped_known": len(names) - len(fresh),
                              **_heldout_figures(fresh, scores, model.threshold, strict)}
        all_fresh += fresh
        all_scores.append(scores)
        total += len(names)
    metrics["heldout"] = {"names": total, "skipped_known": total - len(all_fresh),
                          **_heldout_figures(all_fresh, np.concatenate(all_scores), model.threshold, strict),
                          "lists": by_list}
    recalls = [figures["recall"] for figures in by_list.values() if figures["scored"]]
    metrics["targets"] = {
        "heldout_recall": 0.8, "fp_rate_popular": FP_TARGET_POPULAR, "fp_rate_lookalikes": FP_TARGET_LOOKALIKES,
        "met_at_threshold": bool(recalls) and min(recalls) >= 0.8
        and metrics["fp_rate_popular"]["rate"] <= FP_TARGET_POPULAR
        and metrics["fp_rate_lookalikes"]["rate"] <= FP_TARGET_LOOKALIKES,
    }
    metrics["model"] = {"name": model.name, "seed": seed, "training_set": training.data.sizes(),
                        "sklearn_version": sklearn.__version__}
    stored = read_meta(settings.home)
    metrics["stored_model"] = ({"trained_at": stored.get("trained_at"), "threshold": stored.get("threshold"),
                                "name": stored.get("name")} if stored else None)
    return metrics


# ---- storage ---------------------------------------------------------------------------------------------------


def save(model: HostModel, home: Path) -> Path:
    """Store the model as arrays (scorer.py); `load` reads it back without scikit-learn."""
    return scorer.save(model.exported, home)


def load_scorer(settings: Settings) -> LinearHostScorer:
    """The stored model; on a fresh install (or after an upgrade) a name-only model is trained from the
    catalog, the lists and labels (10-20 s, announced on the `detector` logger) and stored, so `lookup`
    works at once."""
    stored = load(settings.home)
    if stored is not None:
        return stored
    key = _inputs_key(settings)
    model = _BOOTSTRAPPED.get(key)
    if model is None:
        log.info("No usable model in %s: training a name-only one from the catalog and lists (once; 10-20 s). "
                 "`shadow-ai model train` retrains it, with the lake's traffic.", scorer.model_dir(settings.home))
        model = _BOOTSTRAPPED[key] = train(settings, use_lake=False).model
    save(model, settings.home)
    return model.exported


# Name-only models trained in this process, by their inputs: training is deterministic, so a second
# fresh data directory (tests, a dashboard serving several) reuses the first one's model.
_BOOTSTRAPPED: dict[tuple[object, ...], HostModel] = {}


def _inputs_key(settings: Settings) -> tuple[object, ...]:
    """What a name-only training reads: the catalog and list files (name, size, mtime) and the labels."""
    folders = [settings.catalog_dir, settings.catalog_dir / "non_ai", SIGNATURES_DIR / "non_ai"]
    files = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for folder in folders if folder.is_dir()
                  for f in sorted([*folder.glob("*.yaml"), *folder.glob("*.txt")]))
    labels = tuple(sorted((host, label.ai) for host, label in read_labels(settings.home).items()))
    return files, labels
