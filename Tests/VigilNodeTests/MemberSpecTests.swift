import Testing
import VigilNode

@Suite struct MemberSpecTests {
    @Test func parsesNamesAddressesAndBracketedIPv6() throws {
        let named = try MemberSpec.parse("2=db2.example.net:7001:7101")
        #expect(named == NodeConfig.Member(id: 2, peer: HostPort(host: "db2.example.net", port: 7001),
                                           http: HostPort(host: "db2.example.net", port: 7101)))
        let v6 = try MemberSpec.parse("3=[fd00::3]:7001:7101")
        #expect(v6.peer == HostPort(host: "fd00::3", port: 7001))
        #expect(MemberSpec.subjectAlternativeNames(named) == (ipAddresses: [], dnsNames: ["db2.example.net"]))
        #expect(MemberSpec.subjectAlternativeNames(v6) == (ipAddresses: ["fd00::3"], dnsNames: []))
    }

    @Test(arguments: [
        ("127.0.0.1:7001:7101", "no node id"),
        ("0=127.0.0.1:7001:7101", "whole number from 1"),
        ("x=127.0.0.1:7001:7101", "whole number from 1"),
        ("1=127.0.0.1:7001", "a host and two ports"),
        ("1=fd00::1:7001:7101", "must be in brackets"),
        ("1=[fd00::1:7001:7101", "closing bracket"),
        ("1=:7001:7101", "host is empty"),
        ("1=db 2:7001:7101", "not a DNS name or IP address"),
        ("1=db2:70000:7101", "peer port \"70000\""),
        ("1=db2:7001:http", "API port \"http\""),
        ("1=db2:7001:7001", "must differ"),
    ])
    func refusesWhatIsNotAMember(text: String, reason: String) {
        #expect(throws: InitError.self) { try MemberSpec.parse(text) }
        do {
            _ = try MemberSpec.parse(text)
        } catch {
            #expect(error.description.hasPrefix("--member: \"\(text)\""), "names the option and the value: \(error)")
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test func aMemberListGivesEveryIdAndAddressOnce() throws {
        let one = try MemberSpec.parse("1=10.0.0.1:7001:7101")
        #expect(throws: Never.self) { try MemberSpec.validate([one, try MemberSpec.parse("2=10.0.0.2:7001:7101")]) }
        #expect(throws: InitError.invalidArgument("--member", "node 1 is given twice")) {
            try MemberSpec.validate([one, try MemberSpec.parse("1=10.0.0.2:7001:7101")])
        }
        #expect(throws: InitError.invalidArgument("--member", "10.0.0.1:7101 is given for node 1 and node 2")) {
            try MemberSpec.validate([one, try MemberSpec.parse("2=10.0.0.1:7101:7201")])
        }
        #expect(throws: InitError.self) { try MemberSpec.validate(Array(repeating: one, count: 8)) }
    }
}
