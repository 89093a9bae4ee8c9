"""A process's descendants read from /proc, and whether one of them still runs: for tests that stop a
supervisor and must show that nothing it started outlived it."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address, ip_address
from pathlib import Path


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    start_time: int
    """clock ticks after boot (/proc/<pid>/stat field 22): tells a recycled pid from the process seen"""
    command: str


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, start time, state) of `pid`, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)", which may hold spaces
    return int(fields[1]), int(fields[19]), fields[0]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def descendants(root: int) -> list[ProcessInfo]:
    """Every living process below `root` (children, their children...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
    found: list[ProcessInfo] = []
    queue = list(children.get(root, []))
    while queue:
        pid = queue.pop()
        stat = _stat(pid)
        if stat is not None and stat[2] != "Z":
            found.append(ProcessInfo(pid, stat[1], _command(pid)))
        queue.extend(children.get(pid, []))
    return found


def still_running(process: ProcessInfo) -> bool:
    """True if that very process (same pid and start time) exists and is not a zombie."""
    stat = _stat(process.pid)
    return stat is not None and stat[1] == process.start_time and stat[2] != "Z"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = str(fd.readlink())
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _address(hex_address: str) -> str:
    """/proc/net/tcp{,6}'s local address (host-order 32-bit words in hex, port) as `ip:port`."""
    host, port = hex_address.split(":")
    words = [bytes.fromhex(host[i : i + 8])[::-1] for i in range(0, len(host), 8)]
    raw = b"".join(words)
    return f"{ip_address(raw)}:{int(port, 16)}"


def listening_addresses(processes: list[ProcessInfo]) -> dict[str, str]:
    """`ip:port` -> command of every TCP socket in LISTEN state the processes hold."""
    owners = {inode: p.command for p in processes for inode in _socket_inodes(p.pid)}
    found: dict[str, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in owners:  # 0A: LISTEN
                found[_address(fields[1])] = owners[fields[9]]
    return found


def is_loopback(address: str) -> bool:
    ip = ip_address(address.rsplit(":", 1)[0])
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback
