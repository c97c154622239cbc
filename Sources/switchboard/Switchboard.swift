import ArgumentParser
import Configuration
import Foundation
import HubCore
import HubServer
import HubStore
import Logging
import Metrics
import Prometheus

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switchboard: a multi-channel contact-center message hub.",
        subcommands: [Serve.self, Migrate.self, TokenCommand.self, AgentCommand.self, CustomersCommand.self, CampaignCommand.self]
    )
}

/// Options every command shares: where the configuration and the database are.
struct CommonOptions: ParsableArguments {
    @Option(help: "A JSON configuration file (default: ./switchboard.json when present).")
    var config: String?

    @Option(help: "The SQLite database file (default: ./switchboard.sqlite).")
    var database: String?

    @Option(help: "The message templates folder (default: ./Templates).")
    var templates: String?

    /// Flags, then SWITCHBOARD_* variables, then the file, then the defaults.
    func load(port: Int? = nil) async throws -> HubConfiguration {
        var overrides: [AbsoluteConfigKey: ConfigValue] = [:]
        if let database { overrides[AbsoluteConfigKey(["database", "path"])] = .init(.string(database), isSecret: false) }
        if let templates { overrides[AbsoluteConfigKey(["templates", "directory"])] = .init(.string(templates), isSecret: false) }
        if let port { overrides[AbsoluteConfigKey(["http", "port"])] = .init(.int(port), isSecret: false) }
        var environment: [String: String] = [:]
        for (name, value) in ProcessInfo.processInfo.environment where name.hasPrefix("SWITCHBOARD_") {
            environment[String(name.dropFirst("SWITCHBOARD_".count))] = value
        }
        let file = config ?? "switchboard.json"
        if config != nil && !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("config", "no file at \(file)")
        }
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: overrides),
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .dynamic { name, _ in name.contains("SECRET") }),
            try await FileProvider<JSONSnapshot>(filePath: .init(file), allowMissing: true),
        ])
        return HubConfiguration(reader: reader)
    }

    /// Opens the configured store, runs `body`, and closes the store whatever happened.
    func withStorage<T>(_ body: (SQLiteHubStorage) async throws -> T) async throws -> T {
        let storage = try SQLiteHubStorage(path: try await load().databasePath)
        do {
            let result = try await body(storage)
            await storage.close()
            return result
        } catch let exit as ExitCode {
            await storage.close()
            throw exit
        } catch {
            await storage.close()
            throw ValidationError(String(describing: error))
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the hub (HTTP API, dispatcher, store).")

    @OptionGroup var options: CommonOptions

    @Option(help: "The port to listen on (default: 8080).")
    var port: Int?

    func run() async throws {
        let configuration = try await options.load(port: port)
        var logger = Logger(label: "switchboard")
        logger.logLevel = configuration.logLevel
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let app = try await buildApplication(configuration, registry: registry, logger: logger)
        try await app.runService()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema, then exit.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let path = try await options.load().databasePath
        try await options.withStorage { _ in }
        print("database \(path) is up to date")
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Manage API tokens.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once, alone on the last line.")

        @OptionGroup var options: CommonOptions

        @Option(help: "admin, supervisor, agent, marketer or integration.")
        var role: String

        @Option(help: "The agent the token acts as (required for the agent role).")
        var agent: String?

        @Option(help: "A label for the token.")
        var name: String?

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("role must be one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let token = try await options.withStorage { try await TokenIssuer.issue($0, role: role, agentId: agent, name: name) }
            print(token)
        }
    }
}

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Manage agents.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an agent; prints its id on the last line.")

        @OptionGroup var options: CommonOptions

        @Option(help: "The agent's name.")
        var name: String

        @Option(help: "The agent's email address.")
        var email: String?

        @Option(help: "agent, supervisor, marketer or admin.")
        var role: String = "agent"

        func run() async throws {
            guard let role = Role(rawValue: role), role != .integration else { throw ValidationError("role must be agent, supervisor, marketer or admin") }
            let agent = try await options.withStorage { try await $0.createAgent(AgentDraft(name: name, email: email, role: role)) }
            print(agent.id)
        }
    }
}
