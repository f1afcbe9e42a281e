# NixOS module: installs ci-warm and declares its units.
#
#   ci-warm-reconcile-<app>.service + .timer  one oneshot per live-warm infra app (gate, snapshot,
#                                     deploy, health, rollback); a timer starts it shortly after
#                                     boot and nightly, never activation (restartIfChanged = false)
#   ci-warm-sweep.service + .timer    the nightly full-cold sweep; ccci-doctor as its pre-start
#                                     check (warn-only unless sweep.doctor.blocking)
#   ci-warm-alert-relay.path/.timer/.service
#                                     relays new alerts (PathChanged= on the alerts directory) and
#                                     retries undelivered ones (the timer)
#   ci-warm-realm-reap.service + .timer
#                                     removes orphaned per-run Keycloak realms (ccci-realm reap)
#   ci-warm-unit-failed@.service      OnFailure= of every unit above: raises a `unit-failed` alert
#                                     with the failed unit's name and the tail of its journal
#
# Every command runs as an argv: ExecStart= holds store paths and validated names only; operator
# strings (health arguments, the relay and test commands) reach the commands through generated
# scripts (escapeShellArgs) or the JSON Lines infra file (builtins.toJSON). Secrets come from
# files outside the store through LoadCredential=, never from unit text or argv.
#
# The package needs Swift 6.2 or newer from nixpkgs (Package.swift: swift-tools-version 6.2).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.ci-warm;
  inherit (lib) mkOption mkEnableOption mkPackageOption mkIf mkMerge types concatStringsSep
    escapeShellArg escapeShellArgs mapAttrs' mapAttrsToList nameValuePair optional optionals
    optionalAttrs hasPrefix hasInfix removePrefix literalExpression;

  # The toolkit's name rule (SPEC: ^[a-z0-9][a-z0-9._-]{0,62}$, no "..").
  nameType = types.addCheck (types.strMatching "[a-z0-9][a-z0-9._-]{0,62}") (s: !hasInfix ".." s)
    // { description = "a ci-warm name (^[a-z0-9][a-z0-9._-]{0,62}$, no \"..\")"; };
  # Runtime paths are strings: a path literal would be copied into the store.
  absPath = types.strMatching "/[^\n]*" // { description = "an absolute path (a string, not copied to the store)"; };
  # Secrets: a file outside the store, read at start by LoadCredential=.
  secretPath = types.addCheck absPath (s: !hasPrefix builtins.storeDir s)
    // { description = "an absolute path outside the Nix store"; };

  infraModule = types.submodule ({ name, ... }: {
    options = {
      recipe = mkOption { type = nameType; default = name; description = "The app's recipe."; };
      domain = mkOption { type = types.nullOr types.str; default = null; description = "The app's domain (default warm-<recipe>.<baseDomain>)."; };
      stateless = mkOption { type = types.bool; default = false; description = "No volumes worth keeping (traefik): roll back the version only."; };
      healthUrl = mkOption { type = types.nullOr types.str; default = null; example = "https://warm-keycloak.ci.example/health/ready"; description = "Health endpoint (default https://<domain>/)."; };
      healthJsonPath = mkOption { type = types.nullOr types.str; default = null; example = "status=UP"; description = "A JSON field the health answer must carry."; };
      healthArgs = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "--resolve" "warm-keycloak.ci.example:443:127.0.0.1" ];
        description = "Extra ccci-health arguments, one list element per argv word (each becomes a `--health-arg`).";
      };
    };
  });

  # The argv of ccci-reconcile for one app, APP first: the infra file's line and the unit's command.
  reconcileArgv = app: a:
    [ app "--recipe" a.recipe ]
    ++ optionals (a.domain != null) [ "--domain" a.domain ]
    ++ optional a.stateless "--stateless"
    ++ optionals (a.healthUrl != null) [ "--health-url" a.healthUrl ]
    ++ optionals (a.healthJsonPath != null) [ "--health-json-path" a.healthJsonPath ]
    ++ lib.concatMap (arg: [ "--health-arg" arg ]) a.healthArgs;

  # JSON Lines, one array of strings per app: what ccci-sweep --infra-file and reconcile-app read.
  infraFile = pkgs.writeText "ci-warm-infra.jsonl"
    (concatStringsSep "" (mapAttrsToList (app: a: builtins.toJSON (reconcileArgv app a) + "\n") cfg.infra));

  bin = "${cfg.package}/bin";
  libexec = "${cfg.package}/libexec/ci-warm";

  # exec ARGV: a script that runs ARGV as one command, every word intact.
  execScript = name: argv: pkgs.writeShellScript name ''
    exec ${escapeShellArgs argv}
  '';

  # Everything the plumbing and the porcelain call, on every unit's PATH: services do not see
  # /run/current-system/sw/bin.
  path = [ cfg.package cfg.abraPackage pkgs.docker-client pkgs.jq pkgs.curl pkgs.git pkgs.openssh
    pkgs.coreutils pkgs.util-linux pkgs.gnused pkgs.gnugrep pkgs.gawk pkgs.findutils pkgs.systemd ]
    ++ cfg.extraPath;

  environment = {
    CCCI_STATE = cfg.stateDir;
    CCCI_BASE_DOMAIN = cfg.baseDomain;
    CCCI_ENROLLED = "/etc/ci-warm/enrolled";
    CCCI_INFRA_FILE = "${infraFile}";
    CCCI_LOCK_WAIT = toString cfg.reconcile.lockWaitSec;
    ABRA_DIR = cfg.abraDir;
  } // optionalAttrs (cfg.server != null) { CCCI_SERVER = cfg.server; }
    // optionalAttrs (cfg.keycloak.url != null) { CCCI_KEYCLOAK_URL = cfg.keycloak.url; }
    // optionalAttrs (cfg.keycloak.adminUser != null) { CCCI_KEYCLOAK_ADMIN = cfg.keycloak.adminUser; }
    ;
  # The units that get the Keycloak admin password: LoadCredential= copies the file into the
  # unit's credentials directory (%d) at start; the command reads it from there.
  keycloakCredential = optionals (cfg.keycloak.adminPasswordFile != null) [ "keycloak-admin:${cfg.keycloak.adminPasswordFile}" ];
  keycloakEnvironment = optionalAttrs (cfg.keycloak.adminPasswordFile != null) {
    CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE = "%d/keycloak-admin";
  };

  # systemd-analyze security --offline=yes rates these services at or under 4.0 (checked by
  # Tests/bats/nix.bats). Root stays: docker's socket and the volumes' owners demand it.
  # packaging/systemd/*.in carry the same settings for `make install`; a test keeps them equal.
  hardening = {
    # root: docker's socket and the volumes' owners demand it; User= also sets HOME=/root, which
    # git, ssh and docker's CLI read
    User = "root";
    StateDirectory = removePrefix "/var/lib/" cfg.stateDir;
    StateDirectoryMode = "0700";
    ProtectSystem = "strict";
    ProtectHome = "read-only";
    PrivateTmp = true;
    PrivateDevices = true;
    PrivateMounts = true;
    DevicePolicy = "closed";
    NoNewPrivileges = true;
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectProc = "invisible";
    RestrictNamespaces = true;
    RestrictRealtime = true;
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    SystemCallArchitectures = "native";
    SystemCallFilter = [ "@system-service" ];
    SystemCallErrorNumber = "EPERM";
    RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
    AmbientCapabilities = [ "" ];
    KeyringMode = "private";
    RemoveIPC = true;
    UMask = "0077";
  };
  # Snapshots and restores read and write docker's volumes as their owners: ownership, modes,
  # setuid and setgid bits (RestrictSUIDSGID= would refuse them), file capabilities; abra writes
  # its directory. The "-" makes a missing path harmless (no 226/NAMESPACE).
  volumeAccess = {
    ReadWritePaths = [ "-${cfg.dockerVolumeRoot}" "-${cfg.abraDir}" ];
    CapabilityBoundingSet = [ "CAP_CHOWN" "CAP_DAC_OVERRIDE" "CAP_DAC_READ_SEARCH" "CAP_FOWNER" "CAP_FSETID" "CAP_SETFCAP" ];
    RestrictSUIDSGID = false;
  };
  # Everything else: no capabilities, no setuid files.
  noVolumeAccess = {
    CapabilityBoundingSet = [ "" ];
    RestrictSUIDSGID = true;
  };

  failureHandler = "ci-warm-unit-failed@%n.service";

  # A ci-warm oneshot: PATH, environment, hardening, OnFailure=, never restarted by a switch.
  service = { description, doc, serviceConfig, docker ? false, volumes ? false, onFailure ? true, extraEnvironment ? { } }: {
    inherit description path;
    environment = environment // extraEnvironment;
    restartIfChanged = false;
    unitConfig.Documentation = [ "man:${doc}(1)" "file:${cfg.package}/share/doc/ci-warm/operator-guide.md" ];
    serviceConfig = hardening // (if volumes then volumeAccess else noVolumeAccess) // { Type = "oneshot"; } // serviceConfig;
  } // optionalAttrs docker {
    after = [ "docker.service" "network-online.target" ];
    wants = [ "network-online.target" ];
    requires = [ "docker.service" ];
  } // optionalAttrs onFailure { onFailure = [ failureHandler ]; };

  seconds = types.ints.positive;
in
{
  options.services.ci-warm = {
    enable = mkEnableOption "ci-warm, which keeps a Co-op Cloud CI host's deployments warm";
    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The ci-warm package (not in nixpkgs; the flake's module sets its own build). Needs Swift 6.2 or newer from nixpkgs.";
    };
    abraPackage = mkPackageOption pkgs "abra" { };
    extraPath = mkOption { type = types.listOf types.package; default = [ ]; example = literalExpression "[ pkgs.python3 ]"; description = "More packages on every unit's PATH (what your sweep.testCommand needs)."; };
    stateDir = mkOption {
      type = types.strMatching "/var/lib/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*";
      default = "/var/lib/ci-warm";
      description = "ci-warm's state (0700), created by StateDirectory=, so it must lie under /var/lib.";
    };
    baseDomain = mkOption { type = types.strMatching "[A-Za-z0-9.-]+"; example = "ci.commoninternet.net"; description = "The host's base domain; canonicals live at warm-<recipe>.<baseDomain>."; };
    abraDir = mkOption { type = absPath; default = "/root/.abra"; description = "abra's directory (a runtime path: a string)."; };
    server = mkOption { type = types.nullOr types.str; default = null; description = "The abra server name (default: the only one in abraDir/servers)."; };
    dockerVolumeRoot = mkOption { type = absPath; default = "/var/lib/docker/volumes"; description = "Where docker keeps volumes (snapshots and restores write there)."; };
    enrolled = mkOption { type = types.listOf nameType; default = [ ]; example = [ "custom-html" "lasuite-docs" ]; description = "Recipes with a data-warm canonical."; };
    infra = mkOption { type = types.attrsOf infraModule; default = { }; description = "Live-warm infra apps (the attribute name is the app), reconciled after boot, nightly and by the sweep."; };
    reconcile = {
      onBootSec = mkOption { type = types.str; default = "5min"; description = "OnBootSec= of the reconcile timers: how long after boot the first reconcile starts."; };
      schedule = mkOption { type = types.str; default = "*-*-* 03:00:00"; description = "OnCalendar= of the reconcile timers."; };
      timeoutSec = mkOption { type = seconds; default = 3600; description = "A reconcile's time ceiling (TimeoutStartSec=), seconds."; };
      lockWaitSec = mkOption { type = seconds; default = 1800; description = "How long a reconcile waits for the app's lock (CCCI_LOCK_WAIT); must be shorter than timeoutSec."; };
    };
    sweep = {
      enable = mkOption { type = types.bool; default = true; description = "Run the nightly sweep."; };
      schedule = mkOption { type = types.str; default = "daily"; description = "systemd OnCalendar= of the sweep."; };
      randomizedDelaySec = mkOption { type = types.str; default = "30min"; description = "RandomizedDelaySec= of the sweep timer."; };
      timeoutSec = mkOption { type = types.str; default = "6h"; description = "The sweep's time ceiling (TimeoutStartSec=)."; };
      testCommand = mkOption {
        type = types.listOf types.str;
        example = [ "/run/current-system/sw/bin/cc-ci-run" "--cold" ];
        description = "The operator's cold run as an argv (one element per word), given CCCI_RECIPE, CCCI_VERSION, CCCI_RUN, CCCI_MODE. For shell syntax write [ \"sh\" \"-c\" \"...\" ].";
      };
      slots = mkOption { type = types.ints.positive; default = 1; description = "Run slots (a busy one means a run is in flight); each recipe's cold run and advance holds one."; };
      slotWait = mkOption { type = types.ints.unsigned; default = 3600; description = "Seconds a recipe waits for a free run slot before it counts as failed (--slot-wait)."; };
      doctor = {
        enable = mkOption { type = types.bool; default = true; description = "Run ccci-doctor (read-only preflight) before each sweep."; };
        blocking = mkOption { type = types.bool; default = false; description = "A failing ccci-doctor stops the sweep (default: it only warns in the journal)."; };
      };
    };
    alertRelay = {
      command = mkOption {
        type = types.nullOr (types.listOf types.str);
        default = null;
        example = [ "curl" "-fsS" "-X" "POST" "-H" "Content-Type: application/json" "--data-binary" "@-" "--config" "/run/credentials/ci-warm-alert-relay.service/webhook" ];
        description = "Run once per open alert with its JSON on stdin, as an argv (one element per word); null: alerts only accumulate.";
      };
      credentials = mkOption {
        type = types.attrsOf secretPath;
        default = { };
        example = { webhook = "/run/keys/ci-warm-webhook"; };
        description = "Files outside the store the relay reads (webhook URLs, tokens): LoadCredential=ID:PATH, readable by the command at /run/credentials/ci-warm-alert-relay.service/ID (also $CREDENTIALS_DIRECTORY/ID).";
      };
      retrySec = mkOption { type = types.str; default = "15min"; description = "Undelivered alerts are retried this long after the relay last ran (OnUnitInactiveSec=)."; };
    };
    keycloak = {
      url = mkOption { type = types.nullOr types.str; default = null; example = "https://warm-keycloak.ci.example"; description = "The warm Keycloak's public base URL (CCCI_KEYCLOAK_URL)."; };
      adminUser = mkOption { type = types.nullOr types.str; default = null; description = "The master realm's admin user (default admin)."; };
      adminPasswordFile = mkOption {
        type = types.nullOr secretPath;
        default = null;
        example = "/run/keys/keycloak-admin";
        description = "A file outside the store holding the Keycloak admin password; given to the sweep and the realm reaper by LoadCredential= (CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE).";
      };
      realmReap = {
        enable = mkOption { type = types.bool; default = false; description = "Reap orphaned per-run realms on a timer (needs url and adminPasswordFile)."; };
        schedule = mkOption { type = types.str; default = "hourly"; description = "OnCalendar= of the reaper."; };
        graceMinutes = mkOption { type = types.ints.positive; default = 60; description = "Realms younger than this are kept (--grace)."; };
        parents = mkOption { type = types.listOf types.str; default = [ ]; description = "Only realms of these parents (--parent); empty: every realm of our pattern."; };
        extraArgs = mkOption { type = types.listOf types.str; default = [ ]; example = [ "--resolve" "warm-keycloak.ci.example:443:127.0.0.1" ]; description = "More ccci-realm arguments, one element per argv word."; };
      };
    };
    # TODO(disk guard, issue 12): no disk-guard command exists yet. When one lands, add
    # `diskGuard.{enable,schedule,...}` here and a ci-warm-disk-guard.service + .timer below,
    # built like the realm reaper (service { ... } with OnFailure=). Nothing is scheduled today.
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = cfg.reconcile.lockWaitSec < cfg.reconcile.timeoutSec;
          message = "services.ci-warm.reconcile.lockWaitSec (${toString cfg.reconcile.lockWaitSec}) must be shorter than reconcile.timeoutSec (${toString cfg.reconcile.timeoutSec}), or a reconcile waiting for its lock is killed before it can report";
        }
        {
          assertion = !(config.virtualisation.docker.enable && config.virtualisation.docker.liveRestore);
          message = "ci-warm needs docker in swarm mode, which docker refuses with live-restore: set virtualisation.docker.liveRestore = false";
        }
        {
          assertion = !(config.virtualisation.docker.autoPrune.enable
            && builtins.any (f: hasPrefix "--volumes" f) config.virtualisation.docker.autoPrune.flags);
          message = "virtualisation.docker.autoPrune.flags contains --volumes, which deletes every data-warm canonical's volumes while it is undeployed: remove --volumes (keep e.g. [ \"--filter=until=168h\" ])";
        }
        {
          assertion = !cfg.keycloak.realmReap.enable || (cfg.keycloak.url != null && cfg.keycloak.adminPasswordFile != null);
          message = "services.ci-warm.keycloak.realmReap.enable needs keycloak.url and keycloak.adminPasswordFile";
        }
      ] ++ mapAttrsToList (app: _: {
        assertion = builtins.match "[a-z0-9][a-z0-9._-]{0,62}" app != null && !hasInfix ".." app;
        message = "services.ci-warm.infra.\"${app}\": app names match ^[a-z0-9][a-z0-9._-]{0,62}$ without \"..\"";
      }) cfg.infra;

      warnings = optional (!config.virtualisation.docker.enable)
        "services.ci-warm: virtualisation.docker.enable is false; ci-warm's units need docker.service (swarm mode)";

      environment.systemPackages = [ cfg.package cfg.abraPackage ];
      environment.etc."ci-warm/enrolled".text = concatStringsSep "\n" cfg.enrolled + "\n";
      environment.etc."ci-warm/infra.jsonl".source = infraFile;
      # The relay's path unit watches alerts/ from boot, before any service made the state dir.
      systemd.tmpfiles.rules = [ "d ${cfg.stateDir} 0700 root root -" "d ${cfg.stateDir}/alerts 0700 root root -" ];

      systemd.services = mapAttrs' (app: a: nameValuePair "ci-warm-reconcile-${app}" (service {
        description = "ci-warm: keep ${app} on its latest safe version";
        doc = "ccci-reconcile";
        docker = true;
        volumes = true;
        serviceConfig = {
          ExecStart = "${libexec}/reconcile-app ${app}";
          # 1: rolled back (healthy on last-good, alerted); not a failed unit
          SuccessExitStatus = [ 1 ];
          TimeoutStartSec = toString cfg.reconcile.timeoutSec;
        };
      })) cfg.infra // {
        "ci-warm-unit-failed@" = service {
          description = "ci-warm: alert that %i failed";
          doc = "ccci-alert";
          onFailure = false;
          serviceConfig = {
            ExecStart = "${libexec}/unit-failed %i";
            TimeoutStartSec = "2min";
          };
        };
      };

      systemd.timers = mapAttrs' (app: _: nameValuePair "ci-warm-reconcile-${app}" {
        description = "ci-warm: reconcile ${app} after boot and nightly";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnBootSec = cfg.reconcile.onBootSec;
          OnCalendar = cfg.reconcile.schedule;
          RandomizedDelaySec = "10min";
        };
      }) cfg.infra;
    }

    (mkIf cfg.sweep.enable {
      systemd.services.ci-warm-sweep = service {
        description = "ci-warm: the nightly full-cold sweep";
        doc = "ccci-sweep";
        docker = true;
        volumes = true;
        extraEnvironment = keycloakEnvironment;
        serviceConfig = {
          LoadCredential = keycloakCredential;
          ExecStartPre = optional cfg.sweep.doctor.enable
            ((if cfg.sweep.doctor.blocking then "" else "-") + "${bin}/ccci-doctor");
          ExecStart = execScript "ci-warm-sweep"
            [ "${bin}/ccci-sweep" "--test" (escapeShellArgs cfg.sweep.testCommand) "--slots" (toString cfg.sweep.slots) "--slot-wait" (toString cfg.sweep.slotWait) ];
          TimeoutStartSec = cfg.sweep.timeoutSec;
        };
      };
      systemd.timers.ci-warm-sweep = {
        description = "ci-warm: nightly sweep";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.sweep.schedule;
          Persistent = true;
          RandomizedDelaySec = cfg.sweep.randomizedDelaySec;
        };
      };
    })

    (mkIf (cfg.alertRelay.command != null) {
      systemd.services.ci-warm-alert-relay = service {
        description = "ci-warm: relay open alerts";
        doc = "ccci-alert";
        serviceConfig = {
          # ccci-alert runs --exec by /bin/sh -c: the argv, quoted word by word
          ExecStart = execScript "ci-warm-alert-relay"
            [ "${bin}/ccci-alert" "relay" "--exec" (escapeShellArgs cfg.alertRelay.command) ];
          # 1: some alerts stay open; the timer retries them
          SuccessExitStatus = [ 1 ];
          TimeoutStartSec = "10min";
          LoadCredential = mapAttrsToList (id: file: "${id}:${file}") cfg.alertRelay.credentials;
        };
      };
      systemd.paths.ci-warm-alert-relay = {
        description = "ci-warm: watch for new alerts";
        wantedBy = [ "paths.target" ];
        pathConfig.PathChanged = "${cfg.stateDir}/alerts";
      };
      systemd.timers.ci-warm-alert-relay = {
        description = "ci-warm: retry undelivered alerts";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnBootSec = "5min";
          OnUnitInactiveSec = cfg.alertRelay.retrySec;
        };
      };
    })

    (mkIf cfg.keycloak.realmReap.enable {
      systemd.services.ci-warm-realm-reap = service {
        description = "ci-warm: reap orphaned per-run Keycloak realms";
        doc = "ccci-realm";
        docker = true;
        extraEnvironment = keycloakEnvironment;
        serviceConfig = {
          LoadCredential = keycloakCredential;
          ExecStart = execScript "ci-warm-realm-reap" ([ "${bin}/ccci-realm" "reap" "--live-from-docker"
            "--grace" (toString cfg.keycloak.realmReap.graceMinutes) ]
            ++ lib.concatMap (p: [ "--parent" p ]) cfg.keycloak.realmReap.parents
            ++ cfg.keycloak.realmReap.extraArgs);
          # 1: some orphans could not be deleted (reported); the next run tries again
          SuccessExitStatus = [ 1 ];
          TimeoutStartSec = "30min";
        };
      };
      systemd.timers.ci-warm-realm-reap = {
        description = "ci-warm: reap orphaned realms";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.keycloak.realmReap.schedule;
          RandomizedDelaySec = "5min";
        };
      };
    })
  ]);
}
