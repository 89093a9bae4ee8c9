"""`localcluster`: run the local control plane for `make run`, and helpers for scripts and CI."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from . import platform
from .binaries import BinariesError, bin_dir, log
from .chart import ChartError, stale_files, write_generated
from .controllermanager import controller_manager_path
from .controlplane import ControlPlane, ControlPlaneError, detached_running, stop_detached
from .helm import helm_path
from .hnc import HncError, hnc_crd_path
from .hncmanager import hnc_manager_path
from .hncmanifests import hnc_configuration
from .keycloak import CLIENT_ID, Keycloak, KeycloakError, demo_users, detached_issuer
from .keycloak import stop_detached as stop_detached_keycloak
from .kubectl import Cluster, KubectlError, install_crds
from .prometheus import SCRAPE_INTERVAL
from .stack import StackOptions, run_stack

PLATFORM_ENV = "LOCALCLUSTER_PLATFORM"


def platform_wanted(no_platform: bool = False) -> bool:
    """Start kube-controller-manager + HNC unless `--no-platform` or LOCALCLUSTER_PLATFORM=0 says not to."""
    return not no_platform and os.environ.get(PLATFORM_ENV, "1") != "0"


def _up(args: argparse.Namespace) -> int:
    workdir: Path = args.dir.resolve()
    kubeconfig = workdir / "kubeconfig"
    with_platform = platform_wanted(args.no_platform)
    running = detached_running(workdir)
    if running and (platform.detached_running(workdir) or not with_platform):
        log(f"already running and healthy in {workdir}")
        print(kubeconfig)
        return 0
    platform.stop_detached(workdir)  # leftovers of a half-dead previous run
    stop_detached(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        plane = ControlPlane(workdir, detached=True).start()
        if with_platform:
            platform.Platform(plane).start()
    except (ControlPlaneError, BinariesError, KubectlError, HncError, TimeoutError) as exc:
        log(str(exc))
        return 1
    print(kubeconfig)
    return 0


def _run(args: argparse.Namespace) -> int:
    kubeconfig = os.environ.get("KUBECONFIG") or None
    if kubeconfig is not None and os.pathsep in kubeconfig:
        log(f"run: KUBECONFIG={kubeconfig} names several files; name one")
        return 2
    missing = [str(path) for path in args.apply if not path.exists()]
    if missing:
        log(f"run: --apply {', '.join(missing)}: no such file or directory")
        return 2
    options = StackOptions(
        workdir=args.dir,
        api_port=args.api_port,
        apply=tuple(args.apply),
        kubeconfig=Path(kubeconfig) if kubeconfig else None,
        with_platform=platform_wanted(args.no_platform),
        cluster_logs=args.cluster_logs,
        ui_dir=args.ui_dir,
        scrape_interval=args.scrape_interval,
    )
    return run_stack(options)


def _down(args: argparse.Namespace) -> int:
    stopped = [*platform.stop_detached(args.dir), *stop_detached(args.dir)]
    log(f"stopped {', '.join(stopped)}" if stopped else f"nothing running in {args.dir}")
    return 0


def _keycloak_up(args: argparse.Namespace) -> int:
    workdir: Path = (args.dir / "keycloak").resolve()
    issuer = detached_issuer(workdir)
    if issuer is not None:
        log(f"Keycloak already running and healthy in {workdir}")
    else:
        stop_detached_keycloak(workdir)  # leftovers of a half-dead previous run
        try:
            issuer = Keycloak(workdir, detached=True, web_origins=args.web_origin).start().issuer
        except (KeycloakError, BinariesError) as exc:
            log(str(exc))
            return 1
    users = ", ".join(f"{user} (password {password})" for user, password in demo_users().items())
    log(f"realm users: {users}; public client {CLIENT_ID} (PKCE S256, password grant allowed)")
    print(issuer)
    return 0


def _keycloak_down(args: argparse.Namespace) -> int:
    workdir = args.dir / "keycloak"
    log("stopped Keycloak" if stop_detached_keycloak(workdir) else f"no Keycloak running in {workdir}")
    return 0


def _install_crds(args: argparse.Namespace) -> int:
    kubeconfig = args.kubeconfig or os.environ.get("KUBECONFIG")
    if not kubeconfig:
        log("install-crds needs --kubeconfig or $KUBECONFIG")
        return 2
    try:
        names = install_crds(Cluster(Path(kubeconfig)))
    except (KubectlError, TimeoutError, BinariesError, HncError) as exc:
        log(str(exc))
        return 1
    log(f"established: {', '.join(names)}")
    return 0


def _print_path(find: Callable[[], Path]) -> Callable[[argparse.Namespace], int]:
    """A command that prints where `find` puts its binaries (building them first if needed)."""

    def command(_: argparse.Namespace) -> int:
        try:
            print(find())
        except BinariesError as exc:
            log(str(exc))
            return 1
        return 0

    return command


def _manifest(args: argparse.Namespace) -> int:
    try:
        if args.check:
            stale = stale_files()
            for path in stale:
                log(f"{path} is out of date: run `make manifest`")
            return 1 if stale else 0
        for path in write_generated():
            log(f"wrote {path}")
    except (ChartError, BinariesError) as exc:
        log(str(exc))
        return 1
    return 0


def _hnc_crd(_: argparse.Namespace) -> int:
    try:
        print(hnc_crd_path())
    except HncError as exc:
        log(str(exc))
        return 1
    return 0


def _hnc_config(_: argparse.Namespace) -> int:
    print(yaml.safe_dump(hnc_configuration(), sort_keys=False), end="")
    return 0


def _platform_binaries(_: argparse.Namespace) -> int:
    try:
        print(controller_manager_path())
        print(hnc_manager_path())
    except BinariesError as exc:
        log(str(exc))
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; stdout carries only the requested path, progress and errors go to stderr."""
    parser = argparse.ArgumentParser(prog="localcluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser(
        "up",
        help="start etcd + kube-apiserver + kube-controller-manager + HNC in the background; print the kubeconfig path",
    )
    up.add_argument("--dir", type=Path, default=Path(".cluster"), help="state dir (default .cluster)")
    up.add_argument(
        "--no-platform",
        action="store_true",
        help=f"etcd + kube-apiserver only: no quota enforcement, GC or HNC (also {PLATFORM_ENV}=0)",
    )
    up.set_defaults(func=_up)
    run = sub.add_parser(
        "run",
        help="`make run`: control plane + platform (or $KUBECONFIG's cluster), Keycloak, the operator, Prometheus "
        "and the billing API with the page, in the foreground; Ctrl-C stops all",
    )
    run.add_argument("--dir", type=Path, default=Path(".cluster/run"), help="state and logs (default .cluster/run)")
    run.add_argument(
        "--api-port", type=int, default=None, help="the API's and page's port (default 8000 if free; 0: any free)"
    )
    run.add_argument(
        "--apply", type=Path, action="append", default=[], help="kubectl apply this before the operator; repeatable"
    )
    run.add_argument("--no-platform", action="store_true", help=f"no kube-controller-manager or HNC ({PLATFORM_ENV}=0)")
    run.add_argument(
        "--cluster-logs", action="store_true", help="also print etcd's, kube-apiserver's, HNC's... logs, prefixed"
    )
    run.add_argument("--ui-dir", type=Path, default=None, help="the built page (default ui/dist of this checkout)")
    run.add_argument(
        "--scrape-interval",
        default=SCRAPE_INTERVAL,
        help=f"how often Prometheus scrapes the operator and the API (default {SCRAPE_INTERVAL})",
    )
    run.set_defaults(func=_run)
    down = sub.add_parser("down", help="stop what `up` started")
    down.add_argument("--dir", type=Path, default=Path(".cluster"), help="state dir (default .cluster)")
    down.set_defaults(func=_down)
    keycloak = sub.add_parser("keycloak", help="a local Keycloak with the kube-dc realm and demo users")
    kc_sub = keycloak.add_subparsers(dest="keycloak_command", required=True)
    kc_up = kc_sub.add_parser("up", help="start Keycloak in the background (fresh realm); print the issuer URL")
    kc_up.add_argument("--dir", type=Path, default=Path(".cluster"), help="state dir (default .cluster)")
    kc_up.add_argument(
        "--web-origin",
        action="append",
        default=[],
        help="also allow this origin (scheme://host:port) for the kube-dc client's CORS and redirects; repeatable",
    )
    kc_up.set_defaults(func=_keycloak_up)
    kc_down = kc_sub.add_parser("down", help="stop what `keycloak up` started")
    kc_down.add_argument("--dir", type=Path, default=Path(".cluster"), help="state dir (default .cluster)")
    kc_down.set_defaults(func=_keycloak_down)
    crds = sub.add_parser("install-crds", help="apply crds/ and HNC's HRQ CRD, wait until Established")
    crds.add_argument("--kubeconfig", help="default $KUBECONFIG")
    crds.set_defaults(func=_install_crds)
    sub.add_parser("binaries", help="print the etcd/kube-apiserver/kubectl dir (build if needed)").set_defaults(
        func=_print_path(bin_dir)
    )
    sub.add_parser("helm", help="print the path of helm (build it from hack/helm/ if needed)").set_defaults(
        func=_print_path(helm_path)
    )
    manifest = sub.add_parser(
        "manifest", help="write deploy/orgquota.yaml and the chart's CRD copy from the chart (helm template)"
    )
    manifest.add_argument("--check", action="store_true", help="only fail if they are out of date")
    manifest.set_defaults(func=_manifest)
    sub.add_parser("hnc-crd", help="print the path of HNC's HRQ CRD (fetch if needed)").set_defaults(func=_hnc_crd)
    sub.add_parser(
        "hnc-config", help="print the HNCConfiguration the local cluster applies (LimitRanges propagated)"
    ).set_defaults(func=_hnc_config)
    sub.add_parser(
        "platform-binaries", help="print the paths of kube-controller-manager and HNC's manager (build if needed)"
    ).set_defaults(func=_platform_binaries)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
