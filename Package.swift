// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .library(name: "HubCore", targets: ["HubCore"]),
        .library(name: "HubServer", targets: ["HubServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
    ],
    targets: [
        // libcurl, the one system library: typed shims over its variadic calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "CurlTransport",
            dependencies: [
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubStore",
            dependencies: [
                "HubCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "APIAdapter",
            dependencies: [
                "HubCore",
                "CurlTransport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Adapters/API",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WebChatAdapter",
            dependencies: [
                "HubCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Adapters/WebChat",
            resources: [.copy("Assets")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SMSAdapter",
            dependencies: [
                "HubCore",
                "CurlTransport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Adapters/SMS",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EmailAdapter",
            dependencies: [
                "HubCore",
                "CurlTransport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Adapters/Email",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubServer",
            dependencies: [
                "HubCore",
                "HubStore",
                "CurlTransport",
                "APIAdapter",
                "WebChatAdapter",
                "SMSAdapter",
                "EmailAdapter",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "HubServer",
                "HubStore",
                "HubCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BareHTTPBenchmark",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/BareHTTP",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "EmailBenchmark",
            dependencies: ["EmailAdapter", "CurlTransport", "HubCore", "HubStore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/Email",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "RoutingBenchmark",
            dependencies: ["HubCore"],
            path: "Benchmarks/Routing",
            swiftSettings: swiftSettings
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "HubCoreTests", dependencies: ["HubCore", "TestSupport"], swiftSettings: swiftSettings),
        // Renders every template shipped in Templates/ (found from #filePath) through the real loader.
        .testTarget(name: "TemplateTests", dependencies: ["HubCore", "HubServer", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SMSAdapterTests", dependencies: [
            "SMSAdapter", "HubCore", .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "EmailAdapterTests", dependencies: ["EmailAdapter", "HubCore", "HubStore", "TestSupport"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "WebChatAdapterTests", dependencies: ["WebChatAdapter", "HubCore"], swiftSettings: swiftSettings),
        .testTarget(name: "HubStoreTests", dependencies: ["HubStore", "HubCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CurlTransportTests", dependencies: [
            "CurlTransport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "HubServerTests", dependencies: [
            "HubServer", "HubStore", "HubCore", "APIAdapter", "CurlTransport", "WebChatAdapter",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ], swiftSettings: swiftSettings),
    ]
)
