# Offline stand-in for nixpkgs nixos-25.05 at ac62194c (see ../README.md). `./dev test`
# passes it with `--override-input nixpkgs`, so every output of duet's flake evaluates
# without a download. It implements only what duet calls, with the pinned signatures: an
# argument the pinned function does not accept is an error here too.
{
  description = "duet contract stub of nixpkgs nixos-25.05";

  outputs =
    { self }:
    {
      lib = import ./lib;

      legacyPackages = self.lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (
        system:
        import ./pkgs {
          inherit system;
          inherit (self) lib;
        }
      );
    };
}
