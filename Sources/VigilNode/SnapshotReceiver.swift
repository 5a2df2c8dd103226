import ClusterTransport
import Crypto
import Logging
import RaftCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Receives snapshot files from a leader chunk by chunk, writing each to disk as it arrives.
///
/// A chunk is written only where the partial file ends; anything else is answered with the size held, so the
/// sender resends or skips ahead (a transfer interrupted by a lost connection or a restart of either side resumes
/// from the partial file). The complete file must match the size and SHA-256 every chunk announces; it is then
/// fsync'd and renamed into place, its state decoded off the Raft loop, and only then confirmed, so the leader's
/// `installSnapshot` finds the state ready to swap in. Calls come from one task at a time (`RaftLoop`'s receiver).
final class SnapshotReceiver: Sendable {
    private let localID: NodeID
    private let store: SnapshotStore
    private let board: SnapshotTransferBoard
    private let logger: Logger
    /// Refuses a snapshot claiming more than this, before writing any of it.
    let maximumSnapshotBytes: UInt64
    private let partial = Mutex<Partial?>(nil)
    private let prepared = Mutex<(descriptor: SnapshotDescriptor, machine: NodeStateMachine)?>(nil)
    /// The snapshot the loop last installed; an older one is never decoded again.
    private let installedIndex = Mutex<LogIndex>(0)

    private struct Partial: Sendable {
        let leader: NodeID
        let index: LogIndex
        let term: Term
        let totalBytes: UInt64
        let checksum: [UInt8]
        let path: String
        let fd: Int32
        var receivedBytes: UInt64
        var hasher: SHA256
    }

    init(localID: NodeID, store: SnapshotStore, board: SnapshotTransferBoard, logger: Logger,
         maximumSnapshotBytes: UInt64 = 64 << 30) {
        self.localID = localID
        self.store = store
        self.board = board
        self.logger = logger
        self.maximumSnapshotBytes = maximumSnapshotBytes
    }

    /// The decoded state of a snapshot received and confirmed, taken once by the loop when it installs it.
    func takePrepared(_ descriptor: SnapshotDescriptor) -> NodeStateMachine? {
        prepared.withLock { slot in
            guard let current = slot, current.descriptor == descriptor else { return nil }
            slot = nil
            return current.machine
        }
    }

    func installed(_ index: LogIndex) {
        installedIndex.withLock { $0 = max($0, index) }
        prepared.withLock { slot in if let current = slot, current.descriptor.index <= index { slot = nil } }
    }

    /// Handles one chunk (blocking file I/O: call it off the cooperative pool) and returns the answer to send.
    func handle(_ chunk: SnapshotChunk) -> SnapshotChunkAck {
        func answer(_ received: UInt64, _ status: SnapshotChunkAck.Status) -> SnapshotChunkAck {
            SnapshotChunkAck(from: localID, to: chunk.from, snapshotIndex: chunk.snapshotIndex, snapshotTerm: chunk.snapshotTerm,
                             receivedBytes: received, status: status)
        }
        let descriptor = SnapshotDescriptor(index: chunk.snapshotIndex, term: chunk.snapshotTerm, sizeBytes: chunk.totalBytes,
                                            checksum: chunk.checksum)
        if store.hasFile(descriptor) {
            // Received before (the confirmation was lost): confirm again; decode it if the loop has not taken it.
            closePartial(deleting: false)
            if descriptor.index > installedIndex.withLock({ $0 }), prepared.withLock({ $0?.descriptor != descriptor }) {
                try? prepare(descriptor)
            }
            return answer(chunk.totalBytes, .complete)
        }
        do {
            var current = try partialFor(chunk)
            guard chunk.offset == current.receivedBytes else {
                // Behind the file's end: a duplicate, or the first chunk of a resumed transfer (the sender skips
                // ahead). Beyond it: chunks were lost, so the sender goes back.
                return answer(current.receivedBytes, chunk.offset < current.receivedBytes ? .receiving : .rewind)
            }
            if !chunk.data.isEmpty {
                try POSIXFile.writeAll(current.fd, chunk.data, path: current.path)
                current.hasher.update(data: chunk.data)
                current.receivedBytes += UInt64(chunk.data.count)
            }
            let received = current.receivedBytes
            board.updateIncoming(chunk.from) { $0?.doneBytes = received }
            guard received == current.totalBytes else {
                partial.withLock { $0 = current }
                return answer(received, .receiving)
            }
            try complete(current, descriptor)
            return answer(received, .complete)
        } catch {
            closePartial(deleting: true)
            board.updateIncoming(chunk.from) { status in
                status?.phase = .failed
                status?.failures += 1
                status?.lastError = "\(error)"
            }
            logger.warning("snapshot receive failed", metadata: ["from": "node\(chunk.from)", "index": "\(chunk.snapshotIndex)", "error": "\(error)"])
            return answer(0, .failed)
        }
    }

    /// The partial file this chunk continues: the open one, one left on disk by a restart, or a new one.
    private func partialFor(_ chunk: SnapshotChunk) throws -> Partial {
        if let current = partial.withLock({ $0 }), current.leader == chunk.from, current.index == chunk.snapshotIndex,
           current.term == chunk.snapshotTerm, current.totalBytes == chunk.totalBytes, current.checksum == chunk.checksum {
            return current
        }
        closePartial(deleting: false)
        guard chunk.totalBytes <= maximumSnapshotBytes else {
            throw SnapshotFileError(path: store.directory, "node\(chunk.from) offers a snapshot of \(chunk.totalBytes) bytes, above the limit of \(maximumSnapshotBytes)")
        }
        let path = store.partPath(index: chunk.snapshotIndex, term: chunk.snapshotTerm)
        var received: UInt64 = 0
        var hasher = SHA256()
        if let existing = POSIXFile.size(path), existing <= chunk.totalBytes {
            // Resume: re-hash what an earlier attempt wrote; the final checksum still guards the whole.
            let fd = try POSIXFile.open(path, O_RDONLY)
            defer { close(fd) }
            while received < existing {
                let block = try POSIXFile.read(fd, count: 1 << 20, at: received, path: path)
                if block.isEmpty { break }
                hasher.update(data: block)
                received += UInt64(block.count)
            }
        }
        if let free = POSIXFile.availableBytes(store.directory), free < chunk.totalBytes - received {
            throw SnapshotFileError(path: path, "needs \(chunk.totalBytes - received) more bytes, the disk has \(free) free")
        }
        let fd = try POSIXFile.open(path, O_WRONLY | O_CREAT | (received == 0 ? O_TRUNC : O_APPEND))
        if received > 0 { lseek(fd, off_t(received), SEEK_SET) }
        let current = Partial(leader: chunk.from, index: chunk.snapshotIndex, term: chunk.snapshotTerm, totalBytes: chunk.totalBytes,
                              checksum: chunk.checksum, path: path, fd: fd, receivedBytes: received, hasher: hasher)
        partial.withLock { $0 = current }
        board.updateIncoming(chunk.from) { status in
            var next = status ?? SnapshotTransferStatus(peer: chunk.from, snapshotIndex: 0, snapshotTerm: 0, totalBytes: 0,
                                                        doneBytes: 0, phase: .receiving, attempts: 0, failures: 0)
            next.snapshotIndex = chunk.snapshotIndex
            next.snapshotTerm = chunk.snapshotTerm
            next.totalBytes = chunk.totalBytes
            next.doneBytes = received
            next.phase = .receiving
            next.attempts += 1
            status = next
        }
        if received > 0 {
            logger.info("resuming a snapshot transfer", metadata: ["from": "node\(chunk.from)", "index": "\(chunk.snapshotIndex)", "bytes": "\(received)"])
        }
        return current
    }

    private func complete(_ current: Partial, _ descriptor: SnapshotDescriptor) throws {
        partial.withLock { $0 = nil }
        defer { close(current.fd) }
        guard Array(current.hasher.finalize()) == current.checksum else {
            unlink(current.path)
            throw SnapshotFileError(path: current.path, "the received bytes do not match the sender's SHA-256")
        }
        try POSIXFile.fsync(current.fd, path: current.path)
        guard rename(current.path, store.path(of: descriptor)) == 0 else { throw SnapshotFileError.system(current.path, "rename") }
        try POSIXFile.fsyncDirectory(store.directory)
        try prepare(descriptor)
        board.updateIncoming(current.leader) { $0?.phase = .complete }
        logger.info("snapshot received", metadata: ["from": "node\(current.leader)", "snapshot": "\(descriptor)"])
    }

    /// Decodes the received state now, on this thread, so the loop's install is a swap.
    private func prepare(_ descriptor: SnapshotDescriptor) throws {
        let machine = try store.load(descriptor)
        prepared.withLock { $0 = (descriptor, machine) }
    }

    private func closePartial(deleting: Bool) {
        guard let current = partial.withLock({ slot -> Partial? in defer { slot = nil }; return slot }) else { return }
        close(current.fd)
        if deleting { unlink(current.path) }
    }
}
