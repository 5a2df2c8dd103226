import DutyModel
import Foundation
import RaftCore

/// What one Raft entry carries: a settings change or a duty command stamped by the leader.
///
/// Settings entries are the bare JSON of `SettingsCommand` (as the first releases wrote them); duty entries
/// start with the byte `D` followed by the JSON of `DutyProposal`, token entries with `T` and the JSON of
/// `TokenCommand`, so they never look alike.
public enum ReplicatedCommand: Sendable, Equatable {
    case settings(SettingsCommand)
    case duty(DutyProposal)
    case tokens(TokenCommand)

    package static let dutyTag = UInt8(ascii: "D")
    package static let tokenTag = UInt8(ascii: "T")

    public func encoded() -> [UInt8] {
        switch self {
        case let .settings(command):
            return command.encoded()
        case let .duty(proposal):
            if let json = DutyProposalJSON.encode(proposal) { return [Self.dutyTag] + json }
            // Only strings, integers and enums: encoding cannot fail.
            return [Self.dutyTag] + Array((try? JSONEncoder().encode(proposal)) ?? Data())
        case let .tokens(command):
            return [Self.tokenTag] + Array((try? JSONEncoder().encode(command)) ?? Data())
        }
    }

    public init?(decoding bytes: [UInt8]) {
        if ForwardedEntry(decoding: bytes) != nil {
            let inner = Array(bytes[ForwardedEntry.headerBytes...])
            guard ForwardedEntry(decoding: inner) == nil else { return nil }
            self.init(decoding: inner)
            return
        }
        if bytes.first == Self.dutyTag {
            if let proposal = DutyProposalJSON.decode(bytes.dropFirst()) {
                self = .duty(proposal)
                return
            }
            guard let proposal = try? JSONDecoder().decode(DutyProposal.self, from: Data(bytes.dropFirst())) else { return nil }
            self = .duty(proposal)
        } else if bytes.first == Self.tokenTag {
            guard let command = try? JSONDecoder().decode(TokenCommand.self, from: Data(bytes.dropFirst())) else { return nil }
            self = .tokens(command)
        } else {
            guard let command = SettingsCommand(decoding: bytes) else { return nil }
            self = .settings(command)
        }
    }
}

/// A duty command with the leader's timestamp and the acting principal, applied identically on every node.
public struct DutyProposal: Codable, Sendable, Equatable {
    public let command: DutyCommand
    /// Milliseconds since the epoch on the leader when it accepted the request.
    public let leaderTimestamp: Timestamp
    public let actor: ActorID
    /// The term of the leader that proposed it, when the command asks that tickets it registers page in the same
    /// entry (`DutyState.apply(intendingFirstPagesIn:)`). A request asks with 0; the leader's loop writes its
    /// term. Absent from the JSON when nil, so every other entry reads as 0.7 wrote it.
    public let leaderTerm: UInt64?

    public init(command: DutyCommand, leaderTimestamp: Timestamp, actor: ActorID, leaderTerm: UInt64? = nil) {
        self.command = command
        self.leaderTimestamp = leaderTimestamp
        self.actor = actor
        self.leaderTerm = leaderTerm
    }

    /// Asks the leader for its term (see `leaderTerm`).
    public static let termRequested: UInt64 = 0
}

/// What applying one entry did; the proposer's HTTP answer is made from it.
public enum ApplyOutcome: Sendable, Equatable {
    case settings(SettingsOutcome)
    case duty(Result<[DutyEvent], DutyError>)
    case tokens(TokenOutcome)
    /// A membership change applied; the configuration it made.
    case membership(ConfState)
    case undecodable
}

/// The header of a log entry a follower forwarded over the peer connection: the tag, the follower's node id and
/// the id it gave the write (u64 big-endian each), then the command's own bytes. Every replica applies the
/// command; the follower also answers the client waiting for that id.
package struct ForwardedEntry: Equatable {
    package static let tag = UInt8(ascii: "F")
    package static let headerBytes = 17
    package let origin: NodeID
    package let id: UInt64

    /// The header of `bytes`, or nil when they are not a forwarded entry.
    package init?(decoding bytes: [UInt8]) {
        guard bytes.count > Self.headerBytes, bytes[0] == Self.tag else { return nil }
        func u64(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        origin = u64(1)
        id = u64(9)
    }

    package init(origin: NodeID, id: UInt64) {
        self.origin = origin
        self.id = id
    }

    /// The entry for `command` (already encoded).
    package func entry(wrapping command: [UInt8]) -> [UInt8] {
        var bytes = [Self.tag]
        bytes.reserveCapacity(Self.headerBytes + command.count)
        for value in [origin, id] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return bytes + command
    }
}
