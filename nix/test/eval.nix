# Evaluates nix/module.nix without nixpkgs, which this test host cannot reach: a stub of the few
# lib functions and module-system features the module uses (options with types and defaults,
# mkIf, mkMerge, assertions) and a renderer of the declared units into systemd files the way
# NixOS writes them. It is a stand-in, not NixOS: `nix flake check` (nix/check.nix) evaluates the
# module with the real nixpkgs on a host that has it.
#
#   nix-instantiate --eval --strict --json nix/test/eval.nix \
#     --argstr stubs DIR --argstr out DIR [--arg config 'import ./my-config.nix']
#
# stubs: one directory per package name the module asks pkgs for (DIR/ci-warm, DIR/abra, ...).
# out: where the generated scripts and files claim to live (the caller writes them there).
# Result: { units.<name> = text; files.<path> = { text; executable; }; assertions = [ failed
# messages ]; warnings = [ ... ]; }
{ stubs, out, config ? import ./config.nix { } }:

let
  inherit (builtins) attrNames concatStringsSep filter foldl' hasAttr head isAttrs isBool isInt
    isList isString length listToAttrs mapAttrs match replaceStrings stringLength substring toJSON;

  lib = rec {
    inherit concatStringsSep;
    concatMap = builtins.concatMap;
    escapeShellArg = arg:
      let s = toString arg; in
      if match "[[:alnum:],._+:@%/-]+" s == null then "'${replaceStrings [ "'" ] [ "'\\''" ] s}'" else s;
    escapeShellArgs = l: concatStringsSep " " (map escapeShellArg l);
    mapAttrs' = f: set: listToAttrs (map (n: f n set.${n}) (attrNames set));
    mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
    nameValuePair = name: value: { inherit name value; };
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: l: if c then l else [ ];
    optionalAttrs = c: s: if c then s else { };
    hasPrefix = p: s: substring 0 (stringLength p) s == p;
    hasInfix = i: s:
      let n = stringLength i; go = k: k + n <= stringLength s && (substring k n s == i || go (k + 1)); in go 0;
    removePrefix = p: s: if hasPrefix p s then substring (stringLength p) (-1) s else s;
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    mkOption = o: o // { _type = "option"; };
    mkEnableOption = d: mkOption { type = types.bool; default = false; description = "Whether to enable ${d}."; };
    mkPackageOption = pkgs: name: _: mkOption { type = types.package; default = pkgs.${name}; description = "The ${name} package to use."; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };

    types = rec {
      mk = name: check: { inherit name check; description = name; };
      str = mk "str" isString;
      bool = mk "bool" isBool;
      package = mk "package" (v: isString v || isAttrs v);
      ints.positive = mk "positive integer" (v: isInt v && v > 0);
      ints.unsigned = mk "unsigned integer, meaning >=0" (v: isInt v && v >= 0);
      strMatching = re: mk "string matching ${toJSON re}" (v: isString v && match re v != null);
      addCheck = t: c: t // { check = v: t.check v && c v; };
      listOf = t: mk "listOf" isList // { elemType = t; description = "list of ${t.description}"; };
      attrsOf = t: mk "attrsOf" isAttrs // { elemType = t; description = "attribute set of ${t.description}"; };
      nullOr = t: mk "nullOr" (_: true) // { elemType = t; description = "null or ${t.description}"; };
      submodule = f: mk "submodule" isAttrs // { module = f; description = "submodule"; };
    };
  };

  # The module system, reduced to what the module uses.
  isOption = o: isAttrs o && (o._type or null) == "option";
  coerce = loc: name: t: v:
    if t.name == "nullOr" then (if v == null then null else coerce loc name t.elemType v)
    else if !(t.check v) then throw "The option `${loc}' is not of type `${t.description}': ${toJSON v}"
    else if t.name == "listOf" then map (coerce loc name t.elemType) v
    else if t.name == "attrsOf" then mapAttrs (n: coerce "${loc}.${n}" n t.elemType) v
    else if t.name == "submodule" then applyOptions loc (t.module { inherit name; }).options v
    else v;
  applyOptions = loc: opts: vals:
    let unknown = filter (n: !(hasAttr n opts)) (attrNames vals); in
    if unknown != [ ] then throw "The option `${loc}.${head unknown}' does not exist"
    else mapAttrs (n: o:
      let l = "${loc}.${n}"; in
      if isOption o then
        (if hasAttr n vals then coerce l n o.type vals.${n}
         else if o ? default then coerce l n o.type o.default
         else throw "The option `${l}' is used but not defined")
      else applyOptions l o (vals.${n} or { })) opts;

  isIf = v: isAttrs v && (v._type or null) == "if";
  isMerge = v: isAttrs v && (v._type or null) == "merge";
  isPlain = v: isAttrs v && !(v ? outPath) && !(v ? _type);
  resolve = v:
    if isIf v then (if v.condition then resolve v.content else { })
    else if isMerge v then foldl' merge { } (map resolve v.contents)
    # an attribute defined as `mkIf false ...` is not defined at all
    else if isPlain v then mapAttrs (_: resolve) (listToAttrs (map (n: { name = n; value = v.${n}; })
      (filter (n: !(isIf v.${n} && !v.${n}.condition)) (attrNames v))))
    else v;
  merge = a: b: a // mapAttrs (n: bv:
    if !(hasAttr n a) then bv
    else if isPlain a.${n} && isPlain bv then merge a.${n} bv
    else if isList a.${n} && isList bv then a.${n} ++ bv
    else throw "conflicting definitions of `${n}'") b;

  # pkgs: stub packages are directories under `stubs`; generated files claim paths under `out`.
  pkgs = mapAttrs (n: _: "${stubs}/${n}") (builtins.readDir stubs) // {
    callPackage = _: _: "${stubs}/ci-warm";
    writeText = name: text: { outPath = "${out}/${name}"; fileText = text; executable = false; };
    writeShellScript = name: text: { outPath = "${out}/${name}"; fileText = "#!/bin/sh\n" + text; executable = true; };
  };

  dockerDefaults = { enable = false; liveRestore = true; autoPrune = { enable = false; flags = [ ]; }; };
  fullConfig = {
    services.ci-warm = applyOptions "services.ci-warm" module.options.services.ci-warm (config.services.ci-warm or { });
    virtualisation.docker = dockerDefaults // (config.virtualisation.docker or { })
      // { autoPrune = dockerDefaults.autoPrune // (config.virtualisation.docker.autoPrune or { }); };
  };
  module = import ../module.nix { config = fullConfig; inherit lib pkgs; };
  cfg = resolve module.config;

  # Rendering, as NixOS's systemd-lib does: lists become repeated lines, bools true/false,
  # environment one Environment="NAME=VALUE" line each, `path` the PATH (bin and sbin of each).
  value = v: if isBool v then (if v then "true" else "false") else toString v;
  lines = attrs: concatStringsSep "" (lib.concatMap (k:
    let v = attrs.${k}; in map (x: "${k}=${value x}\n") (if isList v then v else [ v ])) (attrNames attrs));
  unitSection = u: "[Unit]\n" + lines ({ Description = u.description or ""; }
    // lib.optionalAttrs (u ? after) { After = concatStringsSep " " u.after; }
    // lib.optionalAttrs (u ? wants) { Wants = concatStringsSep " " u.wants; }
    // lib.optionalAttrs (u ? requires) { Requires = concatStringsSep " " u.requires; }
    // lib.optionalAttrs (u ? onFailure) { OnFailure = concatStringsSep " " u.onFailure; }
    // (u.unitConfig or { }));
  env = s: (s.environment or { }) // lib.optionalAttrs (s ? path) {
    PATH = concatStringsSep ":" (map (p: "${p}/bin") s.path ++ map (p: "${p}/sbin") s.path);
  };
  service = s: unitSection s + "\n[Service]\n"
    + concatStringsSep "" (lib.mapAttrsToList (k: v: "Environment=${toJSON "${k}=${v}"}\n") (env s))
    + lines s.serviceConfig;
  timer = t: unitSection t + "\n[Timer]\n" + lines t.timerConfig;
  path = p: unitSection p + "\n[Path]\n" + lines p.pathConfig;
  units = lib.mapAttrs' (n: s: lib.nameValuePair "${n}.service" (service s)) (cfg.systemd.services or { })
    // lib.mapAttrs' (n: t: lib.nameValuePair "${n}.timer" (timer t)) (cfg.systemd.timers or { })
    // lib.mapAttrs' (n: p: lib.nameValuePair "${n}.path" (path p)) (cfg.systemd.paths or { });

  # Every generated script or file the units or /etc name.
  generated = filter (v: isAttrs v && v ? fileText)
    (lib.concatMap (s: lib.concatMap (v: if isList v then v else [ v ]) (builtins.attrValues s.serviceConfig))
      (builtins.attrValues (cfg.systemd.services or { }))
     ++ map (e: e.source or null) (builtins.attrValues (cfg.environment.etc or { })));
in
{
  inherit units;
  files = listToAttrs (map (f: { name = f.outPath; value = { text = f.fileText; inherit (f) executable; }; }) generated);
  etc = mapAttrs (_: e: if e ? text then e.text else toString e.source) (cfg.environment.etc or { });
  tmpfiles = cfg.systemd.tmpfiles.rules or [ ];
  restartIfChanged = mapAttrs (_: s: s.restartIfChanged or true) (cfg.systemd.services or { });
  wantedBy = mapAttrs (_: s: s.wantedBy or [ ]) (cfg.systemd.services or { });
  assertions = map (a: a.message) (filter (a: !a.assertion) (cfg.assertions or [ ]));
  warnings = cfg.warnings or [ ];
}
