import HubCore
import Testing

/// The field named by the `ValidationError` that `body` throws; records an issue when it throws none.
func failingField(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> String? {
    let error = #expect(throws: ValidationError.self, sourceLocation: sourceLocation) { try body() }
    return error?.field
}
