# A service's dev shell: its own locked environment (dev group included), Poetry, psql and
# redis-cli, and shared_resource editable from the checkout.
service:
args@{ pkgs, ... }:
pkgs.mkShell {
  name = "duet-${service}";
  packages = [
    ((import ./python.nix args).environment service)
    pkgs.git
    pkgs.poetry
    # psql
    pkgs.postgresql
    # redis-cli
    pkgs.redis
  ];
  # The checkout's shared_resource and service come before their store copies on sys.path,
  # so edits take effect without rebuilding. (editablePackageSources would point at a store
  # copy under flakes: poetry2nix #425.)
  shellHook = ''
    repo=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
    export PYTHONPATH="$repo/shared_resource:$repo/${service}''${PYTHONPATH:+:$PYTHONPATH}"
    export DUET_ENV=development
    echo "duet ${service} shell: python, pytest, ruff, poetry, psql, redis-cli."
    echo "Locks stay Poetry 1.8 files: refresh them with ./dev lock, not this shell's poetry."
  '';
}
