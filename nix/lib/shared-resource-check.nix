# The shared_resource suite in one service's environment (the compatibility matrix): the
# installed shared-resource derivation with that service's locked Django. Not an output:
# nix/checks/shared-resource-in-{web,worker}.nix apply it.
service:
args@{
  flake,
  system,
  pkgs,
  ...
}:
let
  inherit (pkgs) lib;
  duet = import ../lib/python.nix args;
  shared = flake.packages.${system}.shared-resource;
  root = ../../shared_resource;
in
import ../lib/pytest-check.nix { inherit pkgs; } {
  name = "duet-shared-resource-in-${service}";
  environment = duet.environment service;
  # The tests and their pytest settings, not the package: it must be imported from the
  # store, where both environments find the same derivation.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/pyproject.toml")
      (root + "/tests")
    ];
  };
  preCheck = ''
    # The environment links to the package's files: resolve the link to see whose they are.
    python - <<'PY'
    import os
    import shared_resource
    location = os.path.realpath(shared_resource.__file__)
    assert location.startswith("${shared}/"), f"shared_resource imported from {location}"
    PY
  '';
}
