"""The domain's words for clients: alert kinds with their severity and title, from the one table."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from server.domain.alerts import KINDS, SEVERITY_RANK

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["vocabulary"])


class KindOut(BaseModel):
    """One alert kind: how it is routed and what it is called on a card or a message."""

    kind: str
    severity: str
    title: str


class Vocabulary(BaseModel):
    """Every alert kind, and the severities most urgent first."""

    kinds: list[KindOut]
    severities: list[str]


@router.get("/vocabulary")
async def vocabulary() -> Vocabulary:
    """The words every page and client uses for alerts (server.domain.alerts.KINDS)."""
    return Vocabulary(
        kinds=[
            KindOut(kind=kind.value, severity=words.severity.value, title=words.title)
            for kind, words in KINDS.items()
        ],
        severities=[s.value for s in sorted(SEVERITY_RANK, key=SEVERITY_RANK.__getitem__)],
    )
