# `nix flake check`'s module check, with the real nixpkgs: evaluate nix/module.nix in a NixOS
# system with nix/test/config.nix, fail on any failed assertion, and run every ci-warm unit
# through `systemd-analyze verify` and `systemd-analyze security --offline=yes` (each service
# at or under 4.0). Tests/bats/nix.bats does the same with a stub evaluator where nixpkgs is
# out of reach.
{ nixpkgs, pkgs, module }:

let
  lib = pkgs.lib;
  system = nixpkgs.lib.nixosSystem {
    inherit (pkgs.stdenv.hostPlatform) system;
    modules = [
      module
      (import ./test/config.nix { })
      { boot.isContainer = true; system.stateVersion = "25.05"; }
    ];
  };
  failed = map (a: a.message) (lib.filter (a: !a.assertion) system.config.assertions);
  units = lib.filterAttrs (n: _: lib.hasPrefix "ci-warm-" n) system.config.systemd.units;
in
if failed != [ ] then throw "ci-warm module assertions failed:\n${lib.concatStringsSep "\n" failed}"
else pkgs.runCommand "ci-warm-module-check" { nativeBuildInputs = [ pkgs.systemd ]; } ''
  mkdir units
  ${lib.concatStrings (lib.mapAttrsToList (n: u: ''
    cp ${u.unit}/${n} units/${lib.escapeShellArg n}
  '') units)}
  cd units
  # docker.service and network-online.target are other modules' units: verify what is ours.
  systemd-analyze verify --man=no ./*.service ./*.timer ./*.path
  for u in ./*.service; do
    score=$(systemd-analyze security --offline=yes "$u" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    echo "$u: $score"
    awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 4.0) }' || { echo "$u: exposure $score > 4.0"; exit 1; }
  done
  touch $out
''
