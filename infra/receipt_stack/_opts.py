"""ResourceOptions helpers shared by the components."""

from __future__ import annotations

import pulumi


def child(
    parent: pulumi.Resource, *, protect: bool = False, **kwargs: object
) -> pulumi.ResourceOptions:
    """Options for a resource owned by component ``parent``."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, **kwargs)  # type: ignore[arg-type]
