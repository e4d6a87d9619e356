# shared_resource, built once: the one store path both services' closures hold
# (docs/nix.md; nix/checks/shared-resource-one-path.nix proves it).
args@{ pkgs, ... }:
let
  inherit (pkgs) lib;
  # The interpreter of both package sets this is injected into.
  inherit (import ../lib/python.nix args) python;
  root = ../../shared_resource;
  pyproject = lib.importTOML (root + "/pyproject.toml");
in
python.pkgs.buildPythonPackage {
  pname = pyproject.tool.poetry.name;
  inherit (pyproject.tool.poetry) version;
  pyproject = true;

  # Only what the wheel is made of, so test or harness edits don't rebuild it.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/pyproject.toml")
      (root + "/README.md")
      (root + "/shared_resource")
    ];
  };

  build-system = [ python.pkgs.poetry-core ];

  # No dependencies on purpose: Django comes from each service's own lock. The wheel still
  # declares the Django range, which nixpkgs' runtime-deps check would find missing here.
  dependencies = [ ];
  dontCheckRuntimeDeps = true;
  # Importing the models needs Django and settings, so the import is checked in each
  # service's environment instead (nix/checks/shared-resource-in-*.nix).
  doCheck = false;

  meta = {
    description = pyproject.tool.poetry.description;
    license = lib.licenses.mit;
  };
}
