"""The platform as the kiosk uses it: every submission through the durable outbox first.

``DurablePlatform.submit`` keeps the submission on disk, then tries to send it
once. Online, the citizen gets the platform's outcome at once; offline (or on
a garbled or 5xx answer) they get a pending slip (收件凭证) with the local
number, and the outbox's background ``run`` delivers it later under the same
key; the platform links the local number to the acceptance number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from client.outbox import Outbox, pending_outcome
from client.platform import PlatformClient
from kiosk.errors import PlatformAuthError, PlatformError, PlatformRejected
from kiosk.outcomes import Outcome, Progress, Submission

log = logging.getLogger("client.durable")


class DurablePlatform:
    """Implements kiosk.ports.Platform over a PlatformClient and an Outbox."""

    def __init__(self, client: PlatformClient, outbox: Outbox) -> None:
        self.client = client
        self.outbox = outbox

    def __getattr__(self, name: str):
        # Every other call of the port (heartbeat, rate, call_staff, ticket, ...) needs
        # no outbox: it goes straight to the client.
        return getattr(self.client, name)

    async def health(self) -> Mapping[str, Any]:
        return await self.client.health()

    async def submit(self, submission: Submission) -> Outcome:
        """The platform's outcome, or a PENDING outcome when it cannot answer now.

        :raises OutboxError: the submission could not be kept on disk (tell the citizen, keep nothing).
        :raises PlatformRejected: the platform refused it (a precise message key; nothing queued).
        While the platform was out of reach a moment ago, a pending slip at once.
        A terminal the platform does not trust for now (its clock off, its credentials in
        question) gets a pending slip too: the submission is kept and goes once the
        technician has put that right; the citizen is not told "failed" about an
        application that will be delivered (nor left to tap again and queue another).
        """
        # the queue leaves it alone while the citizen waits on this try (it sends as one
        # whose citizen left with a slip); sent by the queue this moment (a tap again
        # after the slip), it is on its way: the slip again
        mine = self.outbox.claim(submission.key)
        try:
            stamped = await asyncio.to_thread(self.outbox.put, submission)
            if not mine or self.outbox.platform_away():
                # out of reach a moment ago: a pending slip at once, rather than keep the
                # citizen waiting on a platform the outbox is still trying to reach
                return pending_outcome(stamped)
            return await self._try(stamped)
        finally:
            if mine:
                self.outbox.unclaim(submission.key)

    async def _try(self, stamped: Submission) -> Outcome:
        entry = await asyncio.to_thread(self.outbox.entry_id, stamped.key)
        try:
            # one try: a citizen is waiting (three tries of a platform that answers nothing
            # kept them 30 s), and the outbox tries again in the background. Tried even with
            # others waiting: the platform's own verdict (a refusal the citizen can put
            # right) is worth more than the order the slips go in
            outcome = await self.client.submit(stamped, retry=False)
        except PlatformAuthError as err:
            log.error("submission kept for later: the platform does not trust this terminal (%s)",
                      err.message_key)  # fmt: skip
            return pending_outcome(stamped)
        except PlatformRejected:
            self.outbox.reached(True)
            if entry is not None:
                await asyncio.to_thread(self.outbox.remove, entry)
            raise
        except PlatformError:
            self.outbox.reached(False)
            return pending_outcome(stamped)
        self.outbox.reached(True)
        if entry is not None:
            await asyncio.to_thread(self.outbox.acknowledge, entry, outcome)
        return outcome

    async def progress(self, number: str) -> Progress:
        """By acceptance number or local number.

        :raises PlatformError: unreachable, unknown number (PlatformRejected 404), or garbled.
        """
        return await self.client.progress(number)
