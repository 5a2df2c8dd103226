// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .executable(name: "vigil-sim", targets: ["vigil-sim"]),
        .executable(name: "duty-bench", targets: ["duty-bench"]),
        .executable(name: "raftstorage-bench", targets: ["raftstorage-bench"]),
        .executable(name: "raftstorage-crashprobe", targets: ["raftstorage-crashprobe"]),
        .executable(name: "vigil-check", targets: ["vigil-check"]),
        .executable(name: "vigil-nodesim", targets: ["vigil-nodesim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
    ],
    targets: [
        // Pure consensus core: standard library only, so it compiles in seconds and simulates exactly.
        .target(name: "RaftCore"),
        // Deterministic cluster simulator and safety checkers (test support and vigil-sim).
        .target(name: "Simulation", dependencies: ["RaftCore"]),
        .executableTarget(name: "vigil-sim", dependencies: [
            "Simulation", "RaftCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Checkers of drill histories (linearizability of each key's register); pure, Foundation only.
        .target(name: "HistoryCheck"),
        .executableTarget(name: "vigil-check", dependencies: ["HistoryCheck"]),
        // The duty domain as a pure, replicated state machine: standard library and Foundation only.
        .target(name: "DutyModel"),
        // What the two SQLite stores share: connection settings, atomic creation, read-only checks of existing files.
        .target(name: "SQLiteSupport", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // The applied duty state on disk: working set checkpoints and archived tickets in SQLite.
        // GRDBSQLite (GRDB's own SQLite) for the bulk insert of a restore, where GRDB's per-row arguments cost seconds.
        .target(name: "DutyStore", dependencies: [
            "DutyModel", "SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .executableTarget(name: "duty-bench", dependencies: ["DutyModel", "DutyStore"]),
        // Inbound e-mail as the SMTP intake receives it: headers, RFC 2047, MIME parts, transfer encodings and
        // charsets (through the C library's iconv), HTML reduced to text; pure, Foundation only.
        .target(name: "MailParsing"),

        // Cluster CA and node certificates; no NIO so the CLI's `init` can use it alone.
        .target(name: "ClusterPKI", dependencies: [
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        // Mutual-TLS peer connections and the versioned wire codec for RaftCore.Message.
        .target(name: "ClusterTransport", dependencies: [
            "RaftCore", "ClusterPKI",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The durable Raft log: entries, hard state and snapshot in one SQLite database per node.
        .target(name: "RaftStorage", dependencies: ["RaftCore", "SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // Persists entries and prints each acknowledged index; the crash test kill -9s it mid-stream.
        .executableTarget(name: "raftstorage-crashprobe", dependencies: ["RaftStorage", "RaftCore"]),
        // Prints persist throughput and latency (fsync-bound).
        .executableTarget(name: "raftstorage-bench", dependencies: ["RaftStorage", "RaftCore"]),

        // What the paging scheduler decides, from the duty state alone (plan, claims, fencing, storm control): pure,
        // so the whole-node simulator runs it without the channels' networking.
        .target(name: "PagingCore", dependencies: ["DutyModel"]),
        // The leader's paging scheduler over the replicated outbox, and the channels it calls (webhook, chat,
        // SMS/voice gateway, exec, SMTP), signed ack links.
        .target(name: "Paging", dependencies: [
            "DutyModel", "PagingCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // What a node applies from its log (settings, the duty state, tokens) and the entry format: pure, so the
        // whole-node simulator runs the real state machine without the node's networking and storage.
        .target(name: "NodeState", dependencies: ["DutyModel", "RaftCore"]),
        // Wiring of one node: config, Raft loop, settings and duty state machines, HTTP API, intake and the console.
        .target(name: "VigilNode", dependencies: [
            "RaftCore", "RaftStorage", "ClusterTransport", "ClusterPKI", "DutyModel", "NodeState", "Paging", "MailParsing",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            // The console: templates that escape by default, bcrypt for its passwords, Markdown for articles.
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "Ink", package: "Ink"),
        ]),
        // Whole nodes in the simulator: Raft cores, the real NodeStateMachine and the paging scheduler's decisions
        // (SchedulerCore) on simulated time, with the promise checkers (`vigil-nodesim`).
        .target(name: "NodeSimulation", dependencies: ["RaftCore", "Simulation", "DutyModel", "PagingCore", "NodeState"],
                // The harness's class properties are read in every simulated step; their run-time exclusivity checks
                // cost the release simulator several percent. Debug builds (the tests) keep them; the product's own
                // modules keep them everywhere.
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .executableTarget(name: "vigil-nodesim", dependencies: [
            "NodeSimulation", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Failover drills against a live cluster: workload, faults through a drill file's commands, a webhook sink,
        // and the HistoryCheck verdict (`vigil drill`, chaos/run.sh).
        .target(name: "Drill", dependencies: [
            "HistoryCheck",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // The one CLI: init, start, status, and the duty service's commands.
        .executableTarget(name: "vigil", dependencies: [
            "VigilNode", "ClusterPKI", "Drill",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),

        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"]),
        .testTarget(name: "DutyModelTests", dependencies: ["DutyModel"]),
        .testTarget(name: "MailParsingTests", dependencies: ["MailParsing"]),
        .testTarget(name: "HistoryCheckTests", dependencies: ["HistoryCheck"]),
        .testTarget(name: "DrillTests", dependencies: ["Drill", "HistoryCheck"]),
        // GRDB lets the refusal tests forge files (a newer format, a foreign database) the store itself never writes.
        .testTarget(name: "DutyStoreTests", dependencies: [
            "DutyStore", "DutyModel", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "RaftCore"]),
        .testTarget(name: "NodeSimulationTests", dependencies: ["NodeSimulation", "NodeState", "DutyModel"]),
        .testTarget(name: "ClusterTransportTests", dependencies: [
            "ClusterTransport", "ClusterPKI", "RaftCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // GRDB lets the refusal tests forge files (a newer format, another cluster) the store itself never writes.
        .testTarget(name: "RaftStorageTests", dependencies: [
            "RaftStorage", "RaftCore", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Receivers the tests start: an HTTP sink on 127.0.0.1 that records every request.
        .target(name: "VigilTestSupport", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Tests/VigilTestSupport"),
        // Channels against real receivers on 127.0.0.1: an in-process HTTP sink, aiosmtpd (Python), /bin/sh.
        .testTarget(name: "PagingTests", dependencies: [
            "Paging", "ClusterPKI", "DutyModel", "VigilTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Real `vigil` processes on 127.0.0.1: elections over TLS, failover, catch-up, refusal of a corrupt database.
        .testTarget(name: "VigilNodeTests", dependencies: [
            "VigilNode", "ClusterTransport", "RaftCore", "DutyModel", "Paging", "VigilTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
