import ArgumentParser
import CSV
import Foundation
import HubCore
import HubStore

struct CustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers", abstract: "Import and export customers as CSV.", subcommands: [Import.self, Export.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import customers from a CSV file, idempotent on externalId.",
            discussion: """
                Columns: externalId (required), name, email, phone, timeZone, locale, tags (separated by ;), tier, \
                emailMarketing, emailTransactional, smsMarketing, smsTransactional (opted_in, opted_out or empty), \
                lastOrderAt, orders, revenue (the value tiers are computed from them); any other column is an attribute. \
                Bad lines are reported with their line numbers while good lines import; the exit status is 2 when any \
                line was not imported. Progress goes to stderr every 10,000 lines.
                """
        )

        @OptionGroup var options: CommonOptions

        @Argument(help: "The CSV file (UTF-8, its first line naming the columns).")
        var file: String

        @Flag(help: "Check everything and report what the import would do; keep nothing.")
        var dryRun = false

        @Option(help: "Lines per transaction.")
        var batchSize = 1_000

        func run() async throws {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
            guard let stream = InputStream(fileAtPath: file) else { throw ValidationError("no file at \(file)") }
            let reader = try CSVReader(stream: stream, hasHeaderRow: true)
            guard let header = reader.headerRow else { throw ValidationError("\(file) is empty") }
            do { try CustomerCSV.checkHeader(header) } catch { throw ValidationError("line 1: \(error.reason)") }
            let region = try await options.load().sms.defaultRegion
            let started = Date()
            var report = CustomerImportReport()
            var invalid: [ImportProblem] = []
            var invalidLines = 0
            var line = 1
            var tiers = 0
            try await options.withStorage { storage in
                var batch: [CustomerImportRow] = []
                func flush() async throws {
                    guard !batch.isEmpty else { return }
                    report.add(try await storage.importCustomers(batch, dryRun: dryRun))
                    batch.removeAll(keepingCapacity: true)
                }
                while let fields = reader.next() {
                    line += 1
                    switch CustomerCSV.row(fields, header: header, line: line, defaultRegion: region) {
                    case .success(let row): batch.append(row)
                    case .failure(let rejection):
                        invalid += rejection.problems
                        invalidLines += 1
                    }
                    if batch.count >= batchSize { try await flush() }
                    if (line - 1) % 10_000 == 0 {
                        FileHandle.standardError.write(Data(String(format: "%d lines read in %.1f s\n", line - 1, Date().timeIntervalSince(started)).utf8))
                    }
                }
                try await flush()
                // On Linux the reader reports the end of a file as `cannotReadFile`; anything else is a broken file.
                if let error = reader.error, !(error is CSVError && "\(error)" == "cannotReadFile") {
                    throw ValidationError("line \(line + 1): not CSV (\(error)); the lines before it were imported")
                }
                if !dryRun { tiers = try await storage.recomputeValueTiers(now: Date()) }
            }
            for problem in (invalid + report.rejected).sorted(by: { $0.line < $1.line }) { print(problem) }
            let rejected = invalidLines + Set(report.rejected.map(\.line)).count
            print(String(format: "%@%d lines in %.1f s: %d created, %d updated, %d unchanged, %d not imported; %d value tiers changed",
                         dryRun ? "dry run, nothing kept: " : "", line - 1, Date().timeIntervalSince(started),
                         report.created, report.updated, report.unchanged, rejected, tiers))
            if rejected > 0 { throw ExitCode(2) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export every customer as CSV, in the columns the import reads.")

        @OptionGroup var options: CommonOptions

        @Option(help: "The file to write (default: standard output).")
        var output: String?

        func run() async throws {
            let file: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil), let handle = FileHandle(forWritingAtPath: output) else {
                    throw ValidationError("cannot write \(output)")
                }
                file = handle
            } else {
                file = FileHandle.standardOutput
            }
            defer { if output != nil { try? file.close() } }
            try await options.withStorage { storage in
                // Two passes, a page at a time: the attribute columns first, then the lines.
                var attributes = Set<String>()
                var cursor: String?
                while case let page = try await storage.exportCustomers(after: cursor, limit: 1_000), let last = page.last {
                    for entry in page { attributes.formUnion(entry.customer.attributes.keys) }
                    cursor = last.customer.id
                }
                let columns = attributes.subtracting(CustomerCSV.columns + CustomerCSV.valueColumns).sorted()
                try file.write(contentsOf: Self.csv([CustomerCSV.columns + CustomerCSV.valueColumns + columns]))
                cursor = nil
                while case let page = try await storage.exportCustomers(after: cursor, limit: 1_000), let last = page.last {
                    try file.write(contentsOf: Self.csv(page.map { entry in
                        CustomerCSV.line(entry.customer, externalId: entry.customer.externalId, identities: entry.identities,
                                         consents: entry.consents, attributeColumns: columns)
                    }))
                    cursor = last.customer.id
                }
            }
        }

        /// Lines as CSV, each ending in a line break, written in memory first: the writer's stream gets a call per character.
        private static func csv(_ lines: [[String]]) throws -> Data {
            let writer = try CSVWriter(stream: .toMemory())
            for line in lines { try writer.write(row: line) }
            writer.stream.close()
            var data = writer.stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
            data.append(UInt8(ascii: "\n"))
            return data
        }
    }
}
