# What the real poetry2nix (ce2369db: default.nix, mk-poetry-dep.nix, hooks/, fetchers/,
# overrides/default.nix and its vendored pyproject.nix) reads from nixpkgs' Python beyond
# what duet calls itself: the interpreter's passthru and platform, the package set's
# callPackage and hooks. Only the upstream mode of the offline check (README, "What is
# tested where") evaluates the real poetry2nix; the stub one reads none of this.
# Checked against (F) pkgs/development/interpreters/python/
# {cpython/default,passthrufun,python-packages-base,hooks/default}.nix.
{
  lib,
  pkgs,
  py,
  interpreter,
  nixpkgsPackage,
}:
let

  version = "3.12.10";

  # A setup hook: pkgs/build-support/setup-hooks (makeSetupHook), reduced to a derivation.
  hook = name: pkgs.makeSetupHook { inherit name; } "/contract/${name}.sh";
in
{
  # cpython/default.nix passthru (passthrufun.nix): what pyproject.nix's pep508/pypa read.
  interpreter = {
    inherit version;
    pname = "python3";
    name = "python3-${version}";
    libPrefix = "python3.12";
    pythonAttr = "python312";
    implementation = "cpython";
    inherit (pkgs) stdenv;
    src = interpreter;
    passthru = {
      implementation = "cpython";
      pythonVersion = "3.12";
      sourceVersion = {
        major = "3";
        minor = "12";
        patch = "10";
        suffix = "";
      };
    };
    pythonOnBuildForHost = py;
    pythonForBuild = py;
    meta = interpreter.meta // {
      platforms = [
        "x86_64-linux"
        "aarch64-linux"
      ];
    };
  };

  # python-packages-base.nix and python-packages.nix: the package set's own functions.
  packages = final: {
    # callPackage with the package set, then pkgs, as automatic arguments.
    callPackage =
      fn: args:
      let
        f = if builtins.isFunction fn then fn else import fn;
        auto = builtins.intersectAttrs (builtins.functionArgs f) (pkgs // final);
      in
      lib.makeOverridable f (auto // args);
    isPy27 = false;
    isPy3k = true;
    makePythonPath = drvs: lib.concatMapStringsSep ":" (drv: "${drv}/${py.sitePackages}") drvs;
    # python/hooks/default.nix.
    wheelUnpackHook = hook "wheel-unpack-hook";
    pypaInstallHook = hook "pypa-install-hook";
    pythonImportsCheckHook = hook "python-imports-check-hook";
    # The nixpkgs package poetry2nix's hooks run with (hooks/default.nix nonOverlayedPython).
    tomlkit = nixpkgsPackage "tomlkit" "0.13.2";

    # What else poetry2nix ce2369db takes from nixpkgs: build systems default.nix passes
    # through unmodified (known-build-systems.json), and toml (pytest from source). Their
    # versions were not read at 25.05, and no check depends on them. The packages
    # python.nix lists too (bootstrapping, build systems, what default overrides add) are
    # python.nix's.
    cython = nixpkgsPackage "cython" "3.0.12";
    cython_0 = nixpkgsPackage "cython" "0.29.37.1";
    hatch-vcs = nixpkgsPackage "hatch-vcs" "0.4.0";
    pbr = nixpkgsPackage "pbr" "6.1.1";
    pdm-backend = nixpkgsPackage "pdm-backend" "2.4.3";
    toml = nixpkgsPackage "toml" "0.10.2";
    isPyPy = false;
    inherit pkgs;
  };
}
