"""``nix-offline``: everything about the flake that can be checked where Nix cannot build.

Debian's Nix 2.8 parses and evaluates the flake, offline and in a private store, against the
stubs beside this file (tools/nix_offline/README.md says what they check), in the steps of
``STEPS``, then upstream mode with the real poetry2nix and lib; the README's "What is tested
where" lists every check. Nothing here builds or runs a derivation, an image or a VM.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dev.system import REPO, STATE, HarnessError
from nix_offline import dualstack

SYSTEMS = ("x86_64-linux", "aarch64-linux")

#: The outputs the flake promises (README, "Nix"), per kind. Anything else it has is
#: evaluated too.
REQUIRED = {
    "packages": ("shared-resource", "web", "worker", "web-image", "worker-image", "default"),
    "devShells": ("web", "worker", "default"),
    "checks": (
        "web-tests",
        "worker-tests",
        "shared-resource-in-web",
        "shared-resource-in-worker",
        "shared-resource-one-path",
        "formatting",
    ),
    "nixosModules": ("web", "worker", "default"),
}
DRIVER_STUB = Path("tools/nix_offline/test-driver")
#: The VM test, on x86_64-linux only.
VM_CHECK = "checks.x86_64-linux.vm"


class NixCheckError(HarnessError):
    """The flake failed one of the offline checks."""


@dataclass
class Report:
    files: int = 0
    parsed: int = 0
    outputs: list[str] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Each NixOS module's option values, per system, as JSON (tools/nix_offline/nixos-modules.nix).
    module_values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Where the environments differ from their locks (check_env_lock).
    env_differences: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"nix-offline: files={self.files} parsed={self.parsed} "
            f"outputs={len(self.outputs)} evaluated={len(self.evaluated)}"
        )


class Nix:
    """Nix 2.8, offline, in a private store under ``store_root`` (no /nix needed)."""

    def __init__(self, store_root: Path) -> None:
        self.store_root = store_root
        store_root.mkdir(parents=True, exist_ok=True)
        self.common = [
            "--extra-experimental-features",
            "nix-command flakes",
            "--store",
            f"local?root={store_root}",
            "--offline",
        ]

    def call(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        # No user configuration, registries or substituters: the same run everywhere.
        env = {
            **os.environ,
            "NIX_CONFIG": "substituters =\nflake-registry =\nwarn-dirty = false",
            "NIX_USER_CONF_FILES": "",
            "HOME": str(self.store_root.parent / "home"),
            "XDG_CACHE_HOME": str(self.store_root.parent / "cache"),
        }
        return subprocess.run(argv, capture_output=True, text=True, env=env)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.call([args[0], *self.common, *args[1:]])

    def instantiate(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.call(["nix-instantiate", "--store", f"local?root={self.store_root}", *args])


def error_text(result: subprocess.CompletedProcess[str]) -> str:
    """The error lines of a failed Nix call, without the lock-file chatter."""
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip()
        and not line.startswith(("• ", "  → ", "    '", "warning: "))
        and not any(f"{change} input" in line for change in ("Updated", "Removed", "Added"))
    ]
    return "\n".join(lines[-25:]) or f"exit {result.returncode}"


# --- the snapshot ---------------------------------------------------------------------------


def source_files(repo: Path) -> list[str]:
    """The tree as a flake would see it once committed: tracked and untracked files that
    git does not ignore (every file, outside git)."""
    if (repo / ".git").exists():
        out = subprocess.run(
            ["git", "-C", str(repo), "ls-files", "-z", "-co", "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout
        names = [name for name in out.decode().split("\0") if name]
        return [name for name in names if (repo / name).is_file()]
    skip = {".git", ".state", "__pycache__", ".ruff_cache", ".pytest_cache"}
    return [
        str(path.relative_to(repo))
        for path in repo.rglob("*")
        if path.is_file() and not skip & set(path.relative_to(repo).parts)
    ]


@contextmanager
def workspace(prefix: str, repo: Path = REPO, state: Path = STATE) -> Iterator[tuple[Nix, Path]]:
    """A fresh private store (nothing evaluated before can mask a failure now) and a
    snapshot of ``repo``, in a scratch folder under ``state``."""
    (state / "nix").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=state / "nix") as scratch:
        work = Path(scratch)
        try:
            yield Nix(work / "store"), snapshot(repo, work / "duet")
        finally:
            # Nix leaves the store's folders read-only.
            for path in work.rglob("*"):
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o755)


def snapshot(repo: Path, target: Path) -> Path:
    for name in source_files(repo):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, destination)
    return target


# --- 1. parse --------------------------------------------------------------------------------


#: Builtins that read the machine rather than the flake; --impure would let them pass.
IMPURE = re.compile(r"\b(getEnv|currentSystem|currentTime|storePath)\b|<[a-z][\w.+-]*(/[^>\s]*)?>")


def check_purity(tree: Path, report: Report) -> None:
    """The flake's own files (not the stubs) stay pure, though evaluated with --impure."""
    for path in sorted(tree.rglob("*.nix")):
        relative = path.relative_to(tree)
        if relative.parts[:2] == ("tools", "nix_offline"):
            continue
        for number, text in enumerate(path.read_text().splitlines(), 1):
            code = text.split("#", 1)[0]
            found = IMPURE.search(code)
            if found:
                report.problems.append(
                    f"{relative}:{number}: `{found.group(0)}' reads the machine, not the flake"
                    " (pure evaluation refuses it)"
                )


def parse_all(nix: Nix, tree: Path, report: Report) -> None:
    check_purity(tree, report)
    files = sorted(tree.rglob("*.nix"))
    report.files = len(files)
    for path in files:
        result = nix.instantiate("--parse", str(path))
        if result.returncode == 0:
            report.parsed += 1
        else:
            report.problems.append(
                f"{path.relative_to(tree)} does not parse:\n{error_text(result)}"
            )


# --- 2. contract evaluation ---------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """What the flake's nixpkgs and poetry2nix inputs are replaced with."""

    #: A directory laid out as tools/nix_offline: nixpkgs/ (a flake), nixos-modules.nix.
    contract: Path
    #: poetry2nix's flake: the stub, or the real source.
    poetry2nix: Path
    #: Further ``--override-input`` pairs (poetry2nix's own inputs, upstream mode only).
    extra: tuple[tuple[str, Path], ...] = ()


def stub_inputs(tree: Path) -> Inputs:
    contract = tree / "tools" / "nix_offline"
    return Inputs(contract=contract, poetry2nix=contract / "poetry2nix")


def overrides(tree: Path, inputs: Inputs | None = None) -> list[str]:
    inputs = inputs or stub_inputs(tree)
    pairs = [("nixpkgs", inputs.contract / "nixpkgs"), ("poetry2nix", inputs.poetry2nix)]
    args = [
        "--no-write-lock-file",
        "--no-eval-cache",
        # Nix 2.8 needs it for builtins.toFile's copies of the locks and a fileset rooted at
        # the flake's root (README, "What is tested where"); check_purity keeps the impure
        # builtins out of the flake.
        "--impure",
    ]
    for name, path in [*pairs, *inputs.extra]:
        args += ["--override-input", name, f"path:{path}"]
    return args


def nix_eval(
    nix: Nix, tree: Path, attribute: str, apply: str, inputs: Inputs | None = None
) -> object:
    flake = f"path:{tree}#{attribute}"
    result = nix.run("nix", "eval", "--json", *overrides(tree, inputs), flake, "--apply", apply)
    if result.returncode != 0:
        raise NixCheckError(error_text(result))
    return json.loads(result.stdout)


def expected_outputs(names: dict[str, dict[str, list[str]]]) -> list[str]:
    """Every output path the flake has (per system), plus the required ones it lacks."""
    wanted = set()
    for kind, per_system in names.items():
        for system, outputs in per_system.items():
            wanted.update(f"{kind}.{system}.{output}" for output in outputs)
    for kind, required in REQUIRED.items():
        if kind == "nixosModules":
            continue
        for system in SYSTEMS:
            wanted.update(f"{kind}.{system}.{output}" for output in required)
    wanted.add(VM_CHECK)
    wanted.update(f"formatter.{system}" for system in SYSTEMS)
    return sorted(wanted)


def evaluate_outputs(nix: Nix, tree: Path, report: Report, inputs: Inputs | None = None) -> None:
    inputs = inputs or stub_inputs(tree)
    names: dict[str, dict[str, list[str]]] = {}
    for kind in ("packages", "devShells", "checks"):
        try:
            listing = nix_eval(
                nix, tree, kind, "builtins.mapAttrs (_: builtins.attrNames)", inputs=inputs
            )
        except NixCheckError as exc:
            report.problems.append(f"{kind}: cannot list the outputs:\n{exc}")
            listing = {}
        assert isinstance(listing, dict)
        names[kind] = {system: listing.get(system, []) for system in SYSTEMS}
        unknown = sorted(set(listing) - set(SYSTEMS))
        if unknown:
            report.problems.append(f"{kind}: unexpected systems {unknown}")
    try:
        modules = nix_eval(nix, tree, "nixosModules", "builtins.attrNames", inputs=inputs)
    except NixCheckError as exc:
        report.problems.append(f"nixosModules: cannot list the modules:\n{exc}")
        modules = []
    assert isinstance(modules, list)
    if "vm" in names["checks"]["aarch64-linux"]:
        report.problems.append("checks.aarch64-linux.vm exists; it is x86_64-linux only")

    report.outputs = expected_outputs(names) + [
        f"nixosModules.{module}" for module in sorted(set(modules) | set(REQUIRED["nixosModules"]))
    ]

    for kind in ("packages", "devShells", "checks"):
        for system in SYSTEMS:
            report.evaluated += force_many(
                nix, tree, f"{kind}.{system}", names[kind][system], report, inputs
            )
    report.evaluated += force_many(nix, tree, "formatter", SYSTEMS, report, inputs)

    contract = inputs.contract
    try:
        values = nix_eval(
            nix,
            tree,
            "nixosModules",
            f"import {contract / 'nixos-modules.nix'} {contract}",
            inputs=inputs,
        )
        assert isinstance(values, dict)
        report.module_values = values
        for module, per_system in values.items():
            if set(per_system) == set(SYSTEMS):
                report.evaluated.append(f"nixosModules.{module}")
    except NixCheckError as exc:
        report.problems.append(f"nixosModules:\n{exc}")

    # Nix's own output schema (packages are derivations, modules are modules, ...).
    schema = nix.run(
        "nix", "flake", "check", "--no-build", *overrides(tree, inputs), f"path:{tree}"
    )
    if schema.returncode != 0:
        report.problems.append(f"nix flake check --no-build:\n{error_text(schema)}")

    missing = sorted(set(report.outputs) - set(report.evaluated))
    for output in missing:
        if not any(output in problem for problem in report.problems):
            report.problems.append(f"{output}: missing (the README promises it)")


def force_many(
    nix: Nix, tree: Path, attribute: str, names: Iterable[str], report: Report, inputs: Inputs
) -> list[str]:
    """Force every output under ``attribute`` to its drvPath, in one evaluation; on a
    failure, one by one, so the report names each broken output."""
    names = list(names)
    if not names:
        return []
    try:
        nix_eval(
            nix, tree, attribute, "builtins.mapAttrs (_: output: output.drvPath)", inputs=inputs
        )
        return [f"{attribute}.{name}" for name in names]
    except NixCheckError:
        pass
    forced = []
    for name in names:
        try:
            nix_eval(nix, tree, f"{attribute}.{name}", "output: output.drvPath", inputs=inputs)
            forced.append(f"{attribute}.{name}")
        except NixCheckError as exc:
            report.problems.append(f"{attribute}.{name}:\n{exc}")
    return forced


# --- 3. the VM test script ----------------------------------------------------------------


def pythonize(name: str) -> str:
    """nixos/lib/testing/driver.nix pythonizeName: a node name as a Python identifier."""
    head = name[:1] if (name[:1].isalpha() or name[:1] == "_") else "_"
    return head + "".join(c if (c.isalnum() or c == "_") else "_" for c in name[1:])


def lint_test_script(nix: Nix, tree: Path, report: Report, tools: Path) -> None:
    """pyflakes and mypy, invoked as nixpkgs' nixos/lib/test-driver does."""
    try:
        vm = nix_eval(
            nix,
            tree,
            f"{VM_CHECK}.config",
            "c: { script = c.testScriptString; nodes = builtins.attrNames c.nodes; }",
        )
    except NixCheckError as exc:
        report.problems.append(f"the VM testScript cannot be rendered:\n{exc}")
        return
    assert isinstance(vm, dict)
    script: str = vm["script"]
    nodes = [pythonize(name) for name in vm["nodes"]]
    if len(nodes) == 1 and "machine" not in nodes:
        nodes.append("machine")
    stub = tree / DRIVER_STUB
    missing = [tool for tool in ("mypy", "pyflakes") if not (tools / tool).exists()]
    if missing:
        report.problems.append(
            f"{', '.join(missing)} not found in {tools} (web/pyproject.toml's dev group has them)"
        )
        return
    with tempfile.TemporaryDirectory(prefix="duet-testscript-") as scratch:
        work = Path(scratch)
        (work / "test-script").write_text(script)
        typed = (stub / "test-script-prepend.py").read_text()
        typed += " ".join(f"{name}: Machine;" for name in nodes) + "\n"
        typed += "vlan1: VLan;\n"
        typed += script
        (work / "testScriptWithTypes").write_text(typed)
        env = {**os.environ, "MYPYPATH": str(stub), "MYPY_CACHE_DIR": str(work / ".mypy")}
        symbols = (stub / "symbols.txt").read_text().strip()
        mypy = "--no-implicit-optional --pretty --no-color-output --python-version 3.12"
        for name, argv, tool_env in [
            ("mypy", [*mypy.split(), "testScriptWithTypes"], env),
            (
                "pyflakes",
                ["test-script"],
                {**env, "PYFLAKES_BUILTINS": f"{','.join(nodes)},{symbols}"},
            ),
        ]:
            result = subprocess.run(
                [str(tools / name), *argv], cwd=work, env=tool_env, capture_output=True, text=True
            )
            if result.returncode != 0:
                report.problems.append(
                    f"{name} rejects the VM testScript:\n{result.stdout}{result.stderr}"
                )


def check_network(nix: Nix, tree: Path, report: Report) -> None:
    """The VM test's nodes answer both address families (dualstack.py)."""
    try:
        nodes = nix_eval(nix, tree, f"{VM_CHECK}.config", dualstack.NODES_EXPR)
    except NixCheckError as exc:
        report.problems.append(f"the VM test's network cannot be read:\n{exc}")
        return
    assert isinstance(nodes, dict)
    report.problems.extend(f"dual-stack: {problem}" for problem in dualstack.problems(nodes))


# --- 4. flake.lock -----------------------------------------------------------------------------


def check_lock(nix: Nix, tree: Path, report: Report) -> None:
    try:
        lock = json.loads((tree / "flake.lock").read_text())
    except (OSError, ValueError) as exc:
        report.problems.append(f"flake.lock: unreadable: {exc}")
        return
    report.problems.extend(lock_problems(lock, declared_inputs(nix, tree, report)))
    result = nix.run("nix", "flake", "metadata", "--no-update-lock-file", f"path:{tree}")
    if result.returncode != 0:
        report.problems.append(
            "flake.lock: `nix flake metadata --offline --no-update-lock-file` rejects it:\n"
            + error_text(result)
        )


def declared_inputs(nix: Nix, tree: Path, report: Report) -> dict[str, object]:
    result = nix.instantiate(
        "--eval", "--strict", "--json", "-E", f"(import {tree / 'flake.nix'}).inputs"
    )
    if result.returncode != 0:
        report.problems.append(f"flake.nix: cannot read its inputs:\n{error_text(result)}")
        return {}
    return json.loads(result.stdout)


#: A github input pinned to a commit, as flake.nix states every pin.
PINNED_URL = re.compile(r"github:(?P<owner>[^/]+)/(?P<repo>[^/]+)/(?P<rev>[0-9a-f]{40})")


def lock_problems(lock: dict, declared: dict) -> list[str]:
    """flake.lock against flake.nix, where the pins are stated: each input locked at the
    commit its URL names, with the declared follows, and every node reached (Nix itself
    refuses other root inputs, missing nodes and follows that do not resolve)."""
    problems: list[str] = []
    if lock.get("version") != 7:
        problems.append(f"flake.lock: version {lock.get('version')}, expected 7")
    nodes: dict = lock.get("nodes", {})
    if lock.get("root") not in nodes:
        return [*problems, "flake.lock: no root node"]
    root = nodes[lock["root"]].get("inputs", {})
    for name, spec in declared.items():
        node = nodes.get(root.get(name), {})
        pin = PINNED_URL.fullmatch(spec.get("url", ""))
        if pin is None:
            problems.append(f"flake.nix: {name}.url = {spec.get('url')!r} names no commit to pin")
        elif node.get("locked", {}).get("rev") != pin["rev"] or node.get("original") != {
            **pin.groupdict(),
            "type": "github",
        }:
            problems.append(
                f"flake.lock: {name} is locked at {node.get('locked', {}).get('rev')},"
                f" flake.nix pins {pin['rev']}"
            )
        for sub, sub_spec in spec.get("inputs", {}).items():
            want = sub_spec.get("follows", "").split("/")
            if "follows" in sub_spec and node.get("inputs", {}).get(sub) != want:
                problems.append(f"flake.lock: {name}/{sub} must follow {want}, as flake.nix says")

    seen = {lock["root"]}
    pending = [lock["root"]]
    while pending:
        for ref in nodes.get(pending.pop(), {}).get("inputs", {}).values():
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                pending.append(ref)
    unused = sorted(set(nodes) - seen)
    if unused:
        problems.append(f"flake.lock: nodes nothing refers to: {unused}")
    return problems


def lock_against_input(lock: dict, theirs: dict, name: str) -> list[str]:
    """The nodes below input ``name`` against that input's own flake.lock, which Nix copies
    them from: the same inputs, pins and follows (Nix writes a follows from the input's
    root); what the root makes it follow is lock_problems' to check."""
    problems: list[str] = []
    nodes, their_nodes = lock["nodes"], theirs["nodes"]

    def compare(key: str, their_key: str, path: str) -> None:
        ours, their = nodes[key].get("inputs", {}), their_nodes[their_key].get("inputs", {})
        if sorted(ours) != sorted(their):
            problems.append(
                f"flake.lock: {path} has inputs {sorted(ours)}, expected {sorted(their)}"
            )
        for sub, their_ref in sorted(their.items()):
            ref, child = ours.get(sub), f"{path}/{sub}"
            if isinstance(their_ref, list):
                want = [name, *their_ref]
                if ref != want and not (path == name and isinstance(ref, list)):
                    problems.append(
                        f"flake.lock: {child} must follow {want} as Nix writes it, not {ref!r}"
                    )
            elif isinstance(ref, str) and ref in nodes:
                for part in ("locked", "original"):
                    if nodes[ref].get(part) != their_nodes[their_ref].get(part):
                        problems.append(
                            f"flake.lock: {child} {part} is {nodes[ref].get(part)},"
                            f" {name}'s own flake.lock has {their_nodes[their_ref].get(part)}"
                        )
                compare(ref, their_ref, child)

    compare(nodes[lock["root"]]["inputs"][name], theirs["root"], name)
    return problems


# --- 5. the environments against their locks --------------------------------------------------

SERVICES = ("web", "worker")

#: Where an environment may differ from its lock, and why. Keys are (package, what): what is
#: "version" (another version than the lock's) or "added" (a Python package the lock does
#: not have, in the environment or among its packages' inputs). Any other difference fails
#: the check; upstream mode (the real poetry2nix) must find every entry, or it is stale.
#: nix/lib/python.nix restores the lock's packages for the rest (keepLocked).
ENV_LOCK_ALLOWED: dict[tuple[str, str], str] = {
    ("setuptools", "version"): (
        "poetry2nix takes the build systems it knows from nixpkgs, and no override reaches"
        " the lock's; the native venv's build backend, never imported at run time"
    ),
    ("poetry-core", "version"): (
        "shared_resource's build backend, from nixpkgs' set, which builds it once outside"
        " both locks; a build input only"
    ),
}


def normalize(name: str) -> str:
    """PEP 503."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_versions(tree: Path, service: str, registry_only: bool = False) -> dict[str, str]:
    """{package: version} of a service's lock (``registry_only``: no path dependency)."""
    lock = tomllib.loads((tree / service / "poetry.lock").read_text())
    return {
        normalize(p["name"]): p["version"]
        for p in lock["package"]
        if not (registry_only and "source" in p)
    }


#: A dev shell's first package is its service's environment (nix/lib/devshell.nix); the
#: stub buildEnv lists the environment's Python modules as its nativeBuildInputs.
ENV_MODULES = """shell:
let
  env = builtins.head shell.nativeBuildInputs;
  flatten = x: if builtins.isList x then builtins.concatMap flatten x else [ x ];
  isModule = x: builtins.isAttrs x && x ? pythonModule && x ? pname;
  inputsOf = m: builtins.filter isModule (flatten (map (a: m.${a} or [ ]) [
    "propagatedBuildInputs" "propagatedNativeBuildInputs" "buildInputs" "nativeBuildInputs"
  ]));
in
map (m: {
  name = m.pname or m.name;
  version = m.version or null;
  inputs = map (i: { name = i.pname; inherit (i) version; }) (inputsOf m);
}) (builtins.filter (m: m ? pname) env.nativeBuildInputs)"""


def env_lock_differences(
    nix: Nix, tree: Path, inputs: Inputs | None = None
) -> dict[tuple[str, str], list[str]]:
    """Every difference between each service's environment (main and dev groups) and its
    lock, on both systems: {(package, what): [where, ...]}."""
    found: dict[tuple[str, str], list[str]] = {}
    for service in SERVICES:
        locked = lock_versions(tree, service)
        for system in SYSTEMS:
            where = f"{service} env on {system}"
            shell = f"devShells.{system}.{service}"
            modules = nix_eval(nix, tree, shell, ENV_MODULES, inputs=inputs)
            assert isinstance(modules, list)
            seen = []
            for module in modules:
                seen.append(module)
                seen.extend(module["inputs"])
            for module in seen:
                name = normalize(module["name"])
                if name not in locked:
                    found.setdefault((name, "added"), []).append(where)
                elif module["version"] != locked[name]:
                    found.setdefault((name, "version"), []).append(
                        f"{where}: {module['version']}, locked {locked[name]}"
                    )
    return {key: sorted(set(value)) for key, value in found.items()}


def check_env_lock(nix: Nix, tree: Path, report: Report, inputs: Inputs | None = None) -> None:
    try:
        found = env_lock_differences(nix, tree, inputs)
    except NixCheckError as exc:
        report.problems.append(f"environments vs locks: cannot evaluate:\n{exc}")
        return
    report.env_differences = found
    for key, places in sorted(found.items()):
        if key not in ENV_LOCK_ALLOWED:
            report.problems.append(
                f"environment differs from its lock: {key[0]} ({key[1]}) in {'; '.join(places)};"
                " restore the lock's through nix/lib/python.nix or add it to ENV_LOCK_ALLOWED"
                " with the reason"
            )


# --- 6. upstream mode ---------------------------------------------------------------------------

POETRY2NIX_SRC = "DUET_POETRY2NIX_SRC"
NIXPKGS_LIB_SRC = "DUET_NIXPKGS_LIB_SRC"
#: nixpkgs' lib/ at the 25.05 branch-off: nix-community/nixpkgs.lib at 07aef7aa (`git
#: archive`), whose lib/ has this NAR hash (`nix hash path lib`). It is the closest lib to
#: the nixpkgs pin (ac62194c, on nixos-25.05) that can be had without nixpkgs itself.
NIXPKGS_LIB = {
    "rev": "07aef7aa761e3dc12736495b6d67b424e4818839",
    "narHash": "sha256-ISEYWQ1CBE8TiqMFj6XwW8eMo4IosTQ8tB3TmU2+pJs=",
}
UPSTREAM_STANDINS = Path("tools/nix_offline/upstream")
SKIPPED = f"nix-upstream: skipped ({POETRY2NIX_SRC} and {NIXPKGS_LIB_SRC} unset)"
STORE_HASH = re.compile(r"/nix/store/[0-9a-z]{32}-")


@dataclass
class UpstreamReport(Report):
    compared_files: int = 0
    poetry2nix: str = ""

    def line(self) -> str:
        return (
            f"nix-upstream: poetry2nix={self.poetry2nix[:12]} lib={NIXPKGS_LIB['rev'][:12]} "
            f"outputs={len(self.outputs)} evaluated={len(self.evaluated)}"
        )


def upstream_sources() -> tuple[Path, Path] | None:
    """The two source directories from the environment; None when both are unset."""
    poetry2nix, lib = os.environ.get(POETRY2NIX_SRC), os.environ.get(NIXPKGS_LIB_SRC)
    if not poetry2nix and not lib:
        return None
    if not poetry2nix or not lib:
        raise NixCheckError(f"upstream mode needs both {POETRY2NIX_SRC} and {NIXPKGS_LIB_SRC}")
    return Path(poetry2nix).resolve(), Path(lib).resolve()


def nar_hash(nix: Nix, path: Path) -> str:
    result = nix.run("nix", "hash", "path", str(path))
    if result.returncode != 0:
        raise NixCheckError(f"nix hash path {path}:\n{error_text(result)}")
    return result.stdout.strip()


def locked(tree: Path, name: str) -> dict:
    """What flake.lock says of one of the flake's inputs."""
    lock = json.loads((tree / "flake.lock").read_text())
    return lock["nodes"][lock["nodes"][lock["root"]]["inputs"][name]]["locked"]


def verify_sources(nix: Nix, poetry2nix: Path, lib: Path, tree: Path = REPO) -> None:
    """Refuse anything but the poetry2nix of flake.lock and nixpkgs.lib 07aef7aa's lib/."""
    want = locked(tree, "poetry2nix")["narHash"]
    got = nar_hash(nix, poetry2nix)
    if got != want:
        raise NixCheckError(
            f"{POETRY2NIX_SRC}={poetry2nix} is not poetry2nix at the pin: NAR hash {got},"
            f" flake.lock says {want}"
        )
    got = nar_hash(nix, lib / "lib")
    if got != NIXPKGS_LIB["narHash"]:
        raise NixCheckError(
            f"{NIXPKGS_LIB_SRC}={lib}: lib/ has NAR hash {got}, not that of nixpkgs.lib"
            f" {NIXPKGS_LIB['rev'][:8]} ({NIXPKGS_LIB['narHash']})"
        )


def upstream_inputs(tree: Path, scratch: Path, poetry2nix: Path, lib: Path) -> Inputs:
    """tools/nix_offline with the real lib/ in place of the stub one, the real poetry2nix, and
    stand-ins for poetry2nix's own inputs (tools/nix_offline/upstream)."""
    contract = scratch / "contract"
    shutil.copytree(tree / "tools" / "nix_offline", contract)
    shutil.rmtree(contract / "nixpkgs" / "lib")
    shutil.copytree(lib / "lib", contract / "nixpkgs" / "lib")
    for path in contract.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    standins = tree / UPSTREAM_STANDINS
    return Inputs(
        contract=contract,
        poetry2nix=poetry2nix,
        extra=(
            ("poetry2nix/flake-utils", standins / "flake-utils"),
            ("poetry2nix/nix-github-actions", standins / "no-outputs"),
            ("poetry2nix/systems", standins / "no-outputs"),
            ("poetry2nix/treefmt-nix", standins / "no-outputs"),
        ),
    )


def chosen_files(nix: Nix, tree: Path, inputs: Inputs) -> dict[str, str | None]:
    """The file poetry2nix takes for every registry package of both locks, on both systems:
    {"<service> <system> <package>": file name, or None when poetry2nix takes the package
    from nixpkgs instead}."""
    chosen: dict[str, str | None] = {}
    for service in SERVICES:
        names = sorted(lock_versions(tree, service, registry_only=True))
        listing = " ".join(json.dumps(name) for name in names)
        apply = (
            "app: builtins.listToAttrs (map (n: { name = n; value = let p ="
            " app.passthru.python.pkgs.${n} or null; in if p == null || !(p ? src)"
            " || !(builtins.isAttrs p.src) then null else p.src.name; })"
            f" [ {listing} ])"
        )
        for system in SYSTEMS:
            files = nix_eval(nix, tree, f"packages.{system}.{service}", apply, inputs=inputs)
            assert isinstance(files, dict)
            for name, file in files.items():
                chosen[f"{service} {system} {name}"] = file
    return chosen


def normalized(value: str) -> str:
    return STORE_HASH.sub("/nix/store/<hash>-", value)


def vm_nodes(nix: Nix, tree: Path, inputs: Inputs) -> dict[str, str]:
    nodes = nix_eval(nix, tree, VM_CHECK, "t: t.contractNodes", inputs=inputs)
    assert isinstance(nodes, dict)
    return {name: normalized(text) for name, text in nodes.items()}


def differential(
    nix: Nix, tree: Path, upstream: Inputs, offline: Report, report: UpstreamReport
) -> None:
    """The stubs against the real code: the same file chosen for every package, the same
    option values in every NixOS configuration (store hashes aside)."""
    stub = stub_inputs(tree)
    try:
        ours, theirs = chosen_files(nix, tree, stub), chosen_files(nix, tree, upstream)
    except NixCheckError as exc:
        report.problems.append(f"differential: cannot list the chosen files:\n{exc}")
        return
    replaced = {name for name, what in ENV_LOCK_ALLOWED if what == "version"}
    for key in sorted(ours):
        package = key.rsplit(" ", 1)[1]
        if theirs.get(key) is None and (ours[key] is None or package in replaced):
            continue
        report.compared_files += 1
        if ours[key] != theirs.get(key):
            report.problems.append(
                f"differential: {key}: the stub poetry2nix takes {ours[key]},"
                f" the real one {theirs.get(key)}"
            )
    for module, per_system in sorted(offline.module_values.items()):
        for system, value in sorted(per_system.items()):
            real = report.module_values.get(module, {}).get(system)
            if real is None or normalized(real) != normalized(value):
                report.problems.append(
                    f"differential: nixosModules.{module} on {system}: the option values"
                    " differ between the stubs and the real poetry2nix and lib"
                )
    try:
        if vm_nodes(nix, tree, stub) != vm_nodes(nix, tree, upstream):
            report.problems.append(
                "differential: the VM test's node configurations differ between the stubs"
                " and the real poetry2nix and lib"
            )
    except NixCheckError as exc:
        report.problems.append(f"differential: the VM test's nodes:\n{exc}")


def check_upstream(
    poetry2nix: Path, lib: Path, offline: Report, repo: Path = REPO, state: Path = STATE
) -> UpstreamReport:
    """Every output again with the real poetry2nix and the real lib (the stub pkgs and
    NixOS option tree stay), then the differential checks against the stubs."""
    report = UpstreamReport()
    with workspace("upstream-", repo, state) as (nix, tree):
        verify_sources(nix, poetry2nix, lib, tree)
        report.poetry2nix = locked(tree, "poetry2nix")["rev"]
        report.problems += lock_against_input(
            json.loads((tree / "flake.lock").read_text()),
            json.loads((poetry2nix / "flake.lock").read_text()),
            "poetry2nix",
        )
        inputs = upstream_inputs(tree, tree.parent, poetry2nix, lib)
        evaluate_outputs(nix, tree, report, inputs)
        if sorted(report.outputs) != sorted(offline.outputs):
            report.problems.append(
                "the outputs differ from those of the stub evaluation:"
                f" {sorted(set(report.outputs) ^ set(offline.outputs))}"
            )
        check_env_lock(nix, tree, report, inputs)
        for key in sorted(set(ENV_LOCK_ALLOWED) - set(report.env_differences)):
            report.problems.append(
                f"ENV_LOCK_ALLOWED: {key[0]} ({key[1]}) no longer differs; remove the entry"
            )
        differential(nix, tree, inputs, offline, report)
    return report


def run_upstream(offline: Report, repo: Path = REPO, state: Path = STATE) -> UpstreamReport | None:
    """Upstream mode when both variables are set (else the `skipped` line); raises
    NixCheckError listing every problem."""
    sources = upstream_sources()
    if sources is None:
        print(SKIPPED, flush=True)
        return None
    report = check_upstream(*sources, offline=offline, repo=repo, state=state)
    publish(report)
    return report


# --- all of it ---------------------------------------------------------------------------------


STEPS = ("parse", "evaluate", "script", "network", "lock")


def check(
    repo: Path = REPO,
    state: Path = STATE,
    tools: Path | None = None,
    steps: Iterable[str] = STEPS,
) -> Report:
    """Run the checks (all of them by default) on a snapshot of ``repo``; ``tools`` is the
    directory holding mypy and pyflakes (the web venv's, from web/poetry.lock)."""
    steps = set(steps)
    if shutil.which("nix") is None or shutil.which("nix-instantiate") is None:
        raise HarnessError("nix-offline needs Debian's nix-bin (nix 2.8): apt-get install nix-bin")
    if tools is None:
        from dev.venvs import python

        tools = python("web").parent
    tools = tools.absolute()
    report = Report()
    with workspace("snapshot-", repo, state) as (nix, tree):
        parse_all(nix, tree, report)
        if report.parsed == report.files:
            if "evaluate" in steps:
                evaluate_outputs(nix, tree, report)
                check_env_lock(nix, tree, report)
            if "script" in steps:
                lint_test_script(nix, tree, report, tools)
            if "network" in steps:
                check_network(nix, tree, report)
        if "lock" in steps:
            check_lock(nix, tree, report)
    return report


def publish(report: Report) -> None:
    """Print the problems and the report's line; raise NixCheckError if there is a problem."""
    name = report.line().split(":", 1)[0]
    for problem in report.problems:
        print(f"{name}: {problem}", file=sys.stderr)
    print(report.line(), flush=True)
    if report.problems:
        raise NixCheckError(f"{name} found {len(report.problems)} problem(s)")


def run(
    repo: Path = REPO, state: Path = STATE, tools: Path | None = None, upstream: bool = True
) -> Report:
    """``check``, printed, then upstream mode (or its `skipped` line); raises
    NixCheckError listing every problem."""
    report = check(repo, state, tools)
    publish(report)
    if upstream:
        run_upstream(report, repo, state)
    return report


# --- what the images declare (for compose.yaml) ----------------------------------------------

#: Image name, tag and OCI config of an image output, as the contract stub records them.
IMAGE_FACTS = (
    "image: { name = image.imageName; tag = image.imageTag;"
    " config = image.stream.contractImage.config; }"
)


def image_facts(
    outputs: Iterable[str], system: str = "x86_64-linux", repo: Path = REPO, state: Path = STATE
) -> dict[str, dict]:
    """Evaluate image outputs offline (against the stubs, like the contract evaluation) and
    return what each declares: ``{"name", "tag", "config": {Cmd, User, Env, ...}}``."""
    with workspace("images-", repo, state) as (nix, tree):
        return {
            output: nix_eval(nix, tree, f"packages.{system}.{output}", IMAGE_FACTS)
            for output in outputs
        }
