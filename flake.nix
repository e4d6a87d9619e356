{
  description = "duet: a Django REST web service and a Celery worker that share one Django app";

  # The pins, stated here once (docs/nix.md, "Pins"); flake.lock records them.
  inputs = {
    # nixos-25.05, at the commit the offline stubs (tools/nix_offline) model.
    nixpkgs.url = "github:NixOS/nixpkgs/ac62194c3917d5f474c1a844b6fd6da2db95077d";
    # Its last commit: unmaintained upstream, and known to break on newer nixpkgs
    # (NIX_CURL_FLAGS), so it follows our nixpkgs.
    poetry2nix = {
      url = "github:nix-community/poetry2nix/ce2369db77f45688172384bbeb962bc6c2ea6f94";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  # This file only wires folders to outputs, with numtide/blueprint's mapping done by hand:
  # the file name is the output name (docs/nix.md).
  #
  #   nix/packages/<name>.nix        packages.<system>.<name>  (+ checks.<system>.pkgs-<name>)
  #   nix/devshells/<name>.nix       devShells.<system>.<name>
  #   nix/checks/<name>.nix          checks.<system>.<name>
  #   nix/formatter.nix              formatter.<system>
  #   nix/modules/nixos/<name>.nix   nixosModules.<name>
  #
  # Per-system files are functions of { flake, inputs, system, pkgs }, like blueprint's; a
  # check may return null to leave a system out (the VM test is x86_64-linux only). Helpers that
  # are no output live in nix/lib/ and nix/modules/*.nix; tools/nix_offline/ holds the offline
  # stubs that ./dev test evaluates this flake against.
  outputs =
    { self, nixpkgs, ... }@inputs:
    let
      inherit (nixpkgs) lib;

      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];

      # { <name> = <dir>/<name>.nix; } for every .nix file in dir.
      filesIn =
        dir:
        let
          entries = builtins.readDir dir;
        in
        lib.mapAttrs' (
          file: _: lib.nameValuePair (lib.removeSuffix ".nix" file) (dir + "/${file}")
        ) (lib.filterAttrs (file: type: type == "regular" && lib.hasSuffix ".nix" file) entries);

      perSystemArgs = system: {
        inherit inputs system;
        flake = self;
        pkgs = nixpkgs.legacyPackages.${system};
      };

      importEach =
        dir: system: lib.mapAttrs (_: file: import file (perSystemArgs system)) (filesIn dir);

      eachSystem = f: lib.genAttrs systems f;
    in
    {
      packages = eachSystem (importEach ./nix/packages);

      devShells = eachSystem (importEach ./nix/devshells);

      checks = eachSystem (
        system:
        lib.filterAttrs (_: check: check != null) (importEach ./nix/checks system)
        // lib.mapAttrs' (
          name: package: lib.nameValuePair "pkgs-${name}" package
        ) self.packages.${system}
      );

      formatter = eachSystem (system: import ./nix/formatter.nix (perSystemArgs system));

      nixosModules = lib.mapAttrs (_: file: lib.modules.importApply file { flake = self; }) (
        filesIn ./nix/modules/nixos
      );
    };
}
