# Upstream mode: poetry2nix's inputs that duet never reaches (nix-github-actions, systems,
# treefmt-nix; only its CI and formatter read them), as a flake with no outputs, so the
# real poetry2nix flake evaluates offline. See ../flake-utils/flake.nix.
{
  outputs = _: { };
}
