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
    pkgs = self;
  };

  # lib.systems.elaborate's attributes that duet and the real poetry2nix read.
  platform = rec {
    inherit system;
    isLinux = true;
    isDarwin = false;
    isFreeBSD = false;
    isWindows = false;
    isx86_64 = system == "x86_64-linux";
    isAarch64 = system == "aarch64-linux";
    isx86 = isx86_64;
    is32Bit = false;
    is64bit = true;
    libc = "glibc";
    linuxArch = if isx86_64 then "x86_64" else "arm64";
    parsed = {
      cpu.name = if isx86_64 then "x86_64" else "aarch64";
      kernel.name = "linux";
    };
  };

  self = {
    inherit lib system;
    pkgs = self;

    stdenv = {
      inherit mkDerivation;
      hostPlatform = platform;
      buildPlatform = platform;
      targetPlatform = platform;
      isLinux = true;
      isDarwin = false;
      # glibc 2.40 in 25.05 (pkgs/development/libraries/glibc/common.nix, F); the wheel
      # selection of poetry2nix's pyproject.nix compares manylinux tags with it.
      cc.libc = package "glibc" "2.40-66" { passthru.linuxHeaders.version = "6.14"; } // {
        pname = "glibc";
        version = "2.40";
      };
    };
    stdenvNoCC = self.stdenv // {
      mkDerivation = drv.make {
        what = "stdenvNoCC.mkDerivation";
        # Derivation attributes, and the variables of poetry2nix's fetch-from-pypi.sh
        # (fetchers/default.nix at ce2369db), the one caller that sets them.
        extraAllowed = [
          "builder"
          "system"
          "impureEnvVars"
          "outputHash"
          "outputHashAlgo"
          "outputHashMode"
          "isWheel"
          "file"
          "curlOpts"
          "predictedURL"
        ];
      };
    };

    inherit runCommand;

    # lib.makeScope's newScope (pkgs/top-level/splice.nix): callPackage with pkgs // extra.
    newScope =
      extra: fn: args:
      let
        f = if builtins.isFunction fn then fn else import fn;
      in
      lib.makeOverridable f (builtins.intersectAttrs (builtins.functionArgs f) (self // extra) // args);
    callPackage = self.newScope { };

    # pkgs/build-support/setup-hooks: makeSetupHook { name, propagatedBuildInputs,
    # depsTargetTargetPropagated, meta, passthru, substitutions } script (F).
    makeSetupHook =
      {
        name ? lib.warn "calling makeSetupHook without passing a name is deprecated." "hook",
        propagatedBuildInputs ? [ ],
        depsTargetTargetPropagated ? [ ],
        meta ? { },
        passthru ? { },
        substitutions ? { },
      }:
      script:
      runCommand name {
        inherit propagatedBuildInputs passthru;
        contractScript = "${script}";
        contractSubstitutions = substitutions;
      } "substitute the script into $out/nix-support/setup-hook";
    autoPatchelfHook = self.makeSetupHook { name = "auto-patchelf-hook"; } "/contract/auto-patchelf.sh";
    # pkgs/development/interpreters/python/manylinux (F).
    pythonManylinuxPackages = {
      manylinux1 = [ ];
      manylinux2010 = [ ];
      manylinux2014 = [ ];
    };
    jq = package "jq" "1.7.1" { meta.mainProgram = "jq"; };
    # What overrides/default.nix (poetry2nix ce2369db) adds to entries of duet's locks:
    # django: gettext; cffi: libffi, pkg-config; pyyaml: libyaml; pydantic, cryptography:
    # libxcrypt, openssl_3; psycopg2: postgresql. Only the names; versions as in 25.05 (F).
    gettext = package "gettext" "0.22.5" { };
    libffi = package "libffi" "3.4.8" { };
    libyaml = package "libyaml" "0.2.5" { };
    libxcrypt = package "libxcrypt" "4.4.38" { };
    openssl = package "openssl" "3.4.1" { };
    openssl_3 = package "openssl" "3.0.16" { };
    zlib = package "zlib" "1.3.1" { };
    pkg-config = package "pkg-config-wrapper" "0.29.2" { };
    yj = package "yj" "5.1.0" { };
    buildPackages = self;

    # pkgs/build-support/fetchpypi (F): a fixed-output derivation from PyPI's predicted URL
    # (poetry2nix's own pytest-runner entry builds from it).
    fetchPypi = lib.makeOverridable (
      {
        pname,
        version,
        hash ? "",
        format ? "setuptools",
        extension ? if format == "wheel" then "whl" else "tar.gz",
        ...
      }:
      derivation {
        name = "${pname}-${version}.${extension}";
        inherit system;
        builder = "builtin:fetchurl";
        url = "https://files.invalid/${pname}-${version}.${extension}";
        outputHashMode = "flat";
        outputHash = hash;
      }
    );
    # pkgs/build-support/fetchpypilegacy: only for `legacy` sources, which duet's locks lack.
    fetchPypiLegacy = _: throw "contract: fetchPypiLegacy is not stubbed (no legacy source in the locks)";

    # trivial-builders (F): writeText name text.
    writeText =
      name: text:
      assert builtins.isString text || throw "writeText ${name}: text must be a string";
      runCommand name { } "printf %s ${lib.escapeShellArg text} > $out";

    # trivial-builders (F): writeShellApplication, no `...`.
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

    # pkgs/by-name/po/postgresqlTestHook and pkgs/by-name/re/redisTestHook
    # (redisTestHook landed in nixpkgs#357879, before the 25.05 branch-off).
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
