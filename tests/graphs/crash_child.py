"""A process that approves a proposal and dies by ``kill -9`` at one crash point.

    python crash_child.py POINT PROPOSAL_ID APPROVER

The room comes from the environment (``WRITERS_ROOM_HOME``, ``WRITERS_ROOM_DATABASE_URL``).
POINT is where the process sends itself SIGKILL:

* ``lease`` — holding the review's lease, before the graph is resumed;
* ``before-resume`` — the decision row is committed, the review not yet resumed;
* ``apply`` — inside the apply step, after the new brief version is committed;
* ``produce`` — inside the produce step, after the render job is committed;

Two more modes drive the one-writer tests:

* ``hold PROPOSAL_ID`` — take the lease of the proposal's review (``LEASE_TTL`` seconds,
  renewed by the heartbeat), print ``holding`` and sleep;
* ``resume THREAD_ID INTERRUPT_ID DECISION_ID`` — wait until the file ``GO_FILE`` exists,
  then resume the review once without waiting for its lease: exit 0 when this process
  resumed it, 3 when it was refused;
* ``window SERIES WINDOW_END APPROVER`` — review one window and reject every proposal it
  makes, then print the episodes that had proposals as JSON (one process per window: a
  restart between windows).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from writers_room.config import Settings

POINTS = ("lease", "before-resume", "apply", "produce")


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    """Patch the one place this run dies at."""
    from writers_room.graphs.window_review import run
    from writers_room.guardrails import approval
    from writers_room.jobs import producer

    if point == "lease":

        @contextmanager
        def dying_checkpointer(_settings: Settings) -> Iterator[Any]:
            die()  # _driving took the lease just before opening the checkpointer
            yield None

        run.checkpointer = dying_checkpointer  # type: ignore[assignment]
    elif point == "before-resume":

        def dying_delivery(*_args: Any, **_kwargs: Any) -> Any:
            die()

        run.deliver_decisions = dying_delivery  # type: ignore[assignment]
    elif point == "apply":
        real_apply = approval.apply_proposal

        def dying_apply(*args: Any, **kwargs: Any) -> Any:
            real_apply(*args, **kwargs)
            die()

        approval.apply_proposal = dying_apply  # type: ignore[assignment]
    elif point == "produce":
        real_render = producer.request_render

        def dying_render(*args: Any, **kwargs: Any) -> Any:
            real_render(*args, **kwargs)
            die()

        producer.request_render = dying_render  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown crash point {point!r}; one of {', '.join(POINTS)}")


def resume_once(settings: Settings, thread_id: str, interrupt_id: str, decision_id: str) -> None:
    from writers_room.errors import GuardrailRefusal
    from writers_room.graphs.window_review import run

    run.LEASE_WAIT_S = 0.0
    go = os.environ["GO_FILE"]
    while not os.path.exists(go):
        time.sleep(0.005)
    try:
        run.resume(settings, thread_id, interrupt_id=interrupt_id, decision_id=int(decision_id))
    except GuardrailRefusal as exc:
        print(f"refused: {exc}", flush=True)
        raise SystemExit(3) from None
    print("resumed", flush=True)


def review_window(settings: Settings, series_id: str, window_end: str, approver: str) -> None:
    import json
    from datetime import datetime

    from writers_room.graphs.window_review.run import decide_and_resume, start_review
    from writers_room.store.db import session_scope
    from writers_room.store.models import Proposal

    review = start_review(settings, series_id, window_end=datetime.fromisoformat(window_end))
    with session_scope(settings) as session:
        episodes = sorted(
            {p.episode_id for pid in review.pending if (p := session.get(Proposal, pid))}
        )
    for proposal_id in review.pending:  # decisions are not creative input
        decide_and_resume(settings, proposal_id, actor=approver, approve=False, note="try again")
    print(json.dumps(episodes), flush=True)


def main(point: str, *args: str) -> None:
    settings = Settings()
    if point == "resume":
        resume_once(settings, *args)
        return
    if point == "window":
        review_window(settings, *args)
        return
    proposal_id = args[0]
    if point == "hold":
        from writers_room.store.db import session_scope
        from writers_room.store.models import Proposal
        from writers_room.store.runs import thread_lease

        with session_scope(settings) as session:
            proposal = session.get(Proposal, proposal_id)
            assert proposal is not None and proposal.thread_id
        with thread_lease(settings, proposal.thread_id, ttl_s=float(os.environ["LEASE_TTL"])):
            print("holding", flush=True)
            time.sleep(600)
        return
    arm(point)
    from writers_room.graphs.window_review.run import decide_and_resume

    decide_and_resume(settings, proposal_id, actor=args[1], approve=True)
    raise SystemExit(f"crash point {point!r} was never reached")


if __name__ == "__main__":
    main(*sys.argv[1:])
