"""The stored host model as plain arrays, and scoring with numpy alone.

Both stages are linear (docs/model.md), so a fitted model is its weights: the name model's weight per
hashed name column (`name_hashing`) and the behaviour stage's imputation, scaling and weights. Scoring
from these needs neither scikit-learn nor SciPy, whose import alone cost about 1 s of CPU in every
`classify` and `lookup`; and the stored file is arrays (`numpy.load` without pickle), which no
scikit-learn upgrade invalidates and which cannot run code when read. `model.py` fits and exports.
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from detector.classify import features, name_hashing
from detector.signatures import normalise_host

MODEL_DIR = "model"
SCORER_FILE = "scorer.npz"
META_FILE = "model.json"
# Bump when the stored arrays change meaning; a stored model of another format is trained anew.
# 2: the training list's AI sites are stored (known_ai).
SCORER_FORMAT = 2
# The hashed name columns: char n-grams of the registered domain, then of the subdomain labels, then the
# handcrafted features by name (features.name_parts), side by side.
NGRAM_RANGE = (3, 5)
NGRAM_COLUMNS = 2**18
NAMED_COLUMNS = 2**16
NAME_COLUMNS = 2 * NGRAM_COLUMNS + NAMED_COLUMNS
BLOCK_OFFSETS = (0, NGRAM_COLUMNS, 2 * NGRAM_COLUMNS)


def name_columns(hosts: Sequence[str]) -> tuple[name_hashing.HashedRows, ...]:
    """The three blocks of hashed name columns of the hosts (columns relative to each block)."""
    domains, subdomains, handmade = [], [], []
    for host in hosts:
        domain_text, sub_text, named = features.name_parts(host)
        domains.append(domain_text)
        subdomains.append(sub_text)
        handmade.append(named)
    return (name_hashing.hashed_ngrams(domains, NGRAM_RANGE, NGRAM_COLUMNS),
            name_hashing.hashed_ngrams(subdomains, NGRAM_RANGE, NGRAM_COLUMNS),
            name_hashing.hashed_named(handmade, NAMED_COLUMNS))


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


@dataclass(frozen=True)
class BehaviourStage:
    """Median imputation with a missing-indicator per column that had gaps in training, standard
    scaling, logistic regression: over [name logit, behaviour features]."""

    medians: np.ndarray
    indicated: np.ndarray  # columns that get a missing-indicator, in order
    means: np.ndarray
    scales: np.ndarray
    weights: np.ndarray
    intercept: float

    def probability(self, stacked: np.ndarray) -> np.ndarray:
        missing = np.isnan(stacked)
        imputed = np.where(missing, self.medians, stacked)
        inputs = np.column_stack([imputed, missing[:, self.indicated].astype(np.float64)])
        return _sigmoid(((inputs - self.means) / self.scales) @ self.weights + self.intercept)


@dataclass(frozen=True)
class LinearHostScorer:
    """What `judge_hosts` calls (the HostScorer protocol): a probability of AI per host."""

    threshold: float
    name: str
    name_weights: np.ndarray  # one per column of NAME_COLUMNS (zero for columns never seen in training)
    name_intercept: float
    behaviour_stage: BehaviourStage | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # The non-AI lists' sites: a host under one is not AI whatever its name looks like (eu.ebay.com,
    # r3.googlevideo.com); AI inside such a site is the catalog's job (gemini.google.com).
    known_non_ai: frozenset[str] = frozenset()
    # The AI training list's sites (signatures/ai_training.txt): real AI services the model was taught as AI.
    # A host under one is AI (score 1), as a host under a non-AI list's site is not: the list is knowledge,
    # and a name the model learnt from should not be judged again by how it looks.
    known_ai: frozenset[str] = frozenset()

    def listed_ai(self, host: str) -> bool:
        """Whether the host is under a site of the AI training list (and under no non-AI list's site)."""
        name = normalise_host(host)
        return features.under(name, self.known_ai) and not features.under(name, self.known_non_ai)

    def name_logits(self, hosts: Sequence[str]) -> np.ndarray:
        logits = np.full(len(hosts), self.name_intercept)
        for block, offset in zip(name_columns(hosts), BLOCK_OFFSETS, strict=True):
            logits += np.bincount(block.rows, weights=self.name_weights[block.columns + offset] * block.values,
                                  minlength=len(hosts))
        return logits

    def score(self, hosts: Sequence[str],
              behaviour: pa.Table | Callable[[], pa.Table | None] | None = None) -> np.ndarray:
        """Probability of AI per host: the name model's, or the behaviour stage's where the host has traffic;
        0 under a non-AI list's site, 1 under an AI training list's site. `behaviour` may be a function that
        waits for the traffic features: it is called once the names are scored (classify scores them while the
        lake is still read)."""
        scores = np.zeros(len(hosts))
        normalised = [normalise_host(h) for h in hosts]
        judged = [i for i, name in enumerate(normalised) if not features.under(name, self.known_non_ai)]
        if not judged:
            return scores
        names = [hosts[i] for i in judged]
        logits = self.name_logits(names)
        found = _sigmoid(logits)
        if callable(behaviour):
            behaviour = behaviour()
        if self.behaviour_stage is not None and behaviour is not None and behaviour.num_rows:
            matrix, present = features.behaviour_matrix(behaviour, names)
            if present.any():
                found[present] = self.behaviour_stage.probability(np.column_stack([logits[present], matrix[present]]))
        scores[judged] = found
        if self.known_ai:
            scores[[i for i in judged if features.under(normalised[i], self.known_ai)]] = 1.0
        return scores


def model_dir(home: Path) -> Path:
    return home / MODEL_DIR


def save(scorer: LinearHostScorer, home: Path) -> Path:
    """Write the arrays and the model's facts; each file is replaced in one step, the facts last."""
    folder = model_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    columns = np.flatnonzero(scorer.name_weights)
    arrays: dict[str, np.ndarray] = {
        "name_columns": columns, "name_weights": scorer.name_weights[columns],
        "name_intercept": np.array(scorer.name_intercept),
        "known_non_ai": np.array(sorted(scorer.known_non_ai), dtype=np.str_),
        "known_ai": np.array(sorted(scorer.known_ai), dtype=np.str_),
    }
    if scorer.behaviour_stage is not None:
        stage = scorer.behaviour_stage
        arrays |= {"stage_medians": stage.medians, "stage_indicated": stage.indicated, "stage_means": stage.means,
                   "stage_scales": stage.scales, "stage_weights": stage.weights,
                   "stage_intercept": np.array(stage.intercept)}
    meta = {**scorer.meta, "threshold": scorer.threshold, "name": scorer.name, "scorer_format": SCORER_FORMAT,
            "feature_version": features.FEATURE_VERSION}
    _replace(folder / SCORER_FILE, lambda out: np.savez_compressed(out, **arrays))
    (folder / "model.joblib").unlink(missing_ok=True)  # the pickled pipeline earlier versions stored
    _replace(folder / META_FILE, lambda out: out.write((json.dumps(meta, indent=2, sort_keys=True) + "\n").encode()))
    return folder


def _replace(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write the file beside its place, then move it there in one step: a reader sees old or new, whole."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("wb") as out:
            write(out)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_meta(home: Path) -> dict[str, Any] | None:
    path = model_dir(home) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def load(home: Path) -> LinearHostScorer | None:
    """The stored model; None when there is none, or it was stored in another format or with other name
    features (then it is trained anew)."""
    meta = read_meta(home)
    path = model_dir(home) / SCORER_FILE
    if meta is None or (meta.get("scorer_format"), meta.get("feature_version")) != (SCORER_FORMAT,
                                                                                  features.FEATURE_VERSION):
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        weights = np.zeros(NAME_COLUMNS)
        weights[arrays["name_columns"]] = arrays["name_weights"]
        stage = None
        if "stage_weights" in arrays:
            stage = BehaviourStage(arrays["stage_medians"], arrays["stage_indicated"], arrays["stage_means"],
                                   arrays["stage_scales"], arrays["stage_weights"], float(arrays["stage_intercept"]))
        return LinearHostScorer(threshold=float(meta["threshold"]), name=str(meta["name"]), name_weights=weights,
                                name_intercept=float(arrays["name_intercept"]), behaviour_stage=stage, meta=meta,
                                known_non_ai=frozenset(arrays["known_non_ai"].tolist()),
                                known_ai=frozenset(arrays["known_ai"].tolist()))
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile, zlib.error):
        return None  # a missing, truncated or foreign file: trained anew rather than failing every classify
