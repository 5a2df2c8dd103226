import DutyModel

/// What the scheduler needs from its node: leadership, the applied duty state, and the replicated log.
///
/// A protocol at this seam keeps the scheduler free of Raft and HTTP, and lets a test drive it with a fake host.
public protocol PagingHost: PagingStateReader, Sendable {
    /// Proposes `commands` in this order (stamped with the leader's clock, acting as the scheduler) and waits
    /// until each is applied or has failed.
    func propose(_ commands: [DutyCommand]) async -> [PagingProposalResult]
    /// Records how late an action ran (actual − due), per kind ("page", "escalation", "sla", "heartbeat", "inspection").
    func observeLateness(kind: String, milliseconds: Int64)
}

/// What became of one proposed command.
public enum PagingProposalResult: Sendable, Equatable {
    /// Committed and applied; the model's events.
    case applied([DutyEvent])
    /// Committed, but the model refused it (for example an intent for a page another leader already claimed).
    case refused(DutyError)
    /// Not known to be committed: no longer leader, timed out, stopping.
    case failed(String)

    public var isApplied: Bool {
        if case .applied = self { return true }
        return false
    }
}
