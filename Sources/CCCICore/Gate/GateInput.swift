import Glibc

extension Gate {
    /// Candidate versions from stdin: a JSON array of strings, a JSON object with a `versions`
    /// array (as `ccci-app versions --json` prints), or one version per line (as `git tag` prints).
    public static func parseCandidates(_ bytes: [UInt8]) throws(Failure) -> [String] {
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
            let value: JSON
            do { value = try JSON.parse(bytes) } catch { throw Failure.badData("invalid JSON on stdin: \(error)", code: "bad-json") }
            let list = value.array ?? value["versions"]?.array
            guard let list else { throw Failure.badData("expected a JSON array of versions or an object with 'versions'") }
            var out: [String] = []
            for item in list {
                guard let s = item.string ?? item["version"]?.string else { throw Failure.badData("a version in the JSON list is not a string") }
                out.append(s)
            }
            return out
        }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw Failure.badData("stdin is not valid UTF-8") }
        return Text.lines(bytes).map { String(decoding: $0, as: UTF8.self).trimmingCharacters() }.filter { !$0.isEmpty }
    }

    /// Refuses an empty candidate list: a failed `git tag` upstream of the pipe must not read as
    /// "nothing newer".
    public static func requireCandidates(_ candidates: [String]) throws(Failure) {
        if candidates.isEmpty { throw Failure.badData("no versions on stdin: expected at least one candidate version", code: "no-versions") }
    }

    /// Reads the markers file (one phrase per line).
    public static func loadMarkers(_ path: String?) throws(Failure) -> Markers {
        guard let path else { return .standard }
        let bytes: [UInt8]
        do { bytes = try AtomicFile.readNamed(path, limit: 1 << 20) } catch {
            if error.errno == EINVAL { throw Failure.badData("markers file '\(path)' is not a regular file") }
            throw Failure(error, doing: "reading markers file")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw Failure.badData("markers file '\(path)' is not valid UTF-8") }
        let markers = Markers.parse(text)
        if markers.phrases.isEmpty { throw Failure.badData("markers file '\(path)' has no phrases") }
        return markers
    }

    /// Checks the notes directory exists (a missing one is an operator mistake, not "no notes").
    public static func openNotes(_ path: String?) throws(Failure) -> ReleaseNotes? {
        guard let path else { return nil }
        do {
            let st = try Path.status(path, follow: true)
            guard st.st_mode & S_IFMT == S_IFDIR else { throw Failure(.noInput, "missing", "release notes directory '\(path)' is not a directory") }
        } catch let error as SystemError {
            throw Failure(error, doing: "release notes directory")
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure.from(error)
        }
        return ReleaseNotes(directory: path)
    }
}

/// Standard input, read whole (bounded).
public enum StandardInput {
    public static func readAll(limit: Int = 16 << 20) throws(Failure) -> [UInt8] {
        do { return try FileDescriptor.standardInput.readAll(limit: limit) } catch {
            if error.errno == EFBIG { throw Failure.badData("stdin is larger than \(limit >> 20) MiB", code: "too-large") }
            throw Failure(error, doing: "reading stdin")
        }
    }

    public static var isTerminal: Bool { FileDescriptor.standardInput.isTerminal }
}
