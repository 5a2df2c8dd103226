// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil-sim", targets: ["vigil-sim"]),
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
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "RaftCore"]),
    ],
    swiftLanguageModes: [.v6]
)
