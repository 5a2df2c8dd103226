import RaftCore

/// Encodes a membership list as comma-separated decimal node ids ("1,2,3"), readable with the sqlite3 shell.
enum MemberListCoding {
    static func encode(_ members: [NodeID]) -> String {
        members.map(String.init).joined(separator: ",")
    }

    /// Returns nil when `text` is not a comma-separated list of non-zero node ids.
    static func decode(_ text: String) -> [NodeID]? {
        if text.isEmpty { return [] }
        var members: [NodeID] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let id = NodeID(field), id != noNode else { return nil }
            members.append(id)
        }
        return members
    }
}
