"""The review page: a team web app (FastAPI on Hypercorn) over the same database as the daemon.

server.py        Hypercorn with bounded workers and timeouts; refuses a public address without a secret
app.py           create_app(): routers, error pages, the CSRF cookie; guard.py around it all
guard.py         Host check (DNS rebinding), security headers, access log, redirects, login limiter
auth.py, deps.py who is asking (accounts, tokens, the shared secret) and what their role allows
pages.py         hit list, hit page, triage, rules and sources lists, sign-in
pages_rules.py   one rule, silences, the rule editor; pages_sources.py: add, enable, retry now
api.py           /api/v1 hits, silences, status; api_rules.py: rules and sources
ruleset.py       rule files: candidate checks, atomic saves; configedit.py: sources in config.yaml
feeds.py         Atom feeds of hits
present.py       pure helpers shared with the command line: times, marks, flat records
"""
