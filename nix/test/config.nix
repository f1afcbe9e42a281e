# The configuration both module checks evaluate: nix/test/eval.nix here (stub lib) and
# nix/check.nix under `nix flake check` (real nixpkgs). Every option set, awkward words on
# purpose: spaces, quotes, $ and % must reach the commands as they are written here.
# probe: the relay's command (the bats test puts an argv printer there).
{ probe ? "curl" }:
{
  virtualisation.docker = { enable = true; liveRestore = false; };
  services.ci-warm = {
    enable = true;
    baseDomain = "ci.example.org";
    enrolled = [ "custom-html" "lasuite-docs" ];
    infra.keycloak = {
      healthUrl = "https://warm-keycloak.ci.example.org/realms/master";
      healthArgs = [ "--resolve" "warm-keycloak.ci.example.org:443:127.0.0.1" "--json-path" "realm=\"master\" it's $HOME %n" ];
    };
    infra.traefik = { domain = "ci.example.org"; stateless = true; };
    sweep.testCommand = [ "/run/current-system/sw/bin/cc-ci-run" "--cold" "a b" ];
    alertRelay = {
      command = [ probe "-H" "Content-Type: application/json" "it's \"quoted\"" "$HOME" "%n" "--data-binary" "@-" ];
      credentials.webhook = "/run/keys/ci-warm-webhook";
    };
    keycloak = {
      url = "https://warm-keycloak.ci.example.org";
      adminPasswordFile = "/run/keys/keycloak-admin";
      realmReap = { enable = true; parents = [ "lasuite-docs" ]; extraArgs = [ "--resolve" "warm-keycloak.ci.example.org:443:127.0.0.1" ]; };
    };
  };
}
