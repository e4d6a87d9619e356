# `nix develop .#web`: the web environment from web/poetry.lock, shared_resource editable.
args@{ pkgs, ... }:
let
  duet = import ../lib/python.nix args;
in
import ../lib/devshell.nix {
  inherit pkgs;
  environment = duet.environment "web";
} { service = "web"; }
