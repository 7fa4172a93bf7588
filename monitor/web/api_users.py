"""The JSON API for accounts (admins only). Secrets are answered once and kept as hashes.

GET    /api/v1/users                          every account: role, disabled, its tokens (ids)
GET    /api/v1/users/{name}                   one account
POST   /api/v1/users                          add one with a role and a password (201)
PATCH  /api/v1/users/{name}                   change its role, disable or enable it
POST   /api/v1/users/{name}/password          set a password, or have one generated (shown once)
POST   /api/v1/users/{name}/tokens            issue an API token (shown once; 201)
DELETE /api/v1/users/{name}/tokens            revoke every token of the account
DELETE /api/v1/users/{name}/tokens/{id}       revoke one
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from monitor.accounts import MIN_PASSWORD, NAME_PATTERN
from monitor.web import team
from monitor.web.auth import Principal
from monitor.web.deps import context, require

router = APIRouter(prefix="/api/v1", tags=["users"])
admin = require("admin")
Role = Literal["viewer", "analyst", "admin"]


class UserIn(BaseModel):
    name: str = Field(pattern=f"^{NAME_PATTERN}$")
    role: Role
    password: str = Field(min_length=MIN_PASSWORD, max_length=1000)


class UserPatch(BaseModel):
    role: Role | None = None
    disabled: bool | None = Field(
        default=None, description="true: its sign-ins end and its tokens are refused"
    )


class PasswordIn(BaseModel):
    password: str | None = Field(
        default=None,
        min_length=MIN_PASSWORD,
        max_length=1000,
        description="none: a password is generated and answered once",
    )


@router.get("/users")
def list_users(request: Request, who: Principal = Depends(admin)) -> dict[str, Any]:
    """Every account with its role, whether it is disabled, and its tokens (never a secret)."""
    ctx = context(request)
    return {"users": [team.record(ctx, u) for u in ctx.store.list_users()]}


@router.get("/users/{name}")
def get_user(request: Request, name: str, who: Principal = Depends(admin)) -> dict[str, Any]:
    """One account."""
    ctx = context(request)
    return team.record(ctx, team.get(ctx, name))


@router.post("/users", status_code=201)
def add_user(request: Request, body: UserIn, who: Principal = Depends(admin)) -> dict[str, Any]:
    """Add an account (409 when the name is taken); its password is stored as an argon2id hash."""
    ctx = context(request)
    return team.record(ctx, team.add(ctx, who, body.name, body.role, body.password))


@router.patch("/users/{name}")
def update_user(
    request: Request, name: str, body: UserPatch, who: Principal = Depends(admin)
) -> dict[str, Any]:
    """Change the role, or disable (``disabled: true``) or enable the account. The last
    enabled admin can be neither demoted nor disabled (409)."""
    ctx = context(request)
    user = team.get(ctx, name)
    if body.role is not None:
        user = team.set_role(ctx, who, name, body.role)
    if body.disabled is not None:
        user = team.set_disabled(ctx, who, name, body.disabled)
    return team.record(ctx, user)


@router.post("/users/{name}/password")
def reset_password(
    request: Request, name: str, body: PasswordIn, who: Principal = Depends(admin)
) -> dict[str, Any]:
    """Reset the password; the account's sign-ins end. Without ``password`` one is
    generated and answered here, once."""
    ctx = context(request)
    generated = team.reset_password(ctx, who, name, body.password)
    return {"name": name, "reset": True, "password": generated}


@router.post("/users/{name}/tokens", status_code=201)
def issue_token(request: Request, name: str, who: Principal = Depends(admin)) -> dict[str, Any]:
    """A new API token for the account, answered once (only its SHA-256 is kept)."""
    token_id, token = team.issue_token(context(request), who, name)
    return {"name": name, "id": token_id, "token": token}


@router.delete("/users/{name}/tokens")
def revoke_tokens(request: Request, name: str, who: Principal = Depends(admin)) -> dict[str, Any]:
    """Revoke every token of the account."""
    return {"name": name, "revoked": team.revoke(context(request), who, name)}


@router.delete("/users/{name}/tokens/{token_id}")
def revoke_token(
    request: Request, name: str, token_id: int, who: Principal = Depends(admin)
) -> dict[str, Any]:
    """Revoke one token of the account."""
    return {"name": name, "revoked": team.revoke(context(request), who, name, token_id)}
