import Foundation

/// The JSON of the head's configuration fields, remembered by value. A snapshot or checkpoint encodes the head
/// each time, the configuration (policies, people, schedules, services) is most of what `JSONEncoder` spends on
/// it, and it rarely changes. Encoding is a function of the value, so a remembered encoding of an equal value is
/// the same bytes: `DutyState.headJSON` holds them equal to an encoding of the whole head in a test.
final class HeadJSONMemo: @unchecked Sendable {
    static let shared = HeadJSONMemo()

    /// Several states (replicas in the simulator, a node's state and its checkpoint) can be encoded by turns.
    static let entriesPerField = 4

    private let lock = NSLock()
    private var entries: [String: [(value: Any, json: [UInt8])]] = [:]

    /// The JSON of `value` as `JSONEncoder` with sorted keys writes it, from the memo when an equal value of
    /// `field` was encoded lately.
    func json<Value: Encodable & Equatable>(of value: Value, field: String) -> [UInt8] {
        lock.lock()
        if let known = entries[field]?.first(where: { ($0.value as? Value) == value }) {
            lock.unlock()
            return known.json
        }
        lock.unlock()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: [UInt8]
        do {
            json = [UInt8](try encoder.encode(value))
        } catch {
            preconditionFailure("the duty state's \(field) failed to encode: \(error)")
        }
        lock.lock()
        var kept = entries[field] ?? []
        if kept.count >= Self.entriesPerField { kept.removeFirst() }
        kept.append((value, json))
        entries[field] = kept
        lock.unlock()
        return json
    }
}
