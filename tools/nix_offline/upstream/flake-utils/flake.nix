# Upstream mode of the offline check (README, "What is tested where") evaluates the real
# poetry2nix flake, whose outputs end in `// flake-utils.lib.eachDefaultSystem (...)`: its
# CLI, dev shell and formatter, none of which duet uses. This stands in for numtide's
# flake-utils so that the attribute set can be built offline; what it returns is empty,
# so `lib.mkPoetry2Nix` (all duet reads) is the real one, untouched.
{
  outputs = _: {
    lib.eachDefaultSystem = _: { };
  };
}
