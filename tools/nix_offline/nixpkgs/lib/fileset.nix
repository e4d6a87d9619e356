# lib.fileset at the 25.05 branch point (lib/fileset/default.nix): toSource { root, fileset }
# with exactly those arguments, unions, fileFilter with { name, type, hasExt, ... }. A
# fileset here is a list of "pieces": a path (the file, or the directory with everything
# below it) or a directory with a predicate.
# Like the real one, a path that does not exist is an error, and so is a file outside root.
{ hasPrefix }:
let
  inherit (builtins) isPath pathExists baseNameOf;

  isFileset = value: value._type or null == "fileset";

  coerce =
    context: value:
    if isFileset value then
      value
    else if isPath value then
      if pathExists value then
        {
          _type = "fileset";
          pieces = [ { path = toString value; } ];
        }
      else
        throw "lib.fileset.${context}: ${toString value} is a path that does not exist."
    else
      throw "lib.fileset.${context}: expected a file set or a path, got ${builtins.typeOf value}.";

  unions =
    list:
    assert builtins.isList list || throw "lib.fileset.unions: expected a list.";
    {
      _type = "fileset";
      pieces = builtins.concatMap (value: (coerce "unions" value).pieces) list;
    };

  under = parent: path: path == parent || hasPrefix "${parent}/" path;

  hasExt = name: ext: builtins.match ".*\\.${ext}" name != null;

  # Whether `path` (of `type`) is in a piece, or is a directory leading to one.
  includes =
    pieces: path: type:
    builtins.any (
      piece:
      if piece ? predicate then
        (under piece.path path)
        && (
          type == "directory"
          || piece.predicate {
            name = baseNameOf path;
            inherit type;
            hasExt = hasExt (baseNameOf path);
          }
        )
      else
        under piece.path path || (type == "directory" && hasPrefix "${path}/" piece.path)
    ) pieces;
in
{
  inherit unions;

  fileFilter =
    predicate: path:
    assert
      isPath path
      || throw "lib.fileset.fileFilter: second argument must be a path (not a file set), got ${builtins.typeOf path}.";
    assert builtins.isFunction predicate || throw "lib.fileset.fileFilter: first argument must be a function.";
    {
      _type = "fileset";
      pieces = [
        {
          path = toString path;
          inherit predicate;
        }
      ];
    };

  toSource =
    { root, fileset }:
    let
      set = coerce "toSource" fileset;
      rootString = toString root;
      outside = builtins.filter (piece: !(under rootString piece.path)) set.pieces;
    in
    assert
      isPath root
      || throw "lib.fileset.toSource: `root` (${toString root}) is a string-like value, but it should be a path instead.";
    assert
      pathExists root || throw "lib.fileset.toSource: `root` (${rootString}) does not exist.";
    assert
      outside == [ ]
      || throw "lib.fileset.toSource: `fileset` contains a file that cannot be added to the store: ${(builtins.head outside).path} is not under `root` (${rootString}).";
    builtins.path {
      name = "source";
      path = root;
      filter = path: type: includes set.pieces path type;
    };
}
