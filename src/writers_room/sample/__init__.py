"""The seeded sample room: :func:`generate` writes two series with their events, metrics
and comments (see :mod:`writers_room.sample.simulator`)."""

from writers_room.sample.simulator import SampleBundle, generate

__all__ = ["SampleBundle", "generate"]
