# The web's static files (DRF's browsable API, Swagger UI and ReDoc from
# drf-spectacular-sidecar), collected at build time: collectstatic needs no database, and
# the values below are placeholders, not secrets.
{
  flake,
  system,
  pkgs,
  ...
}:
let
  inherit (flake.packages.${system}) web;
in
pkgs.runCommand "duet-web-static-${web.version}"
  {
    nativeBuildInputs = [ web ];
    env = {
      DUET_ENV = "production";
      DJANGO_SECRET_KEY = "build-only";
      DJANGO_ALLOWED_HOSTS = "localhost";
    };
  }
  ''
    DJANGO_STATIC_ROOT=$out duet-manage collectstatic --noinput
  ''
