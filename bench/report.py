"""The report: a JSON file and a Markdown table, one column per N."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bench.measure import REPO_ROOT, code_version, machine_facts

RESULTS_DIR: Final = REPO_ROOT / "bench" / "results"


def _cpu(phase: str) -> Callable[[Mapping[str, Any]], str]:
    def cell(run: Mapping[str, Any]) -> str:
        c = run[phase]["cpu_s"]
        return f"op {c['operator']} / api {c['apiserver']} / etcd {c['etcd']} / bench {c['bench']} / other {c['other']}"

    return cell


def _reconciles(phase: Mapping[str, Any]) -> str:
    stats = phase.get("reconciles")
    return f"{stats['count']} ({stats['mean_ms']})" if stats else "n/a (no operator metrics)"


def _deferred(settle: Mapping[str, Any]) -> str:
    if not settle["operator_writes"]:
        return f"0 (none within {settle['quiet_window_s']:.0f} s)"
    return f"{settle['operator_writes']} ({settle['last_write_after_s']}): {_requests(settle['by_request'])}"


def _requests(by_request: Mapping[str, int]) -> str:
    return ", ".join(f"{key}: {count}" for key, count in by_request.items()) or "none"


def _rss(run: Mapping[str, Any]) -> str:
    res = run["resources"]
    converged = run["initial"]["operator_memory_mb"]["VmRSS"]
    restarted = run["restart"]["operator_memory_mb"]["VmRSS"]
    return f"{res['rss_zero_orgs_mb']} / {converged} / {restarted}"


def _per_org(run: Mapping[str, Any]) -> str:
    res = run["resources"]
    return (
        f"{res['rss_per_org_kb_after_convergence']} / {res['rss_per_org_kb_after_restart']}"
        f" / {res['peak_rss_per_org_kb']}"
    )


ROWS: Final[list[tuple[str, Callable[[Mapping[str, Any]], Any]]]] = [
    ("setup: N namespaces + N orgs (s)", lambda r: r["setup"]["create_org_namespaces_and_orgs_s"]),
    ("**1. initial: operator, process start -> all HRQ+LR (s)**", lambda r: r["initial"]["operator_s"]),
    ("initial: operator's own `startup: ... in` (s)", lambda r: r["initial"]["operator_from_first_list_s"]),
    ("initial: operator idle again (s)", lambda r: r["initial"]["operator_idle_after_s"]),
    ("initial: bare client, 2N POSTs (s)", lambda r: r["initial"]["bare_s"]),
    ("**initial: ratio operator / bare**", lambda r: r["initial"]["ratio_operator_over_bare"]),
    (
        "initial: writes / reads served (operator's kinds / all reads)",
        lambda r: "{operator} / {reads}".format(**r["initial"]["requests"]),
    ),
    ("initial: CPU s", _cpu("initial")),
    ("initial: reconciles (mean ms each)", lambda r: _reconciles(r["initial"])),
    ("initial: deferred writes after it (last one after s)", lambda r: _deferred(r["initial"]["settle"])),
    ("**2. fan-out: operator, edit -> all HRQs (s)**", lambda r: r["fanout"]["operator_s"]),
    ("fan-out: operator idle again (s)", lambda r: r["fanout"]["operator_idle_after_s"]),
    ("fan-out: bare client, N PATCHes (s)", lambda r: r["fanout"]["bare_s"]),
    ("**fan-out: ratio operator / bare**", lambda r: r["fanout"]["ratio_operator_over_bare"]),
    ("fan-out: writes / reads served", lambda r: "{operator} / {reads}".format(**r["fanout"]["requests"])),
    ("fan-out: CPU s", _cpu("fanout")),
    ("fan-out: reconciles (mean ms each)", lambda r: _reconciles(r["fanout"])),
    ("fan-out: deferred writes after it (last one after s)", lambda r: _deferred(r["fanout"]["settle"])),
    ("**3. no-op edit: operator writes (target 0)**", lambda r: r["noop"]["requests"]["operator"]),
    ("no-op edit: all writes served, by request", lambda r: _requests(r["noop"]["requests"]["by_request"])),
    (
        "no-op edit: reads; all N reconciled after (s)",
        lambda r: f"{r['noop']['requests']['reads']}; {r['noop']['all_reconciled_after_s']}",
    ),
    ("no-op edit: reconciles (mean ms each)", lambda r: _reconciles(r["noop"])),
    ("no-op edit: deferred writes after it", lambda r: _deferred(r["noop"]["settle"])),
    ("**4. restart: operator writes (target 0)**", lambda r: r["restart"]["requests"]["operator"]),
    ("**restart: process start -> `startup:` log (s)**", lambda r: r["restart"]["startup_log_after_s"]),
    ("restart: operator busy until (idle again) (s)", lambda r: r["restart"]["operator_idle_after_s"]),
    ("restart: writes served, by request", lambda r: _requests(r["restart"]["requests"]["by_request"])),
    (
        "restart: reads; operator CPU s; reconciles (mean ms)",
        lambda r: (
            f"{r['restart']['requests']['reads']}; {r['restart']['cpu_s']['operator']}; " + _reconciles(r["restart"])
        ),
    ),
    (
        "**5. single plan change -> HRQ: p50 / p99 (ms)**",
        lambda r: f"{r['single_change']['p50_ms']} / {r['single_change']['p99_ms']}",
    ),
    ("single change: max (ms), changes", lambda r: f"{r['single_change']['max_ms']}, {r['single_change']['changes']}"),
    ("**6. operator peak RSS (MB), first process**", lambda r: r["resources"]["first_process"]["peak_rss_mb"]),
    ("operator RSS: 0 orgs / converged / restarted (MB)", _rss),
    ("operator RSS per org: converged / restarted / peak (KB)", _per_org),
    (
        "operator CPU s: first process / restarted",
        lambda r: f"{r['resources']['first_process']['cpu_s']} / {r['resources']['restarted_process']['cpu_s']}",
    ),
    (
        "loadavg 1m during run: min / mean / max",
        lambda r: "{loadavg_1m_min} / {loadavg_1m_mean} / {loadavg_1m_max}".format(**r["load"]),
    ),
    ("run wall time (s)", lambda r: r["wall_s"]),
]


def markdown(report: Mapping[str, Any]) -> str:
    runs: list[Mapping[str, Any]] = report["runs"]
    m = report["machine"]
    version = runs[0].get("apiserver_version", "?") if runs else "?"
    lines = [
        f"orgquota bench {report['started']}: {m['nproc']} CPUs ({m['cpu_model']}), "
        f"{m['memory_total_mb']} MB, Python {m['python']}, kopf {m['kopf']}, "
        f"kubernetes client {m['kubernetes_client']}, aiohttp {m['aiohttp']}, "
        f"kube-apiserver {version}, etcd {m['etcd']}; ORGQUOTA_WORKERS={report['workers']}",
        "",
        "| | " + " | ".join(f"N={run['n']}" + (" (failed, see JSON)" if "error" in run else "") for run in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for label, value in ROWS:
        cells = []
        for run in runs:
            try:
                cells.append(str(value(run)))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(out: Path, report: Mapping[str, Any], table_of: Callable[[Mapping[str, Any]], str] = markdown) -> str:
    """The JSON, and the Markdown table beside it (a failed run shows what it measured before failing)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    table = table_of(report)
    out.with_suffix(".md").write_text(table)
    return table


def saved_run(
    kind: str,
    args: argparse.Namespace,
    bench: Callable[[argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]],
    table: Callable[[Mapping[str, Any]], str],
) -> int:
    """Run `bench(args)` and keep what it measured with the machine and the code it ran on, as
    `args.out` or bench/results/<kind>-<UTC>.json, and its Markdown `table` beside it (printed too)."""
    started = datetime.now(UTC)
    out: Path = args.out or RESULTS_DIR / f"{kind}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    report: dict[str, Any] = {"started": started.isoformat(timespec="seconds")}
    report |= {"machine": machine_facts(), "code": code_version()}
    report |= asyncio.run(bench(args))
    print(write_report(out, report, table))
    log(f"results: {out}")
    return 0


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
