// `--version`, GNU style: `<program> (ci-warm) <version> <commit>` on stdout, exit 0. The version
// and commit are fixed at build time (Package.swift passes them to CSystem).
import CSystem

public enum Toolkit {
    public static let name = "ci-warm"
    public static var version: String { String(cString: ccci_toolkit_version()) }
    public static var commit: String { String(cString: ccci_toolkit_commit()) }

    /// The `--version` line of `program`.
    public static func versionLine(of program: String) -> String {
        "\(program) (\(name)) \(version) \(commit)\n"
    }
}
