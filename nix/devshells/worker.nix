# `nix develop .#worker`: the worker environment from worker/poetry.lock, shared_resource editable.
args@{ pkgs, ... }:
let
  duet = import ../lib/python.nix args;
in
import ../lib/devshell.nix {
  inherit pkgs;
  environment = duet.environment "worker";
} { service = "worker"; }
