"""The Image aggregate: one item per uploaded image."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from receipt_dynamo import keys
from receipt_dynamo.entities import Image
from receipt_dynamo.store._base import StoreBase
from receipt_dynamo.store._repository import Repository


class ImageRecords(StoreBase):
    @cached_property
    def _images(self) -> Repository[Image, [str]]:
        return Repository(self.table, Image, keys.image_key)

    def add_image(self, image: Image, *, overwrite: bool = False) -> None:
        self._images.add(image, overwrite=overwrite)

    def add_images(self, images: Sequence[Image]) -> None:
        self._images.add_many(images)

    def get_image(self, image_id: str) -> Image:
        return self._images.get(image_id)

    def update_image(self, image: Image) -> None:
        self._images.update(image)

    def delete_image(self, image_id: str) -> None:
        """Delete the Image item only (its receipts and OCR records stay)."""
        self._images.delete(image_id)

    def list_images(self) -> list[Image]:
        return self._images.list_all()
