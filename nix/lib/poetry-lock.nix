# The poetry.lock poetry2nix reads: the service's own lock, minus the wheel files that the
# pinned poetry2nix cannot parse, written back as TOML at evaluation time. Not an output.
#
# Why: poetry2nix ce2369db parses the name of *every* wheel a package lists, whatever
# `preferWheels` says, with the pyproject.nix it vendors, and that parser fails on names
# current wheels carry (the upstream bug, unfixed in the pin: nix-community/poetry2nix pull
# request 1925, "update vendored pyproject.nix", never merged; poetry2nix is archived):
#   - manylinux riscv64 platform tags: `attribute 'riscv64' missing` (pep600.nix);
#   - GraalPy ABI tags such as `graalpy250_312_native`: `assert m != null` (pypa.nix);
#   - compound ABI tags such as `abi3.abi3t`: the same assertion.
# The locks stay exactly as Poetry writes them; this copy keeps every sdist and every wheel
# whose python and ABI tags that parser reads and whose platform the flake builds (`any`,
# or manylinux for x86_64 or aarch64), so poetry2nix chooses the same file as it would from
# the whole lock with a fixed parser. Wheels for other platforms (macOS, Windows, musl,
# riscv64, ...) and interpreters (GraalPy) are never chosen here anyway.
#
# Limits: a future wheel name the pinned parser rejects in another way fails evaluation
# again (the offline check's stub follows the same rules, so `./dev test` shows it first);
# `builtins.toFile` makes the copy, and Nix before 2.14 refuses to read such a file in pure
# evaluation (newer Nix adds it to the allowed paths), so on old Nix evaluate with --impure.
{ lib }:
let
  inherit (builtins)
    all
    attrNames
    concatStringsSep
    elemAt
    filter
    isAttrs
    isBool
    isInt
    isList
    isString
    match
    split
    toJSON
    ;

  dotted = tags: filter isString (split "\\." tags);

  # pyproject.nix's wheel file name pattern (vendor/pyproject.nix/lib/pypa.nix at the pin).
  wheelParts = match "([^-]+)-([^-]+)(-([[:digit:]][^-]*))?-([^-]+)-([^-]+)-(.+)\\.whl";

  # The tag patterns its parsePythonTag and parseABITag assert on.
  pythonTagOk = tag: match "[a-z]+[0-9]*" tag != null;
  abiTagOk = tag: match "[a-z]+[0-9]*_?[a-z0-9]*" tag != null;
  platformOk =
    tag:
    tag == "any" || match "manylinux(1|2010|2014|_[0-9]+_[0-9]+)_(x86_64|aarch64)" tag != null;

  keepFile =
    file:
    let
      parts = wheelParts file;
    in
    if lib.hasSuffix ".whl" file then
      parts != null
      && all pythonTagOk (dotted (elemAt parts 4))
      && abiTagOk (elemAt parts 5)
      && all platformOk (dotted (elemAt parts 6))
    else
      true;

  filterPackage =
    package:
    package // lib.optionalAttrs (package ? files) { files = filter (f: keepFile f.file) package.files; };

  # TOML for what poetry.lock holds (strings, booleans, integers, arrays, tables): every
  # table inline, every key quoted, strings as JSON strings (a subset of TOML's).
  value =
    v:
    if isString v || isBool v || isInt v then
      toJSON v
    else if isList v then
      "[${concatStringsSep ", " (map value v)}]"
    else if isAttrs v then
      "{${concatStringsSep ", " (map (k: "${toJSON k} = ${value v.${k}}") (attrNames v))}}"
    else
      throw "poetry-lock.nix: no TOML for a ${builtins.typeOf v}";
  toTOML = doc: concatStringsSep "" (map (k: "${toJSON k} = ${value doc.${k}}\n") (attrNames doc));
in
{
  inherit keepFile toTOML;

  # The filtered copy of the lock at `path`, as a file in the store.
  filtered =
    path:
    let
      lock = lib.importTOML path;
    in
    builtins.toFile "poetry.lock" (toTOML (lock // { package = map filterPackage lock.package; }));
}
