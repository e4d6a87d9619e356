# The module system, reduced to what duet's NixOS modules and VM test need, with the
# pinned semantics: lib/modules.nix (evalModules, mkIf/mkMerge/mkOverride/mkOrder,
# importApply, unknown-attribute and undeclared-option errors, module dedup by key),
# lib/options.nix (mkOption with its exact arguments, mkEnableOption, literalExpression,
# mergeEqualOption/mergeOneOption) and lib/types.nix (the types below), all at the 25.05
# branch point (nix-community/nixpkgs.lib 07aef7aa). Definitions of an option that no module
# declares are an error, as with `_module.check = true`.
{ lib }:
let
  inherit (builtins)
    all
    any
    attrNames
    concatMap
    elem
    elemAt
    filter
    foldl'
    functionArgs
    genList
    head
    isAttrs
    isBool
    isFunction
    isInt
    isList
    isPath
    isString
    length
    mapAttrs
    tail
    toJSON
    typeOf
    ;

  imap0 = f: list: genList (i: f i (elemAt list i)) (length list);
  reverseList = list: genList (i: elemAt list (length list - 1 - i)) (length list);
  showOption = loc: builtins.concatStringsSep "." loc;
  showDefs =
    defs:
    builtins.concatStringsSep "\n" (
      map (def: "- In `${def.file}': ${builtins.substring 0 200 (showValue def.value)}") defs
    );
  showValue =
    value:
    let
      json = builtins.tryEval (toJSON value);
    in
    if isFunction value then
      "<function>"
    else if json.success then
      json.value
    else
      "<${typeOf value}>";

  isOption = value: isAttrs value && value._type or null == "option";
  isStringLike = x: isString x || isPath x || x ? outPath || x ? __toString;

  # --- options.nix ---------------------------------------------------------------------
  mkOption =
    {
      default ? null,
      defaultText ? null,
      example ? null,
      description ? null,
      relatedPackages ? null,
      type ? null,
      apply ? null,
      internal ? null,
      visible ? null,
      readOnly ? null,
    }@attrs:
    attrs // { _type = "option"; };

  mkEnableOption =
    name:
    mkOption {
      default = false;
      example = true;
      description = "Whether to enable ${name}.";
      type = types.bool;
    };

  literalExpression =
    text:
    assert isString text || throw "literalExpression expects a string.";
    {
      _type = "literalExpression";
      inherit text;
    };

  mergeEqualOption =
    loc: defs:
    if defs == [ ] then
      abort "This case should never happen."
    else if all (def: def.value == (head defs).value) (tail defs) then
      (head defs).value
    else
      throw "The option `${showOption loc}' has conflicting definition values:\n${showDefs defs}";

  mergeOneOption =
    loc: defs:
    if length defs == 1 then
      (head defs).value
    else
      throw "The unique option `${showOption loc}' is defined multiple times. Definition values:\n${showDefs defs}";

  mergeDefaultOption =
    loc: defs:
    let
      values = map (def: def.value) defs;
    in
    if length values == 1 then
      head values
    else if all isFunction values then
      (args: mergeDefaultOption loc (map (v: { value = v args; }) defs))
    else if all isList values then
      builtins.concatLists values
    else if all isAttrs values then
      foldl' (a: b: a // b) { } values
    else if all isBool values then
      any (x: x) values
    else if all isString values then
      builtins.concatStringsSep "" values
    else
      mergeEqualOption loc defs;

  # --- properties (modules.nix) -----------------------------------------------------------
  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkMerge = contents: {
    _type = "merge";
    inherit contents;
  };
  mkOverride = priority: content: {
    _type = "override";
    inherit priority content;
  };
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;

  pushDownProperties =
    cfg:
    if cfg._type or "" == "merge" then
      concatMap pushDownProperties cfg.contents
    else if cfg._type or "" == "if" then
      map (mapAttrs (_: mkIf cfg.condition)) (pushDownProperties cfg.content)
    else if cfg._type or "" == "override" then
      map (mapAttrs (_: mkOverride cfg.priority)) (pushDownProperties cfg.content)
    else
      [ cfg ];

  dischargeProperties =
    def:
    if def._type or "" == "merge" then
      concatMap dischargeProperties def.contents
    else if def._type or "" == "if" then
      if isBool def.condition then
        if def.condition then dischargeProperties def.content else [ ]
      else
        throw "mkIf called with a non-Boolean condition"
    else
      [ def ];

  # Each definition's value split by `f` into definitions from the same file.
  splitDefs =
    f:
    concatMap (
      def:
      map (value: {
        inherit (def) file;
        inherit value;
      }) (f def.value)
    );

  priorityOf = def: if def.value._type or "" == "override" then def.value.priority else 100;
  filterOverrides =
    defs:
    let
      highest = foldl' (prio: def: if priorityOf def < prio then priorityOf def else prio) 9999 defs;
      strip = def: if def.value._type or "" == "override" then def // { value = def.value.content; } else def;
    in
    map strip (filter (def: priorityOf def == highest) defs);

  # Definitions of one option → { isDefined, value }.
  mergeDefinitions =
    loc: type: defs:
    let
      final = filterOverrides (splitDefs dischargeProperties defs);
      bad = filter (def: !(type.check def.value)) final;
    in
    {
      isDefined = final != [ ];
      value =
        if final == [ ] then
          throw "The option `${showOption loc}' was accessed but has no value defined. Try setting the option."
        else if bad != [ ] then
          throw "A definition for option `${showOption loc}' is not of type `${type.description}'. Definition values:\n${showDefs bad}"
        else
          type.merge loc final;
    };

  evalOption =
    loc: opt: defs:
    let
      type = opt.type or types.unspecified;
      withDefault =
        lib.optional (opt ? default) {
          file = opt.declaredIn;
          value = mkOptionDefault opt.default;
        }
        ++ defs;
      merged = mergeDefinitions loc type withDefault;
    in
    {
      _leaf = true;
      inherit (merged) isDefined;
      value = if opt.apply or null != null then opt.apply merged.value else merged.value;
    };

  # The evaluated tree's leaves are { _leaf, isDefined, value }.
  leafValues = tree: mapAttrs (_: node: if node._leaf or false then node.value else leafValues node) tree;

  # --- evalModules ----------------------------------------------------------------------
  setDefaultModuleLocation = file: m: {
    _file = file;
    imports = [ m ];
  };
  importApply = modulePath: staticArg: setDefaultModuleLocation modulePath (import modulePath staticArg);

  moduleAttributes = [
    "_class"
    "_file"
    "config"
    "disabledModules"
    "freeformType"
    "imports"
    "key"
    "meta"
    "options"
  ];

  evalModules =
    {
      modules,
      specialArgs ? { },
      prefix ? [ ],
      class ? null,
    }:
    let
      baseArgs = {
        inherit lib config specialArgs;
        options = optionTree;
        _class = class;
      };
      known = baseArgs // specialArgs;

      applyArgs =
        f:
        f (
          known
          // mapAttrs (name: _: config._module.args.${name}) (
            removeAttrs (functionArgs f) (attrNames known)
          )
        );

      load =
        parentFile: fallbackKey: m:
        let
          isFile = isPath m || isString m;
          file = if isFile then toString m else parentFile;
          raw = if isFile then import m else m;
          value = if isFunction raw then applyArgs raw else raw;
          structured = value ? config || value ? options;
          unknown = attrNames (removeAttrs value moduleAttributes);
          key = toString (value.key or (if isFile then toString m else fallbackKey));
          file' = value._file or file;
        in
        assert
          isAttrs value || throw "Module `${file}' is a ${typeOf value}, not a module (an attribute set or a function).";
        assert
          !structured || unknown == [ ]
          || throw "Module `${file'}' has an unsupported attribute `${head unknown}'. Add configuration attributes immediately on the top level instead, or move all of them into the explicit `config' attribute.";
        {
          inherit key;
          file = file';
          imports = value.imports or [ ];
          options = value.options or { };
          config =
            if structured then
              value.config or { }
            else
              removeAttrs value (
                filter (name: name != "config" && name != "options") moduleAttributes
              );
          freeformType = value.freeformType or null;
        };

      collected = builtins.genericClosure {
        startSet = imap0 (i: load "<evalModules>" "<root>:${toString i}") (
          modules ++ [ internalModule ]
        );
        operator = module: imap0 (i: load module.file "${module.key}:anon-${toString i}") module.imports;
      };

      freeformTypes = filter (t: t != null) (map (m: m.freeformType) collected);
      freeformType = if freeformTypes == [ ] then null else head freeformTypes;

      mergeDeclarations =
        loc: a: b:
        a
        // mapAttrs (
          name: value:
          if !(a ? ${name}) then
            value
          else if isOption value || isOption a.${name} then
            throw "The option `${showOption (loc ++ [ name ])}' in `${value.declaredIn or "?"}' is already declared in `${a.${name}.declaredIn or "?"}'."
          else
            mergeDeclarations (loc ++ [ name ]) a.${name} value
        ) b;

      markDeclarations =
        file: tree:
        mapAttrs (
          _: value:
          if isOption value then
            value // { declaredIn = file; }
          else if isAttrs value then
            markDeclarations file value
          else
            throw "Option declarations in `${file}' must be made with mkOption."
        ) tree;

      optionTree = foldl' (tree: module: mergeDeclarations [ ] tree (markDeclarations module.file module.options)) { } collected;

      evalTree =
        loc: tree: defs:
        let
          pushed = splitDefs pushDownProperties defs;
          notAttrs = filter (def: !isAttrs def.value) pushed;
          defined = lib.unique (concatMap (def: attrNames def.value) pushed);
          undeclared = filter (name: !(tree ? ${name})) defined;
          defsFor =
            name:
            concatMap (
              def:
              if def.value ? ${name} then
                [
                  {
                    inherit (def) file;
                    value = def.value.${name};
                  }
                ]
              else
                [ ]
            ) pushed;
          declared = mapAttrs (
            name: sub:
            if isOption sub then evalOption (loc ++ [ name ]) sub (defsFor name) else evalTree (loc ++ [ name ]) sub (defsFor name)
          ) tree;
          firstUndeclared = head undeclared;
        in
        if notAttrs != [ ] then
          throw "The option `${showOption loc}' is not an option but a set of options; it cannot be defined as a ${typeOf (head notAttrs).value}. Definition values:\n${showDefs notAttrs}"
        else if undeclared == [ ] then
          declared
        else if loc == prefix && freeformType != null then
          declared
          // mapAttrs
            (_: value: {
              _leaf = true;
              isDefined = true;
              inherit value;
            })
            (freeformType.merge loc (
            map (def: def // { value = removeAttrs def.value (attrNames tree); }) (
              filter (def: any (name: elem name undeclared) (attrNames def.value)) pushed
            )
          ))
        else
          throw "The option `${showOption (loc ++ [ firstUndeclared ])}' does not exist. Definition values:\n${showDefs (defsFor firstUndeclared)}";

      # Definitions merge in the reverse of the collection order, as the real
      # `mergeModules prefix (reverseList collected)` does: an imported module's before the
      # importing module's, a later module's before an earlier one's (what `lines` and
      # `listOf` show).
      evaluated = evalTree prefix optionTree (
        map (module: {
          inherit (module) file;
          value = module.config;
        }) (reverseList collected)
      );
      # The options with their values, as the real result's `options` (each option has
      # `isDefined` and `value`).
      withValues =
        tree: values:
        mapAttrs (
          name: node:
          if isOption node then
            node
            // {
              inherit (values.${name}) isDefined;
              value = values.${name}.value;
            }
          else
            withValues node values.${name}
        ) tree;
      config = leafValues evaluated;
    in
    {
      _type = "configuration";
      inherit class;
      config = removeAttrs config [ "_module" ];
      inherit (config) _module;
      options = withValues optionTree evaluated;
    };

  internalModule = {
    _file = "lib/modules.nix";
    key = "lib/modules.nix#_module";
    options._module = {
      args = mkOption {
        type = types.lazyAttrsOf types.raw;
        default = { };
        description = "Additional arguments passed to each module.";
      };
      check = mkOption {
        type = types.bool;
        default = true;
        internal = true;
        description = "Whether to check whether all option definitions have matching declarations.";
      };
    };
  };

  # --- types.nix ------------------------------------------------------------------------
  mkOptionType =
    {
      name,
      description ? name,
      check ? (_: true),
      merge ? mergeDefaultOption,
      ...
    }@attrs:
    attrs
    // {
      _type = "option-type";
      inherit description check merge;
    };

  elemMerge =
    type: loc: defs:
    mergeDefinitions loc type defs;

  types = rec {
    raw = mkOptionType {
      name = "raw";
      merge = mergeOneOption;
    };
    unspecified = mkOptionType { name = "unspecified"; };
    bool = mkOptionType {
      name = "bool";
      description = "boolean";
      check = isBool;
      merge = mergeEqualOption;
    };
    int = mkOptionType {
      name = "int";
      description = "signed integer";
      check = isInt;
      merge = mergeEqualOption;
    };
    ints = {
      positive = addCheck int (x: x > 0) // {
        description = "positive integer, meaning >0";
      };
      unsigned = addCheck int (x: x >= 0) // {
        description = "unsigned integer, meaning >=0";
      };
      u16 = addCheck int (x: x >= 0 && x <= 65535) // {
        description = "16 bit unsigned integer";
      };
    };
    port = ints.u16;
    str = mkOptionType {
      name = "str";
      description = "string";
      check = isString;
      merge = mergeEqualOption;
    };
    separatedString =
      sep:
      mkOptionType {
        name = "separatedString";
        description = "strings concatenated with ${toJSON sep}";
        check = isString;
        merge = _: defs: builtins.concatStringsSep sep (map (def: def.value) defs);
      };
    lines = separatedString "\n";
    path = mkOptionType {
      name = "path";
      description = "path";
      check = x: isStringLike x && builtins.substring 0 1 (toString x) == "/";
      merge = mergeEqualOption;
    };
    package = mkOptionType {
      name = "package";
      description = "package";
      check = x: lib.isDerivation x;
      merge = mergeOneOption;
    };
    enum =
      values:
      mkOptionType {
        name = "enum";
        description = "one of ${builtins.concatStringsSep ", " (map toJSON values)}";
        check = x: elem x values;
        merge = mergeEqualOption;
      };
    nullOr =
      elemType:
      mkOptionType {
        name = "nullOr";
        description = "null or ${elemType.description}";
        check = x: x == null || elemType.check x;
        merge =
          loc: defs:
          let
            nulls = filter (def: def.value == null) defs;
          in
          if nulls == defs then
            null
          else if nulls != [ ] then
            throw "The option `${showOption loc}' is defined both null and not null, in ${builtins.concatStringsSep ", " (map (d: d.file) defs)}."
          else
            elemType.merge loc defs;
        inherit elemType;
      };
    listOf =
      elemType:
      mkOptionType {
        name = "listOf";
        description = "list of ${elemType.description}";
        check = isList;
        merge =
          loc: defs:
          map (merged: merged.value) (
            filter (merged: merged.isDefined) (
              builtins.concatLists (
                imap0 (
                  n: def:
                  imap0 (
                    m: value:
                    elemMerge elemType (loc ++ [ "[definition ${toString (n + 1)}-entry ${toString (m + 1)}]" ]) [
                      {
                        inherit (def) file;
                        inherit value;
                      }
                    ]
                  ) def.value
                ) defs
              )
            )
          );
        inherit elemType;
      };
    attrsWith =
      lazy: elemType:
      mkOptionType {
        name = if lazy then "lazyAttrsOf" else "attrsOf";
        description = "attribute set of ${elemType.description}";
        check = isAttrs;
        merge =
          loc: defs:
          let
            names = lib.unique (concatMap (def: attrNames def.value) defs);
            merged = lib.genAttrs names (
              name:
              elemMerge elemType (loc ++ [ name ]) (
                concatMap (
                  def:
                  lib.optional (def.value ? ${name}) {
                    inherit (def) file;
                    value = def.value.${name};
                  }
                ) defs
              )
            );
          in
          if lazy then
            mapAttrs (_: m: m.value) merged
          else
            mapAttrs (_: m: m.value) (lib.filterAttrs (_: m: m.isDefined) merged);
        inherit elemType;
      };
    attrsOf = attrsWith false;
    lazyAttrsOf = attrsWith true;
    either =
      t1: t2:
      mkOptionType {
        name = "either";
        description = "${t1.description} or ${t2.description}";
        check = x: t1.check x || t2.check x;
        merge =
          loc: defs:
          if all (def: t1.check def.value) defs then
            t1.merge loc defs
          else if all (def: t2.check def.value) defs then
            t2.merge loc defs
          else
            mergeOneOption loc defs;
      };
    oneOf =
      ts:
      assert ts != [ ] || throw "types.oneOf needs at least one type";
      foldl' either (head ts) (tail ts);
    functionTo =
      elemType:
      mkOptionType {
        name = "functionTo";
        description = "function that evaluates to a(n) ${elemType.description}";
        check = isFunction;
        merge =
          loc: defs: fnArgs:
          (elemMerge elemType (loc ++ [ "<function body>" ]) (
            map (def: def // { value = def.value fnArgs; }) defs
          )).value;
      };
    deferredModule = mkOptionType {
      name = "deferredModule";
      description = "module";
      check = x: isAttrs x || isFunction x || isPath x;
      merge = _: defs: { imports = map (def: setDefaultModuleLocation def.file def.value) defs; };
    };
    # submoduleWith { shorthandOnlyDefinesConfig = true; }, the one form duet uses.
    submodule =
      modules:
      mkOptionType {
        name = "submodule";
        description = "submodule";
        check = x: isAttrs x || isFunction x || isPath x;
        merge =
          loc: defs:
          (evalModules {
            modules =
              [ { _module.args.name = lib.last loc; } ]
              ++ lib.toList modules
              ++ map (
                def:
                setDefaultModuleLocation def.file (
                  if isAttrs def.value then { config = def.value; } else def.value
                )
              ) defs;
          }).config;
      };
  };

  addCheck =
    type: check:
    type
    // {
      check = x: type.check x && check x;
    };
in
{
  inherit
    evalModules
    literalExpression
    mergeEqualOption
    mkDefault
    mkEnableOption
    mkIf
    mkMerge
    mkOption
    mkOptionType
    setDefaultModuleLocation
    types
    ;
  modules = {
    inherit evalModules importApply setDefaultModuleLocation;
  };
}
