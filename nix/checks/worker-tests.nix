# The worker suite in the build sandbox, in the worker environment from worker/poetry.lock.
args@{ pkgs, ... }:
let
  inherit (pkgs) lib;
  duet = import ../lib/python.nix args;
  root = ../../worker;
in
import ../lib/pytest-check.nix { inherit pkgs; } {
  name = "duet-worker-tests";
  environment = duet.environment "worker";
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/pyproject.toml")
      (root + "/duet_worker")
      (root + "/summaries")
      (root + "/tests")
    ];
  };
}
