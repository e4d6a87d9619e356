"""What each directive of duet's hardening baseline does under the containers' nested systemd
(docs/vm-native.md, "Probe").
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

from .vmhosts import Host

#: directive=value (`;` between two lines) -> a check that succeeds only when it is in effect
#: (run as `nobody`).
CHECKS: dict[str, str] = {
    "CapabilityBoundingSet=": "grep -q '^CapBnd:\\s*0*$' /proc/self/status",
    "DevicePolicy=closed": "! head -c1 /dev/kmsg 2>/dev/null && ! test -w /dev/kmsg",
    "LockPersonality=yes": "! setarch linux32 true 2>/dev/null",
    "MemoryDenyWriteExecute=yes": "grep -q '^Seccomp:\\s*2' /proc/self/status",
    "NoNewPrivileges=yes": "grep -q '^NoNewPrivs:\\s*1' /proc/self/status",
    "PrivateDevices=yes": "! test -e /dev/kmsg && test -e /dev/null",
    "PrivateMounts=yes": 'test "$(readlink /proc/self/ns/mnt)" != "$(cat /run/probe-mntns)"',
    "PrivateTmp=yes": "test ! -e /tmp/probe-marker",
    "PrivateUsers=yes": "! grep -q '^ *0 *0 *4294967295' /proc/self/uid_map",
    "ProcSubset=pid": "! test -e /proc/sys/kernel/hostname",
    "ProtectClock=yes": "grep -q '^Seccomp:\\s*2' /proc/self/status",
    "ProtectControlGroups=yes": "awk '$5 == \"/sys/fs/cgroup\" && $6 ~ /^ro/' "
    "/proc/self/mountinfo | grep -q .",
    "ProtectHome=yes": "! ls /root >/dev/null 2>&1 && ! test -d /home/probe",
    "ProtectHostname=yes": 'test "$(readlink /proc/self/ns/uts)" != "$(cat /run/probe-utsns)"',
    "ProtectKernelLogs=yes": "! test -e /dev/kmsg || ! test -r /dev/kmsg",
    "ProtectKernelModules=yes": "! test -d /usr/lib/modules/probe",
    "ProtectKernelTunables=yes": "awk '$5 == \"/proc/sys\" && $6 ~ /^ro/' /proc/self/mountinfo"
    " | grep -q .",
    "ProtectProc=invisible": "! ls /proc/1/ >/dev/null 2>&1 || ! test -r /proc/1/environ",
    "ProtectSystem=strict": "awk '$5 == \"/\" && $6 ~ /^ro/' /proc/self/mountinfo | grep -q .",
    "RemoveIPC=yes": "true",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6": (
        "grep -q '^Seccomp:\\s*2' /proc/self/status"
    ),
    "RestrictNamespaces=yes": "! unshare --user true 2>/dev/null",
    "RestrictRealtime=yes": "! chrt -f 1 true 2>/dev/null",
    "RestrictSUIDSGID=yes": "grep -q '^Seccomp:\\s*2' /proc/self/status",
    "SystemCallArchitectures=native": "grep -q '^Seccomp:\\s*2' /proc/self/status",
    "SystemCallFilter=@system-service;SystemCallFilter=~@privileged": (
        "grep -q '^Seccomp:\\s*2' /proc/self/status"
    ),
    "UMask=0077": 'test "$(umask)" = 0077',
}


@dataclass
class Finding:
    directive: str
    effective: bool
    journal: str


#: Directives this machine's nested systemd 252 is known to drop (docs/vm-native.md).
DROPPED: set[str] = set()


def probe(host: Host) -> list[Finding]:
    """One transient unit per directive on ``host``; each result and the journal's words."""
    setup = (
        "readlink /proc/self/ns/mnt >/run/probe-mntns; readlink /proc/self/ns/uts >"
        "/run/probe-utsns; touch /tmp/probe-marker; mkdir -p /home/probe /usr/lib/modules/probe"
    )
    host.execute(setup)
    findings = []
    for number, (directive, check) in enumerate(CHECKS.items()):
        unit = f"vm-native-probe-{os.getpid()}-{number}"
        argv = ["systemd-run", "--quiet", "--wait", "--pipe", "--collect", f"--unit={unit}"]
        argv += ["--property=User=nobody", *(f"--property={d}" for d in directive.split(";"))]
        argv += ["--", "/bin/bash", "-c", check]
        status, _ = host.execute(shlex.join(argv) + " </dev/null")
        _, journal = host.execute(
            f"journalctl --no-pager -o cat -u {unit}.service"
            " | grep -iE 'ignor|not supported|unsupported|failed|fail' | head -3"
        )
        findings.append(Finding(directive, status == 0, journal.strip()))
    return findings
