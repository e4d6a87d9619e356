# Formatting and lint: nixfmt on every .nix file, ruff (rules and format) on the Python.
args@{ pkgs, ... }:
let
  inherit (pkgs) lib;
  duet = import ../lib/python.nix args;
  root = ../..;
in
pkgs.runCommand "duet-formatting"
  {
    nativeBuildInputs = [
      pkgs.nixfmt-rfc-style
      # ruff, at the version web/poetry.lock pins.
      (duet.environment "web")
    ];
    src = lib.fileset.toSource {
      inherit root;
      fileset = lib.fileset.unions [
        (lib.fileset.fileFilter (file: file.hasExt "nix" || file.hasExt "py") root)
        (lib.fileset.fileFilter (
          file:
          lib.elem file.name [
            "pyproject.toml"
            "ruff.toml"
          ]
        ) root)
      ];
    };
  }
  ''
    cd $src
    find . -name '*.nix' -exec nixfmt --check {} +
    ruff check --no-cache .
    ruff format --no-cache --check .
    touch $out
  ''
