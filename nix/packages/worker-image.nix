# The worker as an OCI image: `nix build .#worker-image && docker load < result`.
{
  flake,
  system,
  pkgs,
  ...
}:
let
  inherit (flake.packages.${system}) worker;
in
import ../lib/image.nix { inherit pkgs; } {
  name = "duet-worker";
  package = worker;
  command = [
    (pkgs.lib.getExe worker)
    "--loglevel"
    "INFO"
  ];
  # Liveness from the worker's heartbeat file, not `celery inspect ping`, which SQS cannot
  # answer (duet_worker/celery.py, Heartbeat).
  env = [ "DUET_WORKER_HEARTBEAT_FILE=/tmp/duet-worker.heartbeat" ];
  health = {
    program = "duet-worker-health";
    interval = 30;
    startPeriod = 60;
  };
}
