"""Render layer: the one exception the render layer raises.

Imports only the standard library. A ``RenderError`` means the wording in
``cards/`` or the data handed to the renderer is wrong (an unknown placeholder, a
missing card file, an unknown source ID); it is a content bug to fix, never a
patient condition, so callers should let it surface loudly in tests.
"""

from __future__ import annotations


class RenderError(ValueError):
    """Card wording or recommendation data cannot be rendered as it stands."""
