"""`monitor web` — the review page in a browser (see monitor/web/)."""

from __future__ import annotations

import logging
import signal
import threading

from typing import TYPE_CHECKING, Callable

import click

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.pipeline import PollReport
    from monitor.store import Store

log = logging.getLogger(__name__)


def source_poller(cfg: Config, store: Store) -> Callable[[str], PollReport]:
    """``poll(name)``: poll one source now, as the daemon would, with the config and rules as
    they are on disk (its alerts go out with the daemon's next dispatch). The review page's
    "retry now"; kept here because only the command line and the daemon run the pipeline."""

    def poll(name: str) -> PollReport:
        from monitor.config import load_config
        from monitor.pipeline import Runtime, run_source

        current = load_config(cfg.path) if cfg.path else cfg
        source = current.source(name)
        store.sync_sources([source])  # a source added a moment ago has no row yet
        return run_source(Runtime.from_config(current), store, source)

    return poll


@click.command("web")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback needs accounts, MONITOR_WEB_PASSWORD or "
    "MONITOR_WEB_TOKEN.",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free one).",
)
@click.pass_context
def web(ctx: click.Context, host: str, port: int) -> None:
    """Serve the review page and its JSON API (/api/v1): the hit list with filters and
    search, hit details, acknowledge / dismiss / note, rule statistics and source health.

    It reads and writes the same database as the daemon, while the daemon runs. With
    accounts (monitor users add) everyone signs in and their role decides what they may
    do. Without them, on 127.0.0.1 it is open to this machine; on any other address it
    refuses to start unless MONITOR_WEB_PASSWORD (HTTP basic auth; MONITOR_WEB_USER
    optionally fixes the user name) or MONITOR_WEB_TOKEN (open /login?token=… once) is set.
    It answers only to loopback names, the address it is bound to and the config's
    web.hosts (421 for any other Host).

    \b
    Example:
      monitor web                                   # http://127.0.0.1:8080/
      MONITOR_WEB_PASSWORD=… monitor web --host 0.0.0.0 --port 8080
    """
    from monitor.cli.shared import open_store, who
    from monitor.cli.stats import loaded_rules
    from monitor.web.app import create_app
    from monitor.web.server import Limits, Server, access_from_env, bind

    cfg = ctx.obj.config
    store = open_store(ctx)
    try:
        access = access_from_env(host, accounts=store.count_users() > 0)
    except Exception:
        store.close()
        raise
    app = create_app(
        store,
        access=access,
        rules=lambda: loaded_rules(cfg),
        default_by=who(None),
        config=cfg,
        bound=host,
        poll=source_poller(cfg, store),
    )
    limits = Limits.of(cfg.web)
    try:
        sock = bind(host, port, limits.backlog)
    except OSError as exc:
        store.close()
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    server = Server(app, sock, limits)
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"review page on http://{shown}:{server.port}/ (database {cfg.storage_label}); Ctrl-C stops it"
    )
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: server.stop())
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        store.close()


COMMANDS: list[click.Command] = [web]
