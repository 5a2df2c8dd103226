import RaftCore

/// `ID=HOST:PEER_PORT:API_PORT`, the form `vigil init --member` and `vigil cert issue --member` take
/// (`2=db2.example.net:7001:7101`, `3=[fd00::3]:7001:7101`).
public enum MemberSpec {
    /// Parses one `--member` value; the error names the option, the value and what is wrong with it.
    public static func parse(_ text: String, option: String = "--member") throws(InitError) -> NodeConfig.Member {
        func invalid(_ reason: String) -> InitError { .invalidArgument(option, "\"\(text)\": \(reason) (expected ID=HOST:PEER_PORT:API_PORT)") }
        guard let equals = text.firstIndex(of: "=") else { throw invalid("no node id") }
        guard let id = UInt64(text[..<equals]), id != noNode else { throw invalid("the node id must be a whole number from 1") }
        let rest = text[text.index(after: equals)...]
        let host: Substring
        let ports: [Substring]
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("an IPv6 address lacks its closing bracket") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let tail = rest[rest.index(after: close)...]
            guard tail.hasPrefix(":") else { throw invalid("the ports must follow the address") }
            ports = tail.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                throw invalid(parts.count > 3 ? "an IPv6 address must be in brackets" : "a host and two ports are needed")
            }
            host = parts[0]
            ports = Array(parts[1...])
        }
        guard !host.isEmpty else { throw invalid("the host is empty") }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || "-.:".contains($0) }), host.unicodeScalars.allSatisfy(\.isASCII) else {
            throw invalid("\"\(host)\" is not a DNS name or IP address")
        }
        guard ports.count == 2 else { throw invalid("a peer port and an API port are needed") }
        var numbers: [Int] = []
        for (name, port) in zip(["peer port", "API port"], ports) {
            guard let number = Int(port), (1...65_535).contains(number) else { throw invalid("the \(name) \"\(port)\" is not in 1...65535") }
            numbers.append(number)
        }
        guard numbers[0] != numbers[1] else { throw invalid("the peer and API ports must differ") }
        return NodeConfig.Member(id: id, peer: HostPort(host: String(host), port: numbers[0]),
                                 http: HostPort(host: String(host), port: numbers[1]))
    }

    /// The `--member` values of a command that also takes `--nodes` (init, restore): parsed, and not both given.
    public static func parse(_ specs: [String], nodes: Int?) throws(InitError) -> [NodeConfig.Member] {
        var members: [NodeConfig.Member] = []
        for spec in specs { members.append(try parse(spec)) }
        if !members.isEmpty, nodes != nil { throw .invalidArgument("--nodes", "give either --nodes or --member, not both") }
        return members
    }

    /// Checks a whole member list: 1–7 members, no id or address twice.
    public static func validate(_ members: [NodeConfig.Member], option: String = "--member") throws(InitError) {
        guard (1...7).contains(members.count) else { throw .invalidArgument(option, "\(members.count) members; a cluster has 1 to 7") }
        var ids = Set<NodeID>()
        var addresses: [HostPort: NodeID] = [:]
        for member in members {
            guard ids.insert(member.id).inserted else { throw .invalidArgument(option, "node \(member.id) is given twice") }
            for address in [member.peer, member.http] {
                if let other = addresses.updateValue(member.id, forKey: address) {
                    throw .invalidArgument(option, "\(address) is given for node \(other) and node \(member.id)")
                }
            }
        }
    }

    /// What a member's certificate must name besides `node<ID>`: each host it is reached at, as an IP or DNS SAN.
    public static func subjectAlternativeNames(_ member: NodeConfig.Member) -> (ipAddresses: [String], dnsNames: [String]) {
        var ipAddresses: [String] = []
        var dnsNames: [String] = []
        for host in [member.peer.host, member.http.host] {
            if IPAddressCheck.isIPLiteral(host) {
                if !ipAddresses.contains(host) { ipAddresses.append(host) }
            } else if host.lowercased() != "node\(member.id)", !dnsNames.contains(host.lowercased()) {
                dnsNames.append(host.lowercased())
            }
        }
        return (ipAddresses, dnsNames)
    }
}
