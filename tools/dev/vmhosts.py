"""The vm-native hosts: one booted systemd-nspawn container per VM test node, on a bridge.

``Hosts`` stops and removes everything on leaving, normally, on an error or on Ctrl-C;
docs/vm-native.md, "Hosts" and "The mappings", says how each is made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from . import vmnodes
from .system import REPO, STATE, HarnessError, ensure_apt_packages, say
from .venvs import venv_dir

ROOTFS_PACKAGES = (
    "systemd,systemd-sysv,dbus,iproute2,iptables,postgresql-15,redis-server,curl,python3,"
    "libpq5,procps,ca-certificates"
)
STATE_DIR = STATE / "vm-native"
#: What the machine running the hosts needs (Debian packages, with a file each installs).
HOST_PACKAGES = {
    "systemd-container": "/usr/bin/systemd-nspawn",
    "debootstrap": "/usr/sbin/debootstrap",
    "iptables": "/usr/sbin/iptables",
}
PG = "/etc/postgresql/15/main"

#: nixpkgs' firewall (nixos/modules/services/networking/firewall-iptables.nix), reduced to
#: what the VM test's nodes set: refused packets are dropped (rejectPackets = false).
FIREWALL = """#!/bin/bash
set -e
ip46tables() { iptables -w "$@"; ip6tables -w "$@"; }
for t in iptables ip6tables; do
  $t -w -N nixos-fw-accept; $t -w -A nixos-fw-accept -j ACCEPT
  $t -w -N nixos-fw-refuse; $t -w -A nixos-fw-refuse -j DROP
  $t -w -N nixos-fw-log-refuse; $t -w -A nixos-fw-log-refuse -j nixos-fw-refuse
  $t -w -N nixos-fw
  $t -w -A nixos-fw -i lo -j nixos-fw-accept
  $t -w -A nixos-fw -m conntrack --ctstate ESTABLISHED,RELATED -j nixos-fw-accept
done
{ports}
iptables -w -A nixos-fw -p icmp --icmp-type echo-request -j nixos-fw-accept
ip6tables -w -A nixos-fw -p icmpv6 --icmpv6-type redirect -j DROP
ip6tables -w -A nixos-fw -p icmpv6 --icmpv6-type 139 -j DROP
ip6tables -w -A nixos-fw -p icmpv6 -j nixos-fw-accept
{extra}
ip46tables -A nixos-fw -j nixos-fw-log-refuse
ip46tables -A INPUT -j nixos-fw
"""


def rootfs() -> Path:
    """The Debian rootfs every host starts from (built once: a few minutes)."""
    target = STATE_DIR / "rootfs"
    stamp = STATE_DIR / "rootfs.packages"
    if target.exists() and stamp.exists() and stamp.read_text() == ROOTFS_PACKAGES:
        return target
    ensure_apt_packages(HOST_PACKAGES)
    say("vm-native: building the Debian rootfs (debootstrap, a few minutes)")
    shutil.rmtree(target, ignore_errors=True)
    partial = STATE_DIR / "rootfs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    argv = ["debootstrap", "--variant=minbase", f"--include={ROOTFS_PACKAGES}", "bookworm"]
    result = subprocess.run([*argv, str(partial)], capture_output=True, text=True)
    if result.returncode:
        raise HarnessError(f"debootstrap failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    partial.rename(target)
    stamp.write_text(ROOTFS_PACKAGES)
    return target


def web_app(dir: Path) -> Path:
    """The web package's bin/: its console scripts on the native venv and working tree."""
    return _app(dir / "web", "web", {"duet-web": "serve", "duet-manage": "manage"})


def worker_app(dir: Path) -> Path:
    return _app(dir / "worker", "worker", {"duet-worker": "main", "duet-worker-health": "health"})


#: Where the venvs' base interpreter appears in the web and worker hosts, when it is not
#: Debian's own /usr/bin/python3 (a pyenv build under /root, which ProtectHome hides).
PYTHON_PREFIX = "/opt/vm-native/python"
#: Where a service's venv, its sources and shared_resource appear inside its container: fixed
#: paths, not the checkout's own, which may lie under /tmp, and PrivateTmp= hides /tmp.
CONTAINER_APP = "/opt/vm-native/{}"


def base_python(service: str) -> Path:
    """The prefix of the interpreter the venv was made with (pyvenv.cfg's home)."""
    for line in (venv_dir(service) / "pyvenv.cfg").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            return Path(value.strip()).parent
    raise HarnessError(f"{venv_dir(service)}/pyvenv.cfg names no home")


def _app(target: Path, service: str, scripts: dict[str, str]) -> Path:
    for folder in ("bin", "libexec"):
        (target / folder).mkdir(parents=True, exist_ok=True)
    module = f"duet_{service}.cli"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    prefix = base_python(service)
    if prefix == Path("/usr"):
        interpreter = f"/usr/bin/{version}"
    else:
        # Its libpython is found through LD_LIBRARY_PATH (searched before RUNPATH).
        interpreter = f"env LD_LIBRARY_PATH={PYTHON_PREFIX}/lib {PYTHON_PREFIX}/bin/{version}"
    root = CONTAINER_APP.format(service)
    site = f"{root}/venv/lib/{version}/site-packages"
    # shared_resource is installed editable (a .pth naming the checkout): put its bound copy
    # on the path instead.
    path = [f"{root}/src", CONTAINER_APP.format("shared_resource")]
    for name, function in scripts.items():
        program = target / "libexec" / f"{name}.py"
        program.write_text(
            f"import site\nimport sys\nsite.addsitedir({site!r})\n"
            f"sys.path[:0] = {path!r}\n"
            f"from {module} import {function}\nsys.exit({function}())\n"
        )
        script = target / "bin" / name
        # $0 is the store path's bin/: libexec/ is beside it, in the same bind mount.
        script.write_text(
            f'#!/bin/sh\nexec {interpreter} "${{0%/bin/*}}/libexec/{program.name}" "$@"\n'
        )
        script.chmod(0o755)
    return target


def collect_static(dir: Path) -> Path:
    """The web's static files (collectstatic with the web venv)."""
    target = dir / "static"
    if not (target / "staticfiles.json").exists() and not any(target.glob("*")):
        target.mkdir(parents=True, exist_ok=True)
        # Empty variables (the test runner blanks the unit suites' servers) would be parsed
        # as settings: leave them out; collectstatic needs no server.
        env = {
            **{name: value for name, value in os.environ.items() if value},
            "DUET_ENV": "development",
            "DJANGO_STATIC_ROOT": str(target),
            "DJANGO_SETTINGS_MODULE": "duet_web.settings",
        }
        argv = [sys.executable, "manage.py", "collectstatic", "--noinput"]
        subprocess.run(argv, cwd=REPO / "web", env=env, check=True, capture_output=True)
    return target


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: if the harness is killed outright, nspawn halts its container."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGTERM)


class Host:
    """One container: its overlay, its files, its nspawn process."""

    def __init__(self, hosts: Hosts, node: vmnodes.Node) -> None:
        self.hosts = hosts
        self.node = node
        self.name = node.name
        self.dir = hosts.dir / node.name
        self.merged = self.dir / "merged"
        self.process: subprocess.Popen[bytes] | None = None
        self.leader: int | None = None
        self.binds: list[tuple[str, str]] = []
        self.log_file = self.dir / "console.log"
        self.last_stderr = ""

    # -- files --------------------------------------------------------------------------------

    def _fresh(self, path: str) -> Path:
        """``path`` in the container, its folder made and whatever was there removed."""
        target = self.merged / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        return target

    def write(self, path: str, text: str, mode: int = 0o644) -> None:
        target = self._fresh(path)
        target.write_text(text)
        target.chmod(mode)

    def symlink(self, path: str, to: str) -> None:
        self._fresh(path).symlink_to(to)

    def unit(self, name: str, text: str, *wanted_by: str) -> None:
        """A unit file, enabled in each of ``wanted_by`` as ``systemctl enable`` does."""
        self.write(f"/etc/systemd/system/{name}", text)
        for target in wanted_by:
            self.symlink(f"/etc/systemd/system/{target}.wants/{name}", f"../{name}")

    def system_user(self, user: str, group: str) -> None:
        """A system user with home /var/empty, as NixOS: libpq reads client certificates there."""
        home = ["--no-create-home", "--home-dir", "/var/empty"]
        self.chroot("useradd", "--system", *home, "--gid", group, user)

    def chroot(self, *argv: str) -> None:
        subprocess.run(["chroot", str(self.merged), *argv], check=True, capture_output=True)

    def prepare(self) -> None:
        for sub in ("upper", "work", "merged"):
            (self.dir / sub).mkdir(parents=True)
        dirs = f"lowerdir={self.hosts.rootfs},upperdir={self.dir}/upper,workdir={self.dir}/work"
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", dirs, str(self.merged)], check=True
        )
        self.hosts.mounts.append(self.merged)
        node = self.node
        self.write("/etc/hostname", f"{node.name}\n")
        self.write("/etc/hosts", f"127.0.0.1 localhost\n::1 localhost\n{node.hosts}")
        # Only what the node runs: Debian's services start when the node enables them.
        for unit in ("postgresql.service", "redis-server.service", "e2scrub_reap.service"):
            self.symlink(f"/etc/systemd/system/{unit}", "/dev/null")
        self.symlink("/etc/systemd/system/postgresql@15-main.service", "/dev/null")
        for group in node.groups:
            self.chroot("groupadd", "--system", "-f", group)
        for user, group in node.users.items():
            self.system_user(user, group)
        self._network()
        self._store()
        self._units()
        if node.postgresql is not None:
            self._postgresql(node.postgresql)
        for name, server in node.redis.items():
            self._redis(name, server)
        if node.firewall["enable"]:
            self._firewall()
        self.write("/etc/systemd/system/console-getty.service", "", 0o644)
        self.symlink("/etc/systemd/system/console-getty.service", "/dev/null")

    def _network(self) -> None:
        node = self.node
        self.unit(
            "vm-native-network.service",
            "[Unit]\nDescription=host0's addresses (the NixOS test network)\n"
            "DefaultDependencies=no\nBefore=network.target network-online.target\n"
            "Wants=network.target\n\n[Service]\nType=oneshot\nRemainAfterExit=true\n"
            "ExecStart=/sbin/ip link set host0 up\n"
            f"ExecStart=/sbin/ip addr add {node.ipv4}/24 dev host0\n"
            f"ExecStart=/sbin/ip -6 addr add {node.ipv6}/64 dev host0 nodad\n\n"
            "[Install]\nWantedBy=network-online.target multi-user.target\n",
            "network-online.target",
            "multi-user.target",
        )

    def _store(self) -> None:
        """Every store path the units, packages and testScript name (docs/vm-native.md)."""
        for path, entry in self.hosts.evaluation.store.items():
            if entry.kind == "stock":
                self.symlink(path, "/usr")
            elif entry.kind in ("text", "source"):
                self.write(path, entry.text, 0o444)
            elif entry.kind == "shell":
                self.write(f"{path}/bin/{entry.name}", vmnodes.shell_application(entry), 0o555)
            elif entry.kind == "app-web" and self.name == "web":
                self.binds.append((str(self.hosts.web_app), path))
            elif entry.kind == "app-worker" and self.name == "worker":
                self.binds.append((str(self.hosts.worker_app), path))
            elif entry.kind == "static" and self.name == "web":
                self.binds.append((str(self.hosts.static), path))
        if self.name in ("web", "worker"):
            root = CONTAINER_APP.format(self.name)
            self.binds += [
                (str(venv_dir(self.name)), f"{root}/venv"),
                (str(REPO / self.name), f"{root}/src"),
                (str(REPO / "shared_resource"), CONTAINER_APP.format("shared_resource")),
            ]
            prefix = base_python(self.name)
            if prefix != Path("/usr"):
                self.binds.append((str(prefix), PYTHON_PREFIX))
        for package in self.node.packages:
            entry = self.hosts.evaluation.store[package]
            if entry.kind == "shell":
                self.symlink(f"/usr/local/bin/{entry.name}", f"{package}/bin/{entry.name}")

    def _units(self) -> None:
        rendered = self.hosts.rendered[self.name]
        for name, text in rendered.units.items():
            self.unit(name, text, *rendered.wanted_by[name])
        for path, text in rendered.scripts.items():
            self.write(path, text, 0o555)

    def _postgresql(self, pg: dict) -> None:
        conf = self.merged / PG.lstrip("/") / "postgresql.conf"
        text = conf.read_text()
        text += f"\nlisten_addresses = '{'*' if pg['enableTCPIP'] else ''}'\nport = {pg['port']}\n"
        self.write(f"{PG}/postgresql.conf", text)
        # NixOS's pg_hba.conf: the option's lines, then its default lines (mkAfter).
        self.write(
            f"{PG}/pg_hba.conf",
            pg["authentication"]
            + "\nlocal all all peer\nhost all all 127.0.0.1/32 md5\nhost all all ::1/128 md5\n",
        )
        self.write(f"{PG}/pg_ident.conf", pg["identMap"])
        self.chroot("chown", "postgres:postgres", f"{PG}/pg_hba.conf", f"{PG}/pg_ident.conf")
        for unit in ("postgresql.service", "postgresql@15-main.service"):
            (self.merged / "etc/systemd/system" / unit).unlink()
        self.write(
            "/etc/systemd/system/postgresql.service.d/vm-native.conf",
            "[Unit]\nWants=postgresql@15-main.service\n",
        )
        self.symlink(
            "/etc/systemd/system/multi-user.target.wants/postgresql.service",
            "/lib/systemd/system/postgresql.service",
        )

    def _redis(self, name: str, server: dict) -> None:
        password = self.hosts.evaluation.store[server["requirePassFile"]].text
        user = server["user"]
        self.chroot("groupadd", "--system", "-f", server["group"])
        self.system_user(user, server["group"])
        config = (
            f"port {server['port']}\nbind {server['bind']}\n"
            f"unixsocket {server['unixSocket']}\nunixsocketperm {server['unixSocketPerm']}\n"
            f"dir /var/lib/redis-{name}\ndaemonize no\nsupervised systemd\n"
            f"requirepass {password.strip()}\n"
        )
        self.write(f"/etc/redis-{name}/redis.conf", config, 0o640)
        self.chroot("chown", f"root:{server['group']}", f"/etc/redis-{name}/redis.conf")
        self.unit(
            f"redis-{name}.service",
            f"[Unit]\nDescription=Redis server {name}\nAfter=network.target\n\n"
            f"[Service]\nType=notify\nUser={user}\nGroup={server['group']}\n"
            f"RuntimeDirectory=redis-{name}\nStateDirectory=redis-{name}\n"
            f"ExecStart=/usr/bin/redis-server /etc/redis-{name}/redis.conf\n\n"
            "[Install]\nWantedBy=multi-user.target\n",
            "multi-user.target",
        )

    def _firewall(self) -> None:
        fw = self.node.firewall
        ports = "\n".join(
            f"ip46tables -A nixos-fw -p tcp --dport {port} -j nixos-fw-accept"
            for port in fw["allowedTCPPorts"]
        )
        self.write(
            "/etc/vm-native/firewall-start",
            FIREWALL.replace("{ports}", ports).replace("{extra}", fw["extraCommands"]),
            0o755,
        )
        self.unit(
            "firewall.service",
            "[Unit]\nDescription=Firewall\nDefaultDependencies=no\n"
            "Before=network-pre.target\nWants=network-pre.target\n\n"
            "[Service]\nType=oneshot\nRemainAfterExit=true\n"
            "ExecStart=/etc/vm-native/firewall-start\n\n[Install]\nWantedBy=sysinit.target\n",
            "sysinit.target",
        )

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        if self.process is not None:
            return
        argv = ["systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit"]
        argv += [f"--directory={self.merged}", f"--machine={self.hosts.prefix}-{self.name}"]
        argv += [f"--hostname={self.name}", f"--network-bridge={self.hosts.bridge}"]
        argv += ["--resolv-conf=off", "--timezone=off", "--console=pipe"]
        argv += [f"--bind-ro={source}:{target}" for source, target in self.binds]
        log = self.log_file.open("wb")
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(
                    f"{self.name}: systemd-nspawn exited:\n{self.log_file.read_text()[-3000:]}"
                )
            self.leader = self._find_leader()
            if self.leader is not None:
                # Past "initializing", the boot transaction is queued: a unit it starts is
                # active or has a job (wait_for_unit relies on that).
                state = self.execute("systemctl is-system-running", timeout=30)[1].strip()
                if state not in ("offline", "initializing", ""):
                    return
            time.sleep(1)
        raise HarnessError(f"{self.name}: systemd did not come up")

    def _find_leader(self) -> int | None:
        """The container's PID 1: nspawn's first descendant in another PID namespace."""
        assert self.process is not None
        own = os.readlink("/proc/self/ns/pid")
        with contextlib.suppress(psutil.Error, OSError):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                if os.readlink(f"/proc/{child.pid}/ns/pid") != own:
                    return child.pid
        return None

    def execute(self, command: str, timeout: float | None = 900) -> tuple[int, str]:
        """Run ``command`` with bash as root inside the container; (status, stdout)."""
        if self.leader is None:
            raise HarnessError(f"{self.name} is not running")
        argv = ["nsenter", f"--target={self.leader}", "--mount", "--uts", "--ipc", "--net", "--pid"]
        argv += ["--", "/usr/bin/env", "-i", "HOME=/root", "LANG=C.UTF-8"]
        argv += ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        argv += ["/bin/bash", "-c", command]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd="/")
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return 124, out
        # The NixOS driver returns stdout and shows stderr on the console; kept for logs.
        self.last_stderr = result.stderr
        return result.returncode, result.stdout

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            if self.leader is not None:
                # SIGRTMIN+3 asks systemd to halt.
                with contextlib.suppress(OSError):
                    os.kill(self.leader, signal.SIGRTMIN + 3)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                # Killing the container's PID 1 ends every process of its PID namespace;
                # killing nspawn alone would leave them running.
                if self.leader is not None:
                    with contextlib.suppress(OSError):
                        os.kill(self.leader, signal.SIGKILL)
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=30)
        self.process = None


class Hosts:
    """db, web, worker and client, each booting on demand; torn down on exit."""

    def __init__(self, evaluation: vmnodes.Evaluation) -> None:
        self.evaluation = evaluation
        self.rendered = {name: vmnodes.render(node) for name, node in evaluation.nodes.items()}
        missing = vmnodes.check_mapped(evaluation, self.rendered)
        if missing:
            raise HarnessError("vm-native: unmapped store paths:\n" + "\n".join(missing))
        self.rootfs = rootfs()
        self.prefix = f"dv{os.getpid() % 100000}"
        self.bridge = self.prefix + "br"
        self.mounts: list[Path] = []
        self.dir = Path(tempfile.mkdtemp(prefix="hosts-", dir=STATE_DIR))
        apps = STATE_DIR / "apps"
        self.web_app = web_app(apps)
        self.worker_app = worker_app(apps)
        self.static = collect_static(STATE_DIR)
        self.hosts = {name: Host(self, node) for name, node in evaluation.nodes.items()}

    def __enter__(self) -> Hosts:
        try:
            subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
            # No address on the bridge, IPv6 link-local included: nothing of the machine's.
            Path(f"/proc/sys/net/ipv6/conf/{self.bridge}/disable_ipv6").write_text("1")
            subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
            for host in self.hosts.values():
                host.prepare()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for host in self.hosts.values():
            try:
                host.stop()
            except Exception as error:
                say(f"vm-native: stopping {host.name}: {error}")
        for mount in reversed(self.mounts):
            subprocess.run(["umount", "--lazy", str(mount)], capture_output=True)
        self.mounts.clear()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
