# The Python side shared by packages, dev shells and checks: one interpreter, one
# shared_resource derivation, and the poetry2nix overrides both services' package sets use.
# Not an output (flake.nix maps only the folders it names).
{
  flake,
  inputs,
  system,
  pkgs,
}:
let
  inherit (pkgs) lib;

  # nixpkgs' python312: the interpreter of both package sets and of shared-resource, so the
  # one shared-resource store path is valid in both (docs/nix.md).
  python = pkgs.python312;

  poetry2nix = inputs.poetry2nix.lib.mkPoetry2Nix { inherit pkgs; };

  # The lock's own packages, where poetry2nix's default overrides would swap them for
  # nixpkgs' copies or add inputs they need only to build from source (all are wheels
  # here): packaging (nixpkgs' 24.2 "bootstrapping" copy, but kombu requires 26.3 exactly),
  # jsonschema (adds nixpkgs' importlib-resources at run time), django (gettext and an
  # sdist build of pytest-runner), mypy (nixpkgs' types-typed-ast, types-setuptools,
  # types-psutil), cryptography (setuptools-rust, cffi from the build Python, openssl,
  # libxcrypt), rich (commonmark), and matplotlib and its dependencies numpy (BLAS), pillow
  # (image libraries) and kiwisolver (cppy), the web's dev group, whose overrides serve a
  # source build. `overrideOverlay` sees the set before the defaults, so
  # these names keep the lock's derivation. README, "The environments and their locks",
  # lists every remaining difference and why it stays.
  keepLocked =
    final: prev:
    lib.genAttrs (builtins.filter (name: prev ? ${name}) [
      "cryptography"
      "django"
      "jsonschema"
      "kiwisolver"
      "matplotlib"
      "mypy"
      "numpy"
      "packaging"
      "pillow"
      "rich"
    ]) (name: prev.${name});

  # `extend`, not `overrides.withDefaults`: the defaults apply first and these win
  # (poetry2nix default.nix, mkDefaultPoetryOverrides). Names are PEP 503-normalized and
  # must be packages of the lock they apply to (./dev test checks that offline).
  overrides = (poetry2nix.defaultPoetryOverrides.overrideOverlay keepLocked).extend (
    final: prev: {
      # The one prebuilt derivation instead of poetry2nix's per-set build of the path
      # dependency, so both closures hold the same store path.
      shared-resource = flake.packages.${system}.shared-resource;

      # Only an sdist on Linux. Since 25.05 `postgresql` no longer ships pg_config, which
      # setup.py calls (rl-2505 release notes); build against libpq like nixpkgs'
      # psycopg2cffi does.
      psycopg2 = prev.psycopg2.overridePythonAttrs (old: {
        nativeBuildInputs = (old.nativeBuildInputs or [ ]) ++ [ pkgs.libpq.pg_config ];
        buildInputs = (old.buildInputs or [ ]) ++ [ pkgs.libpq ];
      });
    }
  );

  # The lock poetry2nix reads: the service's poetry.lock without the wheels the pinned
  # poetry2nix cannot parse (./poetry-lock.nix says why, and its limits).
  lockFor = service: (import ./poetry-lock.nix { inherit lib; }).filtered (../.. + "/${service}/poetry.lock");

  # Each service's code beside its pyproject.toml: what its package and its tests are made
  # of, so that edits elsewhere rebuild neither.
  code = {
    web = [
      "manage.py"
      "duet_web"
      "documents"
      "api_tokens"
    ];
    worker = [
      "duet_worker"
      "summaries"
    ];
  };
  sourceOf =
    service: extra:
    let
      root = ../.. + "/${service}";
    in
    lib.fileset.toSource {
      inherit root;
      fileset = lib.fileset.unions (
        map (file: root + "/${file}") ([ "pyproject.toml" ] ++ code.${service} ++ extra)
      );
    };

  projectArgs = service: {
    # A path literal inside the flake, never filtered: poetry2nix resolves the lock's
    # `../shared_resource` against it (pwd defaults to projectDir).
    projectDir = ../.. + "/${service}";
    poetrylock = lockFor service;
    inherit python overrides;
    # Every locked package but psycopg2 and shared-resource has a wheel for CPython 3.12 on
    # x86_64 and aarch64 Linux. Wheels avoid the sdist builds that break with poetry2nix's
    # frozen override tables: Rust crates (rpds-py, pydantic-core, jiter, ruff) and build
    # backends newer than April 2025.
    preferWheels = true;
  };

  # The service's locked environment with its dev group (pytest, ruff): dev shells and checks.
  environment =
    service:
    poetry2nix.mkPoetryEnv (
      projectArgs service
      // {
        groups = [
          "main"
          "dev"
        ];
      }
    );
in
{
  inherit python poetry2nix overrides;

  # The service as an application: its console scripts (`duet-<service>` the main one),
  # with the main dependency group; shared_resource arrives as its own derivation.
  application =
    service:
    poetry2nix.mkPoetryApplication (
      projectArgs service
      // {
        src = sourceOf service [ "poetry.lock" ];
        # Tests run in checks (nix/checks), against an environment with the dev group.
        checkGroups = [ ];
        doCheck = false;
        meta.mainProgram = "duet-${service}";
      }
    );

  inherit environment;

  # The service's suite in the build sandbox, in its environment.
  tests =
    service:
    import ./pytest-check.nix { inherit pkgs; } {
      name = "duet-${service}-tests";
      environment = environment service;
      src = sourceOf service [ "tests" ];
    };
}
