"""``layoutlm-cli review``: serve the app with uvicorn until Ctrl-C / SIGTERM."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from receipt_review.config import ReviewConfig
from receipt_review.security import check_bind
from receipt_review.state import ReviewState

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings

log = logging.getLogger(__name__)


def serve(settings: Settings, config: ReviewConfig) -> None:
    """Check the bind rule, open the environment and serve until stopped."""
    import uvicorn

    from receipt_review.app import create_app

    check_bind(config)
    state = ReviewState.from_settings(settings, config)
    app = create_app(state)
    host = f"[{config.host}]" if ":" in config.host else config.host
    # The token is never logged: the line says where to open the app, not with what.
    print(f"review app on http://{host}:{config.port}/"
          + ("  (open it with ?token=<your token>)" if config.token else ""), flush=True)
    try:
        uvicorn.run(app, host=config.host, port=config.port, log_level="warning",
                    access_log=False)
    finally:
        state.close()
