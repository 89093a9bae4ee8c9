"""`orgquota run`: the operator; `orgquota api`: the billing API; both against the current kubeconfig
(or the in-cluster identity). Each command imports only what it runs: the API never loads Kopf."""

from __future__ import annotations

import argparse
import base64
import logging
import secrets
from pathlib import Path
from typing import Any

import yaml


def print_webhook_config(url: str | None, service: str | None, ca_file: Path) -> None:
    from orgquota.controller.settings import Settings
    from orgquota.controller.webhooks import webhook_configuration

    client: dict[str, Any] = {"caBundle": base64.b64encode(ca_file.read_bytes()).decode()}
    if url:
        client["url"] = url
    else:
        assert service is not None
        where, _, port = service.partition(":")
        namespace, _, name = where.partition("/")
        client["service"] = {"namespace": namespace, "name": name, "port": int(port or 443)}
    print(yaml.safe_dump(webhook_configuration(client, Settings.from_env()), sort_keys=False), end="")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orgquota", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the operator in the foreground")
    run.add_argument("--log-format", choices=["text", "json"], default="text")
    hooks = commands.add_parser("webhook-config", help="print the ValidatingWebhookConfiguration (YAML)")
    target = hooks.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="where the apiserver reaches the webhook server, e.g. https://127.0.0.1:9443")
    target.add_argument("--service", help="NAMESPACE/NAME[:PORT] of the webhook Service")
    hooks.add_argument("--ca-file", required=True, help="PEM CA that signed the webhook server's certificate")
    api = commands.add_parser("api", help="run the billing API in the foreground")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    args = parser.parse_args(argv)
    if args.command == "webhook-config":
        print_webhook_config(args.url, args.service, Path(args.ca_file))
        return
    if args.command == "api":
        from orgquota.api.server import run as run_api

        run_api(args.host, args.port)
        return
    run_operator(args.log_format)


def run_operator(log_format_name: str) -> None:
    import kopf

    from orgquota.controller.settings import Settings

    settings = Settings.from_env()  # fail fast on a bad setting, before connecting anywhere
    log_format = kopf.LogFormat.JSON if log_format_name == "json" else kopf.LogFormat.FULL
    kopf.configure(log_format=log_format, log_prefix=True)
    logging.getLogger().setLevel(settings.log_level)
    if settings.log_level != "DEBUG":  # one line per watch event is noise, not news
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)

    from orgquota.controller import (
        handlers,  # noqa: F401 - registers the handlers
        metrics,
    )
    from orgquota.controller.memo import OperatorMemo

    metrics.serve(settings.metrics_port, str(settings.metrics_host))

    if settings.webhooks:
        from orgquota.controller import webhooks  # noqa: F401 - registers the admission handlers

    kopf.run(
        clusterwide=True,
        standalone=not settings.peering,
        peering_name=settings.peering or None,
        # Equal priorities pause every peer; a random one makes exactly one replica active.
        priority=secrets.randbelow(2**31) if settings.peering else None,
        liveness_endpoint=f"http://0.0.0.0:{settings.health_port}/healthz" if settings.health_port else None,
        memo=OperatorMemo(settings),
    )
