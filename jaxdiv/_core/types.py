"""The types shared by the whole package: one ``Axis``, one ``AxisName``.

- :data:`Axis`: the event axis (or axes) a measure reduces, as the user
  passes it (``-1``, ``(1, 2)``).
- :data:`OptionalAxis`: the same, where ``None`` means "every axis"
  (elementwise losses and the Bernoulli measures, like ``jnp.sum``).
- :data:`Axes`: a normalised, non-negative tuple of axes (after
  :func:`jaxdiv._core.checks.axes`).
- :data:`AxisName`: a mesh axis name (or names) of ``shard_map`` across which
  an axis is split, or ``None``.
- :data:`Shape`: a sample or event shape.
"""

from __future__ import annotations

from collections.abc import Sequence

Axis = int | Sequence[int]
OptionalAxis = int | Sequence[int] | None
Axes = tuple[int, ...]
AxisName = str | tuple[str, ...] | None
Shape = Sequence[int]
