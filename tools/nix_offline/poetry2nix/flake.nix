# Offline stand-in for nix-community/poetry2nix at ce2369db (see ../README.md): the flake's
# `lib.mkPoetry2Nix = { pkgs }: ...` (flake.nix at ce2369db), nothing else duet uses.
{
  description = "duet contract stub of poetry2nix ce2369db";

  # As in the real flake; duet's flake.nix makes it follow its own nixpkgs.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    {
      lib.mkPoetry2Nix = { pkgs }: import ./default.nix { inherit pkgs; };
    };
}
