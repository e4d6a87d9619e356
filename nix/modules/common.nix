# What duet's web and worker modules share: the settings every process reads, the database
# and broker they reach, the `duet` group, and the local PostgreSQL/Redis when asked for.
# Not an output of its own; nixosModules.web and nixosModules.worker import it.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.duet;
  db = cfg.database;
  units = import ../lib/units.nix { inherit config lib pkgs; };

  # The role script the native harness and the VM test run too (docs/architecture.md, "Database roles").
  rolesSql = ../../shared_resource/shared_resource/sql/roles.sql;

  localBroker = "redis+socket:///run/redis-duet/redis.sock";

  roleNames = [
    "migrator"
    "web"
    "worker"
  ];
  passwordRoles = lib.filter (role: db.passwordFiles.${role} != null) roleNames;

  roleOption =
    role: default:
    lib.mkOption {
      type = lib.types.str;
      inherit default;
      example = "duet_${role}_prod";
      description = "The PostgreSQL role of the ${role} (created by roles.sql).";
    };

  passwordFileOption =
    role:
    lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = "/run/secrets/duet-${role}-db-password";
      description = ''
        A file holding the password of the ${role} role, read at start through LoadCredential
        and never copied to the store. On the database host, roles.sql sets it; on web and
        worker hosts, the ${role}'s units log in with it. `null`: peer authentication over the
        local socket only.
      '';
    };
in
{
  options.services.duet = {
    settings = lib.mkOption {
      type = lib.types.submodule {
        freeformType = lib.types.attrsOf units.environmentValue;
        options = {
          DUET_ENV = lib.mkOption {
            type = lib.types.enum [
              "production"
              "development"
            ];
            default = "production";
            example = "development";
            description = ''
              `production` fails closed on a missing secret or host list; `development` has
              local defaults and the browsable API (never on a public host).
            '';
          };
          CELERY_BROKER_URL = lib.mkOption {
            type = lib.types.nullOr lib.types.str;
            default = if cfg.broker.createLocally then localBroker else null;
            defaultText = lib.literalExpression ''
              if config.services.duet.broker.createLocally
              then "redis+socket:///run/redis-duet/redis.sock" else null
            '';
            example = "sqs://";
            description = ''
              The Celery broker. A URL with a password is a secret: leave this `null` and give
              it in {option}`services.duet.environmentFile` or as a `CELERY_BROKER_URL`
              credential instead.
            '';
          };
          DUET_MAX_ATTEMPTS = lib.mkOption {
            type = lib.types.ints.positive;
            default = 5;
            example = 3;
            description = "How many times a job is claimed before it fails for good.";
          };
        };
      };
      default = { };
      example = {
        CELERY_BROKER_TRANSPORT_OPTIONS = ''{"region": "eu-west-1"}'';
      };
      description = ''
        Environment of every duet process (README.md's configuration table). `null` values
        are left out. Never put secrets here: they would land in the world-readable store.
      '';
    };

    environmentFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = "/run/secrets/duet.env";
      description = ''
        An environment file (`NAME=value` lines) read by every duet unit at start, for
        secrets such as a broker URL with a password. Never copied to the store.
      '';
    };

    database = {
      createLocally = lib.mkOption {
        type = lib.types.bool;
        default = false;
        example = true;
        description = ''
          Run PostgreSQL on this host and create duet's database and roles with
          shared_resource's roles.sql (unit `duet-db-setup`), on every boot: it is idempotent.
        '';
      };
      host = lib.mkOption {
        type = lib.types.nullOr lib.types.str;
        default = null;
        example = "db.internal";
        description = "PostgreSQL's host; `null` is the local socket in /run/postgresql.";
      };
      port = lib.mkOption {
        type = lib.types.port;
        default = 5432;
        example = 6432;
        description = "PostgreSQL's port.";
      };
      name = lib.mkOption {
        type = lib.types.str;
        default = "duet";
        example = "duet_production";
        description = "The name of duet's database.";
      };
      roles = lib.genAttrs roleNames (role: roleOption role "duet_${role}");
      passwordFiles = lib.genAttrs roleNames passwordFileOption;
    };

    broker.createLocally = lib.mkOption {
      type = lib.types.bool;
      default = false;
      example = true;
      description = ''
        Run Redis for duet on this host (`redis-duet.service`), reachable only through its
        socket by duet's users.
      '';
    };
  };

  config = lib.mkMerge [
    {
      users.groups.duet = { };
    }

    (lib.mkIf db.createLocally {
      services.postgresql = {
        enable = true;
        # Local units log in as their role through peer authentication: map the Unix users
        # of nixosModules.web and nixosModules.worker to the roles they use.
        identMap = ''
          duet duet-web ${db.roles.migrator}
          duet duet-web ${db.roles.web}
          duet duet-worker ${db.roles.worker}
        '';
        authentication = ''
          local ${db.name} ${db.roles.migrator},${db.roles.web},${db.roles.worker} peer map=duet
        '';
      };

      systemd.services.duet-db-setup = {
        description = "duet: database and roles (roles.sql)";
        wantedBy = [ "multi-user.target" ];
        # 25.05 has no postgresql.target: ensure* work happens in postgresql.service itself.
        requires = [ "postgresql.service" ];
        after = [ "postgresql.service" ];
        before = [ "duet-migrate.service" ];
        path = [ config.services.postgresql.package ];
        serviceConfig = units.hardening // {
          Type = "oneshot";
          RemainAfterExit = true;
          User = "postgres";
          Group = "postgres";
          LoadCredential = units.unitLines (
            map (role: "${role}-password:${db.passwordFiles.${role}}") passwordRoles
          );
        };
        script = ''
          psql --no-psqlrc -v ON_ERROR_STOP=1 \
            -v db=${lib.escapeShellArg db.name} \
            -v migrator=${lib.escapeShellArg db.roles.migrator} \
            -v web=${lib.escapeShellArg db.roles.web} \
            -v worker=${lib.escapeShellArg db.roles.worker} \
            ${
              lib.concatMapStringsSep " " (
                role: ''-v ${role}_password_file="$CREDENTIALS_DIRECTORY/${role}-password"''
              ) passwordRoles
            } \
            -f ${rolesSql}
        '';
      };
    })

    (lib.mkIf cfg.broker.createLocally {
      services.redis.servers.duet = {
        enable = true;
        # No TCP: only members of the redis-duet group reach the socket.
        port = 0;
        unixSocketPerm = 660;
      };
    })
  ];
}
