# encola: API (`encola serve --no-engine`) and workers (`encola worker`) from one image.
# Build: docker build -t encola .      Run: see compose.yaml and docs/operations.md.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY encola ./encola
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11.11-slim-bookworm
# tini reaps children and forwards SIGTERM, so `docker stop` gives encola its graceful stop.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 encola \
    && useradd --system --uid 10001 --gid encola --home-dir /var/lib/encola --create-home encola
COPY --from=build /install /usr/local
ENV PYTHONUNBUFFERED=1 \
    ENCOLA_LOG_FORMAT=json \
    ENCOLA_DATABASE_URL=sqlite:////var/lib/encola/encola.db \
    PROMETHEUS_MULTIPROC_DIR=/tmp/encola-metrics
WORKDIR /var/lib/encola
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["tini", "--", "sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec encola \"$@\"", "encola"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
