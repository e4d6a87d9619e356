# `nix build` and `nix run` without a name: the web service.
{ flake, system, ... }: flake.packages.${system}.web
