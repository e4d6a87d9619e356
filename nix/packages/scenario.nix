# e2e/scenario.py, the round trip over HTTP that the native e2e suite, `./dev demo` and the
# VM test all run: `nix run .#scenario -- --base-url URL --token TOKEN`.
{ pkgs, ... }:
pkgs.writeShellApplication {
  name = "duet-scenario";
  # Standard library only.
  runtimeInputs = [ pkgs.python3 ];
  text = ''
    exec python3 ${../../e2e/scenario.py} "$@"
  '';
}
