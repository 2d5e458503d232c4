"""The label review app: people turn the worker's PENDING proposals into VALID labels.

A small web app (Starlette + Jinja2, htmx served by the app itself) over the same settings as
every command: a queue of receipts ordered by the model's uncertainty, a receipt page with the
photo, its word boxes coloured by label and the extracted fields, and keyboard-first decisions
written back with compare-and-put. Torch-free: it reads the store and the raw images, never a
model (``layoutlm-cli review`` serves it).

    from receipt_review.app import create_app
    app = create_app(settings, ReviewConfig(reviewer="ana"))
"""

from receipt_review.config import ReviewConfig
from receipt_review.errors import ReviewError

__all__ = ["ReviewConfig", "ReviewError"]
