"""render room: shot manifest → keyframes → motion → captions → encode ladder → HLS.

Modules, one per concept:

* ``manifest`` — the shot manifest schema (imported by most of the room; kept light).
* ``validate`` — render-time checks with errors naming shot, field and value.
* ``keyframes`` — the :class:`~writers_room.render.keyframes.KeyframeRenderer` interface,
  the storyboard renderer and the content-addressed keyframe cache.
* ``diffusion`` — the diffusers renderer (torch is imported only when it is used).
* ``motion``, ``captions``, ``encode``, ``thumbnails``, ``provenance`` — the stages.
* ``pipeline`` — :func:`~writers_room.render.pipeline.render_manifest`, the entry point.
* ``executors`` — local and Ray executors behind one protocol.

The job API the agents call lives in :mod:`writers_room.jobs.render`. Nothing heavy is
imported here: ``import writers_room.brief.manifest`` stays cheap.
"""
