# Option docs as an API (after buildbot-nix's checks/lib.nix, which fails on a missing
# description): every option under services.duet has a type, a description and an example.
# True, or an error naming the first that does not.
{ lib }:
configuration:
let
  undocumented =
    prefix: tree:
    builtins.concatLists (
      lib.mapAttrsToList (
        name: value:
        if value._type or null == "option" then
          lib.optional (
            value.type or null == null
            || value.description or null == null
            || value.example or null == null
          ) "${prefix}.${name}"
        else if builtins.isAttrs value then
          undocumented "${prefix}.${name}" value
        else
          [ ]
      ) tree
    );
  missing =
    if configuration.options ? services && configuration.options.services ? duet then
      undocumented "services.duet" configuration.options.services.duet
    else
      [ ];
in
missing == [ ]
|| throw "contract: option ${builtins.head missing} lacks a type, a description or an example"
