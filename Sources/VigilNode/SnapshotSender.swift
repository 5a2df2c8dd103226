import ClusterTransport
import Logging
import RaftCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Streams snapshot files from the leader to followers that are behind its compacted log.
///
/// The core asks for a snapshot by emitting `installSnapshot` with a small descriptor; the loop hands that message
/// here instead of to the transport. One transfer per follower runs at a time: chunks of `chunkBytes` go out with at
/// most `windowChunks` unacknowledged, read from the file as they are sent, so memory stays bounded by the window
/// whatever the snapshot's size. When the follower confirms the whole file (checksum included), the original
/// message follows and the core installs it. A transfer that hears nothing for `stallTimeout` fails; the core
/// asks again and the next transfer resumes where the follower's partial file ends.
final class SnapshotSender: Sendable {
    let chunkBytes: Int
    let windowChunks: Int
    let stallTimeout: Duration
    private let localID: NodeID
    private let transport: PeerTransport
    private let store: SnapshotStore
    private let board: SnapshotTransferBoard
    private let logger: Logger
    private let active = Mutex<[NodeID: Transfer]>([:])

    private struct Transfer: Sendable {
        let index: LogIndex
        let term: Term
        let events: AsyncStream<Event>.Continuation
        let task: Task<Void, Never>
    }

    private enum Event: Sendable {
        case ack(SnapshotChunkAck)
        case clock
    }

    init(localID: NodeID, transport: PeerTransport, store: SnapshotStore, board: SnapshotTransferBoard, logger: Logger,
         chunkBytes: Int = 1 << 20, windowChunks: Int = 8, stallTimeout: Duration = .seconds(10)) {
        precondition(chunkBytes >= 1 && windowChunks >= 1, "a transfer needs a positive chunk size and window")
        self.localID = localID
        self.transport = transport
        self.store = store
        self.board = board
        self.logger = logger
        self.chunkBytes = chunkBytes
        self.windowChunks = windowChunks
        self.stallTimeout = stallTimeout
    }

    /// Starts streaming the snapshot of `message` to its receiver unless a transfer to that peer is under way
    /// (a newer snapshot waits for it: replacing a transfer on every compaction could starve a slow follower).
    func offer(_ message: Message) {
        guard case let .installSnapshot(snapshot) = message.payload else { return }
        let peer = message.to
        active.withLock { active in
            guard active[peer] == nil else { return }
            let (events, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(1024))
            let task = Task { [self] in
                await self.run(message, snapshot, events: events, continuation: continuation)
                _ = self.active.withLock { $0.removeValue(forKey: peer) }
            }
            active[peer] = Transfer(index: snapshot.index, term: snapshot.term, events: continuation, task: task)
        }
    }

    /// Routes a follower's acknowledgement to the transfer it answers.
    func handle(_ ack: SnapshotChunkAck) {
        let transfer = active.withLock { $0[ack.from] }
        guard let transfer, transfer.index == ack.snapshotIndex, transfer.term == ack.snapshotTerm else { return }
        transfer.events.yield(.ack(ack))
    }

    func cancelAll() {
        for transfer in active.withLock({ Array($0.values) }) { transfer.task.cancel() }
    }

    private func run(_ message: Message, _ snapshot: Snapshot, events: AsyncStream<Event>,
                     continuation: AsyncStream<Event>.Continuation) async {
        let peer = message.to
        let clock = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                continuation.yield(.clock)
            }
        }
        defer {
            clock.cancel()
            continuation.finish()
        }
        board.updateOutgoing(peer) { status in
            var next = status ?? SnapshotTransferStatus(peer: peer, snapshotIndex: 0, snapshotTerm: 0, totalBytes: 0, doneBytes: 0,
                                                        phase: .sending, attempts: 0, failures: 0)
            next.snapshotIndex = snapshot.index
            next.snapshotTerm = snapshot.term
            next.doneBytes = 0
            next.phase = .sending
            next.attempts += 1
            status = next
        }
        do {
            let descriptor = try store.materialize(snapshot)
            try await stream(descriptor, to: peer, events: events)
            var final = message
            final.payload = .installSnapshot(Snapshot(index: snapshot.index, term: snapshot.term, conf: snapshot.conf,
                                                      data: descriptor.encoded))
            transport.send(final)
            board.updateOutgoing(peer) { $0?.phase = .complete; $0?.doneBytes = descriptor.sizeBytes }
            logger.info("snapshot sent", metadata: ["to": "node\(peer)", "snapshot": "\(descriptor)"])
        } catch {
            board.updateOutgoing(peer) { status in
                status?.phase = .failed
                status?.failures += 1
                status?.lastError = "\(error)"
            }
            logger.warning("snapshot transfer failed", metadata: ["to": "node\(peer)", "index": "\(snapshot.index)", "error": "\(error)"])
        }
    }

    private func stream(_ descriptor: SnapshotDescriptor, to peer: NodeID, events: AsyncStream<Event>) async throws {
        let path = store.path(of: descriptor)
        // Held open for the whole transfer: a compaction that prunes the file meanwhile does not cut it short.
        let fd = try POSIXFile.open(path, O_RDONLY)
        defer { close(fd) }
        let total = descriptor.sizeBytes
        let window = UInt64(chunkBytes) * UInt64(windowChunks)
        var sent: UInt64 = 0
        var confirmed: UInt64 = 0
        var lastProgress = ContinuousClock.now
        func sendChunks() throws {
            // An empty file still needs one chunk, so the receiver learns of it.
            repeat {
                let data = try POSIXFile.read(fd, count: Int(min(UInt64(chunkBytes), total - sent)), at: sent, path: path)
                guard sent + UInt64(data.count) <= total, data.count > 0 || total == 0 else {
                    throw SnapshotFileError(path: path, "changed while it was sent (read \(data.count) bytes at \(sent) of \(total))")
                }
                transport.send(.chunk(SnapshotChunk(from: localID, to: peer, snapshotIndex: descriptor.index, snapshotTerm: descriptor.term,
                                                    totalBytes: total, checksum: descriptor.checksum, offset: sent, data: data)))
                sent += UInt64(data.count)
            } while sent < total && sent - confirmed < window
        }
        try sendChunks()
        for await event in events {
            try Task.checkCancellation()
            switch event {
            case .clock:
                if ContinuousClock.now - lastProgress > stallTimeout {
                    throw SnapshotFileError(path: path, "node\(peer) confirmed nothing for \(stallTimeout) (at \(confirmed) of \(total) bytes)")
                }
                continue
            case let .ack(ack):
                lastProgress = .now
                switch ack.status {
                case .complete:
                    return
                case .failed:
                    throw SnapshotFileError(path: path, "node\(peer) refused the transfer at \(ack.receivedBytes) bytes (see its log)")
                case .rewind:
                    // The receiver holds `receivedBytes`: a resumed transfer skips ahead, a lost chunk is sent again.
                    guard ack.receivedBytes <= total else {
                        throw SnapshotFileError(path: path, "node\(peer) claims \(ack.receivedBytes) of \(total) bytes")
                    }
                    confirmed = ack.receivedBytes
                    sent = ack.receivedBytes
                case .receiving:
                    confirmed = max(confirmed, min(ack.receivedBytes, total))
                    sent = max(sent, confirmed)
                }
                let done = confirmed
                board.updateOutgoing(peer) { $0?.doneBytes = done; $0?.totalBytes = total }
                if sent < total && sent - confirmed < window { try sendChunks() }
            }
        }
        throw CancellationError()
    }
}
