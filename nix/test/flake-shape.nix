# The flake's outputs with a stub nixpkgs (no nixpkgs here): which outputs exist and what the
# module of nixosModules.default sets. `nix flake check` evaluates the real thing.
let
  flake = import ../../flake.nix;
  systems = [ "x86_64-linux" "aarch64-linux" ];
  pkgsFor = system: {
    callPackage = file: args: { package = toString file; inherit system; commit = args.commit or null; };
    stdenv.hostPlatform.system = system;
  };
  nixpkgs.lib.genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
  nixpkgs.legacyPackages = builtins.listToAttrs (map (name: { inherit name; value = pkgsFor name; }) systems);
  out = flake.outputs { self = out // { rev = "0123456789abcdef0123456789abcdef01234567"; }; inherit nixpkgs; };
  module = out.nixosModules.default { lib.mkDefault = x: x; pkgs = pkgsFor "aarch64-linux"; };
in
{
  inputs = flake.inputs.nixpkgs.url;
  outputs = builtins.attrNames out;
  packages = builtins.mapAttrs (_: p: p.default) out.packages;
  imports = map toString module.imports;
  package = module.services.ci-warm.package;
  checks = builtins.mapAttrs (_: builtins.attrNames) out.checks;
}
