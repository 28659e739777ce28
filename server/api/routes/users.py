"""People who sign in: admins add responders, carers and residents' own accounts."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from server.api.deps import MAX_ID, ServicesDep, require_role
from server.domain.access import Role
from server.store import people

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/users", tags=["users"], dependencies=[require_role("admin")])


class NewUser(BaseModel):
    """Someone to sign in. Responders need a service; a resident's account names the resident."""

    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=10, max_length=200)
    role: Role
    display_name: str | None = Field(default=None, max_length=200)
    service: str | None = Field(
        default=None, min_length=1, max_length=100, description="a responder's; default 'default'"
    )
    resident_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _fits_the_role(self) -> NewUser:
        if self.role is Role.RESPONDER and self.service is None:
            self.service = "default"
        if self.role is not Role.RESPONDER and self.service is not None:
            raise ValueError("only a responder belongs to a service")
        if self.role is Role.RESIDENT and self.resident_id is None:
            raise ValueError("a resident's account needs resident_id, the record it opens")
        if self.role is not Role.RESIDENT and self.resident_id is not None:
            raise ValueError("only a resident's own account has a resident_id")
        return self


class UserOut(BaseModel):
    """Someone who signs in (never their password)."""

    id: int
    username: str
    role: str
    display_name: str | None
    service: str | None
    resident_id: int | None


@router.get("")
async def list_users(services: ServicesDep) -> list[UserOut]:
    """Everyone who signs in, by name."""
    async with services.pool.connection() as conn:
        found = await people.accounts(conn)
    return [UserOut(**asdict(account)) for account in found]


@router.post("", status_code=status.HTTP_201_CREATED, responses={409: {}, 422: {}})
async def add_user(services: ServicesDep, new: NewUser) -> UserOut:
    """Add someone who signs in."""
    # Hashed first, off the event loop, and without a connection held meanwhile.
    password_hash = await services.passwords.hash(new.password)
    async with services.pool.connection() as conn, conn.transaction():
        if new.resident_id is not None:
            exists, taken = await people.resident_login_state(conn, new.resident_id)
            if not exists:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"no resident {new.resident_id}"
                )
            if taken:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, detail="that resident already has an account"
                )
        if not await people.add_user(conn, new.username, password_hash, new.role.value):
            raise HTTPException(
                status.HTTP_409_CONFLICT, detail=f"the username {new.username!r} is taken"
            )
        account = await people.describe_user(
            conn,
            new.username,
            display_name=new.display_name,
            service=new.service,
            resident_id=new.resident_id,
        )
    assert account is not None  # added just now, in this transaction
    return UserOut(**asdict(account))
