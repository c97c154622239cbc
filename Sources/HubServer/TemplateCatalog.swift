import HubCore
import Logging

/// The templates campaigns render: those shipped in `Templates/` (read once at start, read-only) and those
/// stored through the API. Each is compiled, and so checked, once per version.
public actor TemplateCatalog {
    private let storage: any HubStorage
    private let shipped: [String: MessageTemplate]
    private let shared: SharedTemplates
    /// What was wrong in the shipped folder, by file and line: such templates cannot launch.
    public let shippedProblems: [TemplateProblem]
    private var cache: [String: (template: MessageTemplate, compiled: Result<CompiledTemplate, TemplateProblems>)] = [:]

    /// Reads `directory` (nil or missing: no shipped templates).
    public init(storage: any HubStorage, directory: String?, logger: Logger) {
        self.storage = storage
        var shipped: [String: MessageTemplate] = [:]
        var shared = SharedTemplates()
        var problems: [TemplateProblem] = []
        if let directory {
            do {
                let loaded = try TemplateDirectory.load(directory)
                for template in loaded.templates { shipped[template.name] = template }
                shared = loaded.shared
                problems = loaded.problems
                for problem in problems { logger.warning("template problem", metadata: ["sb.problem": "\(problem)"]) }
            } catch {
                logger.notice("no shipped templates", metadata: ["sb.directory": "\(directory)", "sb.error": "\(error)"])
            }
        }
        self.shipped = shipped
        self.shared = shared
        self.shippedProblems = problems
    }

    /// Every template, shipped ones first, with where it comes from.
    public func all() async throws -> [(template: MessageTemplate, source: TemplateSource)] {
        let stored = try await storage.storedTemplates().filter { shipped[$0.name] == nil }
        return shipped.values.sorted { $0.name < $1.name }.map { ($0, .file) } + stored.map { ($0, .api) }
    }

    public func template(named name: String) async throws -> (template: MessageTemplate, source: TemplateSource) {
        if let template = shipped[name] { return (template, .file) }
        guard let stored = try await storage.storedTemplate(named: name) else {
            throw HubError.notFound("template", name)
        }
        return (stored, .api)
    }

    /// The problems that keep a template from launching: for a shipped one those of its files (by path), else
    /// what compiling it finds (by locale and part, or a shared file it includes).
    public func problems(of template: MessageTemplate, source: TemplateSource) -> [TemplateProblem] {
        let files = source == .file ? shippedProblems.filter { $0.file.hasPrefix("campaigns/\(template.name)/") } : []
        guard files.isEmpty, case .failure(let failure) = compile(template) else { return files }
        return failure.problems
    }

    /// The compiled template, or `template_invalid` with every problem.
    public func compiled(named name: String) async throws -> CompiledTemplate {
        let (template, source) = try await template(named: name)
        let problems = problems(of: template, source: source)
        guard problems.isEmpty, case .success(let compiled) = compile(template) else {
            throw HubError.unprocessable("template_invalid", "The template has problems: " + problems.map(\.description).joined(separator: "; "))
        }
        return compiled
    }

    /// Stores a template made through the API, once it compiles; a shipped name cannot be replaced.
    public func store(_ template: MessageTemplate) async throws {
        guard shipped[template.name] == nil else {
            throw HubError.conflict("template_shipped", "'\(template.name)' is shipped in Templates/; choose another name.")
        }
        if case .failure(let failure) = compile(template) {
            throw HubError.unprocessable("template_invalid", "The template has problems: " + failure.problems.map(\.description).joined(separator: "; "))
        }
        try await storage.storeTemplate(template)
    }

    public func delete(named name: String) async throws {
        guard shipped[name] == nil else {
            throw HubError.conflict("template_shipped", "'\(name)' is shipped in Templates/ and cannot be deleted through the API.")
        }
        try await storage.deleteTemplate(name: name)
    }

    private func compile(_ template: MessageTemplate) -> Result<CompiledTemplate, TemplateProblems> {
        if let cached = cache[template.name], cached.template == template { return cached.compiled }
        let result = Result { () throws(TemplateProblems) in try CompiledTemplate(template, shared: shared) }
        cache[template.name] = (template, result)
        return result
    }
}

/// Where a template comes from.
public enum TemplateSource: String, Codable, Sendable {
    /// Shipped in `Templates/`, read at start.
    case file
    /// Stored through `PUT /v1/templates/{name}`.
    case api
}
