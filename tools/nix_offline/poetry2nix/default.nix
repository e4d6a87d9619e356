# poetry2nix ce2369db, reduced to what duet calls and checked against default.nix,
# mk-poetry-dep.nix, lib.nix and overrides/default.nix at that commit. What it checks, beyond
# the real one, is in ../README.md. overrides: one overlay, a list, or a
# defaultPoetryOverrides object; applied after the lock's packages in list order; `.extend f`
# applies the defaults first, then f.
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
    match
    pathExists
    ;

  readTOML = path: builtins.fromTOML (builtins.readFile path);

  # PEP 503.
  normalizePackageName = name: lib.toLower (builtins.replaceStrings [ "_" "." ] [ "-" "-" ] name);

  # The wheel choice of the pyproject.nix that poetry2nix ce2369db vendors (vendor/
  # pyproject.nix/lib/{pypa,pep599,pep600,pep656}.nix: parseWheelFileName, selectWheels),
  # for CPython 3.12 on glibc Linux, with its failures: *every* wheel name of a package is
  # parsed, whatever preferWheels says, and a python or ABI tag its patterns cannot read
  # (GraalPy's `graalpy250_312_native`, compound `abi3.abi3t`) fails an assertion there, as
  # does a compatible manylinux wheel for a machine pep599.nix does not list (riscv64).
  # nix/lib/poetry-lock.nix leaves such wheels out of the lock poetry2nix reads; without it
  # this stub fails on the same names the real code fails on.
  cpu = if pkgs.system == "aarch64-linux" then "aarch64" else "x86_64";
  linuxArch = if cpu == "aarch64" then "arm64" else cpu;
  libcVersion = pkgs.stdenv.cc.libc.version;
  pyMajor = "3";
  pyMinor = "12";
  # pep599.nix manyLinuxTargetMachines and pep600.nix legacyAliases.
  targetMachines = {
    x86_64 = "x86_64";
    i686 = "i686";
    aarch64 = "aarch64";
    armv7l = "armv7l";
    ppc64 = "powerpc64";
    ppc64le = "powerpc64le";
    s390x = "s390x";
  };
  legacyManylinux = {
    "1" = "2_5";
    "2010" = "2_12";
    "2014" = "2_17";
  };
  # Other implementations (pp, ip, jy) are never compatible, by either name.
  implementations = {
    py = "python";
    cp = "cpython";
  };
  versionOrNull = v: if v == "" then null else v;
  dotted = tags: filter builtins.isString (builtins.split "\\." tags);

  parseWheel =
    file:
    let
      m = match "([^-]+)-([^-]+)(-([[:digit:]][^-]*))?-([^-]+)-([^-]+)-(.+).whl" file;
      fail =
        what: tag:
        throw "contract: wheel ${file}: the pinned poetry2nix cannot parse its ${what} tag `${tag}' (assert m != null in its vendored pyproject.nix pypa.nix); nix/lib/poetry-lock.nix must leave it out";
      # A python or ABI tag: implementation and version, or the pinned parser's failure.
      implementationTag =
        what: pattern: tag:
        let
          t = match pattern tag;
        in
        if t == null then
          fail what tag
        else
          {
            implementation = implementations.${builtins.elemAt t 0} or (builtins.elemAt t 0);
            version = versionOrNull (builtins.elemAt t 1);
          };
      pythonTag = implementationTag "python" "([a-z]+)([0-9]*)";
      abiTag = implementationTag "ABI" "([a-z]+)([0-9]*)_?([a-z0-9]*)";
    in
    {
      inherit file;
      distribution = builtins.elemAt m 0;
      version = builtins.elemAt m 1;
      buildTag = builtins.elemAt m 3;
      languageTags = map pythonTag (dotted (builtins.elemAt m 4));
      abi = abiTag (builtins.elemAt m 5);
      platformTags = dotted (builtins.elemAt m 6);
    };
  isWheelName = file: match "([^-]+)-([^-]+)(-([[:digit:]][^-]*))?-([^-]+)-([^-]+)-(.+).whl" file != null;

  abiCompatible =
    abi:
    (elem abi.implementation [
      "none"
      "any"
      "cpython"
      "abi"
    ])
    && (
      abi.version == null
      || abi.version == pyMajor
      || (lib.hasPrefix pyMajor abi.version && pyMajor + pyMinor == abi.version)
    );
  # Its precedence kept: `impl && version == null || major || prefix-and-not-newer`.
  pythonCompatible =
    tag:
    (
      elem tag.implementation [
        "python"
        "cpython"
      ]
      && tag.version == null
    )
    || tag.version == pyMajor
    || (
      tag.version != null
      && lib.hasPrefix pyMajor tag.version
      && builtins.fromJSON (pyMajor + pyMinor) >= builtins.fromJSON tag.version
    );
  platformCompatible =
    file: tag:
    let
      legacy = match "manylinux(1|2010|2014)_(.*)" tag;
      tag' =
        if legacy != null && legacyManylinux ? ${builtins.elemAt legacy 0} then
          "manylinux_${legacyManylinux.${builtins.elemAt legacy 0}}_${builtins.elemAt legacy 1}"
        else
          tag;
      many = match "manylinux_([0-9]+)_([0-9]+)_(.*)" tag';
      mustMatch = pattern: match pattern tag != null || throw "contract: wheel ${file}: platform tag `${tag}' fails an assertion of the pinned poetry2nix";
    in
    if tag == "any" then
      true
    else if lib.hasPrefix "manylinux" tag then
      if many == null then
        throw "contract: wheel ${file}: '${tag'}' is not a valid manylinux tag (pinned poetry2nix)"
      else if builtins.compareVersions libcVersion "${builtins.elemAt many 0}.${builtins.elemAt many 1}" < 0 then
        false
      else
        (targetMachines.${builtins.elemAt many 2} or (throw "contract: wheel ${file}: attribute '${builtins.elemAt many 2}' missing in the pinned poetry2nix's pep599.nix manyLinuxTargetMachines; nix/lib/poetry-lock.nix must leave it out")) == cpu
    else if lib.hasPrefix "musllinux" tag then
      mustMatch "musllinux_([0-9]+)_([0-9]+)_(.*)" && false
    else if lib.hasPrefix "macosx" tag then
      mustMatch "macosx_([0-9]+)_([0-9]+)_(.+)" && false
    else if tag == "win32" then
      false
    else if lib.hasPrefix "win_" tag then
      mustMatch "win_(.+)" && false
    else if lib.hasPrefix "linux" tag then
      mustMatch "linux_(.+)" && tag == "linux_${linuxArch}"
    else
      throw "contract: wheel ${file}: Unknown platform tag: '${tag}'";

  # selectWheels: the compatible wheels, best language tag first, with its comparator.
  selectWheels =
    files:
    let
      annotated = map (
        file:
        let
          languageTags = filter pythonCompatible file.languageTags;
        in
        {
          inherit file;
          bestLanguageTag = head (builtins.sort (x: y: x > y) (map (t: builtins.fromJSON t.version) languageTags));
          compatible =
            abiCompatible file.abi
            && languageTags != [ ]
            && builtins.any (platformCompatible file.file) file.platformTags;
        }
      ) files;
      sorted = builtins.sort (
        x: y:
        x.file.distribution > y.file.distribution
        || x.file.version > y.file.version
        || (x.file.buildTag != null && (y.file.buildTag == null || x.file.buildTag > y.file.buildTag))
        || x.bestLanguageTag > y.bestLanguageTag
      ) (filter (f: f.compatible) annotated);
    in
    map (f: f.file.file) sorted;

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
      byName = builtins.listToAttrs (map (f: lib.nameValuePair f.file f) versioned);
      # mk-poetry-dep.nix: at most one wheel, the best; `wheel` itself never from a wheel.
      selected = selectWheels (map (f: parseWheel f.file) (filter (f: isWheelName f.file) versioned));
      wheels = if selected == [ ] then [ ] else [ byName.${head selected} ];
      sdists = filter (f: !(isWheel f.file)) versioned;
      preferWheel' = preferWheel && name != "wheel";
      candidates = if preferWheel' then wheels ++ sdists else sdists ++ wheels;
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
      inherit pyProject;
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
    }@args:
    let
      poetryPython = mkPoetryPackages (
        builtins.intersectAttrs (builtins.functionArgs mkPoetryPackages) args
      );
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
      poetryPython = mkPoetryPackages (
        builtins.intersectAttrs (builtins.functionArgs mkPoetryPackages) attrs
      );
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
    in
    py.pkgs.buildPythonPackage (
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
        passthru.python = py;
        meta = {
          description = pyProject.tool.poetry.description or "";
        }
        // meta;
      }
    );
in
{
  inherit
    mkPoetryApplication
    mkPoetryEnv
    mkPoetryPackages
    defaultPoetryOverrides
    ;
}
