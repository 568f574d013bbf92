"""bots room: the room's front doors.

* ``bots.slack`` — the bolt app: chat (mentions, DMs, thread replies), ``/room``, decision
  buttons and the edit modal, review and proposal posts;
* ``bots.serve`` — ``writers-room serve``: the app over HTTP or Socket Mode, plus the
  24-hour scheduler (``bots.scheduler``);
* ``bots.terminal`` — ``writers-room chat``: the same chat graph in a terminal.
"""
