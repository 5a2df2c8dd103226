import Foundation

/// Who issued which command, when: the most recent entries in a ring, plus a total count.
/// The complete trail is the replicated log itself and the events the store persists.
public struct AuditTrail: Codable, Sendable, Equatable {
    /// One audited command.
    public struct Entry: Codable, Sendable, Equatable {
        public let sequence: Int
        public let at: Timestamp
        public let actor: ActorID
        public let command: String
        public let subject: String
    }

    private(set) var ring: [Entry] = []
    private var nextSlot = 0
    public private(set) var totalCount = 0

    mutating func record(at: Timestamp, actor: ActorID, command: String, subject: String) {
        let entry = Entry(sequence: totalCount, at: at, actor: actor, command: command, subject: subject)
        if ring.count < DutyLimits.maxAuditEntriesKept {
            ring.append(entry)
        } else {
            ring[nextSlot] = entry
        }
        nextSlot = (nextSlot + 1) % DutyLimits.maxAuditEntriesKept
        totalCount += 1
    }

    /// Kept entries, oldest first.
    public var recent: [Entry] {
        guard ring.count == DutyLimits.maxAuditEntriesKept else { return ring }
        return Array(ring[nextSlot...] + ring[..<nextSlot])
    }
}

extension AuditTrail {
    /// The trail as `JSONEncoder` with sorted keys writes it, byte for byte (a test holds the two equal).
    ///
    /// The head is encoded at every snapshot and checkpoint, and a full ring of 10,000 entries made up most of it:
    /// through Codable it cost about 70 ms each time. Strings that need no escaping are copied; the rest, and
    /// anything not plain ASCII, still go through `JSONEncoder`, so its escaping rules stay the only ones.
    func appendJSON(to out: inout [UInt8]) {
        out.append(contentsOf: #"{"nextSlot":"#.utf8)
        Self.appendDecimal(Int64(nextSlot), to: &out)
        out.append(contentsOf: #","ring":["#.utf8)
        for (position, entry) in ring.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"actor":"#.utf8)
            Self.appendJSONString(entry.actor.rawValue, to: &out)
            out.append(contentsOf: #","at":"#.utf8)
            Self.appendDecimal(entry.at, to: &out)
            out.append(contentsOf: #","command":"#.utf8)
            Self.appendJSONString(entry.command, to: &out)
            out.append(contentsOf: #","sequence":"#.utf8)
            Self.appendDecimal(Int64(entry.sequence), to: &out)
            out.append(contentsOf: #","subject":"#.utf8)
            Self.appendJSONString(entry.subject, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"totalCount":"#.utf8)
        Self.appendDecimal(Int64(totalCount), to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Digits as `JSONEncoder` writes an integer, without the `String` that `String(value)` would allocate.
    private static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // 20 digits hold any UInt64.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: digits[start...])
        }
    }

    private static func appendJSONString(_ string: String, to out: inout [UInt8]) {
        var string = string
        let plain = string.withUTF8 { utf8 in
            guard utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "/") }) else {
                return false
            }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: utf8)
            out.append(UInt8(ascii: "\""))
            return true
        }
        if plain { return }
        do {
            out.append(contentsOf: try JSONEncoder().encode(string))
        } catch {
            preconditionFailure("a string failed to encode: \(error)")
        }
    }
}

extension AuditTrail {
    /// The trail in `json` when every member is one Codable reads and nothing else is there; nil otherwise, and
    /// `JSONDecoder` then reads it. Restores read the head, and a full ring was most of what it spent there.
    init?(json: ArraySlice<UInt8>) {
        let read: (nextSlot: Int, ring: [Entry], totalCount: Int)? = json.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(bytes: buffer)
            var nextSlot: Int?, ring: [Entry]?, totalCount: Int?
            let complete = reader.object { reader, key in
                switch key {
                case "nextSlot": nextSlot = reader.int(); return nextSlot != nil
                case "ring": ring = reader.array { $0.auditEntry() }; return ring != nil
                case "totalCount": totalCount = reader.int(); return totalCount != nil
                default: return false
                }
            }
            reader.skipSpace()
            guard complete, reader.atEnd, let nextSlot, let ring, let totalCount else { return nil }
            return (nextSlot, ring, totalCount)
        }
        guard let read else { return nil }
        self.init()
        nextSlot = read.nextSlot
        ring = read.ring
        totalCount = read.totalCount
    }
}

private extension JSONReader {
    mutating func auditEntry() -> AuditTrail.Entry? {
        var sequence: Int?, at: Int64?, actor: String?, command: String?, subject: String?
        let complete = object { reader, key in
            switch key {
            case "sequence": sequence = reader.int(); return sequence != nil
            case "at": at = reader.integer(); return at != nil
            case "actor": actor = reader.string(); return actor != nil
            case "command": command = reader.string(); return command != nil
            case "subject": subject = reader.string(); return subject != nil
            default: return false
            }
        }
        guard complete, let sequence, let at, let actor, let command, let subject else { return nil }
        return AuditTrail.Entry(sequence: sequence, at: at, actor: ActorID(actor), command: command, subject: subject)
    }
}
