# The stock NixOS options duet's modules and VM test set or read, declared with their 25.05
# types and defaults so that a misspelt or non-existent option is an error, as in NixOS.
# Checked against (F): nixos/lib/systemd-unit-options.nix,
# nixos/modules/config/users-groups.nix, config/system-path.nix, services/networking/
# firewall{,-iptables}.nix, services/databases/{postgresql,redis}.nix,
# virtualisation/qemu-vm.nix, and nixos/lib/testing/network.nix for the test network.
# serviceConfig is free-form there (unitOption); here its keys are also checked against the
# systemd.exec/service/unit directives duet uses, a stricter check than NixOS makes.
{ pkgs }:
{ lib, ... }:
let
  inherit (lib) mkOption types;

  opt =
    type: default:
    mkOption {
      inherit type default;
      description = "stub";
    };
  optNoDefault =
    type:
    mkOption {
      inherit type;
      description = "stub";
    };

  # The directives duet's units use, from systemd.exec(5), systemd.service(5), systemd.kill(5).
  serviceDirectives = [
    "AccuracySec"
    "CapabilityBoundingSet"
    "DevicePolicy"
    "Environment"
    "EnvironmentFile"
    "ExecStart"
    "Group"
    "KillMode"
    "LoadCredential"
    "LockPersonality"
    "MemoryDenyWriteExecute"
    "NoNewPrivileges"
    "PrivateDevices"
    "PrivateMounts"
    "PrivateTmp"
    "PrivateUsers"
    "ProcSubset"
    "ProtectClock"
    "ProtectControlGroups"
    "ProtectHome"
    "ProtectHostname"
    "ProtectKernelLogs"
    "ProtectKernelModules"
    "ProtectKernelTunables"
    "ProtectProc"
    "ProtectSystem"
    "RemainAfterExit"
    "RemoveIPC"
    "Restart"
    "RestartPreventExitStatus"
    "RestartSec"
    "RestrictAddressFamilies"
    "RestrictNamespaces"
    "RestrictRealtime"
    "RestrictSUIDSGID"
    "RuntimeDirectory"
    "RuntimeDirectoryMode"
    "StateDirectory"
    "StateDirectoryMode"
    "SupplementaryGroups"
    "SystemCallArchitectures"
    "SystemCallFilter"
    "TimeoutStartSec"
    "TimeoutStopSec"
    "Type"
    "UMask"
    "User"
  ];
  timerDirectives = [
    "AccuracySec"
    "OnCalendar"
  ];

  # NixOS writes environment and serviceConfig values into the unit file as given
  # (systemd-lib.nix: `Environment=` via toJSON, the rest via attrsToSection), and systemd
  # expands `%` specifiers in them (systemd.unit(5)). duet means none: every `%` that
  # reaches a unit must be written `%%`. A stricter check than NixOS makes.
  specifierFree =
    value:
    !(builtins.isString value)
    || builtins.match ".*%.*" (builtins.replaceStrings [ "%%" ] [ "" ] value) == null
    || throw (
      "contract: `${value}' would reach a unit file with a bare `%', which systemd expands"
      + " as a specifier; write `%%' (tools/nix_offline/nixpkgs/nixos/options.nix)"
    );

  # A string in a unit file.
  unitString = lib.mkOptionType {
    name = "str";
    check = value: builtins.isString value && specifierFree value;
    merge = lib.mergeEqualOption;
  };

  # systemd-unit-options.nix: unitOption merges lists by concatenation, scalars by equality.
  unitOption = lib.mkOptionType {
    name = "systemd option";
    check = x: builtins.isString x || builtins.isBool x || builtins.isInt x || builtins.isList x || builtins.isPath x || lib.isDerivation x;
    merge =
      loc: defs:
      if builtins.any (def: builtins.isList def.value) defs then
        builtins.concatMap (def: lib.toList def.value) defs
      else
        lib.mergeEqualOption loc defs;
  };
  directives =
    allowedKeys:
    lib.mkOptionType {
        name = "systemd directives";
        description = "systemd directives (${builtins.concatStringsSep ", " allowedKeys})";
        check =
          x:
          builtins.isAttrs x
          && builtins.all (
            key:
            builtins.elem key allowedKeys
            || throw "contract: `${key}' is not a systemd directive duet is known to use (tools/nix_offline/nixpkgs/nixos/options.nix)"
          ) (builtins.attrNames x)
          && builtins.all (value: builtins.all specifierFree (lib.toList value)) (
            builtins.attrValues x
          );
      merge = (types.attrsOf unitOption).merge;
    };

  unitOptions = {
    enable = opt types.bool true;
    description = opt types.str "";
    wantedBy = opt (types.listOf types.str) [ ];
    requires = opt (types.listOf types.str) [ ];
    wants = opt (types.listOf types.str) [ ];
    after = opt (types.listOf types.str) [ ];
    before = opt (types.listOf types.str) [ ];
  };

  serviceOptions = unitOptions // {
    environment = opt (types.attrsOf (
      types.nullOr (
        types.oneOf [
          unitString
          types.path
          types.package
        ]
      )
    )) { };
    path = opt (types.listOf (types.oneOf [ types.package types.str ])) [ ];
    serviceConfig = opt (directives serviceDirectives) { };
    script = opt types.lines "";
  };

  redisServer = types.submodule (
    { name, config, ... }:
    {
      options = {
        enable = opt types.bool false;
        user = opt types.str (if name == "" then "redis" else "redis-${name}");
        group = opt types.str config.user;
        port = opt types.port (if name == "" then 6379 else 0);
        openFirewall = opt types.bool false;
        bind = opt (types.nullOr types.str) "127.0.0.1";
        unixSocket = opt (types.nullOr types.path) "/run/redis-${name}/redis.sock";
        unixSocketPerm = opt types.int 660;
        requirePassFile = opt (types.nullOr types.path) null;
        settings = opt (types.attrsOf types.unspecified) { };
      };
    }
  );
in
{
  options = {
    environment.systemPackages = opt (types.listOf types.package) [ ];

    users.users = opt (types.attrsOf (
      types.submodule {
        options = {
          isSystemUser = opt types.bool false;
          group = opt types.str "";
          description = opt types.str "";
        };
      }
    )) { };
    users.groups = opt (types.attrsOf (types.submodule { })) { };

    networking = {
      hostName = opt types.str "nixos";
      domain = opt (types.nullOr types.str) null;
      # qemu-vm.nix (internal): the addresses the test network puts in /etc/hosts.
      primaryIPAddress = opt types.str "";
      primaryIPv6Address = opt types.str "";
      extraHosts = opt types.lines "";
      interfaces = opt (types.attrsOf (
        types.submodule {
          options = lib.genAttrs [ "ipv4" "ipv6" ] (_: {
            addresses = opt (types.listOf (
              types.submodule {
                options = {
                  address = optNoDefault types.str;
                  prefixLength = optNoDefault types.int;
                };
              }
            )) [ ];
          });
        }
      )) { };
      firewall = {
        enable = opt types.bool true;
        allowedTCPPorts = opt (types.listOf types.port) [ ];
        extraCommands = opt types.lines "";
      };
    };

    systemd = {
      package = opt types.package pkgs.systemd;
      services = opt (types.attrsOf (types.submodule { options = serviceOptions; })) { };
      timers = opt (types.attrsOf (
        types.submodule {
          options = unitOptions // {
            timerConfig = opt (directives timerDirectives) { };
          };
        }
      )) { };
    };

    services.postgresql = {
      enable = opt types.bool false;
      # 25.05: 16 for system.stateVersion >= 24.11.
      package = opt types.package pkgs.postgresql_16;
      enableTCPIP = opt types.bool false;
      authentication = opt types.lines "";
      identMap = opt types.lines "";
      settings = opt (types.attrsOf types.unspecified) { };
    };

    services.redis = {
      package = opt types.package pkgs.redis;
      servers = opt (types.attrsOf redisServer) { };
    };

    virtualisation = {
      memorySize = opt types.ints.positive 1024;
      vlans = opt (types.listOf types.ints.unsigned) [ 1 ];
    };
  };
}
