// swift-tools-version: 6.2
// ci-warm: small Unix commands that keep a Co-op Cloud CI host's deployments warm, safely.
//
// The list of commands is declared once, here; every target is derived from it. Each command is
// a folder `Sources/<name>/` holding one thin file over the core (its `main()`). They are linked
// into ONE multicall executable, `ci-warm` (Sources/ci-warm), which runs the command it was called
// as: `ccci-snap` is a link to it, made by packaging/link-commands (make, Tests/run, make install).
import PackageDescription

let commands = [
    "ccci-gate",
    "ccci-trigger",
    "ccci-lock",
    "ccci-alert",
    "ccci-health",
    "ccci-app",
    "ccci-snap",
    "ccci-restore",
    "ccci-canon",
    "ccci-promote",
    "ccci-realm",
    "ccci-migrate",
]

// The toolkit's version, declared once: `--version` prints it (with the commit) for every command
// and porcelain script; nix/package.nix reads it from here.
let version = "0.1.0"

// The commit `--version` names: $CCCI_COMMIT, which the build entry points set (make, Tests/run,
// the Nix package; packaging/commit computes it from the checkout); a plain `swift build` says
// "unknown". Not Context.gitInformation: SwiftPM caches the evaluated manifest across commits,
// so that would name a stale commit; a changed environment re-evaluates it. Only [0-9A-Za-z.+-]
// gets through: the value becomes a C string literal.
func buildCommit() -> String {
    let given = Context.environment["CCCI_COMMIT"] ?? ""
    let safe = given.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".+-".unicodeScalars.contains($0)) }
    return safe && !given.isEmpty ? given : "unknown"
}

// Commands that read or write snapshots depend on the archive library too.
let archiveCommands: Set<String> = ["ccci-snap", "ccci-restore", "ccci-canon", "ccci-promote", "ccci-migrate"]

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

// Static stdlib: a command starts in ~2 ms instead of ~6 ms with the dynamic runtime
// (see bench/startup). Only the toolchain's static archives are linked; no package dependencies.
let staticLink: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"])]

let package = Package(
    name: "ci-warm",
    products: [.executable(name: "ci-warm", targets: ["ci-warm"])],
    dependencies: [],
    targets: [
        .target(name: "CSystem", cSettings: [
            .define("CCCI_VERSION", to: "\"\(version)\""), .define("CCCI_COMMIT", to: "\"\(buildCommit())\""),
        ]),
        .target(name: "CSHA256"),
        .target(name: "CCCICore", dependencies: ["CSystem", "CSHA256"], swiftSettings: strict),
        .target(name: "CCCIArchive", dependencies: ["CCCICore"], swiftSettings: strict),
        .testTarget(name: "CCCIArchiveTests", dependencies: ["CCCIArchive", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CCCICoreTests", dependencies: ["CCCICore", "TestSupport"], swiftSettings: strict),
        .target(name: "TestSupport", dependencies: ["CCCICore"], path: "Tests/TestSupport", swiftSettings: strict),
        // Test helper, not a command: the archive library on the command line for Tests/archive and bench/archive.
        .executableTarget(name: "ccci-archive-probe", dependencies: ["CCCICore", "CCCIArchive"], path: "Tests/ArchiveProbe", swiftSettings: strict),
        // The one executable: all commands and one copy of the runtime (bench/multicall).
        .executableTarget(name: "ci-warm", dependencies: commands.map { .target(name: $0) }, swiftSettings: strict, linkerSettings: staticLink),
    ] + commands.map {
        .target(name: $0, dependencies: archiveCommands.contains($0) ? ["CCCICore", "CCCIArchive"] : ["CCCICore"], swiftSettings: strict)
    }
)
