// The Keycloak admin password, from a file or from the output of the operator's command (for
// example `docker exec <keycloak container> cat /run/secrets/admin_password`). Never from argv
// or the environment, never echoed: failures name the file or say how the command ended, and
// never quote what it printed.
import Glibc

public enum AdminPassword {
    /// The file's content without its trailing newline. Missing: 66; empty: 65.
    public static func read(file: String) throws(Failure) -> String {
        try readSecret(file: file, what: "admin password")
    }

    /// What `line` (run by /bin/sh, as the operator wrote it) prints on stdout. Fails with 69 when
    /// it fails or runs longer than `timeout`.
    public static func run(command line: String, timeout: Double = 60) throws(Failure) -> String {
        var p = Subprocess.shell(line)
        p.timeout = timeout
        p.captureLimit = 64 << 10
        let result: Subprocess.Result
        do { result = try p.run() } catch { throw Failure(error, doing: "running the admin password command") }
        guard result.succeeded else {
            let how = result.timedOut ? "timed out after \(timeout) s" : result.status.description
            throw Failure(.unavailable, "password-command", "the admin password command failed (\(how))")
        }
        return try usable(result.stdout, from: "the admin password command's output")
    }

    /// One line: a trailing newline (LF or CRLF) is dropped; an empty secret or one with inner
    /// newlines is refused.
    static func usable(_ bytes: [UInt8], from what: String) throws(Failure) -> String {
        var b = bytes
        if b.last == 0x0A { b.removeLast() }
        if b.last == 0x0D { b.removeLast() }
        guard !b.isEmpty else { throw Failure.badData("\(what) is empty", code: "bad-password") }
        guard !b.contains(0x0A), !b.contains(0x00), let text = String(validating: b, as: UTF8.self) else {
            throw Failure.badData("\(what) is not one line of UTF-8 text", code: "bad-password")
        }
        return text
    }

    /// A secret file given for a client or user (same rules as the admin password file).
    /// Symlinks are followed (secrets often live behind them: /run/secrets, systemd credentials).
    public static func readSecret(file: String, what: String) throws(Failure) -> String {
        let bytes: [UInt8]
        do throws(SystemError) {
            let fd = try FileDescriptor.open(file, O_RDONLY)
            defer { fd.closeQuietly() }
            bytes = try fd.readAll(limit: 64 << 10)
        } catch { throw Failure(error, doing: "reading the \(what) file '\(file)'") }
        return try usable(bytes, from: "\(what) file '\(file)'")
    }
}
