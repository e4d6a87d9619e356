# duet-web: the DRF service from web/poetry.lock, with the `duet-web` (gunicorn) and
# `duet-manage` console scripts.
args@{ pkgs, ... }:
let
  inherit (pkgs) lib;
  duet = import ../lib/python.nix args;
  root = ../../web;
in
duet.application {
  service = "web";
  mainProgram = "duet-web";
  # The service's own sources and lock; shared_resource arrives as its own derivation.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/pyproject.toml")
      (root + "/poetry.lock")
      (root + "/manage.py")
      (root + "/duet_web")
      (root + "/documents")
      (root + "/api_tokens")
    ];
  };
}
