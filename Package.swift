// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil-sim", targets: ["vigil-sim"]),
        .executable(name: "duty-bench", targets: ["duty-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // Pure consensus core: standard library only, so it compiles in seconds and simulates exactly.
        .target(name: "RaftCore"),
        // Deterministic cluster simulator and safety checkers (test support and vigil-sim).
        .target(name: "Simulation", dependencies: ["RaftCore"]),
        .executableTarget(name: "vigil-sim", dependencies: [
            "Simulation", "RaftCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The duty domain as a pure, replicated state machine: standard library and Foundation only.
        .target(name: "DutyModel"),
        .executableTarget(name: "duty-bench", dependencies: ["DutyModel"]),
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"]),
        .testTarget(name: "DutyModelTests", dependencies: ["DutyModel"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "RaftCore"]),
    ],
    swiftLanguageModes: [.v6]
)
