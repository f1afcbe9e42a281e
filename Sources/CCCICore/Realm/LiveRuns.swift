// Which runs are live: the run hexes of the swarm stacks deployed right now. A cold run's domain
// is `<recipe[:4]>-<hex>.<base>` and its stack is that domain with '.' made '_' (AppIdentity), so
// the hex ends the stack name's first '_'-separated part. The reading is deliberately generous:
// any stack whose first part ends in `-<6 lowercase hex>` counts as a live run (a warm app named
// like one too). A realm wrongly believed live is only kept for another sweep; a realm wrongly
// believed dead would break a running test.

public enum LiveRuns {
    /// The run hex of a stack name, or nil when it does not look like a cold run's stack.
    public static func hex(ofStack stack: String) -> String? {
        let first = stack.split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let b = Array(first.utf8)
        guard b.count >= 8, b[b.count - 7] == 0x2D else { return nil }
        let hex = String(decoding: b[(b.count - 6)...], as: UTF8.self)
        return Hex.isLowercase(hex, count: 6) ? hex : nil
    }

    /// The run hexes among stack names, sorted and without repeats.
    public static func hexes(ofStacks stacks: [String]) -> [String] {
        Array(Set(stacks.compactMap(hex(ofStack:)))).sorted()
    }

    /// Stack names from `docker stack ls --format '{{json .}}'` output (one object per line with
    /// a `Name`). Any line that is not such an object makes the whole answer unusable: the caller
    /// must not reap on a partial view of what is live.
    public static func stackNames(fromDockerLines bytes: [UInt8]) throws(Failure) -> [String] {
        let lines: [JSON]
        do { lines = try JSON.parseLines(bytes) } catch {
            throw Failure(.unavailable, "docker-output", "unexpected output from docker stack ls: \(error)")
        }
        var names: [String] = []
        for line in lines {
            guard let name = line["Name"]?.string, !name.isEmpty else {
                throw Failure(.unavailable, "docker-output", "unexpected output from docker stack ls: a line without a Name")
            }
            names.append(name)
        }
        return names
    }

    /// The stacks deployed on the swarm now, asked of the docker CLI (`CCCI_DOCKER` overrides).
    public static func fromDocker(_ docker: Docker = Docker()) throws(Failure) -> (stacks: [String], hexes: [String]) {
        let out = try docker.run(["stack", "ls", "--format", "{{json .}}"])
        let stacks = try stackNames(fromDockerLines: out)
        return (stacks.sorted(), hexes(ofStacks: stacks))
    }
}
