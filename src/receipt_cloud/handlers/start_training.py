"""Start-training Lambda: ``{"job_name": "layoutlm-...", "use_spot", "hyperparameters"}`` →
CreateTrainingJob + a PENDING Job (``receipt_cloud.training_launch``).

Refusals raise ``TrainingLaunchError``, so ``aws lambda invoke`` shows the reason as the
function error; success returns ``{"status": "started", "job_id", "job_name",
"training_job_arn", "image_uri", "use_spot"}``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from receipt_cloud.training_launch import LaunchSettings, TrainingLaunchError, launch_training

log = logging.getLogger(__name__)


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point; the stack sets the variables ``LaunchSettings.from_environ`` reads."""
    settings = LaunchSettings.from_environ(os.environ)
    try:
        result = launch_training(event, settings)
    except TrainingLaunchError as exc:
        log.error("start-training refused: %s", exc)
        raise
    log.info("started training job %s (%s)", result.job_name, result.training_job_arn)
    return result.to_dict()
