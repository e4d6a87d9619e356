"""The VM test's nodes, read offline from the flake and turned into files for the vm-native hosts
(docs/vm-native.md, "How" and "The mappings"; ``_classify`` and vmhosts.py implement them).
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nix_offline import nixcheck

from .system import REPO, STATE, HarnessError

STORE_PATH = re.compile(r"/nix/store/[a-z0-9]{32}-[^/\s\"':;,]+")

#: Stock nixpkgs packages, by pname: the container's own.
STOCK = {"bash", "coreutils", "curl", "findutils", "gnugrep", "gnused"}
STOCK |= {"postgresql", "python3", "systemd"}
#: Source paths (``${./file}``) by store name: the working tree's file.
SOURCES = {
    "roles.sql": REPO / "shared_resource" / "shared_resource" / "sql" / "roles.sql",
    "scenario.py": REPO / "e2e" / "scenario.py",
}
#: systemd-lib.nix's stage2ServiceConfig path (coreutils, findutils, gnugrep, gnused, systemd)
#: after a unit's own: all five are the container's /usr.
DEFAULT_PATH = ["/usr"]

NODES_EXPR = """c: let
  duet = attrs: builtins.removeAttrs attrs
    (builtins.filter (n: builtins.substring 0 5 n != "duet-") (builtins.attrNames attrs));
  ctx = v: builtins.attrNames (builtins.getContext (builtins.toJSON v));
in {
  script = c.testScriptString;
  scriptContext = ctx c.testScriptString;
  nodes = builtins.mapAttrs (_: n: rec {
    ipv4 = n.networking.primaryIPAddress;
    ipv6 = n.networking.primaryIPv6Address;
    hosts = n.networking.extraHosts;
    services = duet n.systemd.services;
    timers = duet n.systemd.timers;
    users = builtins.mapAttrs (_: u: u.group) n.users.users;
    groups = builtins.attrNames n.users.groups;
    packages = map toString n.environment.systemPackages;
    firewall = {
      inherit (n.networking.firewall) enable allowedTCPPorts extraCommands;
    };
    postgresql = if n.services.postgresql.enable then {
      inherit (n.services.postgresql) enableTCPIP authentication identMap;
      port = n.services.postgresql.settings.port or 5432;
    } else null;
    redis = builtins.mapAttrs (_: s: {
      inherit (s) port bind unixSocket unixSocketPerm user group requirePassFile;
    }) (builtins.removeAttrs n.services.redis.servers
      (builtins.filter (k: !n.services.redis.servers.${k}.enable)
        (builtins.attrNames n.services.redis.servers)));
    context = ctx { inherit services timers packages redis; };
  }) c.nodes;
}"""


@dataclass
class StorePath:
    path: str
    kind: str
    """app-web, app-worker, static, shell, text, stock, source"""
    name: str = ""
    text: str = ""
    inputs: list[str] = field(default_factory=list)


@dataclass
class Node:
    name: str
    index: int
    ipv4: str
    ipv6: str
    hosts: str
    services: dict
    timers: dict
    users: dict[str, str]
    groups: list[str]
    packages: list[str]
    firewall: dict
    postgresql: dict | None
    redis: dict


@dataclass
class Evaluation:
    script: str
    nodes: dict[str, Node]
    store: dict[str, StorePath]


def _drv_json(nix: nixcheck.Nix, drvs: list[str]) -> dict:
    if not drvs:
        return {}
    result = nix.run("nix", "show-derivation", *drvs)
    if result.returncode != 0:
        raise HarnessError(f"nix show-derivation: {nixcheck.error_text(result)}")
    return json.loads(result.stdout)


def _classify(out: str, drv: dict) -> StorePath:
    attrs = json.loads(drv["env"]["__json"]) if "__json" in drv["env"] else drv["env"]
    name = attrs.get("name", "")
    if re.fullmatch(r"python3\.\d+-duet-(web|worker)-.*", name):
        return StorePath(out, "app-" + name.split("-")[2], name)
    if name.startswith("duet-web-static"):
        return StorePath(out, "static", name)
    if "contractText" in attrs:
        return StorePath(
            out, "shell", name, attrs["contractText"], list(attrs.get("contractRuntimeInputs", []))
        )
    command = attrs.get("buildCommand", "")
    if "text" in attrs or command.startswith("printf %s "):
        text = attrs.get("text")
        if text is None:
            words = shlex.split(command)
            text = words[2]
        return StorePath(out, "text", name, text)
    if attrs.get("pname", name) in STOCK or name.split("-")[0] in STOCK:
        return StorePath(out, "stock", name)
    raise HarnessError(f"vm-native: no mapping for {out} ({name}); add one (docs/vm-native.md)")


def evaluate(repo: Path = REPO, state: Path = STATE) -> Evaluation:
    """The VM test's nodes and every store path they name, from a snapshot of ``repo``."""
    root = state / "nix"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vm-native-", dir=root) as scratch:
        tree = nixcheck.snapshot(repo, Path(scratch) / "duet")
        nix = nixcheck.Nix(Path(scratch) / "store")
        try:
            raw = nixcheck.nix_eval(nix, tree, f"{nixcheck.VM_CHECK}.config", NODES_EXPR)
        except nixcheck.NixCheckError as exc:
            raise HarnessError(f"vm-native: cannot evaluate the VM test's nodes:\n{exc}") from exc
        assert isinstance(raw, dict)
        context = set(raw["scriptContext"])
        for node in raw["nodes"].values():
            context.update(node["context"])
        store: dict[str, StorePath] = {}
        drvs = sorted(path for path in context if path.endswith(".drv"))
        for path in sorted(context - set(drvs)):
            base = path.split("-", 1)[1]
            if base not in SOURCES:
                raise HarnessError(f"vm-native: no source mapping for {path}")
            store[path] = StorePath(path, "source", base, SOURCES[base].read_text())
        shown = _drv_json(nix, drvs)
        runtime: set[str] = set()
        for drv in shown.values():
            out = drv["outputs"]["out"]["path"]
            entry = _classify(out, drv)
            store[out] = entry
            runtime.update(entry.inputs)
            if entry.kind == "shell":
                # Source paths its text names (e2e/scenario.py) are its input sources.
                for source in drv.get("inputSrcs", []):
                    base = source.split("-", 1)[1]
                    if source in entry.text and base in SOURCES:
                        store[source] = StorePath(source, "source", base, SOURCES[base].read_text())
                # Its runtime inputs are its input derivations' outputs.
                for item in _drv_json(nix, list(drv["inputDrvs"])).values():
                    sub_out = item["outputs"]["out"]["path"]
                    if sub_out in entry.inputs:
                        store[sub_out] = _classify(sub_out, item)
        for node in raw["nodes"].values():
            node.pop("context")
        for path in sorted(chmod for chmod in Path(scratch).rglob("*") if chmod.is_dir()):
            path.chmod(0o755)
    nodes = {
        name: Node(name=name, index=index, **value)
        for index, (name, value) in enumerate(sorted(raw["nodes"].items()), start=1)
    }
    return Evaluation(raw["script"], nodes, store)


# --- units, as systemd-lib.nix writes them ------------------------------------------------


def _option(value: object) -> str:
    """systemd-lib.nix toOption."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def attrs_to_section(attrs: dict) -> str:
    """systemd-lib.nix attrsToSection: sorted names, a line per list item."""
    lines = []
    for name in sorted(attrs):
        value = attrs[name]
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{name}={_option(item)}\n")
    return "".join(lines)


def unit_config(unit: dict) -> dict:
    """systemd-lib.nix unitConfig: the [Unit] section from the dependency lists."""
    config = dict(unit.get("unitConfig", {}))
    lists = ["requires", "wants", "after", "before", "bindsTo", "partOf", "conflicts"]
    for option in [*lists, "requisite", "documentation"]:
        if unit.get(option):
            config[option[0].upper() + option[1:]] = " ".join(unit[option])
    if unit.get("description"):
        config["Description"] = unit["description"]
    for option in ("startLimitIntervalSec", "startLimitBurst"):
        if unit.get(option) is not None:
            config[option[0].upper() + option[1:]] = str(unit[option])
    return config


def common_unit_text(unit: dict, lines: str) -> str:
    text = "[Unit]\n" + attrs_to_section(unit_config(unit)) + "\n" + lines
    if unit.get("wantedBy"):
        text += "\n[Install]\nWantedBy=" + " ".join(unit["wantedBy"]) + "\n"
    return text


@dataclass
class Rendered:
    units: dict[str, str]
    """unit file name -> text"""
    scripts: dict[str, str]
    """store-like path -> executable text (makeJobScript)"""
    wanted_by: dict[str, list[str]]


def render(node: Node) -> Rendered:
    """Every duet unit of ``node``, as NixOS would install it."""
    units: dict[str, str] = {}
    scripts: dict[str, str] = {}
    wanted: dict[str, list[str]] = {}
    for name, service in sorted(node.services.items()):
        unsupported = [
            key
            for key in ("reload", "preStop", "postStop", "postStart", "startAt", "scriptArgs")
            if service.get(key)
        ]
        if unsupported:
            raise HarnessError(f"vm-native: {name} uses {unsupported}, which render leaves out")
        config = dict(service["serviceConfig"])
        environment = dict(service.get("environment", {}))
        # serviceConfig: PATH from `path`, then stage2ServiceConfig's default path.
        path = [*service.get("path", []), *DEFAULT_PATH]
        environment["PATH"] = ":".join([f"{p}/bin" for p in path] + [f"{p}/sbin" for p in path])
        for option, key in (("script", "ExecStart"), ("preStart", "ExecStartPre")):
            if service.get(option):
                suffix = "start" if option == "script" else "pre-start"
                script = f"/nix/store/vm-native-unit-script-{name}-{suffix}/bin/{name}-{suffix}"
                scripts[script] = f"#!/bin/bash\nset -e\n\n{service[option]}\n"
                config[key] = script
        lines = "[Service]\n"
        for variable in sorted(environment):
            value = environment[variable]
            if value is not None:
                lines += "Environment=" + json.dumps(f"{variable}={value}") + "\n"
        lines += attrs_to_section(config)
        units[f"{name}.service"] = common_unit_text(service, lines)
        wanted[f"{name}.service"] = list(service.get("wantedBy", []))
    for name, timer in sorted(node.timers.items()):
        units[f"{name}.timer"] = common_unit_text(
            timer, "[Timer]\n" + attrs_to_section(timer["timerConfig"])
        )
        wanted[f"{name}.timer"] = list(timer.get("wantedBy", []))
    return Rendered(units, scripts, wanted)


def shell_application(entry: StorePath) -> str:
    """nixpkgs' writeShellApplication's script (its runtimeShell mapped to /bin/bash)."""
    path = ":".join(f"{p}/bin" for p in entry.inputs)
    export = f'export PATH="{path}:$PATH"\n\n' if path else ""
    return f"#!/bin/bash\nset -o errexit\nset -o nounset\nset -o pipefail\n\n{export}{entry.text}"


def store_paths_in(text: str) -> set[str]:
    return set(STORE_PATH.findall(text))


def check_mapped(evaluation: Evaluation, rendered: dict[str, Rendered]) -> list[str]:
    """Store paths a unit or script names that no mapping makes exist."""
    known = set(evaluation.store)
    missing = []
    for node, output in rendered.items():
        for unit, text in output.units.items():
            for path in store_paths_in(text):
                if path not in known and not path.startswith("/nix/store/vm-native-"):
                    missing.append(f"{node}: {unit} names {path}")
    return missing
