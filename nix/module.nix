# NixOS module: installs ci-warm and declares its units.
#
#   ci-warm-reconcile-<app>.service   one oneshot per live-warm infra app, run at activation and
#                                     by the nightly sweep (gate, snapshot, deploy, health,
#                                     rollback)
#   ci-warm-sweep.service + .timer    the nightly full-cold sweep (ccci-doctor first, warn-only
#                                     by default: sweep.doctor)
#   ci-warm-alert-relay.path/.service relays new alerts (PathChanged= on the alerts directory)
#   tmpfiles                          the state directory, 0700
{ config, lib, pkgs, ... }:

let
  cfg = config.services.ci-warm;
  inherit (lib) mkOption mkEnableOption mkIf types concatStringsSep escapeShellArgs mapAttrs' nameValuePair optionalString;

  infraModule = types.submodule ({ name, ... }: {
    options = {
      recipe = mkOption { type = types.str; default = name; description = "The app's recipe."; };
      domain = mkOption { type = types.nullOr types.str; default = null; description = "The app's domain (default warm-<recipe>.<baseDomain>)."; };
      stateless = mkOption { type = types.bool; default = false; description = "No volumes worth keeping (traefik): roll back the version only."; };
      healthUrl = mkOption { type = types.nullOr types.str; default = null; example = "https://warm-keycloak.ci.example/health/ready"; description = "Health endpoint (default https://<domain>/)."; };
      healthJsonPath = mkOption { type = types.nullOr types.str; default = null; example = "status=UP"; description = "A JSON field the health answer must carry."; };
      healthArgs = mkOption { type = types.listOf types.str; default = [ ]; example = [ "--resolve" "warm-keycloak.ci.example:443:127.0.0.1" ]; description = "Extra ccci-health arguments."; };
    };
  });

  hardening = {
    ProtectSystem = "strict";
    ReadWritePaths = [ cfg.stateDir cfg.dockerVolumeRoot cfg.abraDir ];
    PrivateTmp = true;
    NoNewPrivileges = true;
    ProtectHome = "read-only";
    ProtectKernelTunables = true;
    ProtectControlGroups = true;
    RestrictSUIDSGID = true;
    UMask = "0077";
  };

  environment = {
    CCCI_STATE = cfg.stateDir;
    CCCI_BASE_DOMAIN = cfg.baseDomain;
    CCCI_ENROLLED = "/etc/ci-warm/enrolled";
    ABRA_DIR = cfg.abraDir;
  } // lib.optionalAttrs (cfg.server != null) { CCCI_SERVER = cfg.server; };

  reconcileArgs = app: a:
    [ app "--recipe" a.recipe ]
    ++ lib.optionals (a.domain != null) [ "--domain" a.domain ]
    ++ lib.optional a.stateless "--stateless"
    ++ lib.optionals (a.healthUrl != null) [ "--health-url" a.healthUrl ]
    ++ lib.optionals (a.healthJsonPath != null) [ "--health-json-path" a.healthJsonPath ];

  infraFile = pkgs.writeText "ci-warm-infra" (concatStringsSep "\n"
    (lib.mapAttrsToList (app: a: concatStringsSep " " (reconcileArgs app a)) cfg.infra) + "\n");
in
{
  options.services.ci-warm = {
    enable = mkEnableOption "ci-warm, which keeps a Co-op Cloud CI host's deployments warm";
    package = mkOption { type = types.package; default = pkgs.callPackage ./package.nix { }; description = "The ci-warm package."; };
    stateDir = mkOption { type = types.path; default = "/var/lib/ci-warm"; description = "ci-warm's state (0700)."; };
    baseDomain = mkOption { type = types.str; example = "ci.commoninternet.net"; description = "The host's base domain; canonicals live at warm-<recipe>.<baseDomain>."; };
    abraDir = mkOption { type = types.path; default = "/root/.abra"; description = "abra's directory."; };
    server = mkOption { type = types.nullOr types.str; default = null; description = "The abra server name (default: the only one in abraDir/servers)."; };
    dockerVolumeRoot = mkOption { type = types.path; default = "/var/lib/docker/volumes"; description = "Where docker keeps volumes (snapshots and restores write there)."; };
    enrolled = mkOption { type = types.listOf types.str; default = [ ]; example = [ "custom-html" "lasuite-docs" ]; description = "Recipes with a data-warm canonical."; };
    infra = mkOption { type = types.attrsOf infraModule; default = { }; description = "Live-warm infra apps, reconciled at activation and nightly."; };
    sweep = {
      enable = mkOption { type = types.bool; default = true; description = "Run the nightly sweep."; };
      schedule = mkOption { type = types.str; default = "daily"; description = "systemd OnCalendar= of the sweep."; };
      randomizedDelaySec = mkOption { type = types.str; default = "30min"; description = "RandomizedDelaySec= of the sweep timer."; };
      timeoutSec = mkOption { type = types.str; default = "6h"; description = "The sweep's time ceiling (TimeoutStartSec=)."; };
      testCommand = mkOption { type = types.str; example = "/run/current-system/sw/bin/cc-ci-run --cold"; description = "The operator's cold run, given CCCI_RECIPE, CCCI_VERSION, CCCI_RUN, CCCI_MODE."; };
      slots = mkOption { type = types.ints.positive; default = 1; description = "Run slots (a busy one means a run is in flight)."; };
      doctor = mkOption { type = types.enum [ "warn" "enforce" "off" ]; default = "warn"; description = "Run ccci-doctor before each sweep: warn (log its findings, sweep anyway), enforce (a failed check stops the sweep) or off."; };
    };
    alertRelay = {
      command = mkOption { type = types.nullOr types.str; default = null; example = "curl -fsS -X POST -H 'Content-Type: application/json' -d @- https://chat.example/hook"; description = "Run once per new alert with its JSON on stdin; null: alerts only accumulate."; };
    };
  };

  config = mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    environment.etc."ci-warm/enrolled".text = concatStringsSep "\n" cfg.enrolled + "\n";
    systemd.tmpfiles.rules = [ "d ${cfg.stateDir} 0700 root root -" "d ${cfg.stateDir}/alerts 0700 root root -" ];

    systemd.services = mapAttrs' (app: a: nameValuePair "ci-warm-reconcile-${app}" {
      description = "ci-warm: keep ${app} on its latest safe version";
      after = [ "docker.service" "network-online.target" ];
      wants = [ "network-online.target" ];
      requires = [ "docker.service" ];
      wantedBy = [ "multi-user.target" ];
      environment = environment // { CCCI_HEALTH_ARGS = escapeShellArgs a.healthArgs; };
      serviceConfig = hardening // {
        Type = "oneshot";
        ExecStart = "${cfg.package}/bin/ccci-reconcile ${escapeShellArgs (reconcileArgs app a)}";
        # 1: rolled back (healthy on last-good, alerted); not a failed unit
        SuccessExitStatus = [ 1 ];
        TimeoutStartSec = "1h";
      };
    }) cfg.infra // {
      ci-warm-sweep = mkIf cfg.sweep.enable {
        description = "ci-warm: the nightly full-cold sweep";
        after = [ "docker.service" "network-online.target" ];
        requires = [ "docker.service" ];
        environment = environment // { CCCI_INFRA_FILE = "${infraFile}"; }
          // lib.optionalAttrs (cfg.alertRelay.command != null) { CCCI_ALERT_RELAY = cfg.alertRelay.command; };
        serviceConfig = hardening // {
          Type = "oneshot";
          ExecStart = "${cfg.package}/bin/ccci-sweep --test ${lib.escapeShellArg cfg.sweep.testCommand} --slots ${toString cfg.sweep.slots}";
          # ccci-doctor is read-only; "-" makes its failure a warning in the journal, not a stop
          ExecStartPre = lib.optional (cfg.sweep.doctor != "off")
            "${optionalString (cfg.sweep.doctor == "warn") "-"}${cfg.package}/bin/ccci-doctor --json";
          TimeoutStartSec = cfg.sweep.timeoutSec;
        };
      };
      ci-warm-alert-relay = mkIf (cfg.alertRelay.command != null) {
        description = "ci-warm: relay new alerts";
        inherit environment;
        serviceConfig = hardening // {
          Type = "oneshot";
          ExecStart = "${cfg.package}/bin/ccci-alert relay --exec ${lib.escapeShellArg cfg.alertRelay.command}";
          TimeoutStartSec = "10min";
        };
      };
    };

    systemd.timers.ci-warm-sweep = mkIf cfg.sweep.enable {
      description = "ci-warm: nightly sweep";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.sweep.schedule;
        Persistent = true;
        RandomizedDelaySec = cfg.sweep.randomizedDelaySec;
      };
    };

    systemd.paths.ci-warm-alert-relay = mkIf (cfg.alertRelay.command != null) {
      description = "ci-warm: watch for new alerts";
      wantedBy = [ "paths.target" ];
      pathConfig.PathChanged = "${cfg.stateDir}/alerts";
    };
  };
}
