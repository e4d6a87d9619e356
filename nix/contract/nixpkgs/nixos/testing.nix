# pkgs.testers.runNixOSTest, reduced (nix-api.md §4; F nixos/lib/testing/*.nix): the test
# module is evaluated against the test framework's top-level options (an unknown one is an
# error), each node against the stock options of ./options.nix plus its own modules, with
# `nodes` and the test network (192.168.1.<n>) as in nixos/lib/testing/network.nix. The
# result is a derivation whose drvPath forces every node's configuration and the rendered
# testScript; `.config.testScriptString` and `.config.nodes` are there as in the real one, for
# the offline lint and type check of the script (e2e/harness/nixcheck.py). Every option under
# services.duet must have a type, a description and an example (buildbot-nix's
# checks/lib.nix fails on a missing description; STYLE.md rule 4 asks for all three).
{ lib, pkgs }:
testModule:
let
  inherit (lib) mkOption types;

  opt =
    type: default:
    mkOption {
      inherit type default;
      description = "stub";
    };

  frameworkOptions =
    { config, ... }:
    {
      options = {
        name = mkOption {
          type = types.str;
          description = "The test's name.";
        };
        nodes = opt (types.lazyAttrsOf types.deferredModule) { };
        defaults = opt types.deferredModule { };
        extraBaseModules = opt types.deferredModule { };
        node = {
          specialArgs = opt (types.lazyAttrsOf types.raw) { };
          pkgs = opt (types.nullOr types.raw) null;
          pkgsReadOnly = opt types.bool true;
        };
        testScript = mkOption {
          type = types.either types.str (types.functionTo types.str);
          description = "The Python test script.";
        };
        hostPkgs = opt types.raw pkgs;
        qemu.package = opt types.raw null;
        globalTimeout = opt types.int 3600;
        enableOCR = opt types.bool false;
        extraPythonPackages = opt (types.functionTo (types.listOf types.package)) (_: [ ]);
        extraDriverArgs = opt (types.listOf types.str) [ ];
        skipLint = opt types.bool false;
        skipTypeCheck = opt types.bool false;
        meta = {
          maintainers = opt (types.listOf types.raw) [ ];
          timeout = opt (types.nullOr types.int) 3600;
          broken = opt types.bool false;
          platforms = opt (types.listOf types.str) lib.platforms.linux;
          hydraPlatforms = opt (types.listOf types.str) [ ];
        };
        passthru = opt (types.lazyAttrsOf types.raw) { };
      };
    };

  framework = lib.evalModules {
    modules = [
      frameworkOptions
      testModule
      {
        _module.args = {
          hostPkgs = pkgs;
          inherit pkgs nodes;
        };
      }
    ];
  };
  cfg = framework.config;

  nodeNames = builtins.attrNames cfg.nodes;

  evalNode =
    index: name:
    lib.evalModules {
      modules = [
        (import ./options.nix { inherit pkgs; })
        {
          networking.hostName = name;
          networking.primaryIPAddress = "192.168.1.${toString (index + 1)}";
        }
        cfg.defaults
        cfg.extraBaseModules
        cfg.nodes.${name}
        { _module.args = { inherit pkgs nodes name; }; }
      ];
      specialArgs.modulesPath = "/nixos/modules";
    };

  evaluated = builtins.listToAttrs (
    builtins.genList (
      index:
      let
        name = builtins.elemAt nodeNames index;
      in
      lib.nameValuePair name (evalNode index name)
    ) (builtins.length nodeNames)
  );
  nodes = builtins.mapAttrs (_: node: node.config) evaluated;

  testScriptString =
    if builtins.isFunction cfg.testScript then cfg.testScript { inherit nodes; } else cfg.testScript;

  missingDocs = lib.unique (
    builtins.concatMap (name: import ./option-docs.nix { inherit lib; } evaluated.${name}) nodeNames
  );

  # Everything a node defines, as JSON: units, users, firewall, services.
  nodeJSON =
    name: builtins.toJSON (import ./defined-config.nix { inherit lib; } evaluated.${name});

  test =
    assert
      missingDocs == [ ]
      || throw "contract: option ${builtins.head missingDocs} lacks a type, a description or an example";
    pkgs.runCommand "vm-test-run-${cfg.name}"
      {
        contractNodes = lib.genAttrs nodeNames nodeJSON;
        contractTestScript = testScriptString;
        requiredSystemFeatures = [
          "kvm"
          "nixos-test"
        ];
        passthru = {
          config = cfg // {
            inherit testScriptString;
            nodes = nodes;
          };
          inherit nodes;
          driver = throw "contract: the test driver is not stubbed";
        };
      }
      "run the test";
in
test
