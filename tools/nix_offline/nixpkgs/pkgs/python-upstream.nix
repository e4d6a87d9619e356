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

    # The versions below were not read from nixpkgs' files at 25.05 (the names were, from
    # poetry2nix's sources); no check depends on them, since keepLocked (nix/lib/python.nix)
    # keeps the lock's packaging and the rest never reach an environment.
    #
    # What overrides/default.nix takes from nixpkgs ("bootstrapping pkgs", each
    # `.override`n with the poetry2nix set's buildPythonPackage and build systems), and
    # the build systems default.nix passes through unmodified (known-build-systems.json).
    installer = nixpkgsPackage "installer" "0.7.0";
    build = nixpkgsPackage "build" "1.2.2.post1";
    packaging = nixpkgsPackage "packaging" "24.2";
    tomli = nixpkgsPackage "tomli" "2.2.1";
    pyproject-hooks = nixpkgsPackage "pyproject-hooks" "1.2.0";
    cython = nixpkgsPackage "cython" "3.0.12";
    cython_0 = nixpkgsPackage "cython" "0.29.37.1";
    flit = nixpkgsPackage "flit" "3.12.0";
    hatch-vcs = nixpkgsPackage "hatch-vcs" "0.4.0";
    pbr = nixpkgsPackage "pbr" "6.1.1";
    pdm-backend = nixpkgsPackage "pdm-backend" "2.4.3";
    setuptools-scm = nixpkgsPackage "setuptools-scm" "8.2.1";

    # Packages overrides/default.nix adds to entries of duet's locks (mypy: types-typed-ast,
    # types-setuptools, types-psutil; rich: commonmark; jsonschema: importlib-resources;
    # cryptography: setuptools-rust, cffi; pytest from source: toml). keepLocked passes
    # over those overrides, so nothing reaches these now; they stay so that dropping an
    # entry of keepLocked shows its difference in the environment check, not a missing name.
    types-typed-ast = nixpkgsPackage "types-typed-ast" "1.5.8.7";
    types-setuptools = nixpkgsPackage "types-setuptools" "80.9.0.20250529";
    types-psutil = nixpkgsPackage "types-psutil" "7.0.0.20250601";
    commonmark = nixpkgsPackage "commonmark" "0.9.1";
    importlib-resources = nixpkgsPackage "importlib-resources" "6.5.2";
    setuptools-rust = nixpkgsPackage "setuptools-rust" "1.11.1";
    cffi = nixpkgsPackage "cffi" "1.17.1";
    toml = nixpkgsPackage "toml" "0.10.2";
    isPyPy = false;
    inherit pkgs;
  };
}
