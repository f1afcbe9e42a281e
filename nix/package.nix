# The ci-warm toolkit: the Swift plumbing (one multicall executable, bin/ci-warm, with a link per
# command, statically linked against the Swift runtime, no
# package dependencies), the POSIX sh porcelain, the unit helpers (libexec) and the man pages,
# installed by the Makefile's `make install` so Nix and other hosts get the same tree.
#
# Needs Swift 6.2 or newer from nixpkgs (Package.swift: swift-tools-version 6.2); an older
# `swift` fails at `swift build` with "package requires minimum Swift tools version 6.2".
# The porcelain is wrapped to find jq, git, docker and the core utilities; abra, which the
# plumbing runs, comes from the NixOS module's PATH (services.ci-warm.abraPackage).
#
# `--version` prints the version declared in Package.swift and `commit`, which the flake passes
# from its own revision (the cleaned source has no .git): the build gets it as $CCCI_COMMIT.
{ lib, stdenv, swift, swiftpm, makeWrapper, lowdown, jq, curl, git, docker-client, coreutils, util-linux, gnused, gawk
, commit ? "unknown" }:

stdenv.mkDerivation {
  pname = "ci-warm";
  version = builtins.head (builtins.match ".*\nlet version = \"([^\"]+)\"\n.*" (builtins.readFile ../Package.swift));
  src = lib.cleanSource ../.;
  CCCI_COMMIT = commit;

  nativeBuildInputs = [ swift swiftpm makeWrapper lowdown ];

  buildPhase = ''
    runHook preBuild
    swift build -c release --disable-sandbox
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    make install PREFIX=$out
    for p in $(cd bin && ls ccci-* | grep -v '^ccci-lib.sh$'); do
      wrapProgram $out/bin/$p --prefix PATH : ${lib.makeBinPath [ jq curl git docker-client coreutils util-linux gnused gawk ]}:$out/bin
    done
    runHook postInstall
  '';

  meta = {
    description = "Keeps a Co-op Cloud CI host's deployments warm without risking their data";
    # LICENSE: the GNU General Public License, version 3; "or later" as the NEWS entry says.
    license = lib.licenses.gpl3Plus;
    platforms = lib.platforms.linux;
  };
}
