# stdenv.mkDerivation, reduced (../../README.md): an allow-list of attributes (the real one
# turns a misspelt attribute into an environment variable), `env` checked as
# pkgs/stdenv/generic/make-derivation.nix checks it, passthru and meta kept out of the
# derivation, as there.
{ lib, system }:
let
  # pkgs/stdenv/generic/make-derivation.nix and setup.sh: the attributes and phase
  # variables duet's outputs set, directly or through the real poetry2nix. Extend only
  # with names read in those files.
  allowed = [
    # cc-wrapper's add-flags.sh reads it; poetry2nix's psutil override sets it.
    "NIX_CFLAGS_COMPILE"
    "buildCommand"
    "buildInputs"
    "checkInputs"
    "checkPhase"
    "doCheck"
    "doInstallCheck"
    "dontBuild"
    "dontConfigure"
    "dontStrip"
    "dontUnpack"
    "env"
    "installPhase"
    "meta"
    "name"
    "nativeBuildInputs"
    "nativeCheckInputs"
    "outputs"
    "passthru"
    "pname"
    "postBuild"
    "postPatch"
    "preCheck"
    "preConfigure"
    "prePatch"
    "preferLocalBuild"
    "propagatedBuildInputs"
    "propagatedNativeBuildInputs"
    "requiredSystemFeatures"
    "shellHook"
    "src"
    "version"
  ];

  # lib/meta.nix and pkgs/stdenv/generic/check-meta.nix: the meta attributes set here.
  allowedMeta = [
    "broken"
    "description"
    "license"
    "mainProgram"
    "platforms"
  ];

  checkNames =
    what: allowedNames: attrs:
    let
      # `contract*` attributes are the stubs' own (what they record for the drvPath).
      unknown = builtins.filter (
        name: !(builtins.elem name allowedNames) && builtins.substring 0 8 name != "contract"
      ) (builtins.attrNames attrs);
    in
    unknown == [ ]
    || throw "contract: ${what} got attribute `${builtins.head unknown}', which the pinned function does not read (or duet has not set before: the allowed names are in tools/nix_offline/nixpkgs/pkgs)";

  checkEnv =
    name: env:
    builtins.all (
      key:
      let
        value = env.${key};
      in
      (builtins.isString value || builtins.isBool value || builtins.isInt value || lib.isDerivation value)
      || throw "contract: ${name}: env.${key} is a ${builtins.typeOf value}; the `env` attribute set can only contain derivation, string, boolean or integer attributes (make-derivation.nix)"
    ) (builtins.attrNames env);

  # A real derivation from checked attributes. `extraAllowed` lets builders built on top
  # of mkDerivation (buildPythonPackage, mkShell, ...) add the names they read.
  make =
    {
      what,
      extraAllowed ? [ ],
    }:
    attrs:
    let
      name =
        attrs.name or (
          if attrs ? pname && attrs ? version then
            "${attrs.pname}-${attrs.version}"
          else
            throw "contract: ${what} needs `name` or `pname` and `version`"
        );
      env = attrs.env or { };
      clashes = builtins.filter (key: attrs ? ${key}) (builtins.attrNames env);
      meta = attrs.meta or { };
      outputs = attrs.outputs or [ "out" ];
      drvAttrs =
        removeAttrs attrs [
          "passthru"
          "meta"
          "env"
        ]
        // {
          inherit name system outputs;
          builder = "/bin/sh";
          args = [
            "-c"
            "echo contract stub: evaluated, never built; exit 1"
          ];
          __structuredAttrs = true;
          # Forced as strings: a function or a missing input anywhere here is an error.
          contractEnv = env;
          contractMeta = builtins.toJSON (removeAttrs meta [ "position" ]);
        };
      drv = derivation drvAttrs;
      withOutputs =
        drv
        // {
          inherit meta;
          passthru = attrs.passthru or { };
          overrideAttrs =
            f:
            make { inherit what extraAllowed; } (
              attrs // (if builtins.isFunction f then f attrs else f)
            );
        }
        // (attrs.passthru or { });
    in
    assert checkNames what (allowed ++ extraAllowed) attrs;
    assert checkNames "${what} meta" allowedMeta meta;
    assert checkEnv what env;
    assert
      clashes == [ ]
      || throw "contract: ${what}: `${builtins.head clashes}' is both an attribute and in `env' (make-derivation.nix refuses that)";
    withOutputs;
in
{
  inherit make allowed checkNames;
  mkDerivation = make { what = "stdenv.mkDerivation"; };
}
