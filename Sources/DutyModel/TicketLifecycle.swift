/// The enforced transition table of the ticket lifecycle.
public enum TicketLifecycle {
    /// Forward moves only; going back is a reopen, which is audited separately.
    public static let forward: [TicketStage: TicketStage] = [
        .registered: .analysing,
        .analysing: .handling,
        .handling: .feedback,
        .feedback: .archived,
    ]

    /// Stages from which `reopenTicket` may return a ticket to analysis.
    public static let reopenable: Set<TicketStage> = [.feedback, .archived]

    public static func canMove(from: TicketStage, to: TicketStage) -> Bool { forward[from] == to }

    public static func canReopen(from: TicketStage) -> Bool { reopenable.contains(from) }

    /// The forward path from one stage to a later one, e.g. for an alert resolved before analysis.
    static func path(from: TicketStage, to: TicketStage) -> [TicketStage] {
        var path: [TicketStage] = []
        var current = from
        while current != to, let next = forward[current] {
            path.append(next)
            current = next
        }
        return current == to ? path : []
    }
}
