# The subset of nixpkgs' lib that duet uses, with the pinned semantics. Checked against
# nixpkgs lib/ at the 25.05 branch point (nix-community/nixpkgs.lib 07aef7aa, the parent of
# 241474b1 "25.11 is Xantusia"): attrsets.nix, strings.nix, lists.nix, trivial.nix,
# fixed-points.nix, customisation.nix, meta.nix, licenses.nix, fileset/default.nix and
# modules.nix/options.nix/types.nix (in ./modules.nix). Anything missing here is missing
# on purpose: calling it fails the contract evaluation, so add it only after reading the
# pinned file.
let
  inherit (builtins)
    attrNames
    elem
    filter
    foldl'
    isAttrs
    isFunction
    isList
    length
    listToAttrs
    substring
    stringLength
    ;

  # lib/attrsets.nix
  nameValuePair = name: value: { inherit name value; };
  mapAttrs' = f: set: listToAttrs (map (attr: f attr set.${attr}) (attrNames set));
  mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (attrNames attrs);
  filterAttrs =
    pred: set: removeAttrs set (filter (name: !pred name set.${name}) (attrNames set));
  genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);
  optionalAttrs = cond: as: if cond then as else { };
  attrByPath =
    attrPath: default: set:
    if attrPath == [ ] then
      set
    else if isAttrs set && set ? ${builtins.head attrPath} then
      attrByPath (builtins.tail attrPath) default set.${builtins.head attrPath}
    else
      default;
  isDerivation = value: value.type or null == "derivation";

  # lib/lists.nix
  foldr =
    op: nul: list:
    let
      len = length list;
      fold' = n: if n == len then nul else op (builtins.elemAt list n) (fold' (n + 1));
    in
    fold' 0;
  optional = cond: elem: if cond then [ elem ] else [ ];
  optionals = cond: elems: if cond then elems else [ ];
  toList = x: if isList x then x else [ x ];
  concatLists = builtins.concatLists;
  unique = foldl' (acc: e: if elem e acc then acc else acc ++ [ e ]) [ ];
  last = list: builtins.elemAt list (length list - 1);

  # lib/strings.nix
  hasPrefix = pref: str: substring 0 (stringLength pref) str == pref;
  hasSuffix =
    suffix: content:
    let
      lenContent = stringLength content;
      lenSuffix = stringLength suffix;
    in
    lenContent >= lenSuffix && substring (lenContent - lenSuffix) lenContent content == suffix;
  removeSuffix =
    suffix: str:
    if hasSuffix suffix str then substring 0 (stringLength str - stringLength suffix) str else str;
  concatStringsSep = builtins.concatStringsSep;
  concatMapStrings = f: list: builtins.concatStringsSep "" (map f list);
  concatMapStringsSep = sep: f: list: builtins.concatStringsSep sep (map f list);
  optionalString = cond: string: if cond then string else "";
  escapeShellArg =
    arg:
    let
      string = toString arg;
    in
    if builtins.match "[[:alnum:],._+:@%/-]+" string == null then
      "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] string}'"
    else
      string;
  escapeShellArgs = concatMapStringsSep " " escapeShellArg;
  boolToString = b: if b then "true" else "false";
  toLower = builtins.replaceStrings upperChars lowerChars;
  upperChars = builtins.genList (i: builtins.substring i 1 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") 26;
  lowerChars = builtins.genList (i: builtins.substring i 1 "abcdefghijklmnopqrstuvwxyz") 26;

  # lib/trivial.nix, lib/fixed-points.nix
  fix =
    f:
    let
      x = f x;
    in
    x;
  extends =
    overlay: f: final:
    let
      prev = f final;
    in
    prev // overlay final prev;
  composeExtensions =
    f: g: final: prev:
    let
      fApplied = f final prev;
      prev' = prev // fApplied;
    in
    fApplied // g final prev';
  importTOML = path: builtins.fromTOML (builtins.readFile path);
  warn = msg: builtins.trace "warning: ${msg}";

  # lib/customisation.nix: makeOverridable (simplified: keeps override/overrideAttrs chains).
  makeOverridable =
    f: origArgs:
    let
      result = f origArgs;
      overrideWith = newArgs: origArgs // (if isFunction newArgs then newArgs origArgs else newArgs);
    in
    if isAttrs result then
      result
      // {
        override = newArgs: makeOverridable f (overrideWith newArgs);
      }
    else
      result;

  # lib/meta.nix
  getBin = drv: drv.bin or drv.out or drv;
  getExe =
    x:
    getExe' x (
      x.meta.mainProgram or (throw (
        "contract: getExe ${x.name or "?"}: no meta.mainProgram (the pinned lib only warns "
        + "and guesses the name; set it)"
      ))
    );
  getExe' =
    x: y:
    assert isDerivation x || throw "contract: getExe': ${toString x} is not a derivation";
    assert
      builtins.match ".*/.*" y == null || throw "contract: getExe': ${y} must be a name, not a path";
    "${getBin x}/bin/${y}";

  # lib/fileset (the functions, with their argument checks; the set is a list of roots and
  # predicates, turned into a filtered builtins.path by toSource).
  fileset = import ./fileset.nix { inherit hasPrefix; };

  lib = {
    inherit
      attrByPath
      boolToString
      composeExtensions
      concatLists
      concatMapStrings
      concatMapStringsSep
      concatStringsSep
      escapeShellArg
      escapeShellArgs
      extends
      filterAttrs
      fix
      foldr
      genAttrs
      getBin
      getExe
      getExe'
      hasPrefix
      hasSuffix
      importTOML
      isDerivation
      last
      makeOverridable
      mapAttrs'
      mapAttrsToList
      nameValuePair
      optional
      optionalAttrs
      optionalString
      optionals
      removeSuffix
      toList
      toLower
      unique
      warn
      fileset
      ;
    inherit (builtins)
      elem
      filter
      isBool
      mapAttrs
      ;

    # lib/licenses.nix
    licenses.mit = {
      spdxId = "MIT";
      shortName = "mit";
      fullName = "MIT License";
      free = true;
    };
  }
  // import ./modules.nix { inherit lib; };
in
lib
