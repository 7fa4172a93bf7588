"""`monitor users …` — accounts for the review page: add, list, remove, API tokens."""

from __future__ import annotations

import re
import sys

import click

from monitor.accounts import MIN_PASSWORD, NAME_PATTERN, ROLES


def _name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        raise click.BadParameter(
            "use letters, digits and . _ @ - (at most 64; start with a letter or digit)"
        )
    return value


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


@click.group("users")
def users_group() -> None:
    """Accounts for the review page, each with a role: viewer (reads), analyst (also
    triages, silences and edits rules), admin (also edits sources and users).

    \b
    Example:
      printf '%s\\n' "$PASSWORD" | monitor users add anna --role analyst
      monitor users token anna        # for scripts: Authorization: Bearer TOKEN
    """


@users_group.command("add")
@click.argument("name", callback=_name)
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--update", is_flag=True, help="Change an existing account's role and password.")
@click.pass_context
def add_cmd(ctx: click.Context, name: str, role: str, update: bool) -> None:
    """Add an account. The password is read from standard input when it is not a
    terminal (one line), else asked for twice; it is stored as an argon2id hash.

    \b
    Example:
      monitor users add anna --role analyst
      printf '%s\\n' "$PASSWORD" | monitor users add bot --role viewer
    """
    from monitor.accounts import hash_password
    from monitor.cli.shared import open_store
    from monitor.models import utcnow

    password = _read_password()
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"a password needs at least {MIN_PASSWORD} characters")
    store = open_store(ctx)
    try:
        existing = store.get_user(name)
        if existing and not update:
            raise click.ClickException(
                f"there is already an account {name} (use --update to change it)"
            )
        if existing:
            store.update_user(name, utcnow(), role=role, password_hash=hash_password(password))
        else:
            store.add_user(name, role, hash_password(password), utcnow())
        store.record_edit(
            "user", name, "edit" if existing else "add", None, utcnow(), detail=f"role {role}"
        )
    finally:
        store.close()
    click.echo(f"{'updated' if existing else 'added'} {name} ({role})", err=True)


@users_group.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """Every account, its role and how many API tokens it has.

    \b
    Example:
      monitor users list
    """
    from monitor.cli.shared import open_store

    store = open_store(ctx)
    try:
        for user in store.list_users():
            tokens = len(store.user_tokens(user.name))
            state = "\tdisabled" if user.disabled else ""
            click.echo(
                f"{user.name}\t{user.role}\t{tokens} token{'s' if tokens != 1 else ''}{state}"
            )
    finally:
        store.close()


@users_group.command("remove")
@click.argument("name")
@click.pass_context
def remove_cmd(ctx: click.Context, name: str) -> None:
    """Remove an account, its sign-ins and its tokens.

    \b
    Example:
      monitor users remove anna
    """
    from monitor.cli.shared import open_store
    from monitor.models import utcnow

    store = open_store(ctx)
    try:
        if not store.remove_user(name):
            raise click.ClickException(f"there is no account {name}")
        store.record_edit("user", name, "remove", None, utcnow())
    finally:
        store.close()
    click.echo(f"removed {name}", err=True)


@users_group.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke every token of NAME instead.")
@click.pass_context
def token_cmd(ctx: click.Context, name: str, revoke: bool) -> None:
    """Print a new API token for NAME (only its hash is kept: save it now). Scripts send
    it as ``Authorization: Bearer TOKEN``; feed readers as ``?token=TOKEN``.

    \b
    Example:
      TOKEN=$(monitor users token anna)
      curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/hits?status=new
    """
    from monitor.accounts import digest, new_secret
    from monitor.cli.shared import open_store
    from monitor.models import utcnow

    store = open_store(ctx)
    try:
        if store.get_user(name) is None:
            raise click.ClickException(f"there is no account {name}")
        if revoke:
            n = store.revoke_tokens(name)
            store.record_edit("user", name, "revoke tokens", None, utcnow())
            click.echo(f"revoked {n} token{'s' if n != 1 else ''} of {name}", err=True)
            return
        token = new_secret()
        store.add_token(digest(token), name, utcnow())
        store.record_edit("user", name, "token", None, utcnow())
    finally:
        store.close()
    click.echo(token)


COMMANDS: list[click.Command] = [users_group]
