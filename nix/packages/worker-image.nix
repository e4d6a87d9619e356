# The worker as an OCI image: `nix build .#worker-image && docker load < result`.
{
  flake,
  system,
  pkgs,
  ...
}:
let
  inherit (flake.packages.${system}) worker;
in
import ../lib/image.nix { inherit pkgs; } {
  name = "duet-worker";
  package = worker;
  command = [
    (pkgs.lib.getExe worker)
    "--loglevel"
    "INFO"
  ];
}
