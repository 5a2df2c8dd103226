import RaftCore

/// A hand-driven cluster for scripted scenarios: nothing moves unless the test ticks or delivers.
final class TestCluster {
    struct Store {
        var persisted: PersistedState

        mutating func save(_ ready: Ready) {
            if let snapshot = ready.snapshot {
                persisted.snapshot = snapshot
                persisted.entries = []
            }
            if let first = ready.entries.first {
                let keep = Int(first.index - persisted.snapshot.index - 1)
                persisted.entries.removeLast(persisted.entries.count - keep)
                persisted.entries.append(contentsOf: ready.entries)
            }
            if let hard = ready.hardState { persisted.hardState = hard }
        }
    }

    var nodes: [NodeID: RaftNode] = [:]
    var stores: [NodeID: Store] = [:]
    var applied: [NodeID: [Entry]] = [:]
    var readStates: [NodeID: [ReadState]] = [:]
    var inFlight: [Message] = []
    /// Directed links that drop everything.
    var cut: Set<[NodeID]> = []
    var configure: (inout Config) -> Void

    init(voters: Int, configure: @escaping (inout Config) -> Void = { _ in }) {
        self.configure = configure
        let ids = (1...voters).map { NodeID($0) }
        for id in ids {
            stores[id] = Store(persisted: .bootstrap(voters: ids))
            start(id)
        }
    }

    func config(for id: NodeID) -> Config {
        var config = Config(id: id)
        config.randomSeed = 42
        configure(&config)
        return config
    }

    func start(_ id: NodeID) {
        nodes[id] = RaftNode(config: config(for: id), persisted: stores[id]!.persisted)
        applied[id] = []
    }

    /// A node that joins later, with empty storage.
    func addEmptyNode(_ id: NodeID) {
        stores[id] = Store(persisted: PersistedState())
        start(id)
    }

    func crash(_ id: NodeID) { nodes[id] = nil }

    subscript(id: NodeID) -> RaftNode { nodes[id]! }

    func isolate(_ id: NodeID) {
        for other in nodes.keys where other != id {
            cut.insert([id, other])
            cut.insert([other, id])
        }
    }

    func heal() { cut = [] }

    /// Processes every pending Ready in the documented order.
    func flush() {
        for id in nodes.keys.sorted() {
            guard let node = nodes[id] else { continue }
            while node.hasReady {
                let ready = node.ready()
                inFlight.append(contentsOf: ready.messages)
                stores[id]!.save(ready)
                inFlight.append(contentsOf: ready.messagesAfterPersist)
                applied[id]!.append(contentsOf: ready.committedEntries)
                readStates[id, default: []].append(contentsOf: ready.readStates)
                node.advance(ready)
            }
        }
    }

    /// Delivers messages until the network is quiet (bounded).
    func deliverAll(maxRounds: Int = 1000, filter: (Message) -> Bool = { _ in true }) {
        deliverAll(maxRounds: maxRounds, transform: { filter($0) ? $0 : nil })
    }

    /// Delivers messages until the network is quiet; `transform` may rewrite or drop (nil) each one.
    func deliverAll(maxRounds: Int = 1000, transform: (Message) -> Message?) {
        flush()
        var rounds = 0
        while !inFlight.isEmpty {
            rounds += 1
            precondition(rounds < maxRounds, "network did not settle")
            let batch = inFlight
            inFlight = []
            for message in batch where !cut.contains([message.from, message.to]) {
                if let delivered = transform(message) { nodes[delivered.to]?.step(delivered) }
            }
            flush()
        }
    }

    /// Ticks one node until it leads (others stay quiet), delivering messages after every tick.
    @discardableResult
    func elect(_ id: NodeID, maxTicks: Int = 100) -> Bool {
        for _ in 0..<maxTicks {
            nodes[id]!.tick()
            deliverAll()
            if nodes[id]!.isLeader { return true }
        }
        return false
    }

    /// Ticks the given nodes together until one of them leads.
    @discardableResult
    func electAmong(_ ids: [NodeID], maxTicks: Int = 200) -> NodeID? {
        for _ in 0..<maxTicks {
            for id in ids { nodes[id]!.tick() }
            deliverAll()
            if let leader = ids.first(where: { nodes[$0]!.isLeader }) { return leader }
        }
        return nil
    }

    func tickAll(_ ticks: Int) {
        for _ in 0..<ticks {
            for id in nodes.keys.sorted() { nodes[id]!.tick() }
            deliverAll()
        }
    }

    func leaders() -> [NodeID] { nodes.keys.filter { nodes[$0]!.isLeader }.sorted() }

    /// Values applied on `id`, decoded as UTF-8 (skipping no-ops and membership entries).
    func appliedValues(_ id: NodeID) -> [String] {
        applied[id]!.filter { $0.kind == .normal && !$0.data.isEmpty }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    @discardableResult
    func propose(_ id: NodeID, _ value: String) -> Result<ProposalID, RaftError> {
        let result = nodes[id]!.propose(Array(value.utf8))
        deliverAll()
        return result
    }
}
