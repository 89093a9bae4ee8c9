# The operator image: `orgquota run` on a slim Python of a pinned release, as a non-root user.
# Build: docker build -t orgquota:0.1.0 .   (the Helm chart's default image is orgquota:<appVersion>)

FROM python:3.13.7-slim-trixie AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
COPY operator/ operator/
COPY hack/localcluster/ hack/localcluster/
# Dependencies are pinned exactly in pyproject.toml; the venv moves to the runtime stage as is.
RUN python -m venv /opt/orgquota \
    && /opt/orgquota/bin/pip install --no-cache-dir . \
    && /opt/orgquota/bin/orgquota --help >/dev/null

FROM python:3.13.7-slim-trixie
# A named user (Kopf and getpass want a name for the uid), numeric in USER so that the kubelet can
# verify runAsNonRoot.
RUN groupadd --system --gid 65532 orgquota \
    && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin orgquota
COPY --from=build /opt/orgquota /opt/orgquota
# The root filesystem is read-only in the chart: no bytecode written at run time.
ENV PATH=/opt/orgquota/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
# webhooks, metrics, Kopf's /healthz (ORGQUOTA_WEBHOOK_PORT, ORGQUOTA_METRICS_PORT, ORGQUOTA_HEALTH_PORT)
EXPOSE 9443 8080 8081
ENTRYPOINT ["orgquota"]
CMD ["run"]
