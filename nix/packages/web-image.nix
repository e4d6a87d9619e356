# The web as an OCI image: `nix build .#web-image && docker load < result`. It serves on
# 0.0.0.0:8000 with the static files collected at build time; the sweeper runs from the same
# image as `duet-manage sweep_jobs --interval 60`.
{
  flake,
  system,
  pkgs,
  ...
}:
let
  inherit (flake.packages.${system}) web web-static;
in
import ../lib/image.nix { inherit pkgs; } {
  name = "duet-web";
  package = web;
  command = [ (pkgs.lib.getExe web) ];
  env = [
    "DUET_WEB_BIND=0.0.0.0:8000"
    "DJANGO_STATIC_ROOT=${web-static}"
  ];
  ports = {
    "8000/tcp" = { };
  };
  # GET /api/health/ on the bound port (no curl in the image: duet_web/cli.py, health).
  health = {
    program = "duet-web-health";
    interval = 10;
    startPeriod = 20;
  };
}
