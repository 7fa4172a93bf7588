# signal monitor in a container: the daemon as an unprivileged user, the database on a volume.
#
#   docker build -t signal-monitor .
#   docker run -d --name monitor -v monitor-data:/srv/monitor/data signal-monitor
#   docker run -d -v monitor-data:/srv/monitor/data -v "$PWD/config.yaml:/srv/monitor/config.yaml:ro" \
#       -v "$PWD/rules:/srv/monitor/rules:ro" -e SMTP_PASSWORD signal-monitor
#
# The image holds the shipped config, rules and seed briefs in /srv/monitor (mount your own
# over them); the health check is `monitor status` (exit 1 when something needs attention).

FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MONITOR_CONFIG=/srv/monitor/config.yaml \
    MONITOR_CACHE_DIR=/srv/monitor/data/cache
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --user-group --home-dir /srv/monitor --shell /usr/sbin/nologin monitor \
 && monitor init /srv/monitor \
 && mkdir -p /srv/monitor/data \
 && chown monitor:monitor /srv/monitor/data
WORKDIR /srv/monitor
USER monitor
VOLUME ["/srv/monitor/data"]
# the review page (monitor web --host 0.0.0.0) and the metrics endpoint, when they are turned on
EXPOSE 8080 9464
HEALTHCHECK --interval=1m --timeout=30s --start-period=2m --retries=3 CMD ["monitor", "status"]
# exec form: the daemon is PID 1 and gets SIGTERM from `docker stop` (it stops cleanly)
CMD ["monitor", "run"]
