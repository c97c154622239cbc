import Foundation
import HubCore

/// Reads message templates from a folder laid out as the repository's `Templates/`:
///
/// ```
/// campaigns/<name>/template.json            {"description": …, "variables": […], "defaultLocale": "en"}
/// campaigns/<name>/<locale>/<part>.mustache  email.subject, email.html, email.text, sms, webchat
/// shared/<name>.mustache                     partials and layouts for every locale
/// shared/<locale>/<name>.mustache            a locale's own, which win over the above
/// ```
///
/// Other folders (`system/`) and files at the top are left alone. Problems name files relative to the folder.
public enum TemplateDirectory {
    /// The folder itself cannot be read.
    public struct LoadError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String

        public var description: String { "\(path): \(reason)" }
    }

    /// Every template and shared file in the folder, and every problem in them: a template with problems is
    /// still returned, so the caller decides whether to refuse it or the whole folder.
    public static func load(_ path: String) throws -> (templates: [MessageTemplate], shared: SharedTemplates, problems: [TemplateProblem]) {
        guard isDirectory(path) else { throw LoadError(path: path, reason: "is not a folder") }
        let root = URL(fileURLWithPath: path, isDirectory: true)
        var problems: [TemplateProblem] = []

        var files: [String: [String: String]] = [:]
        let sharedFolder = root.appendingPathComponent("shared", isDirectory: true)
        for entry in try entries(of: sharedFolder) {
            let url = sharedFolder.appendingPathComponent(entry)
            if isDirectory(url.path) {
                for fileName in try entries(of: url) {
                    let relative = "shared/\(entry)/\(fileName)"
                    guard let name = stem(fileName) else {
                        problems.append(TemplateProblem(file: relative, line: 0, message: "is not a .mustache file"))
                        continue
                    }
                    if let source = read(url.appendingPathComponent(fileName), as: relative, into: &problems) {
                        files[entry, default: [:]][name] = source
                    }
                }
            } else if let name = stem(entry) {
                if let source = read(url, as: "shared/\(entry)", into: &problems) { files["", default: [:]][name] = source }
            } else {
                problems.append(TemplateProblem(file: "shared/\(entry)", line: 0, message: "is not a .mustache file"))
            }
        }
        let shared = SharedTemplates(files: files)
        problems += shared.problems().map { TemplateProblem(file: $0.file + ".mustache", line: $0.line, message: $0.message) }

        var templates: [MessageTemplate] = []
        let campaignsFolder = root.appendingPathComponent("campaigns", isDirectory: true)
        for name in try entries(of: campaignsFolder) {
            let folder = campaignsFolder.appendingPathComponent(name, isDirectory: true)
            let base = "campaigns/\(name)"
            guard isDirectory(folder.path) else {
                problems.append(TemplateProblem(file: base, line: 0, message: "is not a folder: each template is a folder"))
                continue
            }
            guard let template = try loadTemplate(named: name, from: folder, into: &problems) else { continue }
            templates.append(template)
            do {
                _ = try CompiledTemplate(template, shared: shared)
            } catch {
                problems += error.problems.map { problem in
                    TemplateProblem(file: Self.relativePath(of: problem.file, in: base), line: problem.line, message: problem.message)
                }
            }
        }
        var seen: Set<TemplateProblem> = []
        return (templates, shared, problems.filter { seen.insert($0).inserted })
    }

    /// `template.json`'s fields; the name is the folder's.
    private struct Manifest: Decodable {
        var description: String?
        var variables: [String]?
        var defaultLocale: String?

        static let keys: Set<String> = ["description", "variables", "defaultLocale"]
    }

    private static func loadTemplate(named name: String, from folder: URL, into problems: inout [TemplateProblem]) throws -> MessageTemplate? {
        let base = "campaigns/\(name)"
        let manifestFile = "\(base)/template.json"
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("template.json").path) else {
            problems.append(TemplateProblem(file: manifestFile, line: 0, message: "is missing"))
            return nil
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            problems.append(TemplateProblem(
                file: manifestFile, line: 0,
                message: "is not a JSON object of description, variables (a list of names) and defaultLocale"
            ))
            return nil
        }
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            for key in object.keys.sorted() where !Manifest.keys.contains(key) {
                problems.append(TemplateProblem(
                    file: manifestFile, line: 0, message: "'\(key)' is not a field: use description, variables and defaultLocale"
                ))
            }
        }
        guard let defaultLocale = manifest.defaultLocale else {
            problems.append(TemplateProblem(file: manifestFile, line: 0, message: "defaultLocale is missing"))
            return nil
        }
        var locales: [String: TemplateContent] = [:]
        for entry in try entries(of: folder) where entry != "template.json" {
            let url = folder.appendingPathComponent(entry)
            guard isDirectory(url.path) else {
                problems.append(TemplateProblem(
                    file: "\(base)/\(entry)", line: 0, message: "is not expected here: a template holds template.json and a folder per locale"
                ))
                continue
            }
            var content = TemplateContent()
            for fileName in try entries(of: url) {
                let relative = "\(base)/\(entry)/\(fileName)"
                guard let partName = stem(fileName), let part = TemplatePart(rawValue: partName) else {
                    let expected = TemplatePart.allCases.map { "\($0.rawValue).mustache" }.joined(separator: ", ")
                    problems.append(TemplateProblem(file: relative, line: 0, message: "is not one of \(expected)"))
                    continue
                }
                content[part] = read(url.appendingPathComponent(fileName), as: relative, into: &problems)
            }
            locales[entry] = content
        }
        return MessageTemplate(
            name: name, description: manifest.description, variables: manifest.variables ?? [], defaultLocale: defaultLocale,
            locales: locales
        )
    }

    /// Where a problem's file is, relative to the folder: `zh/sms` → `campaigns/<name>/zh/sms.mustache`.
    private static func relativePath(of file: String, in base: String) -> String {
        if file.hasPrefix("shared/") { return file + ".mustache" }
        if file == "template.json" { return "\(base)/template.json" }
        return "\(base)/\(file).mustache"
    }

    /// The visible entries of a folder, sorted; none when it does not exist.
    private static func entries(of folder: URL) throws -> [String] {
        guard isDirectory(folder.path) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw LoadError(path: folder.path, reason: "cannot be listed (\(error))")
        }
    }

    private static func read(_ url: URL, as relative: String, into problems: inout [TemplateProblem]) -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            problems.append(TemplateProblem(file: relative, line: 0, message: "cannot be read"))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            problems.append(TemplateProblem(file: relative, line: 0, message: "is not UTF-8 text"))
            return nil
        }
        return text
    }

    /// A file's name without `.mustache`; nil for other files.
    private static func stem(_ fileName: String) -> String? {
        let suffix = ".mustache"
        guard fileName.hasSuffix(suffix), fileName.count > suffix.count else { return nil }
        return String(fileName.dropLast(suffix.count))
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
