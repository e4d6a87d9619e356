# duet-worker: the Celery worker from worker/poetry.lock, with the `duet-worker` script
# (`celery --app duet_worker worker ...`).
args@{ pkgs, ... }:
let
  inherit (pkgs) lib;
  duet = import ../lib/python.nix args;
  root = ../../worker;
in
duet.application {
  service = "worker";
  mainProgram = "duet-worker";
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/pyproject.toml")
      (root + "/poetry.lock")
      (root + "/duet_worker")
      (root + "/summaries")
    ];
  };
}
