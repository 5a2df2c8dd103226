/// An ordered set of distinct keys in sorted chunks of `chunkCapacity` to twice that: insert and remove cost
/// O(log n + chunkCapacity), a walk in order from any key visits only what it returns, and memory is the keys
/// themselves plus one array header per chunk. The derived indexes of the duty state are built on it.
struct SortedChunks<Key: Comparable & Sendable>: Sendable {
    static var chunkCapacity: Int { 256 }
    /// Each chunk sorted and non-empty; every key of a chunk precedes every key of the next.
    private var chunks: [[Key]] = []
    private(set) var count = 0

    var first: Key? { chunks.first?.first }

    /// Calls `body` with every key not below `start` (all when nil), in order, until it returns false.
    func forEach(from start: Key? = nil, _ body: (Key) -> Bool) {
        guard !chunks.isEmpty else { return }
        var index = start.map(chunkIndex(for:)) ?? 0
        var position = start.map { Self.position(of: $0, in: chunks[index]) } ?? 0
        while index < chunks.count {
            let chunk = chunks[index]
            while position < chunk.count {
                guard body(chunk[position]) else { return }
                position += 1
            }
            index += 1
            position = 0
        }
    }

    mutating func insert(_ key: Key) {
        count += 1
        guard !chunks.isEmpty else {
            chunks = [[key]]
            return
        }
        let index = chunkIndex(for: key)
        let position = Self.position(of: key, in: chunks[index])
        precondition(position == chunks[index].count || chunks[index][position] != key, "sorted chunks: \(key) is there already")
        chunks[index].insert(key, at: position)
        if chunks[index].count > 2 * Self.chunkCapacity {
            let upper = Array(chunks[index][Self.chunkCapacity...])
            chunks[index].removeSubrange(Self.chunkCapacity...)
            chunks.insert(upper, at: index + 1)
        }
    }

    mutating func remove(_ key: Key) {
        guard !chunks.isEmpty else { preconditionFailure("sorted chunks: removing \(key) from an empty set") }
        let index = chunkIndex(for: key)
        let position = Self.position(of: key, in: chunks[index])
        precondition(position < chunks[index].count && chunks[index][position] == key, "sorted chunks: \(key) is not there")
        chunks[index].remove(at: position)
        if chunks[index].isEmpty { chunks.remove(at: index) }
        count -= 1
    }

    /// The first chunk whose last key is not below `key` (the last chunk when every key is below).
    private func chunkIndex(for key: Key) -> Int {
        var low = 0
        var high = chunks.count - 1
        while low < high {
            let middle = (low + high) / 2
            if chunks[middle].last! < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func position(of key: Key, in chunk: [Key]) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let middle = (low + high) / 2
            if chunk[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether the chunks are non-empty, sorted and in order, and `count` is right (tests).
    func isConsistent() -> Bool {
        var previous: Key?
        var total = 0
        for chunk in chunks {
            guard !chunk.isEmpty else { return false }
            for key in chunk {
                if let previous, !(previous < key) { return false }
                previous = key
                total += 1
            }
        }
        return total == count
    }
}
