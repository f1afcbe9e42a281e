// Finding "this upgrade needs a person" in release notes.
//
// No standard wording marks a manual migration, so the gate looks for phrases. Text is compared
// as sequences of lowercase words (letters and digits), so case, punctuation, Markdown emphasis
// and line breaks inside a phrase do not hide it: "**Manual\nmigration** required!" matches
// "manual migration". A match is reported with the phrase, the file and the line it starts on.
// Negations ("no manual migration needed") match too: the gate fails closed.
import Glibc

public struct Markers: Sendable {
    public static let defaultPhrases = [
        "manual migration",
        "migrate manually",
        "migration required",
        "requires a migration",
        "manual intervention",
        "manual steps",
        "manual upgrade",
        "breaking change",
        "breaking changes",
        "before upgrading you must",
        "before upgrading, you must",
        "you must migrate",
        "must be migrated",
        "action required",
        "not backwards compatible",
        "not backward compatible",
        "incompatible change",
        "upgrade notes",
        "read before upgrading",
    ]

    public let phrases: [String]
    let words: [[[UInt8]]]

    public init(_ phrases: [String]) {
        let cleaned = phrases.filter { !Markers.tokenize($0).isEmpty }
        self.phrases = cleaned
        self.words = cleaned.map { Markers.tokenize($0).map(\.word) }
    }

    public static let standard = Markers(defaultPhrases)

    /// A markers file: one phrase per line; blank lines and `#` comments ignored.
    public static func parse(_ text: String) -> Markers {
        Markers(text.split(separator: "\n", omittingEmptySubsequences: true).map { line in
            line.trimmingCharacters()
        }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }

    public struct Match: Sendable, Equatable {
        public let phrase: String
        public let line: Int
    }

    /// The first phrase found in `text` (earliest in the text).
    public func firstMatch(in text: String) -> Match? {
        let tokens = Markers.tokenize(text)
        guard !tokens.isEmpty else { return nil }
        for start in tokens.indices {
            for (p, phrase) in words.enumerated() where phrase[0] == tokens[start].word && start + phrase.count <= tokens.count {
                var ok = true
                for k in 1..<phrase.count where tokens[start + k].word != phrase[k] {
                    ok = false
                    break
                }
                if ok { return Match(phrase: phrases[p], line: tokens[start].line) }
            }
        }
        return nil
    }

    /// Words of `text` with the line each starts on. Works on UTF-8 bytes: ASCII letters are
    /// lowercased, digits kept, any non-ASCII byte counts as part of a word, everything else
    /// separates words.
    static func tokenize(_ text: String) -> [(word: [UInt8], line: Int)] {
        var tokens: [([UInt8], Int)] = []
        var line = 1
        var current: [UInt8] = []
        var currentLine = 1
        for b in text.utf8 {
            let c: UInt8
            switch b {
            case 0x41...0x5A: c = b + 0x20
            case 0x61...0x7A, 0x30...0x39, 0x80...0xFF: c = b
            default:
                if !current.isEmpty { tokens.append((current, currentLine)); current = [] }
                if b == 0x0A { line += 1 }
                continue
            }
            if current.isEmpty { currentLine = line }
            current.append(c)
        }
        if !current.isEmpty { tokens.append((current, currentLine)) }
        return tokens
    }
}

/// A recipe's release notes: `releaseNotes/<version>.md`, falling back to `release/<version>`.
///
/// In a git clone (a recipe under `ABRA_DIR/recipes`), the working tree shows whichever version
/// abra last checked out, which lacks the notes of every later release. So when the directory is
/// a git repository the notes are read from git: for each version, first as committed in that
/// version's tag, then as on the current branch head (notes added after tagging), and only then
/// from the working tree. All lookups go through one `git cat-file --batch`.
public struct ReleaseNotes: Sendable {
    public let directory: String
    /// Blobs read from git, by `<rev>:<path>`; nil for a plain directory.
    var fromGit: [String: Lookup]? = nil

    public init(directory: String) { self.directory = directory }

    public enum Lookup: Sendable {
        case none
        case text(file: String, content: String)
        /// The notes exist but could not be read: the gate must hold.
        case unreadable(file: String, reason: String)
    }

    static func candidates(_ v: String) -> [String] { ["releaseNotes/\(v).md", "release/\(v)"] }

    /// Reads the notes of `versions` from git when the directory is a repository.
    public mutating func prefetch(_ versions: [String]) {
        guard !versions.isEmpty, (try? Path.statusIfExists(directory + "/.git", follow: true)) != nil else { return }
        var requests: [String] = []
        for v in versions {
            for file in ReleaseNotes.candidates(v) { requests += ["\(v):\(file)", "HEAD:\(file)"] }
        }
        var p = Subprocess(["git", "-C", directory, "cat-file", "--batch"])
        p.input = Array((requests.joined(separator: "\n") + "\n").utf8)
        p.timeout = 60
        guard let r = try? p.run(), r.succeeded else { return }
        var found: [String: Lookup] = [:]
        let out = r.stdout
        var i = 0
        for request in requests {
            guard let nl = out[i...].firstIndex(of: 0x0A) else { return }
            let header = String(decoding: out[i..<nl], as: UTF8.self).split(separator: " ")
            i = nl + 1
            guard header.count == 3, header[1] == "blob", let size = Int(header[2]), i + size <= out.count else { continue }
            let bytes = Array(out[i..<(i + size)])
            i += size + 1
            let file = String(request[request.index(after: request.firstIndex(of: ":")!)...])
            if let text = String(validating: bytes, as: UTF8.self) {
                found[request] = .text(file: file, content: text)
            } else {
                found[request] = .unreadable(file: file, reason: "not valid UTF-8")
            }
        }
        fromGit = found
    }

    public func lookup(_ version: RecipeVersion) -> Lookup {
        if let fromGit {
            for file in ReleaseNotes.candidates(version.text) {
                for rev in [version.text, "HEAD"] { if let hit = fromGit["\(rev):\(file)"] { return hit } }
            }
        }
        for relative in ReleaseNotes.candidates(version.text) {
            let path = directory + "/" + relative
            do {
                guard let st = try Path.statusIfExists(path, follow: false) else { continue }
                if st.st_mode & S_IFMT != S_IFREG { return .unreadable(file: relative, reason: "not a regular file") }
                let bytes = try AtomicFile.read(path, limit: 4 << 20)
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    return .unreadable(file: relative, reason: "not valid UTF-8")
                }
                return .text(file: relative, content: text)
            } catch {
                return .unreadable(file: relative, reason: (error as SystemError).reason)
            }
        }
        return .none
    }
}
