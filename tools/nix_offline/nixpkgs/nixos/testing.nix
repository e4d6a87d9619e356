# pkgs.testers.runNixOSTest, reduced (F nixos/lib/testing/*.nix; what it checks is in
# ../../README.md). Its drvPath forces every node's configuration and the rendered
# testScript; `.config.testScriptString` and `.config.nodes` are there as in the real one,
# and every services.duet option is documented (./option-docs.nix).
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
      };
    };

  framework = lib.evalModules {
    modules = [
      frameworkOptions
      testModule
      {
        _module.args = { inherit pkgs nodes; };
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

  documented = name: import ./option-docs.nix { inherit lib; } evaluated.${name};

  # Everything a node defines, as JSON: units, users, firewall, services.
  nodeJSON =
    name: builtins.toJSON (import ./defined-config.nix { inherit lib; } evaluated.${name});

  test =
    assert builtins.all documented nodeNames;
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
