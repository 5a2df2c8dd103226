/// The leader's time and the actor of the command being applied, and the events it produced.
struct ApplyContext {
    let at: Timestamp
    let actor: ActorID
    private(set) var events: [DutyEvent] = []

    init(at: Timestamp, actor: ActorID) {
        self.at = at
        self.actor = actor
    }

    mutating func emit(_ kind: DutyEvent.Kind) {
        events.append(DutyEvent(at: at, actor: actor, kind: kind))
    }
}
