"""`shadow-ai model train` and `shadow-ai model evaluate`: the host classifier's commands.

detector/cli.py registers `model_group` (one line); shared command helpers come from detector.cli_support.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from detector.cli_support import reports_errors

F = TypeVar("F", bound=Callable[..., Any])


def _settings(ctx: click.Context) -> Any:
    from detector.cli import settings_of

    return settings_of(ctx)


def _options(func: F) -> F:
    """The options train and evaluate share: the same data and seed give the same model. (Defaults live
    in detector.classify.model, which is not imported until a command runs: it loads scikit-learn.)"""
    func = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(func)
    func = click.option("--folds", type=click.IntRange(2, 20),
                        help="Cross-validation folds, grouped by site [default: 5].")(func)
    func = click.option("--names-only", is_flag=True,
                        help="Ignore the lake: train on the catalog, the non-AI lists and labels only.")(func)
    return click.option("--seed", type=int, help="Random seed of the cross-validation folds [default: 1].")(func)


@click.group("model")
def model_group() -> None:
    """The host classifier that finds AI services the catalog lacks (docs/model.md)."""


@model_group.command("train")
@_options
@click.pass_context
@reports_errors
def train_command(ctx: click.Context, seed: int | None, names_only: bool, folds: int | None, as_json: bool) -> None:
    """Retrain the classifier on the catalog, the non-AI lists, analysts' labels and the lake's labelled
    traffic, choose its threshold by cross-validation, and store it in the data directory (model/).

    `classify` and `lookup` use the stored model; without one they train a name-only model first.
    Run it after adding signatures or labels, or once the lake holds a few weeks of traffic.

    \b
    Example:
        shadow-ai model train
        shadow-ai --home /srv/shadow-ai model train --json
    """
    from detector.classify import model

    settings = _settings(ctx)
    training = model.train(settings, seed=model.DEFAULT_SEED if seed is None else seed, use_lake=not names_only,
                           folds=folds or model.FOLDS)
    folder = model.save(training.model, settings.home)
    meta = training.model.meta
    if as_json:
        click.echo(json.dumps({"stored": str(folder), **meta}, sort_keys=True))
        return
    sizes, metrics = meta["training_set"], meta["metrics"]
    stage = metrics["behaviour_stage"]
    click.echo(f"trained {meta['name']} on {sizes['positives']} AI and {sizes['negatives']} non-AI hosts "
               f"({sizes['lake_hosts']} with traffic from the lake); stored in {folder}")
    click.echo(f"threshold {meta['threshold']:.4f} (chosen on CV: FP <= 1% popular sites, <= 5% look-alikes, "
               f"precision >= {metrics['target_precision']}): "
               f"precision {metrics['cv']['precision']:.3f}, recall {metrics['cv']['recall']:.3f}, "
               f"PR-AUC {metrics['cv']['pr_auc']:.3f}")
    click.echo("behaviour stage: " + ("trained" if stage["trained"] else f"not trained ({stage['reason']})"))


@model_group.command("evaluate")
@_options
@click.pass_context
@reports_errors
def evaluate_command(ctx: click.Context, seed: int | None, names_only: bool, folds: int | None,
                     as_json: bool) -> None:
    """Measure the classifier: precision, recall and PR-AUC by cross-validation grouped by site, recall
    on AI services kept out of the catalog (signatures/heldout_ai.txt, heldout_ai_2.txt and
    heldout_ai_3.txt, each and all together), and false-positive rates on popular and on AI-looking
    non-AI sites. Trains in memory exactly as `model train` would; stores nothing.

    \b
    Example:
        shadow-ai model evaluate
        shadow-ai model evaluate --json | jq .heldout.recall
    """
    from detector.classify import model

    metrics = model.evaluate(_settings(ctx), seed=model.DEFAULT_SEED if seed is None else seed,
                             use_lake=not names_only, folds=folds or model.FOLDS)
    if as_json:
        click.echo(json.dumps(metrics, sort_keys=True))
        return
    for line in report_lines(metrics):
        click.echo(line)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def report_lines(metrics: dict[str, Any]) -> list[str]:
    """The evaluation as a readable table."""
    cv, heldout, strict = metrics["cv"], metrics["heldout"], metrics["at_fp_target"]
    popular, lookalikes = metrics["fp_rate_popular"], metrics["fp_rate_lookalikes"]
    sizes = metrics["model"]["training_set"]
    rows = [
        ("threshold (chosen on CV: FP limits, precision >= 0.9)", f"{metrics['threshold']:.4f}",
         f"{strict['threshold']:.4f}"),
        ("precision (CV)", f"{cv['precision']:.3f}", f"{strict['precision']:.3f}"),
        ("recall (CV, catalog and ai_training.txt)", f"{cv['recall']:.3f}", f"{strict['recall']:.3f}"),
        ("PR-AUC (CV)", f"{cv['pr_auc']:.3f}", ""),
        *((f"recall, held-out {name} (n={figures['scored']})", _rate(figures["recall"]),
           _rate(figures["recall_at_fp_target"])) for name, figures in heldout["lists"].items()),
        (f"recall, held-out, all lists (n={heldout['scored']})", _rate(heldout["recall"]),
         _rate(heldout["recall_at_fp_target"])),
        (f"FP rate, popular sites (n={popular['of']})", _rate(popular["rate"]), _rate(metrics["targets"][
            "fp_rate_popular"]) + " (target)"),
        (f"FP rate, AI-lookalikes (n={lookalikes['of']})", _rate(lookalikes["rate"]),
         _rate(strict["fp_rate_lookalikes"])),
        ("recall by the catalog itself", _rate(metrics["catalog_recall"]["by_catalog"]), ""),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"model {metrics['model']['name']}: {sizes['positives']} AI / {sizes['negatives']} non-AI hosts "
             f"({sizes['by_origin'].get('synthetic', 0)} synthetic subdomains, {sizes['lake_hosts']} from the lake), "
             f"{cv['folds']}-fold CV grouped by {cv['grouped_by']}",
             f"{'':{width}}  {'at threshold':>14}  {'at FP 1%':>14}"]
    lines += [f"{name:{width}}  {a:>14}  {b:>14}" for name, a, b in rows]
    lines.append(f"held-out: {heldout['scored']} of {heldout['names']} names scored "
                 f"({heldout['skipped_known']} already known), {len(heldout['missed'])} missed at the threshold")
    by_list = metrics.get("fp_rate_by_list", {})
    if by_list:
        lines.append("FP rate by non-AI list at the threshold: " + ", ".join(
            f"{name} {_rate(figures['rate'])} ({figures['flagged']}/{figures['of']})"
            for name, figures in by_list.items()))
    stage = metrics["behaviour_stage"]
    if stage.get("trained"):
        with_traffic, names_only = stage.get("cv", {}), stage.get("cv_name_only", {})
        lines.append(f"behaviour stage on {stage['hosts']} lake hosts ({stage['positives']} AI): CV precision "
                     f"{with_traffic.get('precision')}, "
                     f"recall {with_traffic.get('recall')}, PR-AUC {with_traffic.get('pr_auc')} "
                     f"(name only: {names_only.get('precision')}, {names_only.get('recall')}, "
                     f"{names_only.get('pr_auc')})")
    else:
        lines.append(f"behaviour stage: not trained ({stage['reason']})")
    met = metrics["targets"]["met_at_threshold"]
    lines.append("targets (held-out recall >= 80% on every list, FP <= 1% popular, <= 5% lookalikes): "
                 + ("met" if met else "NOT met") + " at the threshold")
    return lines
