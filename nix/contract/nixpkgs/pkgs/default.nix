# The package set duet uses, per system. Each entry names the pinned file it was checked
# against; "F" is the nixpkgs fork read in ../../README.md (mid-2025 master, just after the
# 25.05 branch-off), because the pin itself is not readable here.
{ lib, system }:
let
  drv = import ./derivation.nix { inherit lib system; };
  inherit (drv) mkDerivation;

  # A leaf package: evaluated, never built.
  package =
    pname: version: extra:
    mkDerivation (
      {
        inherit pname version;
      }
      // extra
    );

  # pkgs/build-support/trivial-builders/default.nix (F): runCommand name env buildCommand,
  # i.e. runCommandWith { stdenv = stdenvNoCC; ... } with `env` as derivationArgs.
  runCommand =
    name: env: buildCommand:
    drv.make { what = "runCommand ${name}"; } (
      env
      // {
        inherit name buildCommand;
      }
    );

  python = import ./python.nix {
    inherit lib mkDerivation;
    inherit (drv) make;
  };

  self = {
    inherit lib system;

    stdenv = {
      inherit mkDerivation;
      hostPlatform = {
        inherit system;
        isLinux = true;
        isDarwin = false;
      };
      isLinux = true;
      isDarwin = false;
    };
    stdenvNoCC = self.stdenv;

    inherit runCommand;
    runCommandLocal = runCommand;

    # trivial-builders (F): writeText name text.
    writeText =
      name: text:
      assert builtins.isString text || throw "writeText ${name}: text must be a string";
      runCommand name { } "printf %s ${lib.escapeShellArg text} > $out";

    # trivial-builders (F): writeShellApplication, no `...` (nix-api.md §3).
    writeShellApplication =
      {
        name,
        text,
        runtimeInputs ? [ ],
        runtimeEnv ? null,
        meta ? { },
        passthru ? { },
        checkPhase ? null,
        excludeShellChecks ? [ ],
        extraShellCheckFlags ? [ ],
        bashOptions ? [
          "errexit"
          "nounset"
          "pipefail"
        ],
        derivationArgs ? { },
        inheritPath ? true,
      }:
      assert builtins.isString text;
      runCommand name (
        derivationArgs
        // {
          inherit passthru;
          meta = {
            mainProgram = name;
          }
          // meta;
          contractText = text;
          contractRuntimeInputs = runtimeInputs;
        }
      ) "write $out/bin/${name}";

    # pkgs/build-support/closure-info.nix: { rootPaths }.
    closureInfo =
      { rootPaths }:
      runCommand "closure-info" {
        contractRootPaths = rootPaths;
      } "store-paths, registration";

    # pkgs/build-support/mkshell/default.nix (same header in 07c91341 and F).
    mkShell =
      {
        name ? "nix-shell",
        packages ? [ ],
        inputsFrom ? [ ],
        buildInputs ? [ ],
        nativeBuildInputs ? [ ],
        propagatedBuildInputs ? [ ],
        propagatedNativeBuildInputs ? [ ],
        ...
      }@attrs:
      let
        rest = removeAttrs attrs [
          "name"
          "packages"
          "inputsFrom"
          "buildInputs"
          "nativeBuildInputs"
          "propagatedBuildInputs"
          "propagatedNativeBuildInputs"
        ];
      in
      drv.make { what = "mkShell"; } (
        rest
        // {
          inherit
            name
            buildInputs
            propagatedBuildInputs
            propagatedNativeBuildInputs
            ;
          nativeBuildInputs = packages ++ nativeBuildInputs;
          contractInputsFrom = inputsFrom;
        }
      );

    inherit (python) python312;
    # 25.05: python3 is python312.
    python3 = python.python312;
    python312Packages = python.python312.pkgs;
    python3Packages = python.python312.pkgs;

    # pkgs/servers/sql/postgresql (25.05): pg_config is its own derivation since
    # nixpkgs#388807 (rl-2505.section.md); the module default for stateVersion >= 24.11 is 16.
    postgresql = self.postgresql_17;
    postgresql_16 = package "postgresql" "16.9" {
      passthru.pg_config = package "postgresql-pg-config" "16.9" { };
    };
    postgresql_17 = package "postgresql" "17.5" {
      passthru.pg_config = package "postgresql-pg-config" "17.5" { };
    };
    libpq = package "libpq" "17.5" {
      passthru.pg_config = package "libpq-pg-config" "17.5" { };
    };

    # pkgs/by-name/po/postgresqlTestHook and pkgs/by-name/re/redisTestHook (nix-api.md §6;
    # redisTestHook landed in nixpkgs#357879, before the 25.05 branch-off).
    postgresqlTestHook = package "postgresql-test-hook" "0" { };
    redisTestHook = package "redis-test-hook" "0" { };

    redis = package "redis" "7.2.7" { meta.mainProgram = "redis-server"; };
    poetry = package "poetry" "2.1.2" { meta.mainProgram = "poetry"; };
    git = package "git" "2.49.0" { meta.mainProgram = "git"; };
    coreutils = package "coreutils" "9.7" { };
    gnused = package "gnused" "4.9" { meta.mainProgram = "sed"; };
    bash = package "bash" "5.2p37" { meta.mainProgram = "bash"; };
    curl = package "curl" "8.13.0" { meta.mainProgram = "curl"; };
    systemd = package "systemd" "257.5" { };
    nixfmt-rfc-style = package "nixfmt" "1.0.0" { meta.mainProgram = "nixfmt"; };

    dockerTools = import ./docker-tools.nix {
      inherit lib;
      inherit (self) runCommand;
      fakeNss = self.fakeNss;
    };
    # pkgs/by-name/fa/fakeNss/package.nix (NixOS/nixpkgs@0a2c8a58): callPackage arguments
    # lib, symlinkJoin, writeTextDir, runCommand, extraPasswdLines, extraGroupLines.
    fakeNss = lib.makeOverridable (
      {
        lib ? null,
        symlinkJoin ? null,
        writeTextDir ? null,
        runCommand ? null,
        extraPasswdLines ? [ ],
        extraGroupLines ? [ ],
      }:
      assert builtins.all builtins.isString (extraPasswdLines ++ extraGroupLines);
      self.runCommand "fake-nss" {
        contractPasswd = extraPasswdLines;
        contractGroup = extraGroupLines;
      } "etc/passwd, etc/group"
    ) { };

    testers.runNixOSTest = import ../nixos/testing.nix {
      inherit lib;
      pkgs = self;
    };
  };
in
self
