# Every option value a configuration has (set or defaulted), read from the evaluated
# `options` tree as the real lib/modules.nix returns it (`isDefined` and `value` on each
# option), so it works with the stub lib and the real one alike. An option nobody defines
# stays unevaluated, as in NixOS. The contract forces the result as JSON.
{ lib }:
configuration:
let
  isOption = value: builtins.isAttrs value && value._type or null == "option";
  defined =
    tree:
    builtins.mapAttrs (_: node: if isOption node then node.value else defined node) (
      lib.filterAttrs (
        _: node: if isOption node then node.isDefined else builtins.isAttrs node
      ) tree
    );
in
removeAttrs (defined configuration.options) [ "_module" ]
