import Foundation

extension DutyState {
    /// A member of the head whose JSON `HeadJSONMemo` remembers, by value when encoding and by bytes when
    /// decoding: the configuration, most of what Codable spends on a head, and rarely changed.
    private struct MemoizedMember: Sendable {
        let key: String
        let clear: @Sendable (inout DutyState) -> Void
        let json: @Sendable (DutyState, HeadJSONMemo) -> [UInt8]
        /// Decodes the member's bytes (or finds them in the memo) and answers what sets the value.
        let decode: @Sendable (ArraySlice<UInt8>, HeadJSONMemo) throws -> @Sendable (inout DutyState) -> Void

        init<Value: Codable & Equatable & Sendable>(_ key: String, _ path: WritableKeyPath<DutyState, Value> & Sendable, empty: Value) {
            self.key = key
            clear = { $0[keyPath: path] = empty }
            json = { state, memo in memo.json(of: state[keyPath: path], field: key) }
            decode = { bytes, memo in
                let value = try memo.value(Value.self, decodedFrom: bytes, field: key)
                return { $0[keyPath: path] = value }
            }
        }
    }

    private static let memoizedMembers: [MemoizedMember] = [
        MemoizedMember("calendars", \.calendars, empty: [:]),
        MemoizedMember("slaPolicies", \.slaPolicies, empty: [:]),
        MemoizedMember("escalationPolicies", \.escalationPolicies, empty: [:]),
        MemoizedMember("people", \.people, empty: [:]),
        MemoizedMember("teams", \.teams, empty: [:]),
        MemoizedMember("schedules", \.schedules, empty: [:]),
        MemoizedMember("services", \.services, empty: [:]),
    ]

    /// Every field but the tickets, as JSON with sorted keys. The audit trail (written by hand, see
    /// `AuditTrail.appendJSON`) and the configuration (from `HeadJSONMemo`) are filled into the places their empty
    /// values take; `viaCodableOnly` writes all of it through `JSONEncoder`, for the test that holds the two equal.
    func headJSON(viaCodableOnly: Bool = false) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var rest = self
        if !viaCodableOnly {
            rest.audit = AuditTrail()
            for member in Self.memoizedMembers { member.clear(&rest) }
        }
        let json: [UInt8]
        do {
            json = [UInt8](try encoder.encode(rest))
        } catch {
            // The state holds only strings, integers and enums; encoding cannot fail.
            preconditionFailure("duty state failed to encode: \(error)")
        }
        if viaCodableOnly { return json }
        var filled: [String: [UInt8]] = [:]
        for member in Self.memoizedMembers { filled[member.key] = member.json(self, .shared) }
        var auditJSON: [UInt8] = []
        auditJSON.reserveCapacity(audit.ring.count * 110)
        audit.appendJSON(to: &auditJSON)
        filled["audit"] = auditJSON
        return Self.fillingTopLevelFields(of: json, with: filled)
    }

    /// The state of a head's JSON, as `JSONDecoder` reads it. The configuration comes from `HeadJSONMemo` when
    /// the same bytes were read lately, the audit trail from its hand-written reader, and the rest through
    /// `JSONDecoder` with empty values in their places. Anything unexpected (a repeated member, a trail in
    /// another shape, bytes that do not decode) reads the whole head through `JSONDecoder`, so its rules and its
    /// errors stay the only ones.
    static func decodeHeadJSON(_ json: ArraySlice<UInt8>) throws -> DutyState {
        if let state = try? decodeHeadJSONInParts(json) { return state }
        return try JSONDecoder().decode(DutyState.self, from: Data(json))
    }

    private static func decodeHeadJSONInParts(_ json: ArraySlice<UInt8>) throws -> DutyState? {
        guard let members = topLevelMembers(of: json), Set(members.map(\.key)).count == members.count else { return nil }
        let valueRanges = Dictionary(uniqueKeysWithValues: members.map { ($0.key, $0.value) })
        var emptied: [(range: Range<Int>, empty: String)] = []
        var fills: [(inout DutyState) -> Void] = []
        for member in memoizedMembers {
            guard let range = valueRanges[member.key] else { continue }
            fills.append(try member.decode(json[range], .shared))
            emptied.append((range, "{}"))
        }
        if let range = valueRanges["audit"], let audit = AuditTrail(json: json[range]) {
            emptied.append((range, #"{"nextSlot":0,"ring":[],"totalCount":0}"#))
            fills.append { $0.audit = audit }
        }
        var rest: [UInt8] = []
        rest.reserveCapacity(json.count)
        var copiedUpTo = json.startIndex
        for (range, empty) in emptied.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            rest.append(contentsOf: json[copiedUpTo..<range.lowerBound])
            rest.append(contentsOf: empty.utf8)
            copiedUpTo = range.upperBound
        }
        rest.append(contentsOf: json[copiedUpTo...])
        var state = try JSONDecoder().decode(DutyState.self, from: Data(rest))
        for fill in fills { fill(&state) }
        return state
    }

    /// `json` (one object as JSONEncoder writes it, no whitespace) with the values of the top-level members named in
    /// `values` replaced. Only depth 1 is looked at, so a nested field of the same name is left alone.
    static func fillingTopLevelFields(of json: [UInt8], with values: [String: [UInt8]]) -> [UInt8] {
        guard let members = topLevelMembers(of: json[...]) else { preconditionFailure("the head's JSON is not an object JSONEncoder wrote") }
        var result: [UInt8] = []
        result.reserveCapacity(json.count + values.values.reduce(0) { $0 + $1.count })
        var copiedUpTo = 0, replaced = 0
        for member in members {
            guard let value = values[member.key] else { continue }
            result.append(contentsOf: json[copiedUpTo..<member.value.lowerBound])
            result.append(contentsOf: value)
            copiedUpTo = member.value.upperBound
            replaced += 1
        }
        result.append(contentsOf: json[copiedUpTo...])
        precondition(replaced == values.count, "the head's JSON lacks a field to fill (\(replaced) of \(values.count) found)")
        return result
    }

    /// The members of the object in `json` as JSONEncoder writes one (no whitespace): each key as written (escapes
    /// left in) and where its value lies. Nil when the bytes are not such an object; values are only delimited,
    /// not checked.
    static func topLevelMembers(of json: ArraySlice<UInt8>) -> [(key: String, value: Range<Int>)]? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), end = json.endIndex
        /// The index just past the string that opens at `start`.
        func stringEnd(from start: Int) -> Int? {
            var index = start + 1, escaped = false
            while index < end {
                let byte = json[index]
                index += 1
                if escaped { escaped = false } else if byte == backslash { escaped = true } else if byte == quote { return index }
            }
            return nil
        }
        /// The index just past the value that starts at `start`: a string, a nested object or array, or a scalar
        /// ending where the member does.
        func valueEnd(from start: Int) -> Int? {
            var index = start, depth = 0
            while index < end {
                switch json[index] {
                case quote:
                    guard let past = stringEnd(from: index) else { return nil }
                    if depth == 0 { return past }
                    index = past
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return index == start ? nil : index }
                    depth -= 1
                    if depth == 0 { return index + 1 }
                case UInt8(ascii: ","):
                    if depth == 0 { return index == start ? nil : index }
                default:
                    break
                }
                index += 1
            }
            return nil
        }
        guard json.first == UInt8(ascii: "{"), json.last == UInt8(ascii: "}") else { return nil }
        var members: [(key: String, value: Range<Int>)] = []
        var index = json.startIndex + 1
        if index == end - 1 { return members }
        while index < end, json[index] == quote {
            guard let keyEnd = stringEnd(from: index), keyEnd < end, json[keyEnd] == UInt8(ascii: ":"),
                  let valueEnd = valueEnd(from: keyEnd + 1), valueEnd < end else { return nil }
            members.append((String(decoding: json[(index + 1)..<(keyEnd - 1)], as: UTF8.self), (keyEnd + 1)..<valueEnd))
            index = valueEnd
            if json[index] == UInt8(ascii: "}") { return index == end - 1 ? members : nil }
            guard json[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
        return nil
    }
}
