# `nix develop`: what the native harness (`./dev`) and the Nix files need. Each service's own
# environment is in `nix develop .#web` and `nix develop .#worker`.
{ pkgs, ... }:
pkgs.mkShell {
  name = "duet";
  packages = [
    pkgs.git
    pkgs.python3
    pkgs.postgresql
    pkgs.redis
    pkgs.nixfmt-rfc-style
  ];
}
