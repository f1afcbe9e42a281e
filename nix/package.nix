# The ci-warm toolkit: the Swift plumbing (statically linked against the Swift runtime, no
# package dependencies) and the POSIX sh porcelain, wrapped so it finds jq, curl, git and docker.
{ lib, stdenv, swift, swiftpm, makeWrapper, jq, curl, git, docker-client, coreutils, util-linux }:

stdenv.mkDerivation {
  pname = "ci-warm";
  version = "0.1.0";
  src = lib.cleanSource ../.;

  nativeBuildInputs = [ swift swiftpm makeWrapper ];

  buildPhase = ''
    runHook preBuild
    swift build -c release --disable-sandbox
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    mkdir -p $out/bin $out/share/ci-warm
    for c in $(sed -n '/^let commands = \[/,/^\]/p' Package.swift | sed -n 's/^ *"\(ccci-[a-z-]*\)",*$/\1/p'); do
      install -m 0755 .build/release/$c $out/bin/$c
    done
    install -m 0644 bin/ccci-lib.sh $out/bin/ccci-lib.sh
    for p in ccci-reconcile ccci-quick ccci-sweep ccci-run ccci-sso ccci-doctor; do
      install -m 0755 bin/$p $out/bin/$p
      wrapProgram $out/bin/$p --prefix PATH : ${lib.makeBinPath [ jq curl git docker-client coreutils util-linux ]}:$out/bin
    done
    cp -r docs $out/share/ci-warm/
    runHook postInstall
  '';

  meta = {
    description = "Keeps a Co-op Cloud CI host's deployments warm without risking their data";
    license = lib.licenses.agpl3Plus;
    platforms = lib.platforms.linux;
  };
}
