// ccci-gate: the pre-deploy safety gate. Decides apply / hold / noop and the furthest safe
// version, reading the release notes of every version on the way.
import CCCICore

let command = Command(
    "ccci-gate",
    summary: "decide whether an upgrade may go ahead, and to which version",
    options: [
        .value("current", "VERSION", "the version deployed now (required)"),
        .repeated("candidate", "VERSION", "an available version; without any, versions are read from stdin"),
        .renamed("version", to: "candidate"),
        .value("notes", "DIR", "recipe directory holding releaseNotes/<version>.md (or release/<version>)"),
        .value("markers", "FILE", "phrases that mean 'manual migration', one per line (replaces the defaults)"),
        .value("policy", "POLICY", "largest bump taken: patch, minor or all", environment: "CCCI_GATE_POLICY", default: "minor"),
    ],
    exits: [(.ok, "apply (a newer safe version) or noop (nothing newer)"),
            (.no, "hold: newer versions exist and none is safe, or none on offer could be read")],
    notes: """
        stdin (when no --candidate is given): a JSON array of versions, a JSON object with a
        'versions' array, or one version per line (e.g. `git tag`; CRLF accepted). No versions at
        all is an error (65), never a noop.
        output: {"decision","current","target","latest","policy","bump","latest_bump","held",
        "alert","notes_read"}; see docs/commands/ccci-gate.md.
        """)

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        let current = try args.require("current")
        let policy = Gate.Policy(rawValue: try args.choice("policy", Gate.Policy.allCases.map(\.rawValue)) ?? "minor")!
        var candidates = args.values("candidate")
        if candidates.isEmpty {
            if StandardInput.isTerminal { throw Failure.usage("no versions: give --candidate or pipe them on stdin") }
            candidates = try Gate.parseCandidates(StandardInput.readAll())
            try Gate.requireCandidates(candidates)
        }
        let markers = try Gate.loadMarkers(args.value("markers"))
        let notes = try Gate.openNotes(args.value("notes"))
        let verdict = Gate.decide(current: current, candidates: candidates, notes: notes, markers: markers, policy: policy)
        return Outcome(verdict.decision == .hold ? .no : .ok, verdict.json)
    }
}
