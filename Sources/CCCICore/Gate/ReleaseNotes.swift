// Finding "this upgrade needs a person" in release notes.
//
// No standard wording marks a manual migration, so the gate looks for phrases. Text is compared
// as sequences of normalised words (see `tokenize`: Unicode letters and digits, lowercased,
// plurals reduced), so case, punctuation, Markdown emphasis, line breaks, no-break spaces and a
// plural inside a phrase do not hide it: "**Manual\u{A0}migrations** required!" matches
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
        Markers(Text.lines(text).map { $0.trimmingCharacters() }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
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

    /// Words of `text` with the line each starts on, normalised so spelling variants compare
    /// equal: letters and digits (any script) make words, lowercased; every other character
    /// separates them: Unicode spaces (no-break, thin, ideographic, zero-width), punctuation,
    /// Markdown, HTML space references (`&nbsp;`). Invisible format characters inside a word
    /// (soft hyphen, also as `&shy;`, joiners, a byte order mark) and combining marks are dropped. Simple English plurals are reduced to the singular
    /// ("migrations" -> "migration", "dependencies" -> "dependency", "processes" -> "process"),
    /// on the text and the phrases alike, so "manual migrations" matches "manual migration".
    static func tokenize(_ text: String) -> [(word: [UInt8], line: Int)] {
        var tokens: [([UInt8], Int)] = []
        var line = 1
        var current = ""
        var currentLine = 1
        func flush() {
            if !current.isEmpty { tokens.append((Array(Markers.singular(current).utf8), currentLine)); current = "" }
        }
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            i += 1
            // HTML character references for spaces and the soft hyphen, as Markdown notes carry
            // them (`manual&nbsp;migration`): a space separates, a soft hyphen vanishes.
            if scalar == "&", let end = scalars[i..<min(scalars.count, i + 8)].firstIndex(of: ";") {
                switch String(String.UnicodeScalarView(scalars[i..<end])).lowercased() {
                case "nbsp", "#160", "#xa0", "ensp", "emsp", "thinsp", "#8203", "#x200b":
                    flush()
                    i = end + 1
                    continue
                case "shy", "#173", "#xad":
                    i = end + 1
                    continue
                default: break
                }
            }
            let p = scalar.properties
            switch p.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .decimalNumber, .letterNumber, .otherNumber:
                if current.isEmpty { currentLine = line }
                current += p.lowercaseMapping
            case .nonspacingMark, .enclosingMark, .spacingMark:
                continue
            case .format where scalar.value != 0x200B:
                // Soft hyphen, joiners, word joiner, BOM: invisible, and no word break.
                continue
            default:
                flush()
                if scalar == "\n" || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0x85 { line += 1 }
            }
        }
        flush()
        return tokens
    }

    /// A word without a simple English plural ending.
    static func singular(_ word: String) -> String {
        let u = Array(word.utf8)
        guard u.count > 3, u.last == UInt8(ascii: "s"), u.allSatisfy({ $0 < 0x80 }) else { return word }
        func ends(_ suffix: String) -> Bool { u.count > suffix.utf8.count + 1 && u.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) }
        if ends("ss") || ends("us") || ends("is") { return word }
        if ends("ies") { return String(decoding: u.dropLast(3), as: UTF8.self) + "y" }
        if ends("sses") || ends("xes") || ends("zes") || ends("ches") || ends("shes") { return String(decoding: u.dropLast(2), as: UTF8.self) }
        return String(decoding: u.dropLast(), as: UTF8.self)
    }
}

/// A recipe's release notes: `releaseNotes/<version>.md`, falling back to `release/<version>`.
///
/// In a git clone (a recipe under `ABRA_DIR/recipes`), the working tree and `HEAD` show whichever
/// version abra last checked out (a detached tag), which lacks the notes of every later release
/// and every note added after tagging. So when the directory is a git repository the notes are
/// read from git only, never from the working tree: for each version, every copy of its notes
/// file in the version's tag and in the branch heads (`origin/HEAD`, `origin/main`,
/// `origin/master`, `main`, `master` and the checked-out branch), newest commit first. Every copy
/// is judged, so notes amended after tagging count, and any copy that asks for a person holds.
///
/// Fail closed: when git cannot answer (git missing, "dubious ownership", a broken clone, a tag
/// of the version that is not in the clone, no branch to read later notes from), every version
/// is `notes-unreadable` with git's reason; there is no quiet fallback to the working tree. A
/// notes file (or notes directory) committed as a symlink, a submodule or a directory is
/// unreadable too, as is one that is not UTF-8 or larger than 4 MiB.
///
/// Git is asked three times whatever the number of versions: `for-each-ref` for the refs, then
/// one `cat-file --batch` for the notes directories of the commits involved (their tree entries
/// carry each file's mode), then one `cat-file --batch` for the notes blobs.
public struct ReleaseNotes: Sendable {
    public let directory: String
    /// Notes read from git by version; nil for a plain directory.
    var fromGit: [String: [Lookup]]? = nil

    public init(directory: String) { self.directory = directory }

    public enum Lookup: Sendable {
        /// `rev` names the git ref the copy was read from (nil for a plain directory).
        case text(file: String, content: String, rev: String?)
        /// The notes exist but could not be read: the gate must hold.
        case unreadable(file: String, reason: String)
    }

    static let limit = 4 << 20
    static let folders = ["releaseNotes", "release"]
    static func candidates(_ v: String) -> [String] { ["releaseNotes/\(v).md", "release/\(v)"] }
    /// The branch heads whose notes count, besides the checked-out branch.
    static let branches = ["refs/remotes/origin/HEAD", "refs/remotes/origin/main", "refs/remotes/origin/master", "refs/heads/main", "refs/heads/master"]

    /// Whether the notes come from git: a `.git` of any kind (a directory, a gitdir file, even a
    /// dangling symlink) or one that cannot be looked at makes it a clone, so git is asked and a
    /// broken clone holds instead of being read as a plain directory.
    var isGitClone: Bool {
        do { return try Path.statusIfExists(directory + "/.git", follow: false) != nil } catch { return true }
    }

    /// Reads the notes of `versions` from git when the directory is a repository.
    public mutating func prefetch(_ versions: [String]) {
        guard !versions.isEmpty, isGitClone else { return }
        do throws(GitFailure) {
            fromGit = try readFromGit(versions)
        } catch {
            var failed: [String: [Lookup]] = [:]
            for v in versions { failed[v] = [.unreadable(file: ReleaseNotes.candidates(v)[0], reason: "git: \(error.reason)")] }
            fromGit = failed
        }
    }

    struct GitFailure: Error { let reason: String }

    func git(_ args: [String], input: [UInt8]? = nil) throws(GitFailure) -> [UInt8] {
        var p = Subprocess(["git", "-C", directory] + args)
        p.input = input
        p.timeout = 120
        p.captureLimit = 256 << 20
        p.environment = [("GIT_DIR", nil), ("GIT_WORK_TREE", nil), ("GIT_TERMINAL_PROMPT", "0"), ("LC_ALL", "C")]
        let r: Subprocess.Result
        do { r = try p.run() } catch { throw GitFailure(reason: "cannot run git: \(error.reason)") }
        if r.timedOut { throw GitFailure(reason: "git \(args[0]) timed out") }
        if r.truncated { throw GitFailure(reason: "git \(args[0]) answered more than it may") }
        guard r.succeeded else {
            let why = Text.lines(r.stderr).map { String(decoding: $0, as: UTF8.self).trimmingCharacters() }.first { !$0.isEmpty }
            throw GitFailure(reason: "git \(args[0]) failed (\(r.status)): \(why ?? "no message")")
        }
        return r.stdout
    }

    /// One object from a `cat-file --batch` answer: nil when missing.
    struct BatchObject {
        let oid: String
        let type: String
        let content: ArraySlice<UInt8>
    }

    /// Asks `cat-file --batch` for `requests` (object names without spaces or newlines).
    func catFile(_ requests: [String]) throws(GitFailure) -> [BatchObject?] {
        if requests.isEmpty { return [] }
        let out = try git(["cat-file", "--batch"], input: Array((requests.joined(separator: "\n") + "\n").utf8))
        var result: [BatchObject?] = []
        var i = out.startIndex
        for _ in requests {
            guard let nl = out[i...].firstIndex(of: 0x0A) else { throw GitFailure(reason: "git cat-file: short answer") }
            let header = String(decoding: out[i..<nl], as: UTF8.self).split(separator: " ")
            i = nl + 1
            if header.count == 3, let size = Int(header[2]), size >= 0 {
                guard i + size < out.count, out[i + size] == 0x0A else { throw GitFailure(reason: "git cat-file: short answer") }
                result.append(BatchObject(oid: String(header[0]), type: String(header[1]), content: out[i..<(i + size)]))
                i += size + 1
            } else if header.last == "missing" {
                result.append(nil)
            } else {
                throw GitFailure(reason: "git cat-file: unexpected answer '\(header.joined(separator: " "))'")
            }
        }
        return result
    }

    /// A tree's entries: name -> (mode, hex oid).
    static func entries(of tree: ArraySlice<UInt8>, oidBytes: Int) throws(GitFailure) -> [String: (mode: String, oid: String)] {
        var result: [String: (String, String)] = [:]
        var i = tree.startIndex
        while i < tree.endIndex {
            guard oidBytes > 0, let space = tree[i...].firstIndex(of: 0x20), let nul = tree[space...].firstIndex(of: 0), nul + 1 + oidBytes <= tree.endIndex
            else { throw GitFailure(reason: "git cat-file: malformed tree") }
            let mode = String(decoding: tree[i..<space], as: UTF8.self)
            let name = String(decoding: tree[(space + 1)..<nul], as: UTF8.self)
            result[name] = (mode, Hex.encode(tree[(nul + 1)..<(nul + 1 + oidBytes)]))
            i = nul + 1 + oidBytes
        }
        return result
    }

    func readFromGit(_ versions: [String]) throws(GitFailure) -> [String: [Lookup]] {
        // 1. The refs: the versions' tags (peeled to commits) and the branch heads, newest first.
        let format = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)%00%(HEAD)%00%(committerdate:unix)%00%(*committerdate:unix)"
        let refs = try git(["for-each-ref", "--format=" + format, "refs/tags", "refs/heads", "refs/remotes/origin"])
        var tags: [String: String?] = [:]  // version -> commit (nil: the tag names no commit)
        var heads: [(ref: String, commit: String, time: Int)] = []
        let wanted = Set(versions)
        for line in Text.lines(refs) where !line.isEmpty {
            let f = line.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard f.count == 8 else { throw GitFailure(reason: "git for-each-ref: unexpected answer") }
            let peeled = f[3].isEmpty ? (type: f[1], oid: f[2], time: f[6]) : (type: f[3], oid: f[4], time: f[7])
            if f[0].hasPrefix("refs/tags/") {
                let v = String(f[0].dropFirst("refs/tags/".count))
                if wanted.contains(v) { tags[v] = peeled.type == "commit" ? peeled.oid : nil }
            } else if ReleaseNotes.branches.contains(f[0]) || (f[0].hasPrefix("refs/heads/") && f[5] == "*") {
                guard peeled.type == "commit" else { continue }
                heads.append((f[0], peeled.oid, Int(peeled.time) ?? 0))
            }
        }
        heads.sort { $0.time != $1.time ? $0.time > $1.time : $0.ref < $1.ref }

        // 2. The notes folders of every commit involved, with their entries' modes.
        var commits: [String] = []
        for c in heads.map(\.commit) + versions.compactMap({ tags[$0] ?? nil }) where !commits.contains(c) { commits.append(c) }
        let folderRequests = commits.flatMap { c in ReleaseNotes.folders.map { "\(c):\($0)" } }
        let folderObjects = try catFile(folderRequests)
        // commit -> folder -> entries, or a reason the folder cannot be read
        var folders: [String: [String: Result<[String: (mode: String, oid: String)], GitFailure>]] = [:]
        for (request, object) in zip(folderRequests, folderObjects) {
            guard let object else { continue }
            let colon = request.firstIndex(of: ":")!
            let commit = String(request[..<colon])
            let folder = String(request[request.index(after: colon)...])
            if object.type == "tree" {
                let parsed: [String: (mode: String, oid: String)]
                parsed = try ReleaseNotes.entries(of: object.content, oidBytes: object.oid.utf8.count / 2)
                folders[commit, default: [:]][folder] = .success(parsed)
            } else {
                folders[commit, default: [:]][folder] = .failure(GitFailure(reason: "'\(folder)' is not a directory (a symlink?)"))
            }
        }

        // 3. Which copy each version has at each rev, then the blobs.
        enum Copy { case blob(file: String, oid: String, rev: String), bad(file: String, reason: String) }
        var copies: [String: [Copy]] = [:]
        for v in versions {
            var revs = heads.map { (ref: $0.ref, commit: $0.commit) }
            switch tags[v] {
            case .none:
                copies[v] = [.bad(file: ReleaseNotes.candidates(v)[0], reason: "the clone has no tag '\(v)'")]
                continue
            case .some(.none):
                copies[v] = [.bad(file: ReleaseNotes.candidates(v)[0], reason: "tag '\(v)' does not name a commit")]
                continue
            case .some(.some(let commit)):
                revs.append((ref: "refs/tags/\(v)", commit: commit))
            }
            if heads.isEmpty {
                copies[v] = [.bad(file: ReleaseNotes.candidates(v)[0], reason: "the clone has no default branch (origin/HEAD, main, master) to read notes written after tagging from")]
                continue
            }
            var list: [Copy] = []
            for rev in revs {
                for (folder, file) in zip(ReleaseNotes.folders, ReleaseNotes.candidates(v)) {
                    guard let state = folders[rev.commit]?[folder] else { continue }
                    let name = String(file.dropFirst(folder.count + 1))
                    switch state {
                    case .failure(let why):
                        list.append(.bad(file: file, reason: "\(why.reason) in \(rev.ref)"))
                    case .success(let entries):
                        guard let e = entries[name] else { continue }
                        switch e.mode {
                        case "100644", "100755": list.append(.blob(file: file, oid: e.oid, rev: rev.ref))
                        case "120000": list.append(.bad(file: file, reason: "a symlink in \(rev.ref)"))
                        default: list.append(.bad(file: file, reason: "not a regular file in \(rev.ref)"))
                        }
                    }
                    break  // releaseNotes/<v>.md hides release/<v> at the same rev
                }
            }
            copies[v] = list
        }
        var blobs: [String] = []
        for list in copies.values {
            for case .blob(_, let oid, _) in list where !blobs.contains(oid) { blobs.append(oid) }
        }
        var contents: [String: BatchObject] = [:]
        for (oid, object) in zip(blobs, try catFile(blobs)) {
            guard let object else { throw GitFailure(reason: "git cat-file: blob \(oid) missing") }
            contents[oid] = object
        }
        var result: [String: [Lookup]] = [:]
        for v in versions {
            var seen = Set<String>()
            result[v] = copies[v, default: []].compactMap { copy in
                switch copy {
                case .bad(let file, let reason): return .unreadable(file: file, reason: reason)
                case .blob(let file, let oid, let rev):
                    guard seen.insert(oid).inserted, let object = contents[oid] else { return nil }
                    if object.content.count > ReleaseNotes.limit { return .unreadable(file: file, reason: "larger than 4 MiB in \(rev)") }
                    guard let text = String(validating: object.content, as: UTF8.self) else {
                        return .unreadable(file: file, reason: "not valid UTF-8 in \(rev)")
                    }
                    return .text(file: file, content: text, rev: rev)
                }
            }
        }
        return result
    }

    /// Every copy of the notes of `version` (empty: none).
    public func lookup(_ version: RecipeVersion) -> [Lookup] {
        if isGitClone {
            // A version prefetch was not asked about is judged unreadable rather than guessed.
            return fromGit?[version.text] ?? [.unreadable(file: ReleaseNotes.candidates(version.text)[0], reason: "not read from git")]
        }
        for folder in ReleaseNotes.folders {
            let path = directory + "/" + folder
            let st: stat?
            do { st = try Path.statusIfExists(path, follow: false) } catch {
                return [.unreadable(file: folder, reason: (error as SystemError).reason)]
            }
            if let st, st.st_mode & S_IFMT != S_IFDIR {
                return [.unreadable(file: folder, reason: "'\(folder)' is not a directory (a symlink?)")]
            }
        }
        for relative in ReleaseNotes.candidates(version.text) {
            let path = directory + "/" + relative
            do {
                guard let st = try Path.statusIfExists(path, follow: false) else { continue }
                if st.st_mode & S_IFMT == S_IFLNK { return [.unreadable(file: relative, reason: "a symlink")] }
                if st.st_mode & S_IFMT != S_IFREG { return [.unreadable(file: relative, reason: "not a regular file")] }
                let bytes = try AtomicFile.read(path, limit: ReleaseNotes.limit)
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    return [.unreadable(file: relative, reason: "not valid UTF-8")]
                }
                return [.text(file: relative, content: text, rev: nil)]
            } catch {
                return [.unreadable(file: relative, reason: (error as SystemError).reason)]
            }
        }
        return []
    }
}
