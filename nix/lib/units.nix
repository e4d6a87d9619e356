# The systemd pieces every duet unit is made of, written once: the
# hardening baseline, the environment, the credentials and the launcher that hands them to
# the process. Imported by web.nix and worker.nix; not a module.
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

  toEnvironment = lib.mapAttrs (
    _: value:
    if lib.isBool value then
      lib.boolToString value
    else
      toString value
  );
in
{
  inherit launcher environmentValue escapeSpecifiers;

  # What goes into a unit file, escaped (above): an environment, LoadCredential= lines,
  # EnvironmentFile= paths.
  unitEnvironment = lib.mapAttrs (_: escapeSpecifiers);
  unitLines = map escapeSpecifiers;

  # `services.duet.<side>.settings`: one side's environment, on top of the shared one.
  settingsOption =
    who: example:
    lib.mkOption {
      type = lib.types.attrsOf environmentValue;
      default = { };
      inherit example;
      description = "Environment of ${who} only, on top of {option}`services.duet.settings`.";
    };

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

  environmentFiles = lib.optional (cfg.environmentFile != null) cfg.environmentFile;

  # Ordering against a PostgreSQL on this host (25.05: postgresql.service, no .target).
  databaseUnits = lib.optionals db.createLocally [
    "postgresql.service"
    "duet-db-setup.service"
  ];

  brokerUnits = lib.optional cfg.broker.createLocally "redis-duet.service";
  brokerGroups = lib.optional cfg.broker.createLocally config.services.redis.servers.duet.group;
}
