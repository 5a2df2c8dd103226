import Foundation

/// The JSON of the head's configuration fields, remembered by value, and their values, remembered by JSON. A
/// snapshot or checkpoint encodes the head each time and a restore decodes it; the configuration (policies,
/// people, schedules, services) is most of what Codable spends on it, and it rarely changes. Encoding is a function
/// of the value and decoding one of the bytes, so a remembered result for an equal value or equal bytes is the
/// result: tests hold `DutyState.headJSON` equal to an encoding of the whole head, and restores to the state.
final class HeadJSONMemo: @unchecked Sendable {
    static let shared = HeadJSONMemo()

    /// Several states (replicas in the simulator, a node's state and its checkpoint) can be encoded by turns.
    static let entriesPerField = 4

    private let lock = NSLock()
    private var entries: [String: [(value: Any, json: [UInt8])]] = [:]
    /// Kept apart from `entries`: a decoded value is remembered only for the bytes it was decoded from.
    private var decodedEntries: [String: [(json: [UInt8], value: Any)]] = [:]

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

    /// The value `JSONDecoder` reads from `json`, from the memo when the same bytes of `field` were decoded lately.
    func value<Value: Decodable & Sendable>(_: Value.Type, decodedFrom json: ArraySlice<UInt8>, field: String) throws -> Value {
        lock.lock()
        if let known = decodedEntries[field]?.first(where: { $0.json[...] == json }), let value = known.value as? Value {
            lock.unlock()
            return value
        }
        lock.unlock()
        let value = try JSONDecoder().decode(Value.self, from: Data(json))
        lock.lock()
        var kept = decodedEntries[field] ?? []
        if kept.count >= Self.entriesPerField { kept.removeFirst() }
        kept.append((Array(json), value))
        decodedEntries[field] = kept
        lock.unlock()
        return value
    }
}
