"""Read-only review pages over HTTP: the window report, a review's proposals with their
changes, and a render's preview with its HLS ladder.

``links`` signs and checks the links (standard library only, cheap to import: the Slack
cards call it); ``app`` is the Starlette application, ``server`` runs it with uvicorn on a
thread of ``writers-room serve``; ``pages`` and ``diffs`` write the HTML. ``static/`` ships
hls.js (Apache-2.0, its licence beside it), the player script and the style sheet.
"""
