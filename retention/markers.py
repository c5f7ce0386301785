"""The event markers the statistics are built from, in one place.

Actions, rules and the handover code emit exactly these names; if one of them is renamed
there, it has to change here too, or fallbacks and handovers silently drop to zero.
"""

from __future__ import annotations

#: Tracker event type of a shopper message.
USER_EVENT = "user"
#: Tracker event type of an executed action.
ACTION_EVENT = "action"
#: `ConversationPaused`: the bot stops predicting because an agent takes over.
PAUSE_EVENT = "pause"

#: Intent the FallbackClassifier predicts when NLU is unsure.
FALLBACK_INTENT = "nlu_fallback"
#: Action Rasa runs when no policy is confident enough.
FALLBACK_ACTION = "action_default_fallback"

#: Actions that put the shopper in the agent queue or take a message for an agent; a
#: complaint and an erasure request are cases for an agent too (live or offline).
HANDOVER_ACTIONS: tuple[str, ...] = (
    "action_join_queue",
    "action_leave_message",
    "action_file_complaint",
    "action_register_erasure",
)

#: Intent label for shopper messages without an intent (e.g. parse failures).
NO_INTENT = "(none)"

#: Tracker event type of a shopper's rating or helpful vote (Rasa's AgentUttered; see
#: channels/feedback.py) and the `feedback` kinds in its data.
FEEDBACK_EVENT = "agent"
FEEDBACK_RATING = "rating"
FEEDBACK_VOTE = "vote"
#: Tracker event type of a slot being set.
SLOT_EVENT = "slot"
#: Slot the self-service actions (actions/self_service.py) set once a change went through;
#: its value says which kind. Counted per day, never with the order or the shopper.
SELF_SERVICE_SLOT = "self_service_change"
#: The change kinds (slot values) and how the insights report names them.
SELF_SERVICE_KINDS: dict[str, str] = {
    "cancel": "Cancellations",
    "address": "Address changes",
    "size": "Size changes",
    "invoice_copy": "Invoice copies",
    "unsubscribe": "Newsletter unsubscribes",
}
#: Action that keeps a shopper's feedback with the conversation (actions/feedback.py):
#: the statistics count how often it ran, never what was said.
FEEDBACK_ACTION = "action_store_feedback"
