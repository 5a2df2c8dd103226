import ArgumentParser
import Logging
import VigilNode

/// `vigil start`: runs one node until SIGTERM.
struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Run a node: Raft over mutual TLS, the durable log and the HTTP API.")

    @Option(help: "Path to the node's vigil.yaml.") var config: String
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String = "info"
    @Option(name: .customLong("log-format"), help: "text or json (overrides log.format in vigil.yaml).") var logFormat: String?

    func run() async throws {
        if let problem = VigilVersion.overrideProblem { throw fail(problem, code: 2) }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw fail("--log-level: '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical", code: 2)
        }
        // The format comes from the config; a config that does not load is reported by the node itself below.
        let format = logFormat ?? (try? NodeConfig.load(path: config))?.log.format ?? "text"
        guard NodeConfig.LogSettings.formats.contains(format) else {
            throw fail("--log-format: '\(format)' is not one of \(NodeConfig.LogSettings.formats.joined(separator: ", "))", code: 2)
        }
        LoggingSystem.bootstrap { label in
            if format == "json" {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "vigil")
        logger.logLevel = level
        do {
            try await NodeRuntime.run(configPath: config, logger: logger)
        } catch {
            throw fail(error.description, code: error.exitCode)
        }
    }
}
