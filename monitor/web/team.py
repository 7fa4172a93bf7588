"""Accounts managed from the review page and the API (admins only): add with a role,
change the role, reset the password, disable or enable, issue and revoke API tokens.
Every change is recorded in the edit trail (kind ``user``) with who made it.

A secret is shown once, to the admin who asked for it (a new token, a generated
password), and kept only as a hash. The last enabled admin cannot be demoted or
disabled: someone must be left who can manage accounts.
"""

from __future__ import annotations

from typing import Any

from monitor.accounts import MIN_PASSWORD, ROLES, digest, hash_password, new_secret
from monitor.store.accounts import User
from monitor.store.base import ts
from monitor.web.app import PageError, WebContext
from monitor.web.auth import Principal


def record(ctx: WebContext, user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": ts(user.created_at),
        "updated_at": ts(user.updated_at),
        "disabled_at": ts(user.disabled_at),
        "tokens": [
            {"id": t["id"], "created_at": t["created_at"], "last_used_at": t["last_used_at"]}
            for t in ctx.store.user_tokens(user.name)
        ],
    }


def get(ctx: WebContext, name: str) -> User:
    user: User | None = ctx.store.get_user(name)
    if user is None:
        raise PageError(404, f"There is no account {name}.")
    return user


def _log(ctx: WebContext, who: Principal, name: str, action: str, detail: str = "") -> None:
    ctx.store.record_edit("user", name, action, ctx.who(who), ctx.clock(), detail=detail)


def _password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise PageError(400, f"A password needs at least {MIN_PASSWORD} characters.")
    return hash_password(password)


def _keeps_an_admin(ctx: WebContext, user: User) -> None:
    if user.role == "admin" and not user.disabled and ctx.store.count_admins() <= 1:
        raise PageError(
            409,
            f"{user.name} is the last enabled admin: make another admin first, "
            "or nobody could manage accounts here.",
        )


def add(ctx: WebContext, who: Principal, name: str, role: str, password: str) -> User:
    if role not in ROLES:
        raise PageError(400, f"A role is one of {', '.join(ROLES)}.")
    if ctx.store.get_user(name) is not None:
        raise PageError(409, f"There is already an account {name}.")
    ctx.store.add_user(name, role, _password(password), ctx.clock())
    _log(ctx, who, name, "add", f"role {role}")
    return get(ctx, name)


def set_role(ctx: WebContext, who: Principal, name: str, role: str) -> User:
    user = get(ctx, name)
    if role not in ROLES:
        raise PageError(400, f"A role is one of {', '.join(ROLES)}.")
    if role == user.role:
        return user
    if role != "admin":
        _keeps_an_admin(ctx, user)
    ctx.store.update_user(name, ctx.clock(), role=role)
    _log(ctx, who, name, "role", f"{user.role} → {role}")
    return get(ctx, name)


def set_disabled(ctx: WebContext, who: Principal, name: str, disabled: bool) -> User:
    user = get(ctx, name)
    if disabled == user.disabled:
        return user
    if disabled:
        _keeps_an_admin(ctx, user)
    ctx.store.set_user_disabled(name, disabled, ctx.clock())
    _log(ctx, who, name, "disable" if disabled else "enable")
    return get(ctx, name)


def reset_password(ctx: WebContext, who: Principal, name: str, password: str | None) -> str | None:
    """Set a new password (a generated one when none is given: returned, to be shown once);
    the account's sign-ins end."""
    get(ctx, name)
    generated = None if password else new_secret()[:20]
    ctx.store.update_user(name, ctx.clock(), password_hash=_password(password or generated or ""))
    ctx.store.end_sessions(name)
    _log(ctx, who, name, "password", "generated" if generated else "set")
    return generated


def issue_token(ctx: WebContext, who: Principal, name: str) -> tuple[int, str]:
    """A new API token for the account: (its id, the token, to be shown once)."""
    get(ctx, name)
    token = new_secret()
    token_id: int = ctx.store.add_token(digest(token), name, ctx.clock())
    _log(ctx, who, name, "token", f"token #{token_id}")
    return token_id, token


def revoke(ctx: WebContext, who: Principal, name: str, token_id: int | None = None) -> int:
    """Revoke one token of the account, or (``token_id`` None) every one; how many went."""
    get(ctx, name)
    if token_id is None:
        n: int = ctx.store.revoke_tokens(name)
        _log(ctx, who, name, "revoke tokens", f"{n} revoked")
        return n
    if not ctx.store.revoke_token(name, token_id):
        raise PageError(404, f"{name} has no token #{token_id}.")
    _log(ctx, who, name, "revoke token", f"token #{token_id}")
    return 1
