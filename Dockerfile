# The orgquota image: the operator (`orgquota run`, the default) and the billing API (`orgquota api`,
# serving the billing page built in the first stage) on a slim Python of a pinned release, non-root.
# Build: docker build -t orgquota:0.1.0 .   (the Helm chart's default image is orgquota:<appVersion>)

# The page: the Node release `make ui` is run with here; exact dependencies from the lock file.
FROM node:20.20.2-bookworm-slim AS ui
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY ui/ ./
RUN npm run build

# The package: its dependencies exactly as locked, every file checked against the lock's hashes
# (`make lock`); the wheel built by the locked build backend from operator/ alone, then installed
# without resolving anything. The venv moves to the runtime stage as is; the build venv and the wheel stay.
FROM python:3.13.7-slim-trixie AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock requirements-build.lock ./
RUN python -m venv /opt/orgquota \
    && /opt/orgquota/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock \
    && python -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements-build.lock
COPY pyproject.toml ./
COPY operator/ operator/
RUN /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --check-build-dependencies \
        --wheel-dir /wheels . \
    && /opt/orgquota/bin/pip install --no-cache-dir --no-deps /wheels/orgquota-*.whl \
    && /opt/orgquota/bin/pip check \
    && /opt/orgquota/bin/orgquota --help >/dev/null

FROM python:3.13.7-slim-trixie
# A named user (Kopf and getpass want a name for the uid), numeric in USER so that the kubelet can
# verify runAsNonRoot.
RUN groupadd --system --gid 65532 orgquota \
    && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin orgquota
COPY --from=build /opt/orgquota /opt/orgquota
COPY --from=ui /ui/dist /opt/orgquota/ui
# The root filesystem is read-only in the chart: no bytecode written at run time. `orgquota api` serves
# the page from ORGQUOTA_UI_DIR at / (with /env.js written from its settings).
ENV PATH=/opt/orgquota/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ORGQUOTA_UI_DIR=/opt/orgquota/ui
USER 65532:65532
# webhooks, metrics, Kopf's /healthz (ORGQUOTA_WEBHOOK_PORT, ORGQUOTA_METRICS_PORT, ORGQUOTA_HEALTH_PORT);
# the API listens where `orgquota api --port` says (the chart: api.port)
EXPOSE 9443 8080 8081
ENTRYPOINT ["orgquota"]
CMD ["run"]
