import ArgumentParser
import Foundation
import HubCore
import HubServer
import HubStore
import Logging

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "Create, launch, plan, control and follow marketing campaigns.",
        subcommands: [List.self, Create.self, Launch.self, Plan.self, Control.self, Stats.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The campaigns, newest first.")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await options.withStorage { storage in
                var cursor: String?
                repeat {
                    let page = try await storage.campaigns(PageRequest(cursor: cursor, limit: PageRequest.maxLimit))
                    for campaign in page.items {
                        print("\(campaign.id)\t\(campaign.state.rawValue)\t\(campaign.template)\t\(campaign.planned)/\(campaign.audienceSize.map(String.init) ?? "-")\t\(campaign.name)")
                    }
                    cursor = page.nextCursor
                } while cursor != nil
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a draft campaign; prints its id on the last line.")
        @OptionGroup var options: CommonOptions

        @Option(help: "The campaign's name.") var name: String
        @Option(help: "The template's name.") var template: String
        @Option(help: #"The audience filter, e.g. 'tier in ("vip") and tags has "new-parent"' (default: everyone)."#) var audience: String?
        @Option(help: "Channels it may use, best first (email,sms,webchat); default: each customer's preference.") var channels: String?
        @Option(help: "A template value data.KEY, as KEY=VALUE (repeatable).") var data: [String] = []
        @Option(help: "Not before this RFC 3339 time.") var at: String?
        @Option(help: "Each recipient at this local time of day (HH:mm) in their own time zone.") var localTime: String?
        @Option(help: "Messages per second on a channel, as CHANNEL=RATE (repeatable).") var rate: [String] = []

        func run() async throws {
            var values: [String: String] = [:]
            for pair in data {
                guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--data takes KEY=VALUE, not \(pair)") }
                values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            var perSecond: [Channel: Double] = [:]
            for pair in rate {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let channel = Channel(rawValue: parts[0]), let value = Double(parts[1]) else {
                    throw ValidationError("--rate takes CHANNEL=RATE, not \(pair)")
                }
                perSecond[channel] = value
            }
            let parsedChannels = try channels.map { list in
                try list.split(separator: ",").map { name in
                    guard let channel = Channel(rawValue: String(name)) else { throw ValidationError("unknown channel \(name)") }
                    return channel
                }
            }
            let start = try at.map { text in
                guard let date = try? Date(text, strategy: .iso8601) else { throw ValidationError("--at takes an RFC 3339 time") }
                return date
            }
            let draft = CampaignDraft(name: name, template: template, audience: audience, channels: parsedChannels, data: values,
                                      schedule: CampaignSchedule(at: start, localTime: localTime), throttle: CampaignThrottle(perSecond: perSecond))
            try await options.withCampaignRunner { storage, runner in
                _ = try await runner.catalog.template(named: template)
                print(try await storage.createCampaign(draft).id)
            }
        }
    }

    struct Launch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a draft and launch it; a running hub plans and sends it (or `campaign plan`).",
            discussion: "Every problem that blocks the launch is printed (template file and line, how many recipients lack a value); exit status 2."
        )
        @OptionGroup var options: CommonOptions
        @Argument(help: "The campaign's id.") var id: String

        func run() async throws {
            try await options.withCampaignRunner { storage, runner in
                let launch = CampaignLaunch(storage: storage, catalog: runner.catalog)
                let draft = try await storage.campaign(id: id)
                let checked = try await launch.check(draft)
                guard checked.problems.isEmpty else {
                    for problem in checked.problems { print(problem) }
                    throw ExitCode(2)
                }
                let campaign = try await launch.launch(draft, checked: checked)
                print("launched \(campaign.id) to \(checked.audienceSize) customers; state \(campaign.state.rawValue)")
            }
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Plan a launched campaign here, with progress, instead of waiting for the hub to do it.",
            discussion: "Safe beside a running hub: each batch commits only where the other left off, so nobody is planned twice."
        )
        @OptionGroup var options: CommonOptions
        @Argument(help: "The campaign's id.") var id: String

        func run() async throws {
            try await options.withCampaignRunner { storage, runner in
                let started = Date()
                var planned = 0
                while let work = try await storage.campaignsToPlan().first(where: { $0.campaign.id == id }) {
                    let batch = try await runner.plan(work, batches: 20)
                    guard batch > 0 else { break }
                    planned += batch
                    let now = try await storage.campaign(id: id)
                    let total = now.audienceSize ?? 0
                    let done = now.planned
                    let seconds = Date().timeIntervalSince(started)
                    FileHandle.standardError.write(Data(String(
                        format: "planned %d of %d (%.0f%%) in %.1f s, %.0f/s\n", done, total, total > 0 ? 100 * Double(done) / Double(total) : 100,
                        seconds, Double(planned) / max(seconds, 0.001)
                    ).utf8))
                }
                let campaign = try await storage.campaign(id: id)
                print("\(campaign.id) \(campaign.state.rawValue): \(campaign.planned) recipients planned")
            }
        }
    }

    struct Control: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "control", abstract: "Pause, resume or cancel a campaign.")
        @OptionGroup var options: CommonOptions
        @Argument(help: "pause, resume or cancel.") var command: String
        @Argument(help: "The campaign's id.") var id: String

        func run() async throws {
            guard let command = HubCore.CampaignCommand(rawValue: command) else { throw ValidationError("pause, resume or cancel") }
            let defaultTimeZone = try await options.load().campaigns.defaultTimeZone
            try await options.withStorage { storage in
                let campaign = try await storage.controlCampaign(id: id, command, defaultTimeZone: defaultTimeZone)
                print("\(campaign.id) \(campaign.state.rawValue)")
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A campaign's numbers; with --watch, every 2 s until all is sent.")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The campaign's id.") var id: String
        @Flag(help: "Print a line every 2 s until the campaign is planned and nothing is left to send.") var watch = false

        func run() async throws {
            try await options.withStorage { storage in
                while true {
                    let stats = try await storage.campaignStats(id: id)
                    let total = stats.total
                    let skipped = SkipReason.allCases.map { "\($0.rawValue) \(stats.skipped[$0] ?? 0)" }.joined(separator: ", ")
                    print("\(stats.state.rawValue): planned \(stats.planned)/\(stats.audienceSize.map(String.init) ?? "-"), queued \(total.targeted) "
                          + "(deferred \(total.deferred), pending \(total.pending)), sent \(total.sent), delivered \(total.delivered), failed \(total.failed), "
                          + "bounced \(total.bounced), unsubscribed \(total.unsubscribed), replied \(total.replied), "
                          + "resent after a crash \(total.resentAfterCrash); skipped: \(skipped)")
                    guard watch, !(stats.state.isFinal && total.pending == 0) else { break }
                    try await Task.sleep(for: .seconds(2))
                }
            }
        }
    }
}

extension CommonOptions {
    /// Opens the configured store and the campaign runner the configuration describes, runs `body`, closes the store.
    func withCampaignRunner(_ body: (SQLiteHubStorage, CampaignRunner) async throws -> Void) async throws {
        let configuration = try await load()
        try await withStorage { storage in
            try await body(storage, try await CampaignRunner.configured(configuration, storage: storage, logger: Logger(label: "switchboard")))
        }
    }
}
