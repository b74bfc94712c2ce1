"""The command pipeline: what every command on process instances does, in one place.

1. **lock** the instance row (``Transaction.lock``);
2. let the **engine** compute the result (``Transaction.engine``);
3. **apply** it through the steps — instance state, timer rows, human tasks and due dates, message
   subscriptions and the outbox, declared notices, platform effects (workflow/steps.py) — and **record** the
   audit event (``Transaction.apply``);
4. **commit** once (a concurrent change is a Conflict, 409; any error rolls everything back);
5. after the commit, **deliver** the messages the command threw (workflow/outbox.py: each delivery is a
   transaction of its own, idempotent by event id, retried by the scheduler when it fails) and **announce**
   the next due timer to this process's scheduler.

Commands of users, the API and scheduler jobs are ``with Command() as cmd: ...`` blocks.
"""

from __future__ import annotations

from app.extensions import db
from app.services.workflow import outbox, timer_rows
from app.services.workflow.transaction import Transaction


class Command(Transaction):
    """A transaction followed by the delivery of its messages and the announcement of its timers."""

    def __exit__(self, exc_type, exc, tb) -> bool:
        super().__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.after_commit()
        return False

    def after_commit(self) -> None:
        """Deliver what the command threw (mostly nothing); tell the scheduler the next due time."""
        if db.session.info.pop("outbox_pending", False):
            outbox.deliver_pending()
        if self.runtime.wake is not None:  # only a process running the scheduler needs the next due time
            self.runtime.announce(timer_rows.next_due_at())
