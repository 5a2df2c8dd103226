import ArgumentParser
import Foundation
import Logging
import VigilNode

/// The one Vigil CLI.
@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Vigil: a clustered on-call paging system.",
        subcommands: [InitCommand.self, StartCommand.self, StatusCommand.self, BenchCommand.self])
}

/// Prints an operator-facing error (no stack trace) and yields the exit code.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("vigil: error: \(message)\n".utf8))
    return ExitCode(code)
}
