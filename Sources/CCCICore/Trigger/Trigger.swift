// The comment grammar that starts a CI run. After trimming surrounding whitespace a comment must
// be exactly `!testme` (a cold run) or `!testme --quick` (the quick lane). Nothing else is a
// trigger: no prefix or suffix text, no other spacing, no quoting, no code block. Strictness is
// the point: a comment quoting someone else's `!testme` must never start a run.
//
// Webhook events (GitHub, Gitea, Forgejo `issue_comment`): only a newly created comment on a pull
// request counts (an edit never re-triggers); comments by bots or by listed accounts (the CI's own
// bot) are ignored; and with a state directory each comment id is recorded once, with
// O_CREAT|O_EXCL, so a redelivered webhook is reported as a duplicate instead of starting a
// second run.
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
        // GitHub marks app accounts with type "Bot" and a "[bot]" login suffix; Gitea and Forgejo
        // have no such field, so their bots are excluded by name (--ignore-authors).
        let isBot = user?["type"]?.string == "Bot" || login.hasSuffix("[bot]")
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
    }

    /// Decides on an event; `seen` (the triggers directory) makes redeliveries duplicates.
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
        guard event.action == "created" else { return no(event.action == "edited" ? "edited" : "action-\(event.action)") }
        if event.authorIsBot { return no("bot-author") }
        if ignoring.contains(event.author) { return no("ignored-author") }
        guard event.pullRequest != nil else { return no("not-a-pull-request") }
        guard let mode = mode(of: Array(event.body.utf8)) else { return no("not-a-command") }
        if let seen {
            let name = "\(event.forge)-\(event.commentID)"
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
        return Decision(mode: mode, reason: nil, json: r)
    }
}
