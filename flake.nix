{
  description = "ci-warm: keeps a Co-op Cloud CI host's deployments warm without risking their data";

  # Swift 6.2 or newer is needed (Package.swift); nixos-unstable carries it.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # --version names the flake's revision (12 hex digits, "-dirty" for a dirty tree).
      commit =
        if self ? rev then builtins.substring 0 12 self.rev
        else if self ? dirtyRev then builtins.substring 0 12 self.dirtyRev + "-dirty"
        else "unknown";
    in
    {
      packages = forAllSystems (pkgs: {
        default = pkgs.callPackage ./nix/package.nix { inherit commit; };
      });

      # imports = [ ci-warm.nixosModules.default ]; services.ci-warm = { ... };
      nixosModules.default = { lib, pkgs, ... }: {
        imports = [ ./nix/module.nix ];
        services.ci-warm.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      };

      # nix flake check: the module evaluated by the real NixOS module system with
      # nix/test/config.nix, its assertions, and its units through systemd-analyze verify and the
      # security threshold (builds the package, so Swift 6.2 from nixpkgs).
      checks = forAllSystems (pkgs: {
        module = import ./nix/check.nix { inherit nixpkgs pkgs; module = self.nixosModules.default; };
      });
    };
}
