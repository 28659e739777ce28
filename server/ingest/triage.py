"""Decide what an incoming message is: a valid message from a known hub, or a dead letter.

Pure: handed the topic, payload, receive time and a provisioning check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from edge.protocol import Channel, HubConfig, Message, ProtocolError, parse_message, parse_topic
from server.db.dead_letters import DeadLetter

__all__ = ["Ignored", "triage"]


class Ignored:
    """Messages the server sends itself (hub config) and reads back on its subscription."""


IGNORED = Ignored()


def triage(
    topic: str,
    payload: bytes,
    *,
    received_at: datetime,
    is_provisioned: Callable[[str], bool],
) -> Message | DeadLetter | Ignored:
    """Validate one message; refuse it with a reason if invalid or from an unknown hub."""
    try:
        hub, channel = parse_topic(topic)
    except ProtocolError as exc:
        return DeadLetter(received_at, topic, exc.hub, exc.reason, payload)
    if channel is Channel.CONFIG:
        return IGNORED
    if not is_provisioned(hub):
        reason = (
            f"hub {hub!r} is not provisioned (add it with: carewatch hub add {hub} --resident NAME)"
        )
        return DeadLetter(received_at, topic, hub, reason, payload)
    try:
        message = parse_message(topic, payload)
    except ProtocolError as exc:
        return DeadLetter(received_at, topic, hub, exc.reason, payload)
    assert not isinstance(message, HubConfig)
    return message
