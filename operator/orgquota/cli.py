"""`orgquota run`: the operator against the current kubeconfig (or the in-cluster identity)."""

from __future__ import annotations

import argparse
import logging

import kopf

from orgquota.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orgquota", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the operator in the foreground")
    run.add_argument("--log-format", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)

    settings = Settings.from_env()  # fail fast on a bad setting, before connecting anywhere
    log_format = kopf.LogFormat.JSON if args.log_format == "json" else kopf.LogFormat.FULL
    kopf.configure(log_format=log_format, log_prefix=True)
    logging.getLogger().setLevel(settings.log_level.upper())
    if settings.log_level.upper() != "DEBUG":  # one line per watch event is noise, not news
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)

    from orgquota import handlers  # noqa: F401 - registers the handlers

    kopf.run(clusterwide=True, standalone=True)
