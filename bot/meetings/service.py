"""What the meeting actions need from the rest of the system, in one object.

Actions know a resident only by Rasa's sender id ("sms-<keyed hash>"); this finds the
conversation row behind it without ever seeing the phone number.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.meetings.store import MeetingStore, SignupStore
from bot.storage.conversations import ConversationStore
from bot.storage.models import Conversation


@dataclass
class MeetingService:
    meetings: MeetingStore
    signups: SignupStore
    conversations: ConversationStore
    clock: Clock
    timezone: str
    page_size: int = 3
    public_base_url: str = ""

    def conversation_for(self, rasa_sender_id: str) -> Conversation | None:
        return self.conversations.for_rasa_sender(rasa_sender_id)

    def calendar_link(self, meeting_id: int) -> str:
        """Where "add to calendar" points: the webhook serves one .ics per meeting."""
        return f"{self.public_base_url}/meetings/{meeting_id}.ics"
