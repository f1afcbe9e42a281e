// The comment grammar that starts a CI run. After trimming surrounding whitespace a comment must
// be exactly `!testme` (a cold run) or `!testme --quick` (the quick lane). Nothing else is a
// trigger: no prefix or suffix text, no other spacing, no quoting, no code block. Strictness is
// the point: a comment quoting someone else's `!testme` must never start a run.
//
// Webhook events (GitHub, Gitea, Forgejo `issue_comment`): only a newly created comment on a pull
// request counts (an edit never re-triggers); comments by bots or by listed accounts (the CI's own
// bot, compared without regard to case, as forges compare logins) are ignored; and with a state
// directory each comment id is recorded once, with O_CREAT|O_EXCL, so a redelivered webhook is
// reported as a duplicate instead of starting a second run. The record is a claim until the
// answer is out: when writing the answer fails (stdout closed, a broken pipe), the record is
// removed again, so the forge's redelivery is a trigger and not a "duplicate" of a run that
// never started.
import Glibc

public enum Trigger {
    public enum Mode: String, Sendable { case cold, quick }

    /// The mode a comment body asks for, or nil when it is not a trigger.
    public static func mode(of body: [UInt8]) -> Mode? {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        guard let start = body.firstIndex(where: { !isSpace($0) }), let end = body.lastIndex(where: { !isSpace($0) }) else { return nil }
        let trimmed = body[start...end]
        if trimmed.elementsEqual("!testme".utf8) { return .cold }
        if trimmed.elementsEqual("!testme --quick".utf8) { return .quick }
        return nil
    }

    public struct Event: Sendable {
        public var forge: String
        public var action: String
        public var commentID: String
        public var body: String
        public var author: String
        public var authorIsBot: Bool
        public var pullRequest: Int64?
        public var repository: String?
    }

    /// Reads an `issue_comment` payload. Nil when the JSON is not a comment event at all.
    public static func event(from payload: JSON) throws(Failure) -> Event? {
        guard payload.object != nil, let comment = payload["comment"], comment.object != nil, let issue = payload["issue"], issue.object != nil else {
            return nil
        }
        guard let action = payload["action"]?.string else { throw Failure.badData("issue_comment payload without 'action'") }
        guard case .number(let id)? = comment["id"], Int64(id) != nil, !id.hasPrefix("-") else {
            throw Failure.badData("issue_comment payload without a numeric 'comment.id'")
        }
        guard let body = comment["body"]?.string ?? (comment["body"]?.isNull == true ? "" : nil) else {
            throw Failure.badData("issue_comment payload without 'comment.body'")
        }
        let user = comment["user"] ?? payload["sender"]
        guard let login = user?["login"]?.string ?? user?["username"]?.string else {
            throw Failure.badData("issue_comment payload without 'comment.user.login'")
        }
        guard !login.trimmingCharacters().isEmpty, !login.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw Failure.badData("issue_comment payload with an empty or invalid 'comment.user.login'")
        }
        // GitHub marks app accounts with type "Bot" and a "[bot]" login suffix; Gitea and Forgejo
        // have no such field, so their bots are excluded by name (--ignore-authors).
        let isBot = user?["type"]?.string == "Bot" || login.lowercased().hasSuffix("[bot]")
        // A pull request: GitHub and Gitea put a `pull_request` object on the issue; Gitea and
        // Forgejo also send `is_pull`.
        let isPull = (issue["pull_request"].map { !$0.isNull } ?? false) || payload["is_pull"]?.bool == true
        let forge = payload["is_pull"] != nil || comment["pull_request_url"] != nil || user?["login_name"] != nil ? "gitea" : "github"
        return Event(
            forge: forge, action: action, commentID: id, body: body, author: login, authorIsBot: isBot,
            pullRequest: isPull ? issue["number"]?.int : nil, repository: payload["repository"]?["full_name"]?.string)
    }

    public struct Decision: Sendable {
        public var mode: Mode?
        public var reason: String?
        public var json: JSONObject
        /// The record this decision claimed under the triggers directory, until the answer is out.
        var claimed: String? = nil

        /// Hands the answer over with `write`; when that fails, the claimed record is removed
        /// again (nothing recorded) and the failure is an I/O error.
        public func deliver(in seen: FileDescriptor?, _ write: () throws(SystemError) -> Void) throws(Failure) {
            do { try write() } catch {
                var failure = Failure(error, doing: "writing the answer")
                if let claimed, let seen {
                    do throws(SystemError) {
                        try Path.unlink(claimed, in: seen)
                        try seen.sync()
                        failure.message += " (the comment was not recorded)"
                    } catch {
                        failure.message += "; removing the record '\(claimed)' failed too: \(error)"
                    }
                }
                failure.exit = .io
                failure.code = "io"
                throw failure
            }
        }
    }

    /// Logins as forges compare them: without regard to case, surrounding spaces dropped; empty
    /// entries (a trailing comma) ignored.
    public static func logins(_ list: String) -> Set<String> {
        Set(list.split(separator: ",").map { $0.trimmingCharacters().lowercased() }.filter { !$0.isEmpty })
    }

    /// The reason for an action other than `created`: a closed, documented set.
    static func reason(forAction action: String) -> String {
        switch action {
        case "edited": "edited"
        case "deleted": "deleted"
        default: "not-created"
        }
    }

    /// Decides on an event; `seen` (the triggers directory) makes redeliveries duplicates. A
    /// trigger claims its record here; `Decision.deliver` keeps or undoes the claim.
    public static func decide(_ event: Event, ignoring: Set<String>, seen: FileDescriptor?) throws(Failure) -> Decision {
        var o = JSONObject()
        o["forge"] = .string(event.forge)
        o["comment_id"] = .number(event.commentID)
        o["pr"] = event.pullRequest.map { JSON($0) } ?? .null
        o["author"] = .string(event.author)
        o["repository"] = JSON(event.repository)
        o["action"] = .string(event.action)
        func no(_ reason: String) -> Decision {
            var r = JSONObject([("trigger", false), ("mode", .null), ("reason", .string(reason))])
            for (k, v) in o { r[k] = v }
            return Decision(mode: nil, reason: reason, json: r)
        }
        guard event.action == "created" else { return no(reason(forAction: event.action)) }
        if event.authorIsBot { return no("bot-author") }
        if Set(ignoring.map { $0.lowercased() }).contains(event.author.lowercased()) { return no("ignored-author") }
        guard event.pullRequest != nil else { return no("not-a-pull-request") }
        guard let mode = mode(of: Array(event.body.utf8)) else { return no("not-a-command") }
        var claimed: String? = nil
        if let seen {
            let name = "\(event.forge)-\(event.commentID)"
            claimed = name
            do throws(SystemError) {
                let fd = try FileDescriptor.open(name, relativeTo: seen, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
                fd.closeQuietly()
                try seen.sync()
            } catch {
                if error.errno == EEXIST { return no("duplicate") }
                throw Failure(error, doing: "recording comment \(event.commentID)")
            }
        }
        var r = JSONObject([("trigger", true), ("mode", .string(mode.rawValue)), ("reason", .null)])
        for (k, v) in o { r[k] = v }
        return Decision(mode: mode, reason: nil, json: r, claimed: claimed)
    }
}
