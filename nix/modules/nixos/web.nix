# services.duet.web: the API (duet-web.service), the one unit that migrates
# (duet-migrate.service), the sweeper (duet-sweep.timer) and the duet-manage wrapper.
# Modelled on nixpkgs' pretix and paperless modules (docs/nix.md, "NixOS modules").
{ flake }:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.duet;
  webCfg = cfg.web;
  units = import ../../lib/units.nix { inherit config lib pkgs; };
  manageBin = lib.getExe' webCfg.package "duet-manage";

  generatesSecretKey = webCfg.secretKeyFile == null;
  secretKeyPath =
    if generatesSecretKey then "/var/lib/duet-web/django-secret-key" else webCfg.secretKeyFile;
  secretKeyUnits = lib.optional generatesSecretKey "duet-web-secret-key.service";

  # gunicorn's --bind takes an IPv6 address in brackets.
  bindHost =
    if builtins.match ".*:.*" webCfg.address != null then
      "[${webCfg.address}]"
    else
      webCfg.address;

  # Everything the web side's processes share; `role` picks the database role.
  env =
    role:
    units.environment role (
      webCfg.settings
      // {
        DJANGO_ALLOWED_HOSTS = lib.concatStringsSep "," webCfg.allowedHosts;
        DJANGO_STATIC_ROOT = "${webCfg.staticFiles}";
      }
    );
  credentials =
    role:
    units.credentials role (
      {
        DJANGO_SECRET_KEY = secretKeyPath;
      }
      // webCfg.credentials
    );

  commonServiceConfig = units.serviceConfig "duet-web";

  # Runs one management command with the web's user, environment and credentials, in a
  # transient unit with the same hardening (run it as root).
  manage = pkgs.writeShellApplication {
    name = "duet-manage";
    runtimeInputs = [ config.systemd.package ];
    text = ''
      if [ -t 0 ] && [ -t 1 ]; then io=--pty; else io=--pipe; fi
      exec systemd-run --quiet --collect --wait "$io" --service-type=exec \
        --unit="duet-manage-$$" --property=RuntimeDirectory="duet-manage-$$" \
        ${
          lib.escapeShellArgs (
            lib.mapAttrsToList (name: value: "--setenv=${name}=${value}") (env "web")
            ++ map (line: "--property=LoadCredential=${line}") (credentials "web")
            ++ map (file: "--property=EnvironmentFile=${file}") units.environmentFiles
            ++ lib.concatLists (
              lib.mapAttrsToList (
                name: value:
                map (item: "--property=${name}=${toString item}") (lib.toList value)
              ) (builtins.removeAttrs commonServiceConfig [ "EnvironmentFile" ])
            )
          )
        } \
        -- ${lib.getExe units.launcher} ${manageBin} "$@"
    '';
  };

  sideOptions = units.sideOptions flake "web" {
    credentials.CACHE_URL = "/run/secrets/duet-cache-url";
    settings = {
      DUET_SWEEP_STALE_SECONDS = 300;
      DUET_MAX_TEXT_CHARS = 200000;
    };
    extraArgs = [
      "--timeout"
      "60"
    ];
  };
in
{
  # Imported once however it is reached (nixosModules.web and nixosModules.default).
  key = "duet/nixosModules/web";

  imports = [ ../common.nix ];

  options.services.duet.web = sideOptions // {
    staticFiles =
      units.packageOption flake "web-static"
        "Static files of {option}`services.duet.web.package`, collected at build time.";

    address = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1";
      example = "::";
      description = ''
        The address gunicorn binds to; put a TLS proxy in front of it. An IPv6 address is
        bracketed for gunicorn; `::` takes IPv6 and, as v4-mapped addresses, IPv4 too.
      '';
    };

    port = lib.mkOption {
      type = lib.types.port;
      default = 8000;
      example = 8080;
      description = "The port gunicorn listens on.";
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      example = true;
      description = "Open {option}`services.duet.web.port` in the firewall.";
    };

    workers = lib.mkOption {
      type = lib.types.ints.positive;
      default = 2;
      example = 4;
      description = "Gunicorn worker processes (`WEB_CONCURRENCY`).";
    };

    allowedHosts = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      example = [ "duet.example.org" ];
      description = "Host names the API answers to (`DJANGO_ALLOWED_HOSTS`).";
    };

    secretKeyFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = "/run/secrets/duet-django-secret-key";
      description = ''
        A file holding Django's secret key, passed with LoadCredential. `null`: one is
        generated on first start in /var/lib/duet-web (unit `duet-web-secret-key`).
      '';
    };
  };

  options.services.duet.sweep.onCalendar = lib.mkOption {
    type = lib.types.nullOr lib.types.str;
    default = "minutely";
    example = "*:0/5";
    description = ''
      When `duet-sweep` re-publishes queued jobs nobody picked up (the broker was down at
      commit) and reclaims jobs whose worker was lost (systemd.time(7)). `null` disables it.
    '';
  };

  config = lib.mkIf webCfg.enable {
    users.users.duet-web = units.user "duet web service";

    environment.systemPackages = [ manage ];

    networking.firewall.allowedTCPPorts = lib.optional webCfg.openFirewall webCfg.port;

    systemd.services.duet-web-secret-key = lib.mkIf generatesSecretKey {
      description = "duet: generate Django's secret key on first start";
      serviceConfig = units.hardening // {
        Type = "oneshot";
        RemainAfterExit = true;
        User = "duet-web";
        Group = "duet";
        StateDirectory = "duet-web";
        StateDirectoryMode = "0700";
      };
      script = ''
        key="$STATE_DIRECTORY/django-secret-key"
        if [ ! -s "$key" ]; then
          head -c 48 /dev/urandom | base64 --wrap=0 >"$key.new"
          mv "$key.new" "$key"
        fi
      '';
    };

    # The only unit that migrates, as the migrator role. NixOS restarts it when the package
    # changes (its script names the package), and the web and sweeper, which require it,
    # restart after it: the web never serves a schema it was not built for.
    systemd.services.duet-migrate = {
      description = "duet: migrate the database";
      wantedBy = [ "multi-user.target" ];
      requires = units.databaseUnits ++ secretKeyUnits;
      after = [ "network-online.target" ] ++ units.databaseUnits ++ secretKeyUnits;
      wants = [ "network-online.target" ];
      environment = units.unitEnvironment (
        env "migrator"
        // {
          # migrate grants the worker role its tables (shared_resource/grants.py).
          DUET_WORKER_DB_ROLE = cfg.database.roles.worker;
        }
      );
      serviceConfig = commonServiceConfig // {
        Type = "oneshot";
        RemainAfterExit = true;
        RuntimeDirectory = "duet-migrate";
        LoadCredential = units.unitLines (credentials "migrator");
        ExecStart = "${lib.getExe units.launcher} ${manageBin} migrate --noinput";
        # Long migrations must not be killed half-way (pretix allows 15 min too).
        TimeoutStartSec = "15min";
      };
    };

    systemd.services.duet-web = {
      description = "duet: web service (gunicorn)";
      wantedBy = [ "multi-user.target" ];
      requires = [ "duet-migrate.service" ];
      after = [
        "duet-migrate.service"
        "network-online.target"
      ]
      ++ units.brokerUnits;
      wants = [ "network-online.target" ];
      environment = units.unitEnvironment (
        env "web"
        // {
          DUET_WEB_BIND = "${bindHost}:${toString webCfg.port}";
          WEB_CONCURRENCY = toString webCfg.workers;
        }
      );
      serviceConfig = commonServiceConfig // {
        Type = "exec";
        RuntimeDirectory = "duet-web";
        LoadCredential = units.unitLines (credentials "web");
        ExecStart = "${lib.getExe units.launcher} ${lib.getExe webCfg.package} ${units.escapeSpecifiers webCfg.extraArgs}";
        # Not restarted when gunicorn refuses a schema outside its release's window (exit
        # 78, duet_web/guard.py): restarting cannot fix it; deploy the matching release.
        Restart = "on-failure";
        RestartSec = "5s";
        RestartPreventExitStatus = 78;
      };
    };

    systemd.services.duet-sweep = {
      description = "duet: re-publish stale jobs (sweep_jobs)";
      requires = [ "duet-migrate.service" ];
      after = [ "duet-migrate.service" ] ++ units.brokerUnits;
      environment = units.unitEnvironment (env "web");
      serviceConfig = commonServiceConfig // {
        Type = "oneshot";
        RuntimeDirectory = "duet-sweep";
        LoadCredential = units.unitLines (credentials "web");
        ExecStart = "${lib.getExe units.launcher} ${manageBin} sweep_jobs";
      };
    };

    systemd.timers.duet-sweep = lib.mkIf (cfg.sweep.onCalendar != null) {
      description = "duet: sweep stale jobs";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.sweep.onCalendar;
        AccuracySec = "5s";
      };
    };
  };
}
