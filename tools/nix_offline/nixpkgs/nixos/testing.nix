# pkgs.testers.runNixOSTest, reduced (F nixos/lib/testing/*.nix): the test
# module is evaluated against the test framework's top-level options that duet sets (any
# other is an error), each node against the stock options of ./options.nix plus its own modules, with
# `nodes` and the test network of nixos/lib/testing/network.nix (below). The
# result is a derivation whose drvPath forces every node's configuration and the rendered
# testScript; `.config.testScriptString` and `.config.nodes` are there as in the real one, for
# the offline lint and type check of the script (tools/nix_offline/nixcheck.py). Every option under
# services.duet must have a type, a description and an example (buildbot-nix's
# checks/lib.nix fails on a missing description; duet asks for all three).
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
        testScript = mkOption {
          type = types.either types.str (types.functionTo types.str);
          description = "The Python test script.";
        };
        skipLint = opt types.bool false;
        skipTypeCheck = opt types.bool false;
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

  # nixos/lib/testing/network.nix (F, NixOS/nixpkgs@003d5816; IPv6 since pull request
  # 319308, June 2024, so in 25.05): node n (1-based, in attribute-name order) gets, on the
  # interface of each of its vlans, 192.168.<vlan>.<n>/24 and 2001:db8:<vlan>::<n>/64; the
  # first interface's are its primary addresses, and every node's /etc/hosts (extraHosts)
  # lists each node's IPv4 line, then its IPv6 line, for the same names.
  networkModule =
    index: name:
    { config, ... }:
    let
      number = toString (index + 1);
      interfaces = builtins.genList (
        i:
        let
          vlan = toString (builtins.elemAt config.virtualisation.vlans i);
        in
        lib.nameValuePair "eth${toString (i + 1)}" {
          ipv4.addresses = [
            {
              address = "192.168.${vlan}.${number}";
              prefixLength = 24;
            }
          ];
          ipv6.addresses = [
            {
              address = "2001:db8:${vlan}::${number}";
              prefixLength = 64;
            }
          ];
        }
      ) (builtins.length config.virtualisation.vlans);
      primary =
        family:
        lib.optionalString (interfaces != [ ])
          (builtins.head (builtins.head interfaces).value.${family}.addresses).address;
      hostLines =
        node:
        let
          net = node.networking;
          names =
            lib.optionalString (net.domain != null) "${net.hostName}.${net.domain} "
            + "${net.hostName}\n";
        in
        lib.optionalString (net.primaryIPAddress != "") "${net.primaryIPAddress} ${names}"
        + lib.optionalString (net.primaryIPv6Address != "") "${net.primaryIPv6Address} ${names}";
    in
    {
      networking.hostName = lib.mkDefault name;
      networking.interfaces = builtins.listToAttrs interfaces;
      networking.primaryIPAddress = primary "ipv4";
      networking.primaryIPv6Address = primary "ipv6";
      networking.extraHosts = lib.concatMapStrings (node: hostLines nodes.${node}) nodeNames;
    };

  evalNode =
    index: name:
    lib.evalModules {
      modules = [
        (import ./options.nix { inherit pkgs; })
        (networkModule index name)
        cfg.defaults
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
