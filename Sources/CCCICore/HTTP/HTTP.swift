// HTTP(S) requests, made by curl(1) with its whole configuration on stdin (`curl -q -K -`).
//
// Why curl and not the toolchain's networking: URLSession lives in FoundationNetworking, which
// drags full Foundation (and ICU) into every binary that links it and doubles start-up; and a
// TLS stack of our own would be a bigger risk than the one the operator's system already patches.
// curl brings the system's TLS and CA store, `--resolve`/`--connect-to` host pinning, HTTP/1.1 and
// HTTP/2, and precise failure codes. Its cost is one process per request (a few milliseconds),
// which is nothing next to the seconds between health polls.
//
// Secrets never reach argv: the URL, headers (Authorization), bodies (passwords, client secrets)
// and options are all written to curl's stdin as a config file; its argv is always the constant
// `curl -q -K -`, which is what /proc/<pid>/cmdline shows. `-q` (first, as curl requires) skips
// every ~/.curlrc: a `fail` or `location` there would change what an answer means.

public struct HTTPRequest: Sendable {
    public var url: String
    public var method: String = "GET"
    public var headers: [(String, String)] = []
    public var body: [UInt8]? = nil
    public var pinning = HTTPPinning()
    /// Seconds for the whole request.
    public var timeout: Double = 10

    public init(url: String) { self.url = url }
}

/// How to reach a host other than through DNS, and how to trust its certificate.
public struct HTTPPinning: Sendable {
    /// `HOST:PORT:ADDRESS`, as curl --resolve.
    public var resolve: [String] = []
    /// `HOST:PORT:CONNECT-HOST:CONNECT-PORT`, as curl --connect-to.
    public var connectTo: [String] = []
    public var caFile: String? = nil
    public var insecure = false
    public init() {}

    /// The options every HTTP-speaking command shares, so they read the same everywhere.
    public static let options: [Option] = [
        .repeated("resolve", "HOST:PORT:ADDR", "reach HOST:PORT at ADDR instead of asking DNS (as curl --resolve)"),
        .repeated("connect-to", "HOST:PORT:H2:P2", "connect to H2:P2 for HOST:PORT, keeping the name for TLS and Host (as curl --connect-to)"),
        .value("cacert", "FILE", "trust the CA certificates in FILE"),
        .flag("insecure", "do not verify the server's certificate"),
    ]

    public init(_ args: Arguments) throws(Failure) {
        for r in args.values("resolve") where r.split(separator: ":").count < 3 {
            throw Failure.usage("invalid --resolve '\(r)': expected HOST:PORT:ADDRESS")
        }
        for c in args.values("connect-to") where c.split(separator: ":", omittingEmptySubsequences: false).count != 4 {
            throw Failure.usage("invalid --connect-to '\(c)': expected HOST:PORT:CONNECT-HOST:CONNECT-PORT")
        }
        resolve = args.values("resolve")
        connectTo = args.values("connect-to")
        caFile = args.value("cacert")
        insecure = args.flag("insecure")
        if let caFile, (try? Path.status(caFile, follow: true)) == nil {
            throw Failure(.noInput, "missing", "CA file '\(caFile)' does not exist")
        }
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    public var json: JSON? { try? JSON.parse(body) }
}

/// Why no HTTP response came back.
public struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// DNS failure or connection refused: nothing is listening.
        case unreachable
        case timeout
        case tls
        /// Connected, but the exchange broke (empty reply, reset).
        case broken
        /// curl itself could not run or was misused.
        case client
    }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

public enum HTTP {
    public static var curl: String { Environment.value("CCCI_CURL") ?? "curl" }

    public static func send(_ request: HTTPRequest) throws(HTTPFailure) -> HTTPResponse {
        var config = [
            "silent", "show-error", "globoff", "http1.1",
            "url = \(quote(request.url))",
            "request = \(quote(request.method))",
            "max-time = \(request.timeout)",
            "connect-timeout = \(min(request.timeout, 10))",
            "output = \"-\"",
            "write-out = \"\\n%{http_code}\"",
            "proto = \"=http,https\"",
        ]
        for (name, value) in request.headers { config.append("header = \(quote("\(name): \(value)"))") }
        if let body = request.body { config.append("data-binary = \(quote(String(decoding: body, as: UTF8.self)))") }
        for r in request.pinning.resolve { config.append("resolve = \(quote(r))") }
        for c in request.pinning.connectTo { config.append("connect-to = \(quote(c))") }
        if let ca = request.pinning.caFile { config.append("cacert = \(quote(ca))") }
        if request.pinning.insecure { config.append("insecure") }
        var p = Subprocess([curl, "-q", "-K", "-"])
        p.input = Array((config.joined(separator: "\n") + "\n").utf8)
        p.timeout = request.timeout + 5
        let result: Subprocess.Result
        do { result = try p.run() } catch {
            throw HTTPFailure(kind: .client, message: "cannot run curl: \(error)")
        }
        if result.timedOut { throw HTTPFailure(kind: .timeout, message: "no answer within \(request.timeout) s") }
        guard case .exited(let code) = result.status else { throw HTTPFailure(kind: .client, message: "curl ended by \(result.status)") }
        if code != 0 {
            let text = result.stderrText.split(separator: "\n").last.map(String.init) ?? "curl exit \(code)"
            let kind: HTTPFailure.Kind = switch code {
            case 6, 7: .unreachable
            case 28: .timeout
            case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91: .tls
            case 52, 55, 56, 92: .broken
            default: .client
            }
            throw HTTPFailure(kind: kind, message: text)
        }
        var out = result.stdout
        guard let newline = out.lastIndex(of: 0x0A), let status = Int(String(decoding: out[(newline + 1)...], as: UTF8.self)) else {
            throw HTTPFailure(kind: .broken, message: "no status line from curl")
        }
        out.removeSubrange(newline...)
        return HTTPResponse(status: status, body: out)
    }

    /// A curl config string: double-quoted with \\ \" \n \r \t escaped.
    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    /// `application/x-www-form-urlencoded` encoding of fields.
    public static func formEncode(_ fields: [(String, String)]) -> [UInt8] {
        func escape(_ s: String) -> String {
            var out = ""
            for b in s.utf8 {
                switch b {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
                case 0x20: out += "+"
                default: out += "%" + Hex.encode([b]).uppercased()
                }
            }
            return out
        }
        return Array(fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&").utf8)
    }
}

/// Extra headers from a file (never argv): one `Name: value` per line, blank lines and `#`
/// comments ignored.
public enum HTTPHeaders {
    public static func load(_ path: String) throws(Failure) -> [(String, String)] {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path, limit: 64 << 10) } catch { throw Failure(error, doing: "reading headers file") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw Failure.badData("headers file '\(path)' is not valid UTF-8") }
        var headers: [(String, String)] = []
        for (n, line) in Text.lines(text).enumerated() {
            let l = line.trimmingCharacters()
            if l.isEmpty || l.hasPrefix("#") { continue }
            guard !l.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\t" }) else {
                throw Failure.badData("headers file '\(path)' line \(n + 1): a control character (a header is one line)")
            }
            guard let colon = l.firstIndex(of: ":"), colon != l.startIndex,
                l[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else { throw Failure.badData("headers file '\(path)' line \(n + 1): expected 'Name: value'") }
            headers.append((String(l[..<colon]), String(l[l.index(after: colon)...]).trimmingCharacters()))
        }
        return headers
    }
}
