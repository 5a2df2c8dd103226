import Foundation
import RaftCore

/// Where each member of the Raft configuration is reached. Founding members come from `vigil.yaml`; a member
/// added later has a record in the replicated settings store under `_vigil:member:<id>`, committed before its
/// Raft configuration change, so every node (and every snapshot) knows its addresses. The Raft configuration
/// says who is a member; the directory only says where.
public enum MemberDirectory {
    /// Settings keys with this prefix belong to the cluster; the settings API refuses to write them.
    public static let reservedPrefix = "_vigil:"

    static func key(_ id: NodeID) -> String { "\(reservedPrefix)member:\(id)" }

    /// The record's value: the member's addresses as `vigil.yaml` writes them.
    struct Record: Codable {
        let peer: String
        let http: String
    }

    static func value(for member: NodeConfig.Member) -> String {
        let data = (try? JSONEncoder().encode(Record(peer: member.peer.description, http: member.http.description))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The addresses of `id`: its replicated record if any (a replaced node's newer addresses), else the config's.
    static func member(_ id: NodeID, config: NodeConfig, state: StateView) -> NodeConfig.Member? {
        if let setting = state.get(key(id)),
           let record = try? JSONDecoder().decode(Record.self, from: Data(setting.value.utf8)),
           let peer = HostPort(parsing: record.peer), let http = HostPort(parsing: record.http) {
            return NodeConfig.Member(id: id, peer: peer, http: http)
        }
        return config.members.first { $0.id == id }
    }

    /// Every member of `conf` this node can reach, in id order; this node itself included.
    static func members(of conf: ConfState, config: NodeConfig, state: StateView) -> [NodeConfig.Member] {
        (conf.voters + conf.learners).sorted().compactMap { member($0, config: config, state: state) }
    }
}
