"""Human handover: opening hours, the agent queue and the agent-conversation store.

Shared by the action server (joining the queue, leaving a message) and the web chat
channel (the agent desk). Nothing here opens a database or reads the environment at
import time; callers build a `HandoverStore` from `HandoverSettings` when they need one.
"""
