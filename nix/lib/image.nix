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
  # The OCI Healthcheck: `program` from the package's bin/, every `interval` seconds once
  # `startPeriod` seconds have passed, 5 s to answer, 3 tries.
  health,
}:
let
  inherit (pkgs) dockerTools;
  seconds = n: n * 1000000000;
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
    Healthcheck = {
      Test = [
        "CMD"
        "${package}/bin/${health.program}"
      ];
      Interval = seconds health.interval;
      Timeout = seconds 5;
      StartPeriod = seconds health.startPeriod;
      Retries = 3;
    };
  };
}
