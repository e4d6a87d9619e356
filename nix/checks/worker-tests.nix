# The worker suite in the build sandbox, in the worker environment from worker/poetry.lock.
args@{ pkgs, ... }:
let
  inherit (pkgs) lib;
  duet = import ../lib/python.nix args;
  root = ../..;
in
import ../lib/pytest-check.nix { inherit pkgs; } {
  name = "duet-worker-tests";
  environment = duet.environment "worker";
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/worker/pyproject.toml")
      (root + "/worker/duet_worker")
      (root + "/worker/summaries")
      (root + "/worker/tests")
    ];
  };
  directory = "worker";
}
