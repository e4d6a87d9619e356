# What the web and worker modules share, written once: the options both sides have, the
# hardening baseline and [Service] lines every unit starts from, the environment, the
# credentials and the launcher that hands them to the process. Imported by web.nix,
# worker.nix and common.nix; not a module.
{
  config,
  lib,
  pkgs,
}:
let
  cfg = config.services.duet;
  db = cfg.database;

  # Turns every credential into what duet reads (README.md, "Configuration"): `NAME` becomes
  # NAME_FILE=<path>, which the settings read through django-environ's FileAwareEnv, and
  # `database-password` becomes a libpq password file.
  launcher = pkgs.writeShellApplication {
    name = "duet-launch";
    runtimeInputs = [
      pkgs.coreutils
      pkgs.gnused
    ];
    text = ''
      if [ -n "''${CREDENTIALS_DIRECTORY:-}" ]; then
        for credential in "$CREDENTIALS_DIRECTORY"/*; do
          [ -e "$credential" ] || continue
          name=''${credential##*/}
          if [ "$name" = database-password ]; then
            pgpass="''${RUNTIME_DIRECTORY:?}/pgpass"
            # pgpass escapes ':' and '\'; the file must not be readable by others.
            (umask 077 && printf '*:*:*:*:%s\n' "$(sed 's/[\\:]/\\&/g' "$credential")" >"$pgpass")
            export PGPASSFILE="$pgpass"
          else
            export "''${name}_FILE=$credential"
          fi
        done
      fi
      exec "$@"
    '';
  };

  # The value of one environment variable in a `settings` option; `null` leaves it out.
  environmentValue = lib.types.nullOr (
    lib.types.oneOf [
      lib.types.bool
      lib.types.int
      lib.types.str
      lib.types.path
    ]
  );

  # systemd expands `%` specifiers (systemd.unit(5)) in Environment=, ExecStart=,
  # LoadCredential= and EnvironmentFile=, and NixOS writes systemd.services.<name>.environment
  # and serviceConfig into the unit file as given (nixos/lib/systemd-lib.nix): a `%` meant
  # literally, say in a URL-encoded value, is written `%%` there. Not in duet-manage, whose
  # systemd-run passes its --setenv and --property values over D-Bus, where systemd takes
  # them literally (systemd's src/core/dbus-execute.c keeps them as sent and escapes the
  # specifiers itself when it writes the transient unit).
  escapeSpecifiers = value: builtins.replaceStrings [ "%" ] [ "%%" ] (toString value);

  unitLines = map escapeSpecifiers;

  # One of the flake's packages, as an option defaulting to it.
  packageOption =
    flake: name: description:
    lib.mkOption {
      type = lib.types.package;
      default = flake.packages.${pkgs.stdenv.hostPlatform.system}.${name};
      defaultText = lib.literalExpression "duet.packages.\${system}.${name}";
      example = lib.literalExpression "inputs.duet.packages.x86_64-linux.${name}";
      inherit description;
    };

  environmentFiles = lib.optional (cfg.environmentFile != null) cfg.environmentFile;
  redisGroup = config.services.redis.servers.duet.group;

  # The pretix/paperless baseline, sorted; units relax it only with a reason beside them.
  hardening = {
    CapabilityBoundingSet = "";
    DevicePolicy = "closed";
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    NoNewPrivileges = true;
    PrivateDevices = true;
    PrivateMounts = true;
    PrivateTmp = true;
    PrivateUsers = true;
    ProcSubset = "pid";
    ProtectClock = true;
    ProtectControlGroups = true;
    ProtectHome = true;
    ProtectHostname = true;
    ProtectKernelLogs = true;
    ProtectKernelModules = true;
    ProtectKernelTunables = true;
    ProtectProc = "invisible";
    ProtectSystem = "strict";
    RemoveIPC = true;
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
    ];
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    SystemCallArchitectures = "native";
    SystemCallFilter = [
      "@system-service"
      "~@privileged"
    ];
    UMask = "0077";
  };

  toEnvironment = lib.mapAttrs (
    _: value:
    if lib.isBool value then
      lib.boolToString value
    else
      toString value
  );

  # What tells the two sides' shared options apart: `who` runs the side's code, `program`
  # takes its extraArgs.
  sides = {
    web = {
      enable = "duet's web service (the DRF API), its migrations and sweeper";
      package = "The web application (console scripts `duet-web` and `duet-manage`).";
      who = "the web-side processes";
      program = "gunicorn";
    };
    worker = {
      enable = "duet's Celery worker";
      package = "The worker application (console script `duet-worker`).";
      who = "the worker";
      program = "`celery worker`";
    };
  };
in
{
  inherit
    launcher
    environmentValue
    escapeSpecifiers
    unitLines
    hardening
    environmentFiles
    packageOption
    ;

  # What goes into a unit file, escaped (above): an environment, LoadCredential= lines.
  unitEnvironment = lib.mapAttrs (_: escapeSpecifiers);

  # The environment of a process connecting as `role`: duet's settings, then libpq's
  # variables (the default DATABASE_URL names only the database, README.md), then the
  # process's own. Unescaped: a unit takes it through unitEnvironment.
  environment =
    role: extra:
    toEnvironment (
      lib.filterAttrs (_: value: value != null) cfg.settings
      // {
        DATABASE_URL = "postgres:///${db.name}";
        PGHOST = if db.host == null then "/run/postgresql" else db.host;
        PGPORT = db.port;
        PGUSER = db.roles.${role};
        PYTHONUNBUFFERED = "1";
      }
      // lib.filterAttrs (_: value: value != null) extra
    );

  # LoadCredential= lines: the role's database password, then the unit's own files.
  credentials =
    role: files:
    lib.optional (db.passwordFiles.${role} != null) "database-password:${db.passwordFiles.${role}}"
    ++ lib.mapAttrsToList (name: file: "${name}:${file}") files;

  # Ordering against a PostgreSQL on this host (25.05: postgresql.service, no .target).
  databaseUnits = lib.optionals db.createLocally [
    "postgresql.service"
    "duet-db-setup.service"
  ];

  brokerUnits = lib.optional cfg.broker.createLocally "redis-duet.service";

  # The [Service] lines every unit running duet's code starts from, as pretix's
  # commonUnitConfig: the hardening baseline, the side's user in the `duet` group (and
  # Redis's, for its socket), the environment file, a private runtime directory.
  serviceConfig =
    user:
    hardening
    // {
      User = user;
      Group = "duet";
      SupplementaryGroups = lib.optional cfg.broker.createLocally redisGroup;
      EnvironmentFile = unitLines environmentFiles;
      RuntimeDirectoryMode = "0700";
    };

  # The system user a side's units run as.
  user = description: {
    isSystemUser = true;
    group = "duet";
    inherit description;
  };

  # The options services.duet.web and services.duet.worker both have, with the side's
  # examples.
  sideOptions =
    flake: side: examples:
    let
      inherit (sides.${side}) enable package who program;
    in
    {
      enable = lib.mkEnableOption enable;

      package = packageOption flake side package;

      credentials = lib.mkOption {
        type = lib.types.attrsOf lib.types.path;
        default = { };
        example = examples.credentials;
        description = ''
          Files passed with LoadCredential to ${who}, each as `<NAME>_FILE` (any variable
          of README.md's table may come from a file).
        '';
      };

      settings = lib.mkOption {
        type = lib.types.attrsOf environmentValue;
        default = { };
        example = examples.settings;
        description = "Environment of ${who} only, on top of {option}`services.duet.settings`.";
      };

      extraArgs = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [ ];
        example = examples.extraArgs;
        apply = lib.escapeShellArgs;
        description = "Extra arguments to ${program}.";
      };
    };
}
