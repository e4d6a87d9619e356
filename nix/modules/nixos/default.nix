# Both services on one host: `imports = [ duet.nixosModules.default ];`.
{ flake }:
{ lib, ... }:
{
  imports = [
    (lib.modules.importApply ./web.nix { inherit flake; })
    (lib.modules.importApply ./worker.nix { inherit flake; })
  ];
}
