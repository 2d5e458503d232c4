"""Guarded rollout: the export path promotes a bundle by itself under a policy.

``never``: bundles wait for ``layoutlm-cli promote``. ``on-pass``: every bundle that passed its
parity gate is promoted. ``if-better`` (the default): a bundle that passed is promoted when its
training job's recorded dev metric (``best_f1``: entity-level F1 on the dev split) is no worse
than the active bundle's job's, on the same label set; the first bundle is promoted. The policy
is the worker's ``--rollout``, unless the training Job carries the tag ``coreml-rollout``
(``layoutlm-cli train --tag coreml-rollout=never``, like ``skip-coreml-export``).

The decision is one line (``promoted: …`` / ``not promoted: …``) that the export worker stores
on the CoreMLExportJob (``exports show`` prints it).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from receipt_layoutlm.errors import ReceiptLayoutLMError

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings
    from receipt_dynamo import Job, ReceiptStore
    from receipt_layoutlm.bundles.registry import BundleRegistry

log = logging.getLogger(__name__)

ROLLOUT_POLICIES: tuple[str, ...] = ("never", "on-pass", "if-better")
DEFAULT_ROLLOUT = "if-better"
ROLLOUT_TAG = "coreml-rollout"
"""Training Job tag that sets the policy for that job's exports."""
DEV_METRIC = "best_f1"
"""The Job result compared by ``if-better`` (higher is better)."""


@dataclass(frozen=True)
class RolloutDecision:
    """What the policy decided for one bundle."""

    promoted: bool
    """Whether the bundle is the active one now."""
    reason: str
    """Why, in words (the metrics compared, the policy, or the refusal)."""

    def text(self) -> str:
        """The one line stored on the export record."""
        return f"{'promoted' if self.promoted else 'not promoted'}: {self.reason}"


def policy_for(job: Job | None, default: str) -> tuple[str, str]:
    """``(policy, where it came from)``: the Job's ``coreml-rollout`` tag, else ``default``."""
    tag = ((job.tags or {}).get(ROLLOUT_TAG) or "").strip().lower() if job is not None else ""
    if tag:
        if tag not in ROLLOUT_POLICIES:
            raise ReceiptLayoutLMError(
                f"tag {ROLLOUT_TAG}={tag!r} of job {job.name} is not one of "
                f"{', '.join(ROLLOUT_POLICIES)}"
            )
        return tag, f"tag {ROLLOUT_TAG}"
    return default, "--rollout"


def _metric(job: Job | None) -> float | None:
    value = (job.results or {}).get(DEV_METRIC) if job is not None else None
    return float(value) if isinstance(value, int | float) else None


def _bundle_labels(bundle_uri: str) -> list[str]:
    from receipt_cloud.objects import open_object_store
    from receipt_layoutlm.bundle_format import LABEL_MAP_FILE
    from receipt_layoutlm.bundles.registry import label_tags

    return label_tags(json.loads(open_object_store(bundle_uri).get_bytes(LABEL_MAP_FILE)))


def _if_better(
    store: ReceiptStore, registry: BundleRegistry, bundle_uri: str, job: Job | None
) -> str | RolloutDecision:
    """The reason to promote, or the decision not to."""
    from receipt_cloud.exports import resolve_job
    from receipt_layoutlm.bundles.locations import canonical_uri

    active = registry.active()
    if active is None:
        return "if-better: no bundle is active yet"
    if canonical_uri(str(active.get("bundle_uri"))) == canonical_uri(bundle_uri):
        return "if-better: it is the active bundle already"
    new = _metric(job)
    if new is None:
        name = job.name if job is not None else "its training job"
        return RolloutDecision(False, f"{name} has no recorded dev metric ({DEV_METRIC})")
    active_job = resolve_job(store, str(active.get("job_id") or ""))
    old = _metric(active_job)
    if old is None:
        return RolloutDecision(
            False,
            f"the active bundle's job {active.get('job_id')!r} has no recorded dev metric "
            f"({DEV_METRIC}) to compare with; promote by hand",
        )
    labels, active_labels = _bundle_labels(bundle_uri), active.get("labels")
    if active_labels is not None and sorted(active_labels) != labels:
        return RolloutDecision(
            False,
            f"its label set ({len(labels)} tags) differs from the active bundle's "
            f"({len(active_labels)}); if-better compares only on the same labels, promote by hand",
        )
    if new < old:
        return RolloutDecision(
            False,
            f"dev {DEV_METRIC} {new:.4f} of {job.name} is worse than {old:.4f} of the active "
            f"bundle's job {active_job.name}",
        )
    return f"if-better: dev {DEV_METRIC} {new:.4f} >= {old:.4f} of {active_job.name}"


def apply_rollout(
    *,
    store: ReceiptStore,
    registry: BundleRegistry,
    bundle_uri: str,
    job_name: str,
    default: str = DEFAULT_ROLLOUT,
) -> RolloutDecision:
    """Decide under the policy and promote when it says so (``registry.promote``: verified,
    mirrored, locked). A refusal of the bundle by ``promote`` is a decision, not an error."""
    from receipt_cloud.exports import resolve_job

    job = resolve_job(store, job_name)
    try:
        policy, source = policy_for(job, default)
    except ReceiptLayoutLMError as exc:
        return RolloutDecision(False, str(exc))
    if policy == "never":
        return RolloutDecision(False, f"rollout policy never ({source}); promote by hand")
    if policy == "on-pass":
        why: str | RolloutDecision = "on-pass: it passed its parity gate"
    else:
        why = _if_better(store, registry, bundle_uri, job)
    if isinstance(why, RolloutDecision):
        log.info("bundle %s %s", bundle_uri, why.text())
        return why
    try:
        record = registry.promote(bundle_uri, records=store)
    except ReceiptLayoutLMError as exc:
        return RolloutDecision(False, f"promote refused it: {exc}")
    decision = RolloutDecision(True, f"{why} (active version {record['version']}, {source})")
    log.info("bundle %s %s", bundle_uri, decision.text())
    return decision


def rollout_export(
    settings: Settings, store: ReceiptStore, *, job_name: str, bundle_uri: str, default: str
) -> str:
    """The export worker's step after a bundle is published: ``apply_rollout`` against the
    environment's bundles store; returns the line for the export record."""
    from receipt_layoutlm.bundles.registry import BundleRegistry

    registry = BundleRegistry.from_settings(settings)
    return apply_rollout(
        store=store, registry=registry, bundle_uri=bundle_uri, job_name=job_name, default=default
    ).text()
