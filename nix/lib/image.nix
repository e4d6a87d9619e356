# What both OCI images share: a non-root user from fakeNss (no shadowSetup, which needs
# fakechroot), CA certificates, a world-writable /tmp, and no secrets: those come from the
# environment or `<NAME>_FILE` at run time (README.md, "Configuration").
{ pkgs }:
{
  name,
  package,
  command,
  env ? [ ],
  extraContents ? [ ],
  ports ? { },
  # An OCI Healthcheck ({ Test; Interval; ... }, durations in nanoseconds), or null.
  healthcheck ? null,
}:
let
  inherit (pkgs) dockerTools;
  uid = "1000";
  user = dockerTools.fakeNss.override {
    extraPasswdLines = [ "duet:x:${uid}:${uid}:duet:/var/empty:/bin/sh" ];
    extraGroupLines = [ "duet:x:${uid}:" ];
  };
in
dockerTools.buildLayeredImage {
  inherit name;
  tag = package.version;
  # The package's bin/ lands in /bin, so other entry points run too
  # (`docker run IMAGE duet-manage migrate`).
  contents = [
    user
    dockerTools.caCertificates
    package
  ]
  ++ extraContents;
  extraCommands = ''
    mkdir -m 1777 tmp
  '';
  config = {
    Cmd = command;
    User = "${uid}:${uid}";
    WorkingDir = "/tmp";
    Env = [
      "PATH=/bin"
      "PYTHONUNBUFFERED=1"
      "SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt"
    ]
    ++ env;
    ExposedPorts = ports;
  }
  // pkgs.lib.optionalAttrs (healthcheck != null) { Healthcheck = healthcheck; };
}
