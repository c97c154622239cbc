import Hummingbird

// The ceiling of the ingestion benchmark: a bare Hummingbird POST endpoint that reads the
// body and answers 201, on the same machine, in the same run.
let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 18090
let router = Router()
router.post("v1/inbound") { request, _ -> Response in
    _ = try await request.body.collect(upTo: 1 << 20)
    return Response(status: .created)
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
