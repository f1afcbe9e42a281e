import Glibc

/// The process environment. Read through here only: environment variables are defaults for flags.
public enum Environment {
    /// Wraps getenv(3). An empty value counts as unset.
    public static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }

    /// The whole environment as `NAME=value` strings, from environ(7).
    public static func all() -> [String] {
        var result: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            result.append(String(cString: entry))
            cursor += 1
        }
        return result
    }

    /// `base` with `changes` applied: a nil value removes the variable.
    public static func merging(_ changes: [(String, String?)], into base: [String] = all()) -> [String] {
        var result = base
        for (name, value) in changes {
            result.removeAll { $0.hasPrefix(name + "=") }
            if let value { result.append("\(name)=\(value)") }
        }
        return result
    }
}
