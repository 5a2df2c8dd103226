extension DutyState {
    /// Walks an open ticket forward to the feedback stage one legal step at a time, so every stage it passes
    /// is on the timeline and the clocks stop exactly as a step-by-step walk would stop them.
    mutating func resolveTicket(_ id: TicketID, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        guard ticket.stage.isOpen else {
            throw DutyError(.illegalTransition, field: "ticketID", "ticket \(id) is \(ticket.stage.rawValue), not open")
        }
        for stage in TicketLifecycle.path(from: ticket.stage, to: .feedback) {
            moveStage(id, to: stage, &context)
        }
    }
}
