"""`monitor web` — the review page in a browser (see monitor/web/)."""

from __future__ import annotations

import logging

import click

log = logging.getLogger(__name__)


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs MONITOR_WEB_PASSWORD or MONITOR_WEB_TOKEN.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.pass_context
def web(ctx: click.Context, host: str, port: int) -> None:
    """Serve the review page: the hit list with filters and search, hit details,
    acknowledge / dismiss / note, rule statistics and source health.

    It reads and writes the same database as the daemon, while the daemon runs. On
    127.0.0.1 it is open to this machine; on any other address it refuses to start
    unless MONITOR_WEB_PASSWORD (HTTP basic auth; MONITOR_WEB_USER optionally fixes the
    user name) or MONITOR_WEB_TOKEN (open /login?token=… once) is set.

    \b
    Example:
      monitor web                                   # http://127.0.0.1:8080/
      MONITOR_WEB_PASSWORD=… monitor web --host 0.0.0.0 --port 8080
    """
    from monitor.cli.hits import loaded_rules, open_store, who
    from monitor.web.app import ReviewApp
    from monitor.web.server import access_from_env, make_server

    cfg = ctx.obj.config
    access = access_from_env(host)
    store = open_store(ctx)
    app = ReviewApp(store, access=access, rules=lambda: loaded_rules(cfg), default_by=who(None))
    try:
        server = make_server(app, host, port)
    except OSError as exc:
        store.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"review page on http://{shown}:{server.server_port}/ (database {cfg.db_path}); Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()


COMMANDS: list[click.Command] = [web]
