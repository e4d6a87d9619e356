# Both services' closures hold shared-resource at one and the same store path: the
# derivation injected into both poetry2nix package sets, and no second build of it.
{
  flake,
  system,
  pkgs,
  ...
}:
let
  inherit (flake.packages.${system}) shared-resource web worker;
  closure = pkgs.closureInfo {
    rootPaths = [
      web
      worker
    ];
  };
in
# The same derivation in both package sets, checked while evaluating…
assert web.python.pkgs.shared-resource == shared-resource;
assert worker.python.pkgs.shared-resource == shared-resource;
# …and the only shared-resource in the built closures.
pkgs.runCommand "duet-shared-resource-one-path" { } ''
  found=$(grep -E -- '-shared-resource-[^/-]+$' ${closure}/store-paths | sort -u)
  if [ "$found" != "${shared-resource}" ]; then
    echo "expected only ${shared-resource} in the web and worker closures, found:"
    echo "$found"
    exit 1
  fi
  touch $out
''
