"""The offline Nix checks (tools/nix_offline/nixcheck.py): green on the tree, red on each mutation.

Every mutation is made on a snapshot in a temporary folder, never on the working tree.
Nothing here builds: Nix 2.8 parses and evaluates against the stubs in tools/nix_offline.
"""

import json
import re
import shutil

import pytest

from dev.system import REPO
from nix_offline import nixcheck

pytestmark = pytest.mark.skipif(
    shutil.which("nix") is None, reason="needs Debian's nix-bin (./dev installs it)"
)


@pytest.fixture
def tree(tmp_path):
    """A copy of the repository to break."""
    return nixcheck.snapshot(REPO, tmp_path / "duet")


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def problems(tree, *steps):
    report = nixcheck.check(tree, steps=steps or nixcheck.STEPS)
    return report, "\n".join(report.problems)


def test_the_flake_passes_every_offline_check(capsys):
    report = nixcheck.run(upstream=False)
    assert report.problems == []
    assert report.files == report.parsed > 30
    assert sorted(report.outputs) == sorted(report.evaluated)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"nix-offline: files=(\d+) parsed=\1 outputs=(\d+) evaluated=\2", line)


#: {(file, check): {name: (old, new, *messages)}}: an edit, the check that must catch it, and
#: what that check says. Where it names an output, that output was not evaluated.
MUTATIONS = {
    ("nix/lib/python.nix", "evaluate"): {
        # mkPoetryEnv has no `...`: Nix itself refuses the argument.
        "mkPoetryEnv argument": (
            "groups = [",
            "group = [",
            "devShells.x86_64-linux.web:",
            "unexpected argument 'group'",
        ),
        # mkPoetryApplication has `...`: the stubbed buildPythonPackage refuses the name.
        "mkPoetryApplication argument": (
            "preferWheels = true;",
            "preferWheel = true;",
            "packages.x86_64-linux.web:",
            "`preferWheel', which the pinned function does not read",
        ),
        "override outside the lock": (
            "shared-resource = flake.packages",
            "no-such-package = prev.six;\n      shared-resource = flake.packages",
            "override names `no-such-package', which is not a package in the lock",
        ),
        "override not final: prev:": (
            "extend (\n    final: prev: {",
            "extend (\n    prev: {",
            "must take two arguments, `final: prev:'",
        ),
        "environment unlike its lock": (
            "shared-resource = flake.packages",
            "packaging = python.pkgs.packaging;\n      shared-resource = flake.packages",
            "environment differs from its lock: packaging (version) in web env on",
        ),
    },
    ("nix/lib/image.nix", "evaluate"): {
        # streamLayeredImage has no `...`.
        "image argument": (
            "extraCommands = ''",
            "extraCommand = ''",
            "packages.x86_64-linux.web-image:",
            "unexpected argument 'extraCommand'",
        ),
    },
    ("nix/modules/nixos/web.nix", "evaluate"): {
        "NixOS option": (
            "networking.firewall.allowedTCPPorts",
            "networking.firewall.allowedTCPPort",
            "nixosModules:",
            "The option `networking.firewall.allowedTCPPort' does not exist",
        ),
        # Type, example and description on every services.duet option.
        "undocumented option": (
            "      example = 8080;\n",
            "",
            "option services.duet.web.port lacks a type, a description or an example",
        ),
        "gunicorn's log format in ExecStart=": (
            "${units.escapeSpecifiers webCfg.extraArgs}",
            "${webCfg.extraArgs}",
            "would reach a unit file with a bare `%'",
            "--access-logformat '%(h)s %(r)s %(s)s'",
        ),
    },
    ("nix/lib/units.nix", "evaluate"): {
        # The stub option tree refuses a bare `%` in a unit's environment or serviceConfig;
        # tools/nix_offline/nixos-modules.nix sets a URL-encoded value and a gunicorn log format.
        "no escaping in units": (
            'builtins.replaceStrings [ "%" ] [ "%%" ] (toString value)',
            "toString value",
            "nixosModules:",
            "would reach a unit file with a bare `%'",
            "%3Aweb",
        ),
    },
    ("nix/packages/web.nix", "parse"): {
        "file that does not parse": (
            "args: (import",
            "args: (import =",
            "nix/packages/web.nix does not parse",
        ),
        "impure builtin": (
            "args: (import",
            'args: assert builtins.getEnv "HOME" != ""; (import',
            "nix/packages/web.nix:3: `getEnv' reads the machine",
        ),
    },
    ("nix/checks/vm.nix", "script"): {
        "VM testScript": (
            "web.wait_for_open_port(8000)",
            'web.wait_for_open_port("8000")\n            not_defined_anywhere()',
            "mypy rejects the VM testScript",
            'incompatible type "str"; expected "int"',
            "pyflakes rejects the VM testScript",
            "undefined name 'not_defined_anywhere'",
        ),
    },
    ("nix/checks/vm.nix", "network"): {
        # The dual-stack test network (tools/nix_offline/dualstack.py). No ip6tables rule for
        # PostgreSQL: web's and worker's IPv6 attempts hang on DROP.
        "PostgreSQL over IPv4 only": (
            "ip6tables -A nixos-fw -p tcp -s ${address} --dport 5432 -j nixos-fw-accept",
            "",
            "db: the firewall accepts web on tcp/5432 over IPv4 only",
        ),
        # IPv4 rules only, as ip6tables would never see them.
        "Redis over IPv4 only": (
            "ip6tables -A nixos-fw -p tcp -s ${address} --dport 6379",
            "iptables -A nixos-fw -p tcp -s ${address} --dport 6379",
            "db: the firewall accepts worker on tcp/6379 over IPv4 only",
        ),
        # No IPv6 pg_hba line: libpq's first attempt is refused, and it does not try the next.
        "pg_hba over IPv4 only": (
            "host duet duet_migrator,duet_web,duet_worker ${address}/128 scram-sha-256",
            "# ${address}/128",
            "db: pg_hba lets web in (host duet duet_migrator,duet_web,duet_worker scram-sha-256)"
            " over IPv4 only",
        ),
        "Redis binds IPv4 only": (
            'bind = "0.0.0.0 ::";',
            'bind = "0.0.0.0";',
            "db: Redis server duet binds '0.0.0.0', IPv4 only",
        ),
        "web binds IPv4 only": (
            'address = "::";',
            'address = "0.0.0.0";',
            "web: duet's web binds '0.0.0.0', IPv4 only",
        ),
    },
    ("tools/nix_offline/nixpkgs/nixos/testing.nix", "network"): {
        # The stub test network without IPv6, as before nixpkgs pull request 319308.
        "test network IPv4 only": (
            'networking.primaryIPv6Address = primary "ipv6";',
            "",
            "web: /etc/hosts has no IPv6 line for db",
        ),
    },
}
CASES = {
    name: (file, step, *case)
    for (file, step), group in MUTATIONS.items()
    for name, case in group.items()
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_mutation_turns_it_red(tree, name):
    file, step, old, new, *messages = CASES[name]
    edit(tree / file, old, new)
    report, text = problems(tree, "parse", step)
    for message in messages:
        assert message in text
    if step == "parse":
        assert report.files - report.parsed == (name == "file that does not parse")


@pytest.mark.parametrize(
    ("file", "output"),
    [
        ("nix/packages/worker-image.nix", "packages.{system}.worker-image"),
        ("nix/devshells/web.nix", "devShells.{system}.web"),
        ("nix/checks/shared-resource-one-path.nix", "checks.{system}.shared-resource-one-path"),
    ],
)
def test_a_missing_output_turns_it_red(tree, file, output):
    (tree / file).unlink()
    report, text = problems(tree, "parse", "evaluate")
    for system in nixcheck.SYSTEMS:
        assert f"{output.format(system=system)}: missing" in text
    assert len(report.evaluated) < len(report.outputs)


def lock_change(change):
    """An edit of flake.lock's nodes, as a change to a tree."""

    def apply(tree):
        lock = json.loads((tree / "flake.lock").read_text())
        change(lock["nodes"])
        (tree / "flake.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")

    return apply


NIX_REFUSES = "`nix flake metadata --offline --no-update-lock-file` rejects it"
#: {name: (change, whether Nix 2.8 itself refuses it, *messages)}.
LOCK_MUTATIONS = {
    # poetry2nix's nixpkgs as its own node instead of following ours: flake.nix and the lock
    # disagree, and Nix 2.8 refuses to relock offline.
    "root follows": (
        lock_change(lambda nodes: nodes["poetry2nix"]["inputs"].update(nixpkgs="nixpkgs")),
        True,
        "flake.lock: poetry2nix/nixpkgs must follow ['nixpkgs'], as flake.nix says",
        "requires lock file changes",
    ),
    # Nix 2.8 trusts the locked revision; flake.nix states the pin.
    "lock unlike the pin": (
        lock_change(lambda nodes: nodes["nixpkgs"]["locked"].update(rev="0" * 40)),
        False,
        "flake.lock: nixpkgs is locked at 0000000000",
    ),
    "missing node": (
        lock_change(lambda nodes: nodes.pop("flake-utils")),
        True,
        "lock file references missing node 'flake-utils'",
    ),
    # flake.nix names the pinned commit, and Nix 2.8 refuses to relock offline.
    "input without a commit": (
        lambda tree: edit(
            tree / "flake.nix",
            "nixpkgs/ac62194c3917d5f474c1a844b6fd6da2db95077d",
            "nixpkgs/nixos-25.05",
        ),
        True,
        "flake.nix: nixpkgs.url = 'github:NixOS/nixpkgs/nixos-25.05' names no commit",
    ),
}


@pytest.mark.parametrize("name", sorted(LOCK_MUTATIONS))
def test_a_lock_mutation_turns_it_red(tree, name):
    change, nix_refuses, *messages = LOCK_MUTATIONS[name]
    change(tree)
    _, text = problems(tree, "lock")
    for message in messages:
        assert message in text
    assert (NIX_REFUSES in text) == nix_refuses


def test_only_psycopg2_and_shared_resource_build_from_source(tree, tmp_path):
    # preferWheels: every other locked package has a CPython 3.12 wheel for both systems, so
    # no sdist needs build-system or Rust overrides poetry2nix's frozen tables lack. A lock
    # update that adds an sdist-only package shows up here. (Read from the stub's env, whose
    # nativeBuildInputs are the environment's Python modules.)
    nix = nixcheck.Nix(tmp_path / "store")
    for system in nixcheck.SYSTEMS:
        for service in ("web", "worker"):
            built = nixcheck.nix_eval(
                nix,
                tree,
                f"devShells.{system}.{service}",
                'shell: map (m: m.pname) (builtins.filter (m: m.format != "wheel")'
                " (builtins.head shell.nativeBuildInputs).nativeBuildInputs)",
            )
            assert sorted(built) == ["psycopg2", "shared-resource"], (system, service)


# --- `%` in unit files (nix/lib/units.nix, escapeSpecifiers) ------------------------------


def test_a_percent_sign_is_escaped_in_units_but_not_for_systemd_run(tree, tmp_path):
    # NixOS writes `environment` into Environment= as given and systemd expands `%`
    # specifiers there; systemd-run's --setenv goes over D-Bus and is taken literally.
    value = "redis://cache.internal:6379/1?key_prefix=duet%3Aweb"
    edit(
        tree / "nix/checks/vm.nix",
        "          environmentFile = brokerEnv;\n",
        f'          environmentFile = brokerEnv;\n          settings.CACHE_URL = "{value}";\n',
    )
    nix = nixcheck.Nix(tmp_path / "store")
    nodes = nixcheck.nix_eval(
        nix,
        tree,
        f"{nixcheck.VM_CHECK}.config.nodes",
        "nodes: {"
        " web = nodes.web.systemd.services.duet-web.environment.CACHE_URL;"
        " migrate = nodes.web.systemd.services.duet-migrate.environment.CACHE_URL;"
        " worker = nodes.worker.systemd.services.duet-worker.environment.CACHE_URL;"
        ' manage = (builtins.head (builtins.filter (p: p.name == "duet-manage")'
        " nodes.web.environment.systemPackages)).contractText; }",
    )
    assert isinstance(nodes, dict)
    escaped = value.replace("%", "%%")
    assert nodes["web"] == nodes["migrate"] == nodes["worker"] == escaped
    assert f"--setenv=CACHE_URL={value}" in nodes["manage"]
    assert "%%" not in nodes["manage"]


# --- wheel names the pinned poetry2nix cannot parse ---------------------------------------

#: One wheel of each kind the pinned poetry2nix fails on, for django 5.2.19 in web's lock:
#: a compatible manylinux riscv64 wheel, a GraalPy one, a compound ABI tag.
BAD_WHEELS = {
    "riscv64": (
        "django-5.2.19-cp312-cp312-manylinux_2_39_riscv64.whl",
        "attribute 'riscv64' missing",
    ),
    "graalpy": (
        "django-5.2.19-graalpy312-graalpy250_312_native-manylinux_2_17_x86_64.whl",
        "ABI tag `graalpy250_312_native'",
    ),
    "abi3t": (
        "django-5.2.19-cp315-abi3.abi3t-manylinux_2_17_x86_64.whl",
        "ABI tag `abi3.abi3t'",
    ),
}
FAKE_HASH = "sha256:" + "0" * 64
FIX = "    poetrylock = lockFor service;\n"


def add_wheels(tree, *files):
    """Add wheel entries to django's files in a copy of web/poetry.lock."""
    entries = "".join(f'    {{file = "{file}", hash = "{FAKE_HASH}"}},\n' for file in files)
    edit(
        tree / "web/poetry.lock",
        '    {file = "django-5.2.19.tar.gz"',
        entries + '    {file = "django-5.2.19.tar.gz"',
    )


def test_wheels_the_pinned_poetry2nix_cannot_parse_are_left_out(tree):
    # nix/lib/poetry-lock.nix: the flake still evaluates with all three in the lock, and
    # poetry2nix reads a lock without them.
    add_wheels(tree, *(file for file, _ in BAD_WHEELS.values()))
    report, text = problems(tree, "parse", "evaluate")
    assert report.problems == [], text
    assert sorted(report.outputs) == sorted(report.evaluated)


@pytest.mark.parametrize("kind", sorted(BAD_WHEELS))
def test_without_the_fix_the_stub_rejects_what_the_real_code_rejects(tree, tmp_path, kind):
    file, message = BAD_WHEELS[kind]
    add_wheels(tree, file)
    edit(tree / "nix/lib/python.nix", FIX, "")
    nix = nixcheck.Nix(tmp_path / "store")
    with pytest.raises(nixcheck.NixCheckError, match=re.escape(message)):
        nixcheck.nix_eval(nix, tree, "packages.x86_64-linux.web", "p: p.drvPath")


def test_the_stub_takes_the_wheel_the_pinned_rules_take(tree, tmp_path):
    # pyproject.nix's selectWheels: the best compatible language tag wins, so hypothesis'
    # cp312-cp312 wheel beats its cp311-abi3 one; a py3 wheel wins only when alone.
    nix = nixcheck.Nix(tmp_path / "store")
    files = nixcheck.chosen_files(nix, tree, nixcheck.stub_inputs(tree))
    assert files["web x86_64-linux hypothesis"].startswith("hypothesis-6.170.17-cp312-cp312-")
    assert files["web aarch64-linux hypothesis"].endswith("_aarch64.whl")
    assert files["web x86_64-linux django"] == "django-5.2.19-py3-none-any.whl"
    assert files["web x86_64-linux psycopg2"].endswith(".tar.gz")


# --- upstream mode (only with the real sources; README, "What is tested where") -----------

upstream = pytest.mark.skipif(
    nixcheck.upstream_sources() is None,
    reason=f"needs {nixcheck.POETRY2NIX_SRC} and {nixcheck.NIXPKGS_LIB_SRC}",
)


@upstream
def test_upstream_mode_evaluates_every_output_with_the_real_code(capsys):
    offline = nixcheck.check()
    assert offline.problems == []
    report = nixcheck.run_upstream(offline)
    assert report is not None and report.problems == []
    assert sorted(report.outputs) == sorted(report.evaluated) == sorted(offline.outputs)
    assert report.compared_files > 200
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line == (
        f"nix-upstream: poetry2nix=ce2369db77f4 lib=07aef7aa761e "
        f"outputs={len(offline.outputs)} evaluated={len(offline.outputs)}"
    )


@upstream
def test_upstream_mode_refuses_another_poetry2nix(tree, tmp_path):
    poetry2nix, lib = nixcheck.upstream_sources()
    other = tmp_path / "poetry2nix"
    shutil.copytree(poetry2nix, other)
    (other / "README.md").chmod(0o644)
    (other / "README.md").write_text("changed\n")
    nix = nixcheck.Nix(tmp_path / "store")
    with pytest.raises(nixcheck.NixCheckError, match="is not poetry2nix at the pin"):
        nixcheck.verify_sources(nix, other, lib, tree)


@upstream
@pytest.mark.parametrize("kind", sorted(BAD_WHEELS))
def test_the_real_poetry2nix_fails_without_the_fix_and_passes_with_it(tree, tmp_path, kind):
    poetry2nix, lib = nixcheck.upstream_sources()
    file, _ = BAD_WHEELS[kind]
    add_wheels(tree, file)
    nix = nixcheck.Nix(tmp_path / "store")
    inputs = nixcheck.upstream_inputs(tree, tmp_path, poetry2nix, lib)
    for system in nixcheck.SYSTEMS:
        nixcheck.nix_eval(nix, tree, f"packages.{system}.web", "p: p.drvPath", inputs=inputs)
    edit(tree / "nix/lib/python.nix", FIX, "")
    real = {"riscv64": "attribute 'riscv64' missing"}.get(kind, "assertion '(m != null)' failed")
    with pytest.raises(nixcheck.NixCheckError, match=re.escape(real)):
        nixcheck.nix_eval(nix, tree, "packages.x86_64-linux.web", "p: p.drvPath", inputs=inputs)


@upstream
@pytest.mark.parametrize(
    ("change", "message"),
    [
        # Nix 2.8 trusts the old lock below an unchanged input: only poetry2nix's own lock
        # shows these.
        (
            lambda nodes: nodes["systems_2"]["locked"].update(rev="0" * 40),
            "flake.lock: poetry2nix/systems locked is",
        ),
        (
            lambda nodes: nodes["treefmt-nix"]["inputs"].update(nixpkgs=["nixpkgs"]),
            "poetry2nix/treefmt-nix/nixpkgs must follow ['poetry2nix', 'nixpkgs']",
        ),
    ],
)
def test_poetry2nix_inputs_unlike_its_own_lock_are_caught(tree, change, message):
    poetry2nix, _ = nixcheck.upstream_sources()
    theirs = json.loads((poetry2nix / "flake.lock").read_text())
    ours = json.loads((tree / "flake.lock").read_text())
    assert nixcheck.lock_against_input(ours, theirs, "poetry2nix") == []
    change(ours["nodes"])
    assert message in "\n".join(nixcheck.lock_against_input(ours, theirs, "poetry2nix"))


# --- the module system stub against the real one ------------------------------------------

ORDER = """
let
  lib = import LIB;
  imported = { lib, ... }: {
    options.x = lib.mkOption { type = lib.types.lines; };
    options.y = lib.mkOption { type = lib.types.listOf lib.types.str; };
    config = { x = "imported"; y = [ "imported" ]; };
  };
  importing = { imports = [ imported ]; x = "importing"; y = [ "importing" ]; };
  later = { x = "later"; y = [ "later" ]; };
in
(lib.evalModules { modules = [ importing later ]; }).config
"""


def merged(tmp_path, lib):
    nix = nixcheck.Nix(tmp_path / "store")
    result = nix.instantiate("--eval", "--strict", "--json", "-E", ORDER.replace("LIB", str(lib)))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_stub_lib_merges_definitions_in_the_real_order(tmp_path):
    # lib/modules.nix: mergeModules prefix (reverseList collected), so an imported module's
    # definitions come before the importing module's, and a later module's before an
    # earlier one's.
    stub = merged(tmp_path, REPO / "tools/nix_offline/nixpkgs/lib")
    assert stub == {"x": "imported\nlater\nimporting", "y": ["imported", "later", "importing"]}
    sources = nixcheck.upstream_sources()
    if sources is not None:
        assert merged(tmp_path, sources[1] / "lib") == stub
