# pkgs/build-support/docker/default.nix, as in F and itepastra/nixpkgs@da089cdc:
# streamLayeredImage is makeOverridable over a function with no `...`; buildLayeredImage
# takes the same arguments plus `compressor`. `layeringPipeline` and `debug` (F only,
# unconfirmed for 25.05) and `meta` (25.11) are left out, so passing them is an error here.
# The image config is checked against the OCI image spec's config keys.
{
  lib,
  runCommand,
  fakeNss,
}:
let
  ociConfigKeys = [
    "Cmd"
    "Entrypoint"
    "Env"
    "ExposedPorts"
    "Healthcheck"
    "Labels"
    "StopSignal"
    "User"
    "Volumes"
    "WorkingDir"
  ];

  streamLayeredImage = lib.makeOverridable (
    {
      name,
      tag ? null,
      fromImage ? null,
      contents ? [ ],
      config ? { },
      architecture ? null,
      created ? "1970-01-01T00:00:01Z",
      mtime ? "1970-01-01T00:00:01Z",
      uid ? 0,
      gid ? 0,
      uname ? "root",
      gname ? "root",
      maxLayers ? 100,
      extraCommands ? "",
      fakeRootCommands ? "",
      enableFakechroot ? false,
      includeStorePaths ? true,
      includeNixDB ? false,
      passthru ? { },
    }:
    let
      unknownConfig = builtins.filter (key: !(builtins.elem key ociConfigKeys)) (builtins.attrNames config);
    in
    assert maxLayers > 1;
    assert
      unknownConfig == [ ]
      || throw "contract: image ${name}: config.${builtins.head unknownConfig} is not an OCI image config key";
    assert builtins.all builtins.isString (config.Env or [ ]);
    assert builtins.all (entry: builtins.match "[A-Za-z_][A-Za-z0-9_]*=.*" entry != null) (
      config.Env or [ ]
    );
    assert builtins.isList contents && builtins.all lib.isDerivation contents;
    runCommand "stream-${name}"
      {
        passthru = passthru // {
          imageName = name;
          imageTag = if tag == null then "<derivation hash>" else tag;
          isExe = true;
        };
        contractImage = {
          inherit
            name
            tag
            contents
            config
            created
            extraCommands
            fakeRootCommands
            enableFakechroot
            ;
        };
      }
      "stream the image"
  );

  buildLayeredImage = lib.makeOverridable (
    {
      name,
      compressor ? "gz",
      ...
    }@args:
    let
      stream = streamLayeredImage (removeAttrs args [ "compressor" ]);
    in
    assert builtins.elem compressor [
      "none"
      "gz"
      "zstd"
    ];
    runCommand "${name}.tar${if compressor == "none" then "" else ".${compressor}"}" {
      passthru = {
        inherit (stream) imageName imageTag;
        inherit stream;
      };
      contractStream = stream;
    } "compress the stream"
  );
in
{
  inherit streamLayeredImage buildLayeredImage;
  caCertificates = runCommand "ca-certificates" { } "";
  inherit fakeNss;
}
