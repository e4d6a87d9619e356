# The web suite in the build sandbox, in the web environment from web/poetry.lock.
args@{ pkgs, ... }:
let
  inherit (pkgs) lib;
  duet = import ../lib/python.nix args;
  root = ../../web;
in
import ../lib/pytest-check.nix { inherit pkgs; } {
  name = "duet-web-tests";
  environment = duet.environment "web";
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/pyproject.toml")
      (root + "/manage.py")
      (root + "/duet_web")
      (root + "/documents")
      (root + "/api_tokens")
      (root + "/tests")
    ];
  };
}
