// ccci-health: is the app healthy? Polls an HTTP(S) endpoint until N consecutive expected
// answers, or a timeout.
import CCCICore

let command = Command(
    "ccci-health",
    summary: "poll an HTTP(S) endpoint until it is healthy (N consecutive expected answers) or a timeout",
    options: [
        .value("expect", "CODES", "comma-separated acceptable statuses", default: "200"),
        .value("successes", "N", "consecutive good answers needed", default: "3"),
        .value("timeout", "SECONDS", "give up after this long", environment: "CCCI_HEALTH_TIMEOUT", default: "300"),
        .value("interval", "SECONDS", "pause between tries; doubles after each failure", default: "1"),
        .value("max-interval", "SECONDS", "cap of the growing pause", default: "10"),
        .value("request-timeout", "SECONDS", "limit for one request", default: "10"),
        .value("headers", "FILE", "extra request headers, one 'Name: value' per line (kept out of argv)"),
        .value("json-path", "PATH=VALUE", "also require a JSON field of the body to equal VALUE, e.g. status=UP"),
    ] + HTTPPinning.options,
    operands: [.required("URL", "http:// or https:// URL")],
    exits: [(.ok, "healthy"), (.no, "unhealthy when the timeout ran out (it answered, but not well enough)")],
    notes: "69: the URL could not be reached at all (DNS, refused) by the timeout. See docs/commands/ccci-health.md.")

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        let url = args.operand("URL")!
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), !url.contains(where: { $0 == " " || $0 == "\n" }) else {
            throw Failure.usage("invalid URL '\(url)': expected http:// or https://")
        }
        var request = HTTPRequest(url: url)
        request.pinning = try HTTPPinning(args)
        request.timeout = try args.seconds("request-timeout") ?? 10
        if let file = args.value("headers") { request.headers = try HTTPHeaders.load(file) }
        var check = HealthCheck(request: request)
        check.successes = try args.integer("successes", in: 1...1000) ?? 3
        check.timeout = try args.seconds("timeout") ?? 300
        check.interval = try args.seconds("interval") ?? 1
        check.maxInterval = max(check.interval, try args.seconds("max-interval") ?? 10)
        let codes = (args.value("expect") ?? "200").split(separator: ",").map { Int($0.trimmingCharacters()) }
        guard !codes.isEmpty, codes.allSatisfy({ $0 != nil && (100...599).contains($0!) }) else {
            throw Failure.usage("invalid --expect '\(args.value("expect") ?? "")': expected statuses like 200,204")
        }
        check.expect = Set(codes.map { $0! })
        if let field = args.value("json-path") {
            guard let parsed = HealthCheck.parseJSONField(field) else { throw Failure.usage("invalid --json-path '\(field)': expected PATH=VALUE") }
            check.jsonField = parsed
        }
        let report = check.run { run.note($0) }
        let result = report.json(url: url, successesNeeded: check.successes)
        if !report.reachable {
            throw Failure(.unavailable, "unreachable", "'\(url)' could not be reached: \(report.lastError ?? "no answer")", details: result)
        }
        return Outcome(report.healthy ? .ok : .no, result)
    }
}
