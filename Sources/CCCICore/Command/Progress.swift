// Progress of long work on stderr: archives written, read and checked (bytes done of a total,
// rate, ETA) and deploy waits (the swarm's state). stdout never sees any of it.
//
// Three styles, chosen by `--progress WHEN` (env CCCI_PROGRESS, default auto):
// - `tty`: one live line, redrawn in place at most 4 times a second ("\r", the text cut to the
//   terminal's width, "ESC[K"), first drawn after 250 ms, and erased when the command ends, so
//   the terminal is left as it was; a note written meanwhile erases it first.
// - `plain`: for journald, pipes and CI logs: one ordinary line every `--progress-interval`
//   seconds (env CCCI_PROGRESS_INTERVAL, default 30), the first one interval after the start,
//   so work shorter than the interval prints nothing at all.
// - `off`: nothing. `auto` is tty when stderr is a terminal (and TERM is not "dumb"), else plain.
//
// The work itself pays almost nothing: the archive loops call `add` once per buffer (a mutex
// and an addition); the libraries name their steps (`step`, `wait`, `state`); a reporter
// thread samples the count on a timer and does all the formatting and writing. Writing goes
// through its own lock, so a stalled terminal (^S) never stalls the work. A failed write (EPIPE,
// a closed stderr) silences the reporter for good and changes nothing else: the result and the
// exit code are the work's alone. `Command` ends the reporter (erasing the live line) before it
// writes the result or the error line; nothing else needs to.
import Glibc

public enum Progress {
    public enum Mode: String, Sendable, CaseIterable {
        case auto, tty, plain, off
    }

    /// How lines are written once the mode is resolved.
    public enum Style: Sendable, Equatable {
        case live
        case plain
    }

    public static let options: [Option] = [
        .value("progress", "WHEN", "progress on stderr: auto (a live line at a terminal, else plain), tty, plain (a line every interval) or off",
               environment: "CCCI_PROGRESS", default: "auto"),
        .value("progress-interval", "SECONDS", "plain progress: seconds between lines (fractions allowed)",
               environment: "CCCI_PROGRESS_INTERVAL", default: "30"),
    ]

    /// The style `mode` means for a stderr that is (or is not) a terminal; nil for none.
    public static func style(_ mode: Mode, terminal: Bool, term: String?) -> Style? {
        switch mode {
        case .off: return nil
        case .tty: return .live
        case .plain: return .plain
        case .auto: return terminal && term != "dumb" ? .live : .plain
        }
    }

    /// Starts reporting as the command line (or environment) says. Commands that do long work
    /// call it once, after parsing; the others never start a reporter, and their steps cost nothing.
    public static func start(_ run: Invocation) throws(Failure) {
        let text = run.arguments.value("progress") ?? "auto"
        guard let mode = Mode(rawValue: text) else {
            throw Failure.usage("invalid value '\(text)' for '--progress': expected auto, tty, plain or off")
        }
        let interval = try run.arguments.duration("progress-interval", unit: "seconds", limit: 86400) ?? 30
        guard interval >= 0.01 else {
            throw Failure.usage("invalid value '\(run.arguments.value("progress-interval") ?? "")' for '--progress-interval': at least 0.01 seconds")
        }
        let stderr = FileDescriptor.standardError
        guard let style = style(mode, terminal: stderr.isTerminal, term: Environment.value("TERM")) else { return }
        reporter.start(program: run.program, schedule: Schedule(style, interval: interval), columns: stderr.terminalColumns ?? 80)
    }

    // MARK: what the work says (cheap; safe from any thread)

    /// Counts `bytes` more of the current step's work. Called from the hot loops, once per buffer.
    public static func add(_ bytes: Int) { reporter.add(bytes) }

    /// Begins a step that counts bytes: `total` when known (`estimated`: a guess, shown "~").
    public static func step(_ what: String, bytes total: Int64?, estimated: Bool = false) {
        reporter.begin(Step(what: what, counting: true, total: total, estimated: estimated))
    }

    /// Begins a step that waits (for abra, for the swarm): its state and the time waited are shown.
    public static func wait(_ what: String) {
        reporter.begin(Step(what: what, counting: false, total: nil, estimated: false))
    }

    /// The waiting step's current state, e.g. "1/2 tasks running".
    public static func state(_ text: String) { reporter.setState(text) }

    /// A diagnostic line on stderr, written without tearing the live line (it is redrawn after).
    public static func note(_ line: String) { reporter.write(line + "\n") }

    /// Runs `body` (a write of a JSON Lines record to stdout) with the live line erased, so
    /// a terminal showing both streams never gets the two on one row.
    public static func erasing(_ body: () throws(SystemError) -> Void) throws(SystemError) { try reporter.erasing(body) }

    /// Stops the reporter and erases the live line. `Command` calls it before the final output.
    public static func end() { reporter.stop() }

    static let reporter = Reporter()

    // MARK: the lines (pure, unit-tested)

    /// One step as the reporter sees it at an instant.
    public struct Sample: Sendable, Equatable {
        public var what: String
        public var counting: Bool
        public var done: Int64
        public var total: Int64?
        public var estimated: Bool
        /// Seconds since the step began.
        public var elapsed: Double
        public var state: String?

        public init(what: String, counting: Bool = true, done: Int64 = 0, total: Int64? = nil, estimated: Bool = false, elapsed: Double = 0, state: String? = nil) {
            self.what = what
            self.counting = counting
            self.done = done
            self.total = total
            self.estimated = estimated
            self.elapsed = elapsed
            self.state = state
        }
    }

    /// The text of a line, without the program's name:
    /// `extracting 'db': 312.4 MiB / 1.2 GiB (25%), 48.1 MiB/s, ETA 0:19` or
    /// `deploying 'x.example': 1/2 tasks running, 0:12`.
    public static func text(_ s: Sample) -> String {
        guard s.counting else {
            return "\(s.what): " + (s.state.map { "\($0), " } ?? "") + duration(s.elapsed)
        }
        var out = "\(s.what): \(bytes(s.done))"
        // An estimate the work has outgrown says nothing any more.
        let total = s.total.flatMap { $0 > 0 && !(s.estimated && s.done > $0) ? $0 : nil }
        if let total {
            let percent = min(100, s.done * 100 / total)
            out += " / \(s.estimated ? "~" : "")\(bytes(total)) (\(percent)%)"
        }
        let rate = s.elapsed >= 0.2 && s.done > 0 ? Double(s.done) / s.elapsed : nil
        if let rate {
            out += ", \(bytes(Int64(rate)))/s"
        }
        if let total {
            if let rate {
                out += ", ETA \(s.estimated ? "~" : "")\(duration(Double(max(0, total - s.done)) / rate))"
            } else {
                out += ", ETA --"
            }
        }
        return out
    }

    /// Bytes for people: `512 B`, `1.0 KiB`, `312.4 MiB`, `1.2 GiB` (powers of 1024, one decimal).
    public static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(max(0, n)) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(n) / 1024
        var unit = 0
        while value >= 1024 * 0.99995 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// A duration as a clock: `0:07`, `12:05`, `1:02:03` (rounded up to whole seconds).
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 360_000_000 else { return "--" }
        let total = Int(max(0, seconds).rounded(.up))
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return h > 0 ? "\(h):\(two(m)):\(two(s))" : "\(m):\(two(s))"
    }

    /// Erases the live line: back to its start, clear to the end of the line.
    public static let erase = "\r\u{1B}[K"

    /// A live line: `text` cut to fit `columns` (one column spare, so it never wraps), drawn over
    /// the previous one.
    public static func liveLine(_ text: String, columns: Int) -> String {
        "\r" + fit(text, columns: columns) + "\u{1B}[K"
    }

    /// `text` without control characters, at most `columns - 1` characters (the end cut to "…").
    public static func fit(_ text: String, columns: Int) -> String {
        let room = max(10, columns - 1)
        var chars = Array(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
        if chars.count > room { chars = Array(chars.prefix(room - 1)) + ["…"] }
        var out = ""
        out.unicodeScalars.append(contentsOf: chars)
        return out
    }

    /// When lines are due: live lines `every` 250 ms from 250 ms on; plain lines every interval,
    /// the first one interval after the start.
    public struct Schedule: Sendable, Equatable {
        public var style: Style
        /// Nanoseconds from the start to the first line, then between lines.
        public var every: UInt64

        public init(_ style: Style, interval: Double) {
            self.style = style
            every = style == .live ? 250_000_000 : UInt64(interval * 1e9)
        }

        /// The instant the next line is due, given when the reporter started and when the last
        /// line was written (nil: none yet).
        public func next(start: UInt64, last: UInt64?) -> UInt64 {
            (last ?? start) + every
        }
    }
}

struct Step: Sendable {
    var what: String
    var counting: Bool
    var total: Int64?
    var estimated: Bool
}

/// The reporter: the shared count and step (under `state`), the thread that draws them, and the
/// stderr writes (under `output`, never held by the work).
final class Reporter: @unchecked Sendable {
    private let state = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let output = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    // Under `state`.
    private var done: Int64 = 0
    private var step: Step? = nil
    private var stepStarted: UInt64 = 0
    private var stepState: String? = nil
    private var stopping = false
    private var thread: WorkerThread? = nil

    // Under `output`.
    private var style: Progress.Style? = nil
    private var program = ""
    private var columns = 80
    /// A live line is on the terminal.
    private var shown = false
    /// A write failed: stay silent.
    private var broken = false

    private var schedule = Progress.Schedule(.plain, interval: 30)

    init() {
        pthread_mutex_init(state, nil)
        pthread_mutex_init(output, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(wake, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    func start(program: String, schedule: Progress.Schedule, columns: Int) {
        pthread_mutex_lock(output)
        self.program = program
        self.style = schedule.style
        self.columns = columns
        pthread_mutex_unlock(output)
        pthread_mutex_lock(state)
        defer { pthread_mutex_unlock(state) }
        guard thread == nil, !stopping else { return }
        self.schedule = schedule
        // No thread, no progress: the work goes on regardless.
        thread = try? WorkerThread { [self] in run(start: Kernel.monotonicNanoseconds()) }
    }

    func add(_ bytes: Int) {
        pthread_mutex_lock(state)
        done &+= Int64(bytes)
        pthread_mutex_unlock(state)
    }

    func begin(_ s: Step) {
        pthread_mutex_lock(state)
        step = s
        done = 0
        stepState = nil
        stepStarted = Kernel.monotonicNanoseconds()
        pthread_mutex_unlock(state)
    }

    func setState(_ text: String) {
        pthread_mutex_lock(state)
        stepState = text
        pthread_mutex_unlock(state)
    }

    private func sample(at now: UInt64) -> Progress.Sample? {
        guard let step else { return nil }
        return Progress.Sample(what: step.what, counting: step.counting, done: done, total: step.total, estimated: step.estimated,
                               elapsed: Double(now &- stepStarted) / 1e9, state: stepState)
    }

    /// The reporter thread: sleeps until a line is due (or `stop`), draws it, repeats.
    private func run(start: UInt64) {
        var last: UInt64? = nil
        pthread_mutex_lock(state)
        while !stopping {
            let due = schedule.next(start: start, last: last)
            let now = Kernel.monotonicNanoseconds()
            if now < due {
                var until = timespec(tv_sec: Int(due / 1_000_000_000), tv_nsec: Int(due % 1_000_000_000))
                _ = pthread_cond_timedwait(wake, state, &until)
                continue
            }
            let s = sample(at: now)
            pthread_mutex_unlock(state)
            if let s { draw(Progress.text(s)) }
            last = max(due, Kernel.monotonicNanoseconds())
            pthread_mutex_lock(state)
        }
        pthread_mutex_unlock(state)
    }

    private func draw(_ text: String) {
        pthread_mutex_lock(output)
        defer { pthread_mutex_unlock(output) }
        switch style {
        case .live?:
            // Asked at every draw: a terminal resized meanwhile gets lines that fit.
            let width = FileDescriptor.standardError.terminalColumns ?? columns
            shown = put(Progress.liveLine("\(program): \(text)", columns: width))
        case .plain?:
            _ = put(Progress.fit("\(program): \(text)", columns: 4096) + "\n")
        case nil:
            break
        }
    }

    /// Writes `line` (a whole line) to stderr, erasing the live line first.
    func write(_ line: String) {
        pthread_mutex_lock(output)
        defer { pthread_mutex_unlock(output) }
        if shown {
            _ = put(Progress.erase)
            shown = false
        }
        try? FileDescriptor.standardError.writeAll(line)
    }

    func erasing(_ body: () throws(SystemError) -> Void) throws(SystemError) {
        pthread_mutex_lock(output)
        defer { pthread_mutex_unlock(output) }
        if shown {
            _ = put(Progress.erase)
            shown = false
        }
        try body()
    }

    /// Writes to stderr unless a write failed before; false on failure.
    private func put(_ text: String) -> Bool {
        guard !broken else { return false }
        do throws(SystemError) { try FileDescriptor.standardError.writeAll(text) } catch {
            broken = true
            return false
        }
        return true
    }

    func stop() {
        pthread_mutex_lock(state)
        stopping = true
        let t = thread
        thread = nil
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(state)
        t?.join()
        pthread_mutex_lock(output)
        if shown { _ = put(Progress.erase) }
        shown = false
        style = nil
        pthread_mutex_unlock(output)
    }
}
