"""The review page: a small server-rendered web app over the same database as the daemon.

    server.py   serve(): WSGI server on a local port; refuses a public address without a secret
    app.py      ReviewApp: routes, forms (CSRF), access control; Jinja2 templates in templates/
    present.py  pure helpers shared with the command line: times, marks, flat records
"""
