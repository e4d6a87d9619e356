# duet's nixosModules evaluated on their own, on both systems, beyond what the VM test sets:
# PostgreSQL and Redis on the same host (peer authentication, the Redis socket), a given
# secret key file, the openai provider with its key file. Each configuration is forced as
# JSON, every unit and derivation in it included, and returned as that JSON (upstream mode
# compares it with the stubs'). Used by tools/nix_offline/nixcheck.py:
#   nix eval --impure --json <flake>#nixosModules --apply 'import tools/nix_offline/nixos-modules.nix <contract dir>'
contract: modules:
let
  lib = import (contract + "/nixpkgs/lib");
  systems = [
    "x86_64-linux"
    "aarch64-linux"
  ];

  settings = {
    web = {
      services.duet = {
        web = {
          enable = true;
          allowedHosts = [ "duet.example.org" ];
          # A `%` reaches ExecStart= and Environment= escaped (units.nix, escapeSpecifiers).
          extraArgs = [
            "--timeout"
            "60"
            "--access-logformat"
            "%(h)s %(r)s %(s)s"
          ];
          credentials.CACHE_URL = "/run/secrets/cache-url";
        };
        database.createLocally = true;
        broker.createLocally = true;
        sweep.onCalendar = "*:0/5";
      };
    };
    worker = {
      services.duet = {
        worker = {
          enable = true;
          provider = "openai";
          openaiApiKeyFile = "/run/secrets/openai";
          settings.OPENAI_BASE_URL = "http://llm.internal:8000/%7Eteam/v1";
        };
        database.createLocally = true;
        broker.createLocally = true;
      };
    };
    default = {
      services.duet = {
        web = {
          enable = true;
          allowedHosts = [ "duet.example.org" ];
          secretKeyFile = "/run/secrets/django-secret-key";
          # A URL-encoded value: its `%` reaches Environment= as `%%`.
          settings.CACHE_URL = "redis://cache.internal:6379/1?key_prefix=duet%3Aweb";
        };
        worker.enable = true;
        database = {
          host = "db.internal";
          passwordFiles = {
            migrator = "/run/secrets/migrator";
            web = "/run/secrets/web";
            worker = "/run/secrets/worker";
          };
        };
        environmentFile = "/run/secrets/duet.env";
        sweep.onCalendar = null;
      };
    };
  };

  evaluate =
    system: name:
    let
      pkgs = import (contract + "/nixpkgs/pkgs") { inherit lib system; };
      configuration = lib.evalModules {
        modules = [
          (import (contract + "/nixpkgs/nixos/options.nix") { inherit pkgs; })
          modules.${name}
          settings.${name}
          {
            _module.args = {
              inherit pkgs;
              name = "host";
              nodes = { };
            };
          }
        ];
        specialArgs.modulesPath = "/nixos/modules";
      };
      json = builtins.toJSON (import (contract + "/nixpkgs/nixos/defined-config.nix") { inherit lib; } configuration);
    in
    assert import (contract + "/nixpkgs/nixos/option-docs.nix") { inherit lib; } configuration;
    builtins.unsafeDiscardStringContext json;
in
lib.genAttrs (builtins.attrNames modules) (
  name: lib.genAttrs systems (system: evaluate system name)
)
