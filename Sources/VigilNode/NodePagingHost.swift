import ClusterTransport
import DutyModel
import Paging
import RaftCore
import Synchronization

/// The scheduler's view of this node: leadership from the Raft loop, the applied duty state, proposals
/// stamped with this leader's clock, and lateness histograms for `/metrics`.
final class NodePagingHost: PagingHost {
    static let actor = ActorID("scheduler")
    static let latenessKinds = ["page", "escalation", "sla", "heartbeat", "inspection"]
    private let loop: RaftLoop
    private let lateness = Mutex<[String: LatencyHistogram]>([:])
    /// Whether every member runs a release; the API's check, handed over once the API exists.
    private let membersRun = Mutex<(@Sendable (SoftwareVersion) async -> Bool)?>(nil)
    /// SLA notices keyed by the clock's cycle (`SLAEventRecord.keysNoticesByCycle`): a 0.11 replica would plan the
    /// old keys, so a leader asks for the new ones only once every member runs 0.12.
    static let noticeKeysByCycleSince = SoftwareVersion(major: 0, minor: 12, patch: 0)

    init(loop: RaftLoop) {
        self.loop = loop
    }

    /// The term once this node leads and has applied its term's no-op: a plan made earlier could act on
    /// state that lacks the previous leader's last entries (for example record a step it already recorded).
    func leaderTerm() -> UInt64? {
        let status = loop.status
        guard status.role == .leader, status.leader == loop.nodeID, !status.stopping,
              let start = status.leaderStateIndex, status.appliedIndex >= start else { return nil }
        return status.term
    }

    func readDuty<T: Sendable>(_ body: (DutyState) -> T) -> T { loop.state.duty(body) }

    func checkReleases(with check: @escaping @Sendable (SoftwareVersion) async -> Bool) {
        membersRun.withLock { $0 = check }
    }

    func propose(_ commands: [DutyCommand]) async -> [PagingProposalResult] {
        var results: [PagingProposalResult] = []
        for var command in commands {
            if case let .recordSLAEvents(records) = command, records.contains(where: { $0.keysNoticesByCycle == true }) {
                let check = membersRun.withLock { $0 }
                if await check?(Self.noticeKeysByCycleSince) != true {
                    command = .recordSLAEvents(records.map(\.withNoticesKeyedByReopening))
                }
            }
            let proposal = DutyProposal(command: command, leaderTimestamp: HTTPAPI.nowMillis(), actor: Self.actor)
            switch await loop.propose(.duty(proposal), timeout: HTTPAPI.proposalTimeout) {
            case let .success(.duty(.success(events))): results.append(.applied(events))
            case let .success(.duty(.failure(error))): results.append(.refused(error))
            case let .success(other): results.append(.failed("applied as something else: \(other)"))
            case let .failure(error): results.append(.failed("\(error)"))
            }
        }
        return results
    }

    func observeLateness(kind: String, milliseconds: Int64) {
        lateness.withLock { $0[kind, default: LatencyHistogram()].observe(.milliseconds(max(0, milliseconds))) }
    }

    var latenessHistograms: [String: LatencyHistogram] { lateness.withLock { $0 } }
}
