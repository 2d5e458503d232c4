"""Start a SageMaker training job for a ``layoutlm-*`` Job, torch-free (the start-training Lambda).

    settings = LaunchSettings.from_environ(os.environ)
    result = launch_training({"job_name": "layoutlm-x", "use_spot": True}, settings)

The payload is the seed's ``{"job_name", "use_spot", "hyperparameters"}`` plus optional
``instance_type``, ``instance_count``, ``max_runtime_hours``, ``merge_preset``, ``init_from``
(an ``s3://`` prefix in the runs bucket, mounted as the ``init`` channel), ``skip_coreml_export``
and ``tags``. Hyperparameters are sent as strings (SageMaker's format; the container types them
through ``TrainingConfig``/``DatasetConfig``). The request always names the image by its
content-hash tag, always carries a CheckpointConfig (a spot or failed job restarted under the
same name resumes from it) and, with spot, a MaxWaitTime. The PENDING Job record is written
before CreateTrainingJob and removed again when SageMaker refuses the request, so a refused
launch leaves nothing behind and the name can be retried.
"""

from __future__ import annotations

from receipt_cloud.training_launch._payload import (
    CHECKPOINT_LOCAL_PATH,
    CHECKPOINT_PREFIX,
    DEFAULT_HYPERPARAMETERS,
    HYPERPARAMETER_KINDS,
    INIT_CHANNEL,
    INIT_CHANNEL_DIR,
    JOB_NAME_PREFIX,
    MERGE_PRESETS,
    OUTPUT_PREFIX,
    SKIP_EXPORT_TAG,
    LaunchSettings,
    TrainingLaunchError,
    TrainingRequest,
    check_job_name,
    parse_request,
)
from receipt_cloud.training_launch._sagemaker import (
    LaunchResult,
    create_training_job_request,
    image_reference,
    launch_training,
)

__all__ = [
    "CHECKPOINT_LOCAL_PATH",
    "CHECKPOINT_PREFIX",
    "DEFAULT_HYPERPARAMETERS",
    "HYPERPARAMETER_KINDS",
    "INIT_CHANNEL",
    "INIT_CHANNEL_DIR",
    "JOB_NAME_PREFIX",
    "MERGE_PRESETS",
    "OUTPUT_PREFIX",
    "SKIP_EXPORT_TAG",
    "LaunchResult",
    "LaunchSettings",
    "TrainingLaunchError",
    "TrainingRequest",
    "check_job_name",
    "create_training_job_request",
    "image_reference",
    "launch_training",
    "parse_request",
]
