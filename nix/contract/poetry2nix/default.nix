# poetry2nix ce2369db, reduced to what duet calls and checked against default.nix,
# mk-poetry-dep.nix, lib.nix and overrides/default.nix at that commit:
#   - mkPoetryEnv, mkPoetryPackages: the exact argument lists (no `...`);
#   - mkPoetryApplication: its named arguments plus `...`, the rest going to
#     buildPythonPackage, whose stub checks the names;
#   - overrides: one overlay, a list, or a defaultPoetryOverrides object; applied after the
#     lock's packages in list order; `.extend f` applies the defaults first, then f.
# It also checks what poetry2nix would only find out at build time, or never:
#   - each override is a `final: prev:` function naming only packages of that lock;
#   - the lock, pyproject and path dependencies exist; every dependency resolves;
#   - a file is chosen per package as mk-poetry-dep.nix does (wheels for this platform and
#     CPython 3.12 first with preferWheels), and its lock hash is a valid sha256.
{
  pkgs,
  lib ? pkgs.lib,
}:
let
  inherit (builtins)
    attrNames
    concatMap
    elem
    filter
    head
    isAttrs
    isFunction
    isList
    length
    match
    pathExists
    ;

  readTOML = path: builtins.fromTOML (builtins.readFile path);
  splitDot = s: filter builtins.isString (builtins.split "\\." s);

  # PEP 503.
  normalizePackageName = name: lib.toLower (builtins.replaceStrings [ "_" "." ] [ "-" "-" ] name);

  arch = if pkgs.system == "aarch64-linux" then "aarch64" else "x86_64";

  # pyproject-nix pypa.selectWheels, reduced to CPython 3.12 on manylinux/any.
  wheelMatches =
    file:
    let
      parts = match "([^-]+)-([^-]+)(-[0-9][^-]*)?-([^-]+)-([^-]+)-([^-]+)\\.whl" file;
      pyTags = splitDot (builtins.elemAt parts 3);
      abiTags = splitDot (builtins.elemAt parts 4);
      platformTags = splitDot (builtins.elemAt parts 5);
      pyOk = builtins.any (tag: elem tag [
        "py3"
        "py312"
        "cp312"
        "py2.py3"
      ] || (match "cp3([0-9]+)" tag != null && builtins.elem "abi3" abiTags)) pyTags;
      abiOk = builtins.any (tag: elem tag [
        "none"
        "abi3"
        "cp312"
      ]) abiTags;
      platformOk = builtins.any (
        tag: tag == "any" || match "manylinux.*_${arch}" tag != null
      ) platformTags;
    in
    parts != null && pyOk && abiOk && platformOk;

  isWheel = file: lib.hasSuffix ".whl" file;

  mkPoetryDep =
    {
      final,
      pwd,
      preferWheels,
      entry,
    }:
    preferWheel:
    let
      name = normalizePackageName entry.name;
      source = entry.source or null;
      isDirectory = source != null && source.type == "directory";
      localDepPath = pwd + "/${source.url}";
      files = entry.files or [ ];
      versioned = filter (f: match ".*${builtins.replaceStrings [ "." "+" ] [ "\\." "\\+" ] entry.version}.*" f.file != null) files;
      wheels = filter (f: isWheel f.file && wheelMatches f.file) versioned;
      sdists = filter (f: !(isWheel f.file)) versioned;
      candidates = if preferWheel then wheels ++ sdists else sdists ++ wheels;
      chosen =
        if candidates == [ ] then throw "Missing suitable source/wheel file entry for ${name}" else head candidates;
      hash =
        let
          parts = match "sha256:([0-9a-f]{64})" chosen.hash;
        in
        if parts == null then throw "contract: ${name}: lock hash `${chosen.hash}' is not sha256:<hex>" else head parts;
      dependencies = entry.dependencies or { };
      # Dependencies with markers may be for another platform; the others must resolve.
      depNames = filter (
        dep:
        let
          spec = dependencies.${dep};
        in
        final ? ${normalizePackageName dep}
        || (isAttrs spec && spec ? markers)
        || (isList spec)
        || throw "contract: ${name} depends on ${dep}, which is not in the package set"
      ) (attrNames dependencies);
      pyproject = readTOML (localDepPath + "/pyproject.toml");
      src =
        if isDirectory then
          assert pathExists localDepPath || throw "contract: path dependency ${name}: ${toString localDepPath} does not exist";
          assert
            pyproject ? build-system
            || throw "No build-system.build-backend section in pyproject.toml (${name})";
          localDepPath
        else
          derivation {
            name = chosen.file;
            system = pkgs.system;
            builder = "builtin:fetchurl";
            url = "https://files.invalid/${chosen.file}";
            outputHashAlgo = "sha256";
            outputHash = hash;
            outputHashMode = "flat";
          };
    in
    final.buildPythonPackage {
      pname = name;
      inherit (entry) version;
      inherit src;
      format = if isDirectory then "poetry2nix" else if isWheel chosen.file then "wheel" else "poetry2nix";
      doCheck = false;
      propagatedBuildInputs = map (dep: final.${normalizePackageName dep}) (
        filter (dep: final ? ${normalizePackageName dep}) depNames
      );
      passthru = {
        preferWheel = preferWheel;
        # mk-poetry-dep.nix is pythonPackages.callPackage'd: `.override { preferWheel }`.
        override =
          {
            preferWheel ? preferWheels,
          }:
          mkPoetryDep {
            inherit
              final
              pwd
              preferWheels
              entry
              ;
          } preferWheel;
      };
    };

  # overrides/default.nix at ce2369db: the entries for packages in duet's locks (the real
  # set has hundreds, each applied only when its package is present).
  defaults =
    final: prev:
    lib.filterAttrs (name: _: prev ? ${name}) {
      psycopg2 = prev.psycopg2.overridePythonAttrs (old: {
        nativeBuildInputs = old.nativeBuildInputs or [ ] ++ [ pkgs.postgresql ];
      });
      pydantic-core = prev.pydantic-core.override { preferWheel = true; };
    };

  mkDefaultPoetryOverrides = defaults: overlays: {
    __functor = defaults;
    # Not in the real object: the overlays added with extend, for the contract checks.
    contractOverlays = overlays;
    extend = overlay: mkDefaultPoetryOverrides (lib.composeExtensions defaults overlay) (overlays ++ [ overlay ]);
    overrideOverlay =
      fn:
      mkDefaultPoetryOverrides (final: prev: defaults final prev // fn final prev) (overlays ++ [ fn ]);
  };

  defaultPoetryOverrides = mkDefaultPoetryOverrides defaults [ ];

  getFunctorFn = fn: if builtins.typeOf fn == "set" then fn.__functor else fn;

  # The contract checks on user overlays.
  checkOverlay =
    lockNames: what: overlay:
    let
      names = attrNames (overlay { } { });
      unknown = filter (n: !(elem n lockNames)) names;
    in
    assert isFunction overlay || throw "contract: ${what}: an override must be a function `final: prev: { ... }'";
    assert
      isFunction (overlay { })
      || throw "contract: ${what}: an override must take two arguments, `final: prev:' (got one)";
    assert
      unknown == [ ]
      || throw "contract: ${what}: override names `${head unknown}', which is not a package in the lock";
    true;

  userOverlays =
    overrides:
    concatMap (o: if builtins.typeOf o == "set" then o.contractOverlays or [ ] else [ o ]) (
      if isList overrides then overrides else [ overrides ]
    );

  mkPoetryPackages =
    {
      projectDir ? null,
      pyproject ? projectDir + "/pyproject.toml",
      poetrylock ? projectDir + "/poetry.lock",
      poetrylockPos ? {
        file = toString poetrylock;
        line = 0;
        column = 0;
      },
      overrides ? defaultPoetryOverrides,
      python ? pkgs.python3,
      pwd ? projectDir,
      preferWheels ? false,
      editablePackageSources ? { },
      pyProject ? readTOML pyproject,
      groups ? [ "main" ],
      checkGroups ? [ "dev" ],
      extras ? [ "*" ],
    }:
    let
      what = toString poetrylock;
      poetryLock = readTOML poetrylock;
      lockNames = map (entry: normalizePackageName entry.name) poetryLock.package;
      overlayList = if isList overrides then overrides else [ overrides ];
      baseOverlay = final: prev: {
        ${pyProject.tool.poetry.name} = null;
      }
      // builtins.listToAttrs (
        map (entry: {
          name = normalizePackageName entry.name;
          value = mkPoetryDep {
            inherit final pwd preferWheels entry;
          } preferWheels;
        }) poetryLock.package
      );
      packageOverrides = lib.foldr lib.composeExtensions (_: _: { }) (
        [ baseOverlay ] ++ map getFunctorFn overlayList
      );
      py = python.override {
        inherit packageOverrides;
        self = py;
      };
    in
    assert pathExists pyproject || throw "contract: ${toString pyproject} does not exist";
    assert pathExists poetrylock || throw "contract: ${what} does not exist";
    assert pwd != null && pathExists pwd || throw "contract: pwd ${toString pwd} does not exist";
    assert
      pyProject ? tool.poetry.name
      || throw "contract: ${toString pyproject} has no [tool.poetry] name (poetry2nix reads only [tool.poetry])";
    assert builtins.all (checkOverlay lockNames what) (userOverlays overrides);
    {
      python = py;
      inherit poetryLock pyProject;
      poetryPackages = [ ];
    };

  # default.nix mkInputAttrs: a group's dependencies, `python` aside.
  depsOf =
    py: pyProject: group:
    let
      deps =
        if group == "main" then
          pyProject.tool.poetry.dependencies or { }
        else
          pyProject.tool.poetry.group.${group}.dependencies or { };
    in
    map (
      dep:
      py.pkgs.${normalizePackageName dep}
        or (throw "contract: ${pyProject.tool.poetry.name}: dependency ${dep} is not in the package set")
    ) (filter (dep: dep != "python") (attrNames deps));

  buildSystemOf =
    py: pyProject:
    let
      requires = lib.attrByPath [ "build-system" "requires" ] (throw "No build-system.build-backend section in pyproject.toml. Add such a section as described in https://python-poetry.org/docs/pyproject/#poetry-and-pep-517") pyProject;
      names = map (r: normalizePackageName (head (match "([A-Za-z0-9_.-]+).*" r))) requires;
    in
    map (n: py.pkgs.${n} or (throw "unsupported build system requirement ${n}")) names;

  mkPoetryEnv =
    {
      projectDir ? null,
      pyproject ? projectDir + "/pyproject.toml",
      poetrylock ? projectDir + "/poetry.lock",
      overrides ? defaultPoetryOverrides,
      pwd ? projectDir,
      python ? pkgs.python3,
      preferWheels ? false,
      editablePackageSources ? { },
      extraPackages ? _ps: [ ],
      groups ? [
        "main"
        "dev"
      ],
      checkGroups ? [ "dev" ],
      extras ? [ "*" ],
    }:
    let
      poetryPython = mkPoetryPackages {
        inherit
          pyproject
          poetrylock
          overrides
          python
          pwd
          preferWheels
          groups
          checkGroups
          extras
          ;
      };
      py = poetryPython.python;
    in
    py.withPackages (ps: concatMap (depsOf py poetryPython.pyProject) groups ++ extraPackages ps);

  mkPoetryApplication =
    {
      projectDir ? null,
      src ? projectDir,
      pyproject ? projectDir + "/pyproject.toml",
      poetrylock ? projectDir + "/poetry.lock",
      overrides ? defaultPoetryOverrides,
      meta ? { },
      python ? pkgs.python3,
      pwd ? projectDir,
      preferWheels ? false,
      groups ? [ "main" ],
      checkGroups ? [ "dev" ],
      extras ? [ "*" ],
      ...
    }@attrs:
    let
      poetryPython = mkPoetryPackages {
        inherit
          pyproject
          poetrylock
          overrides
          python
          pwd
          preferWheels
          groups
          checkGroups
          extras
          ;
      };
      py = poetryPython.python;
      inherit (poetryPython) pyProject;
      passedAttrs = removeAttrs attrs [
        "overrides"
        "poetrylock"
        "projectDir"
        "pwd"
        "pyproject"
        "preferWheels"
      ];
      checkInputs' = concatMap (depsOf py pyProject) checkGroups;
      app = py.pkgs.buildPythonPackage (
        passedAttrs
        // {
          buildInputs = (attrs.buildInputs or [ ]) ++ buildSystemOf py pyProject;
          propagatedBuildInputs =
            (attrs.propagatedBuildInputs or [ ]) ++ concatMap (depsOf py pyProject) groups;
          nativeBuildInputs = attrs.nativeBuildInputs or [ ];
          checkInputs = (attrs.checkInputs or [ ]) ++ checkInputs';
          nativeCheckInputs = (attrs.nativeCheckInputs or [ ]) ++ checkInputs';
          pname = normalizePackageName pyProject.tool.poetry.name;
          inherit (pyProject.tool.poetry) version;
          inherit src;
          format = "pyproject";
          namePrefix = "";
          passthru = {
            python = py;
            dependencyEnv = (
              lib.makeOverridable (
                { app, ... }@args: py.buildEnv.override (removeAttrs args [ "app" ] // { extraLibs = [ app ]; })
              )
            ) { inherit app; };
          };
          meta = {
            description = pyProject.tool.poetry.description or "";
          }
          // meta;
        }
      );
    in
    app;
in
{
  inherit
    mkPoetryApplication
    mkPoetryEnv
    mkPoetryPackages
    defaultPoetryOverrides
    mkDefaultPoetryOverrides
    ;
  overrides = {
    withoutDefaults = overlay: [ overlay ];
    withDefaults = overlay: [
      overlay
      defaultPoetryOverrides
    ];
  };
}
