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
        discussion: """
            API commands find the cluster through --endpoints/--token-file/--ca, the VIGIL_ENDPOINTS, VIGIL_TOKEN, \
            VIGIL_TOKEN_FILE and VIGIL_CA variables, or a directory written by `vigil init` (--cluster-dir, \
            VIGIL_CLUSTER_DIR, or ./cluster/local). Exit codes: 0 done; 1 the cluster refused the request (4xx); \
            2 bad arguments, files or configuration; 3 the cluster is unavailable; 4 not authenticated or not allowed.
            """,
        version: VigilVersion.description,
        subcommands: [InitCommand.self, CertCommand.self, MemberCommand.self, LeaderCommand.self, BackupCommand.self, RestoreCommand.self, DrillCommand.self, StartCommand.self, StatusCommand.self, TicketCommand.self, OnCallCommand.self,
                      ScheduleCommand.self, PolicyCommand.self, ServiceCommand.self, ObjectCommand.self, ApplyCommand.self, KnowledgeBaseCommand.self, ReportCommand.self, TokenCommand.self, PersonCommand.self, CalendarFeedCommand.self, CustomerCommand.self,
                      BenchCommand.self])
}

/// Prints an operator-facing error (no stack trace) and yields the exit code.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("vigil: error: \(message)\n".utf8))
    return ExitCode(code)
}
