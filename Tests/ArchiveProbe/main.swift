// ccci-archive-probe: the archive library on the command line, for the bats interop and
// hostile-corpus tests and the benchmark (Tests/archive, bench/archive). A test helper, not a
// shipped command: ccci-snap and ccci-restore are the library's real callers.
import CCCIArchive
import CCCICore
import Glibc

let command = Command(
    "ccci-archive-probe",
    summary: "write, extract, verify and digest pax archives with the ci-warm archive library",
    options: [
        .flag("no-sync", "skip the writeback and the final fsync/syncfs"),
        .value("sha256", "HEX", "the archive's expected SHA-256 (extract, verify)"),
        .flag("portable", "sha256: use the portable SHA-256, not the CPU's extensions"),
    ],
    subcommands: [
        Subcommand("write", summary: "archive the tree DIR into ARCHIVE ('-' for stdout)", operands: [.required("DIR", "the tree"), .required("ARCHIVE", "the archive to create")]),
        Subcommand("extract", summary: "extract ARCHIVE ('-' for stdin) into the empty directory STAGING", operands: [.required("ARCHIVE", "the archive"), .required("STAGING", "an empty directory")]),
        Subcommand("verify", summary: "read ARCHIVE ('-' for stdin) fully without writing anything", operands: [.required("ARCHIVE", "the archive")]),
        Subcommand("digest", summary: "the tree digest of the directory DIR", operands: [.required("DIR", "the tree")]),
        Subcommand("sha256", summary: "the SHA-256 of FILE ('-' for stdin)", operands: [.required("FILE", "the file")]),
    ],
    exits: [(.ok, "done; the result is printed")],
    notes: "Errors use the toolkit's table: 65 corrupt or hostile archive, 74 I/O, 77 permission (device nodes when not root).")

func openDirectory(_ path: String) throws(SystemError) -> FileDescriptor {
    try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
}

func summary(_ s: ArchiveSummary) -> JSON {
    ["sha256": .string(s.sha256.hex), "bytes": JSON(Int(s.bytes)), "entries": JSON(s.entries), "treeDigest": .string(s.treeDigest.hex),
     "skipped": .array(s.skipped.map { .string($0) })]
}

command.main { run in
    let args = run.arguments
    var expected: SHA256Digest? = nil
    if let hex = args.value("sha256") {
        guard let d = SHA256Digest(hex: hex) else { throw Failure.usage("invalid value '\(hex)' for '--sha256'") }
        expected = d
    }
    do {
        switch run.subcommand {
        case "write":
            let tree = try openDirectory(args.operand("DIR")!)
            let path = args.operand("ARCHIVE")!
            let out = path == "-" ? FileDescriptor.standardOutput : try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
            var options = ArchiveWriter.Options()
            options.durable = !args.flag("no-sync")
            let s = try ArchiveWriter.write(tree: tree, to: out, options: options)
            return .ok(summary(s))
        case "extract":
            let path = args.operand("ARCHIVE")!
            let input = path == "-" ? FileDescriptor.standardInput : try FileDescriptor.open(path, O_RDONLY)
            let staging = try openDirectory(args.operand("STAGING")!)
            var options = Extractor.Options()
            options.durable = !args.flag("no-sync")
            return .ok(summary(try Extractor.extract(from: input, into: staging, expectedSHA256: expected, options: options)))
        case "verify":
            let path = args.operand("ARCHIVE")!
            let input = path == "-" ? FileDescriptor.standardInput : try FileDescriptor.open(path, O_RDONLY)
            return .ok(summary(try Extractor.verify(from: input, expectedSHA256: expected)))
        case "digest":
            return .ok(["treeDigest": .string(try TreeDigest.compute(directory: try openDirectory(args.operand("DIR")!)).hex)])
        default:
            let path = args.operand("FILE")!
            let input = path == "-" ? FileDescriptor.standardInput : try FileDescriptor.open(path, O_RDONLY)
            var hasher = args.flag("portable") ? SHA256.portable() : SHA256()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
            defer { buffer.deallocate() }
            var total = 0
            while true {
                let n = try input.read(into: buffer)
                if n == 0 { break }
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                total += n
            }
            return .ok(["sha256": .string(hasher.finalize().hex), "bytes": JSON(total), "accelerated": .bool(SHA256.isAccelerated && !args.flag("portable"))])
        }
    } catch let error as ArchiveError {
        throw Failure(error)
    }
}
