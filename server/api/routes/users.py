"""People who sign in: admins add responders, carers and residents' own accounts."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from server.api.deps import MAX_ID, CurrentUser, ServicesDep, require_role
from server.domain.access import Role
from server.store import passwords as passwords_sql
from server.store import people
from server.store import shift as shift_sql

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/users", tags=["users"], dependencies=[require_role(Role.ADMIN)])


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
    role: Role
    display_name: str | None
    service: str | None
    resident_id: int | None
    phone: str | None = None
    email: str | None = Field(default=None, description="where e-mail alerts go")
    on_duty: bool = False
    disabled: bool = Field(default=False, description="turned off: cannot sign in")


class AccountChange(BaseModel):
    """What an admin changes of an account; fields left out stay as they are ("" clears)."""

    display_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+() .\-]*$")
    email: str | None = Field(default=None, max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+$")
    on_duty: bool | None = Field(default=None, description="responders only")
    disabled: bool | None = Field(
        default=None, description="true turns the account off and signs it out everywhere"
    )


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
        if not await people.add_user(conn, new.username, password_hash, new.role):
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


@router.patch("/{username}", responses={404: {}, 422: {}})
async def change_account(
    services: ServicesDep, admin: CurrentUser, username: str, change: AccountChange
) -> UserOut:
    """Change someone's name, phone, e-mail, whether they are on duty, or turn the account off."""
    async with services.pool.connection() as conn, conn.transaction():
        found = await people.user_by_username(conn, username)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no account {username!r}")
        if change.on_duty is not None and found.role != Role.RESPONDER:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail="Only responders go on and off duty.",
            )
        if change.disabled and found.id == admin.id:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail="You cannot turn off your own account: ask another administrator.",
            )
        if change.display_name is not None:
            await people.set_contact_details(
                conn, found.id, display_name=change.display_name.strip() or None
            )
        if change.phone is not None:
            await shift_sql.set_phone(conn, found.id, change.phone.strip() or None)
        if change.email is not None:
            await people.set_email(conn, found.id, change.email.strip() or None)
        if change.on_duty is not None:
            await shift_sql.set_on_duty(conn, found.id, on_duty=change.on_duty)
        if change.disabled is True:
            await passwords_sql.disable_user(conn, found.id)
        elif change.disabled is False:
            await passwords_sql.enable_user(conn, found.id)
        account = await people.account(conn, username)
    assert account is not None
    return UserOut(**asdict(account))
