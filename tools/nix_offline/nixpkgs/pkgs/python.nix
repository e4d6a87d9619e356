# CPython 3.12 and its package set, reduced. Checked against (F)
# pkgs/development/interpreters/python/{mk-python-derivation,wrapper,with-packages,
# cpython/default,python-packages-base}.nix:
#   - buildPythonPackage has `...`; every other attribute goes to mkDerivation, so the
#     names below are the named arguments plus those the python hooks read;
#   - `pyproject` and `format` exclude each other; 25.05 falls back to "setuptools" when
#     neither is set (silently): here that is an error;
#   - python.override has no `...`; python.buildEnv.override has no `...`;
#   - overriding packageOverrides does not change the interpreter's store path.
{
  lib,
  mkDerivation,
  make,
  pkgs,
}:
let
  # The names duet's outputs pass, directly or through the real poetry2nix; extend only
  # with names read there. mk-python-derivation.nix's named arguments (F)...
  namedArguments = [
    "build-system"
    "buildInputs"
    "checkInputs"
    "dependencies"
    "doCheck"
    "format"
    "meta"
    "nativeBuildInputs"
    "nativeCheckInputs"
    "outputs"
    "propagatedBuildInputs"
    "pyproject"
  ];
  # ...and what its hooks read from the derivation (pythonImportsCheckHook,
  # pythonRuntimeDepsCheckHook, pytestCheckHook, pythonRelaxDepsHook, ...).
  hookAttributes = [
    "dontUseSetuptoolsBuild"
    "dontUseSetuptoolsCheck"
    "dontCheckRuntimeDeps"
  ];
  # What poetry2nix's own builders pass (mk-poetry-dep.nix, default.nix mkPoetryApplication
  # at ce2369db): they reach buildPythonPackage too.
  poetry2nixAttributes = [
    "checkGroups"
    "namePrefix"
    "pos"
    "python"
  ];

  interpreter = mkDerivation {
    pname = "python3";
    version = "3.12.10";
    meta.mainProgram = "python3.12";
  };

  mkPython =
    packageOverrides:
    let
      py = interpreter // {
        pythonVersion = "3.12";
        sitePackages = "lib/python3.12/site-packages";
        executable = "python3.12";
        interpreter = "${interpreter}/bin/python3.12";
        isPy3k = true;
        isPy27 = false;
        pkgs = lib.fix (lib.extends packageOverrides basePackages);

        # cpython/default.nix: the callPackage arguments, no `...` (only the ones that
        # matter here are listed; any other name is an error, as it is there).
        override =
          {
            packageOverrides ? (_final: _prev: { }),
            self ? null,
            enableOptimizations ? false,
            enableLTO ? false,
            reproducibleBuild ? false,
          }:
          assert builtins.isFunction packageOverrides;
          assert builtins.isFunction (packageOverrides { });
          mkPython packageOverrides;

        buildEnv = lib.makeOverridable (
          {
            extraLibs ? [ ],
            extraOutputsToInstall ? [ ],
            postBuild ? "",
            ignoreCollisions ? false,
            permitUserSite ? false,
            makeWrapperArgs ? [ ],
          }:
          let
            modules = requiredPythonModules extraLibs;
          in
          mkDerivation {
            name = "python3-3.12.10-env";
            nativeBuildInputs = modules;
            postBuild = postBuild;
          }
          // {
            env = throw "contract: python env .env (a shell) is not stubbed";
            # wrapper.nix passthru: the interpreter's, with the env's own interpreter.
            inherit (py) pkgs sitePackages;
            interpreter = "${interpreter}/bin/python3.12";
          }
        ) { };

        withPackages = f: py.buildEnv.override { extraLibs = f py.pkgs; };
      }
      // upstream.interpreter;

      upstream = import ./python-upstream.nix {
        inherit lib pkgs py interpreter nixpkgsPackage;
      };

      hasPythonModule = drv: drv ? pythonModule && drv.pythonModule == py;

      # python-packages-base.nix: a module's Python dependencies, transitively.
      requiredPythonModules =
        drvs:
        let
          modules = builtins.filter hasPythonModule drvs;
        in
        lib.unique (modules ++ builtins.concatLists (builtins.catAttrs "requiredPythonModules" modules));

      buildPythonPackage =
        {
          pyproject ? null,
          format ? null,
          ...
        }@attrs:
        let
          what = "buildPythonPackage ${attrs.pname or attrs.name or "?"}";
          format' =
            if pyproject != null then
              (if pyproject then "pyproject" else "other")
            else if format != null then
              format
            else
              throw "contract: ${what}: set `pyproject = true` (25.05 silently falls back to setuptools, 25.11 throws)";
          propagated =
            (attrs.dependencies or [ ])
            ++ (attrs.propagatedBuildInputs or [ ])
            ++ (attrs.pythonPath or [ ]);
          result =
            make
              {
                what = what;
                extraAllowed = namedArguments ++ hookAttributes ++ poetry2nixAttributes;
              }
              (
                attrs
                // {
                  name =
                    if attrs ? pname then "python3.12-${attrs.pname}-${attrs.version}" else "python3.12-${attrs.name}";
                  format = format';
                  pyproject = null;
                  outputs = (attrs.outputs or [ "out" ]) ++ [ "dist" ];
                  nativeBuildInputs = (attrs.nativeBuildInputs or [ ]) ++ (attrs.build-system or [ ]);
                  propagatedBuildInputs = propagated;
                  doInstallCheck = attrs.doCheck or true;
                  doCheck = false;
                  python = interpreter;
                  passthru = (attrs.passthru or { }) // {
                    pythonModule = py;
                    requiredPythonModules = requiredPythonModules propagated ++ [ result ];
                    overridePythonAttrs =
                      f:
                      buildPythonPackage (
                        attrs // (if builtins.isFunction f then f attrs else f)
                      );
                  }
                  // lib.optionalAttrs (!((attrs.passthru or { }) ? override)) {
                    override = throw "contract: ${what}.override is not stubbed; use overridePythonAttrs";
                  };
                }
              );
        in
        assert
          !(pyproject != null && format != null)
          || throw "contract: ${what}: `pyproject` and `format` exclude each other (mk-python-derivation.nix asserts it)";
        result;

      # The nixpkgs packages poetry2nix falls back to when a lock lacks them (build systems).
      # callPackage'd there: `.override` takes its callPackage arguments (no `...`; these are
      # the names poetry2nix's overrides/default.nix passes).
      nixpkgsPackage =
        pname: version:
        lib.makeOverridable (
          {
            buildPythonPackage,
            flit-core ? null,
            flit ? null,
            packaging ? null,
            pyproject-hooks ? null,
            tomli ? null,
          }:
          buildPythonPackage {
            inherit pname version;
            pyproject = true;
            build-system = builtins.filter (p: p != null) [ flit-core ];
          }
        ) { inherit buildPythonPackage; };

      # nixpkgs' own Python packages that duet's outputs reach: poetry2nix takes the build
      # systems of its known-build-systems.json and its bootstrapping packages (packaging,
      # wheel, flit-core, ...) from nixpkgs in place of the locked ones, its default
      # overrides add others to locked packages (mypy, rich, jsonschema, cryptography,
      # django's pytest-runner), and shared-resource builds with nixpkgs' poetry-core.
      # Versions from pkgs/development/python-modules/<name>/default.nix in F
      # (faukah/nixpkgs@3b20077c, master about a month after the 25.05 branch-off of
      # 2025-05-15; the pin itself is not readable here), unless a line says otherwise.
      # This file's own entries win over python-upstream.nix's.
      basePackages = final: upstream.packages final // ownPackages final;

      ownPackages = final: {
        python = py;
        inherit buildPythonPackage hasPythonModule requiredPythonModules;
        buildPythonApplication = buildPythonPackage;
        toPythonModule = drv: drv // { pythonModule = py; };
        # Build systems and poetry2nix's bootstrapping packages.
        build = nixpkgsPackage "build" "1.2.2.post1"; # build/default.nix
        flit = nixpkgsPackage "flit" "3.12.0"; # flit/default.nix
        flit-core = nixpkgsPackage "flit-core" "3.12.0"; # flit-core/default.nix: flit's version
        hatchling = nixpkgsPackage "hatchling" "1.27.0"; # hatchling/default.nix
        installer = nixpkgsPackage "installer" "0.7.0"; # installer/default.nix
        packaging = nixpkgsPackage "packaging" "24.2"; # packaging/default.nix
        pip = nixpkgsPackage "pip" "25.0.1"; # pip/default.nix
        poetry-core = nixpkgsPackage "poetry-core" "2.1.2"; # poetry-core/default.nix
        pyproject-hooks = nixpkgsPackage "pyproject-hooks" "1.2.0"; # pyproject-hooks/default.nix
        setuptools = nixpkgsPackage "setuptools" "78.1.0"; # setuptools/default.nix
        setuptools-scm = nixpkgsPackage "setuptools-scm" "8.2.0"; # setuptools-scm/default.nix
        tomli = nixpkgsPackage "tomli" "2.2.1"; # tomli/default.nix
        wheel = nixpkgsPackage "wheel" "0.45.1"; # wheel/default.nix
        # What poetry2nix's default overrides add to packages of duet's locks.
        cffi = nixpkgsPackage "cffi" "1.17.1"; # cffi/default.nix (cryptography)
        commonmark = nixpkgsPackage "commonmark" "0.9.1"; # commonmark/default.nix (rich)
        importlib-resources = nixpkgsPackage "importlib-resources" "6.5.2"; # (jsonschema)
        setuptools-rust = nixpkgsPackage "setuptools-rust" "1.11.0"; # (cryptography)
        types-psutil = nixpkgsPackage "types-psutil" "7.0.0.20250401"; # (mypy)
        types-setuptools = nixpkgsPackage "types-setuptools" "78.1.0.20250329"; # (mypy)
        # (mypy) Removed from master on 2025-05-24 (F's python-aliases.nix: a throw), after
        # the branch-off, so still a package in 25.05; the newest stored file,
        # piegamesde/nixpkgs@22e8f8b4 types-typed-ast/default.nix, has 1.5.8.4.
        types-typed-ast = nixpkgsPackage "types-typed-ast" "1.5.8.4";
      };
    in
    py;
in
{
  python312 = mkPython (_final: _prev: { });
}
